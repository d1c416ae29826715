package pipeline

// Tests of group commit, on real stores. They are in
// package pipeline to hold a batch back deterministically: a store whose
// first transaction waits at a gate, before it commits, until the other
// webhooks are queued (Ingester.queue), instead of hoping that goroutines
// overlap.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"callbridge"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/prometheus"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

var testStores = []struct {
	name string
	open func(t *testing.T) callbridge.Store
}{
	{"SQLite", func(t *testing.T) callbridge.Store { return sqlitetest.Open(t, sqlite.Options{}) }},
	{"PostgreSQL", func(t *testing.T) callbridge.Store { return postgrestest.Open(t, postgres.Options{}) }},
}

// gateStore counts transactions. Its first transaction, once its work is
// done, waits before committing until gate is closed; entered is closed when
// it arrives there. failKey, when set, makes InsertEvent of the event with
// that key fail.
type gateStore struct {
	callbridge.Store
	gate, entered chan struct{}
	failKey       string

	mu  sync.Mutex
	txs int
}

func newGate(s callbridge.Store) *gateStore {
	return &gateStore{Store: s, gate: make(chan struct{}), entered: make(chan struct{})}
}

func (s *gateStore) InTx(ctx context.Context, fn func(q callbridge.Queries) error) error {
	s.mu.Lock()
	s.txs++
	first := s.txs == 1
	s.mu.Unlock()
	return s.Store.InTx(ctx, func(q callbridge.Queries) error {
		if s.failKey != "" {
			q = failingQueries{q, s.failKey}
		}
		err := fn(q)
		if first {
			close(s.entered)
			<-s.gate
		}
		return err
	})
}

func (s *gateStore) transactions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txs
}

type failingQueries struct {
	callbridge.Queries
	key string
}

var errBadEvent = errors.New("this event cannot be stored")

func (q failingQueries) InsertEvent(ctx context.Context, ev *callbridge.CallEvent) (bool, error) {
	if ev.Key == q.key {
		return false, errBadEvent
	}
	return q.Queries.InsertEvent(ctx, ev)
}

// waitQueued waits until n webhooks wait in in's queue.
func waitQueued(t *testing.T, in *Ingester, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		in.mu.Lock()
		got := len(in.queue)
		in.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d webhooks queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func setupAccount(t *testing.T, s callbridge.Store) (*callbridge.Account, *callbridge.Connection) {
	t.Helper()
	ctx := t.Context()
	acct := &callbridge.Account{KommoID: 61_000_000 + rand.Int64N(1_000_000), Subdomain: "batch"}
	if err := s.UpsertAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	conn := &callbridge.Connection{AccountID: acct.ID, Provider: "twilio", Name: "Twilio", Credentials: map[string]string{}}
	if err := s.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	return acct, conn
}

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 123456789, time.UTC)

func statusEvent(call, status string, sec int) callbridge.CallEvent {
	return callbridge.CallEvent{Type: callbridge.EventStatus, Key: "status:" + call + ":" + status, ProviderCallID: call,
		LegID: call, Status: callbridge.Status(status), Direction: callbridge.DirectionInbound,
		CustomerNumber: "+14155550100", LineNumber: "+14155550000", OccurredAt: t0.Add(time.Duration(sec) * time.Second),
		Payload: []byte("CallSid=" + call + "&CallStatus=" + status)}
}

// ingestAll runs Ingest of each webhook in a goroutine of its own and
// returns the outcomes in order.
func ingestAll(ctx context.Context, in *Ingester, conn *callbridge.Connection, hooks [][]callbridge.CallEvent) []error {
	errs := make([]error, len(hooks))
	var wg sync.WaitGroup
	for i, h := range hooks {
		wg.Go(func() { errs[i] = in.Ingest(ctx, conn, h) })
	}
	wg.Wait()
	return errs
}

// TestGroupCommit holds one transaction back while 20 webhooks arrive: they
// are committed together, in one more transaction, each acknowledged only
// then, and the calls they change are announced once each.
func TestGroupCommit(t *testing.T) {
	for _, s := range testStores {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			g := newGate(s.open(t))
			_, conn := setupAccount(t, g)
			var mu sync.Mutex
			announced := map[string]int{}
			in := &Ingester{Store: g, Hold: time.Hour, Committers: 1, OnCommit: func(c *callbridge.Call) {
				mu.Lock()
				announced[c.ProviderCallID]++
				mu.Unlock()
			}}

			first := make(chan error, 1)
			go func() { first <- in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
			<-g.entered
			// Ten calls, two webhooks each, both in the batch.
			var hooks [][]callbridge.CallEvent
			for c := range 10 {
				call := fmt.Sprintf("CA%02d", c)
				hooks = append(hooks, []callbridge.CallEvent{statusEvent(call, "ringing", 0)},
					[]callbridge.CallEvent{statusEvent(call, "completed", 30)})
			}
			done := make(chan []error, 1)
			go func() { done <- ingestAll(ctx, in, conn, hooks) }()
			waitQueued(t, in, len(hooks))
			select {
			case errs := <-done:
				t.Fatalf("webhooks acknowledged before their transaction committed: %v", errs)
			default:
			}
			close(g.gate)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for i, err := range <-done {
				if err != nil {
					t.Fatalf("webhook %d: %v", i, err)
				}
			}
			if n := g.transactions(); n != 2 {
				t.Fatalf("%d transactions for 21 webhooks, want 2 (one held back, one for the rest)", n)
			}
			for c := range 10 {
				call := fmt.Sprintf("CA%02d", c)
				stored, err := g.LockCall(ctx, conn.AccountID, conn.ID, call)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Status != callbridge.StatusCompleted || stored.Version != 1 || announced[call] != 1 {
					t.Errorf("%s: status %s version %d, announced %d times; want completed, 1, once", call,
						stored.Status, stored.Version, announced[call])
				}
			}
			checkFolds(t, g, conn)
		})
	}
}

// TestGroupCommitTakesAfterBegin checks, on SQLite, that a second committer
// waiting for the database's one connection takes its batch only once it has
// the connection: the 20 webhooks that arrive while the first transaction
// holds it are committed in one more transaction, not split.
func TestGroupCommitTakesAfterBegin(t *testing.T) {
	ctx := t.Context()
	g := newGate(sqlitetest.Open(t, sqlite.Options{}))
	_, conn := setupAccount(t, g)
	in := &Ingester{Store: g, Hold: time.Hour, Committers: 2}
	first := make(chan error, 1)
	go func() { first <- in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
	<-g.entered
	var hooks [][]callbridge.CallEvent
	for c := range 20 {
		hooks = append(hooks, []callbridge.CallEvent{statusEvent(fmt.Sprintf("CA%02d", c), "ringing", 0)})
	}
	done := make(chan []error, 1)
	go func() { done <- ingestAll(ctx, in, conn, hooks) }()
	waitQueued(t, in, len(hooks))
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if err != nil {
			t.Fatalf("webhook %d: %v", i, err)
		}
	}
	// The first committer may also have begun a transaction meanwhile, and
	// found nothing left to take.
	if st := in.Stats(); st.Transactions != 2 || st.Webhooks != 21 {
		t.Fatalf("%d webhooks in %d transactions, want 21 in 2", st.Webhooks, st.Transactions)
	}
}

// TestGroupCommitBadWebhook checks that a webhook that cannot be stored fails
// alone: the others of its batch are committed and acknowledged.
func TestGroupCommitBadWebhook(t *testing.T) {
	for _, s := range testStores {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			g := newGate(s.open(t))
			g.failKey = "status:CA03:completed"
			_, conn := setupAccount(t, g)
			in := &Ingester{Store: g, Hold: time.Hour, Committers: 1, Logger: discardLogger()}
			first := make(chan error, 1)
			go func() { first <- in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
			<-g.entered
			var hooks [][]callbridge.CallEvent
			for c := range 8 {
				call := fmt.Sprintf("CA%02d", c)
				hooks = append(hooks, []callbridge.CallEvent{statusEvent(call, "ringing", 0), statusEvent(call, "completed", 30)})
			}
			done := make(chan []error, 1)
			go func() { done <- ingestAll(ctx, in, conn, hooks) }()
			waitQueued(t, in, len(hooks))
			close(g.gate)
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for i, err := range <-done {
				if (i == 3) != errors.Is(err, errBadEvent) {
					t.Errorf("webhook %d: %v", i, err)
				}
			}
			for c := range 8 {
				call, err := g.LockCall(ctx, conn.AccountID, conn.ID, fmt.Sprintf("CA%02d", c))
				if err != nil {
					t.Fatal(err)
				}
				evs, err := g.ListCallEvents(ctx, call.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := map[bool]int{true: 0, false: 2}[c == 3]; len(evs) != want || (want > 0 && call.Status != callbridge.StatusCompleted) {
					t.Errorf("call %d: %d events, status %s; want %d", c, len(evs), call.Status, want)
				}
			}
		})
	}
}

// TestGroupCommitInvalidText has PostgreSQL itself refuse one webhook of a
// batch (text that is not UTF-8 aborts the whole transaction there); the
// rest of the batch is committed.
func TestGroupCommitInvalidText(t *testing.T) {
	ctx := t.Context()
	g := newGate(postgrestest.Open(t, postgres.Options{}))
	_, conn := setupAccount(t, g)
	in := &Ingester{Store: g, Hold: time.Hour, Committers: 1, Logger: discardLogger()}
	first := make(chan error, 1)
	go func() { first <- in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
	<-g.entered
	var hooks [][]callbridge.CallEvent
	for c := range 6 {
		e := statusEvent(fmt.Sprintf("CA%02d", c), "completed", 30)
		if c == 2 {
			e.Agent = "\xff\xfe"
		}
		hooks = append(hooks, []callbridge.CallEvent{e})
	}
	done := make(chan []error, 1)
	go func() { done <- ingestAll(ctx, in, conn, hooks) }()
	waitQueued(t, in, len(hooks))
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if (i == 2) != (err != nil) {
			t.Errorf("webhook %d: %v", i, err)
		}
	}
}

// TestGroupCommitMetrics checks the per-webhook counts of prometheus's
// instrumented ingester through a batch that fails and is committed again
// webhook by webhook: every event is counted once, as stored or duplicate.
func TestGroupCommitMetrics(t *testing.T) {
	for _, s := range testStores {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			db := s.open(t)
			_, conn := setupAccount(t, db)
			m := prometheus.New()
			g := newGate(m.IngestStore(db))
			g.failKey = "status:CA05:completed"
			in := &Ingester{Store: g, Hold: time.Hour, Committers: 1, Logger: discardLogger()}
			inst := m.InstrumentIngester(in)
			first := make(chan error, 1)
			go func() { first <- inst.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
			<-g.entered
			// Webhooks 0–4 come before the bad one and are counted in the
			// failed batch; webhook 1 repeats webhook 0 (a provider retry).
			var hooks [][]callbridge.CallEvent
			for c := range 8 {
				call := fmt.Sprintf("CA%02d", c)
				if c == 1 {
					call = "CA00"
				}
				hooks = append(hooks, []callbridge.CallEvent{statusEvent(call, "ringing", 0), statusEvent(call, "completed", 30)})
			}
			errs := make([]error, len(hooks))
			var wg sync.WaitGroup
			for i, h := range hooks {
				wg.Go(func() { errs[i] = inst.Ingest(ctx, conn, h) })
				waitQueued(t, in, i+1) // in this order, so that the retry follows the original
			}
			close(g.gate)
			wg.Wait()
			if err := <-first; err != nil {
				t.Fatal(err)
			}
			for i, err := range errs {
				if (i == 5) != (err != nil) {
					t.Errorf("webhook %d: %v", i, err)
				}
			}
			count := func(outcome string) int {
				var out float64
				if c, err := m.EventsIngested.GetMetricWithLabelValues("twilio", outcome); err == nil {
					out = counterValue(c)
				}
				return int(out)
			}
			// 1 + 2×8 events: 2 duplicates, 2 failed, 13 stored.
			if st, dup, failed := count(prometheus.OutcomeStored), count(prometheus.OutcomeDuplicate), count(prometheus.OutcomeFailed); st != 13 || dup != 2 || failed != 2 {
				t.Errorf("stored %d, duplicate %d, failed %d; want 13, 2, 2", st, dup, failed)
			}
		})
	}
}

// TestGroupCommitCancelled checks that a webhook whose request is cancelled
// while it waits returns at once, and is not committed if its batch had not
// started.
func TestGroupCommitCancelled(t *testing.T) {
	ctx := t.Context()
	g := newGate(sqlitetest.Open(t, sqlite.Options{}))
	_, conn := setupAccount(t, g)
	in := &Ingester{Store: g, Hold: time.Hour, Committers: 1, Logger: discardLogger()}
	first := make(chan error, 1)
	go func() { first <- in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-first", "ringing", 0)}) }()
	<-g.entered
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- in.Ingest(cctx, conn, []callbridge.CallEvent{statusEvent("CA-gone", "ringing", 0)}) }()
	waitQueued(t, in, 1)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Ingest = %v", err)
	}
	close(g.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// A later webhook goes through the same committer loop.
	if err := in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA-later", "ringing", 0)}); err != nil {
		t.Fatal(err)
	}
	call, err := g.LockCall(ctx, conn.AccountID, conn.ID, "CA-gone")
	if err != nil {
		t.Fatal(err)
	}
	if evs, err := g.ListCallEvents(ctx, call.ID); err != nil || len(evs) != 0 {
		t.Fatalf("the cancelled webhook's events: %v, %v", evs, err)
	}
}

// TestIngestFoldEquivalence ingests random calls — webhooks in any order,
// provider retries, call results — through two Ingesters on one store (as
// two replicas), concurrently, with group commit or not, and checks that
// every call is what Fold makes of its stored events: batching and order of
// arrival change nothing.
func TestIngestFoldEquivalence(t *testing.T) {
	for _, s := range testStores {
		for _, batch := range []int{1, 0} {
			t.Run(fmt.Sprintf("%s/MaxBatch=%d", s.name, batch), func(t *testing.T) {
				ctx := t.Context()
				db := s.open(t)
				acct, conn := setupAccount(t, db)
				rng := rand.New(rand.NewPCG(uint64(batch)+1, 99))
				replicas := []*Ingester{
					{Store: db, Hold: time.Hour, MaxBatch: batch},
					{Store: db, Hold: time.Hour, MaxBatch: batch},
				}
				var hooks [][]callbridge.CallEvent
				for c := range 30 {
					hooks = append(hooks, randomCall(rng, fmt.Sprintf("CA%03d", c))...)
				}
				rng.Shuffle(len(hooks), func(i, j int) { hooks[i], hooks[j] = hooks[j], hooks[i] })
				// Eight senders; each webhook to a random replica; some
				// results saved through SaveResult instead.
				var wg sync.WaitGroup
				errs := make(chan error, len(hooks))
				next := make(chan []callbridge.CallEvent)
				for w := range 8 {
					wg.Go(func() {
						r := rand.New(rand.NewPCG(uint64(w), 7))
						for h := range next {
							in := replicas[r.IntN(len(replicas))]
							if h[0].Type == callbridge.EventResult && r.IntN(2) == 0 {
								_, err := in.SaveResult(ctx, acct, callbridge.ResultInput{Key: h[0].Key, ConnectionID: conn.ID,
									ProviderCallID: h[0].ProviderCallID, Result: *h[0].Result})
								errs <- err
								continue
							}
							errs <- in.Ingest(ctx, conn, h)
						}
					})
				}
				for _, h := range hooks {
					next <- h
				}
				close(next)
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				checkFolds(t, db, conn)
			})
		}
	}
}

// randomCall returns the webhooks of one call: parent and child legs'
// statuses at random times (some without a time, some with sequence
// numbers), a recording, sometimes a result, about 20% delivered twice.
func randomCall(rng *rand.Rand, id string) [][]callbridge.CallEvent {
	statuses := []callbridge.Status{callbridge.StatusRinging, callbridge.StatusAnswered, callbridge.StatusCompleted,
		callbridge.StatusBusy, callbridge.StatusMissed, callbridge.StatusFailed}
	var out [][]callbridge.CallEvent
	n := 2 + rng.IntN(7)
	for i := range n {
		e := callbridge.CallEvent{Type: callbridge.EventStatus, Key: fmt.Sprintf("%s:%d", id, i), ProviderCallID: id,
			LegID: id, Status: statuses[rng.IntN(len(statuses))], Direction: []callbridge.Direction{callbridge.DirectionInbound, callbridge.DirectionOutbound}[rng.IntN(2)],
			Duration: rng.IntN(3) * rng.IntN(300), Sequence: int64(rng.IntN(4)), Payload: []byte(fmt.Sprintf("n=%d", i)),
			AISummary: "summary", Transcript: "A: hi"}
		if rng.IntN(3) == 0 {
			e.Child, e.LegID = true, fmt.Sprintf("%s-leg%d", id, rng.IntN(2))
		}
		switch rng.IntN(5) {
		case 0: // no time
		case 1, 2: // the store keeps microseconds: events apart by nanoseconds tie
			e.OccurredAt = t0.Add(time.Duration(rng.IntN(3))*time.Microsecond + time.Duration(rng.IntN(1000)))
		default:
			e.OccurredAt = t0.Add(time.Duration(rng.IntN(600_000_000)) * time.Microsecond).Add(time.Duration(rng.IntN(1000)))
		}
		if rng.IntN(2) == 0 {
			e.CustomerNumber = fmt.Sprintf("+1415555%04d", rng.IntN(3))
		}
		if rng.IntN(2) == 0 {
			e.LineNumber = fmt.Sprintf("+1212555%04d", rng.IntN(3))
		}
		if rng.IntN(3) == 0 {
			e.Agent = fmt.Sprintf("agent%d", rng.IntN(3))
		}
		if rng.IntN(4) == 0 {
			e.Type, e.Status = callbridge.EventRecording, ""
			e.RecordingID, e.RecordingURL = fmt.Sprintf("RE%s%d", id, i), fmt.Sprintf("https://rec.example/%s/%d", id, i)
		}
		out = append(out, []callbridge.CallEvent{e})
	}
	if rng.IntN(2) == 0 {
		out = append(out, []callbridge.CallEvent{{Type: callbridge.EventResult, Key: "result:" + id, ProviderCallID: id,
			Result: &callbridge.CallResult{Text: "called back", CallStatus: 4, SavedAt: t0.Add(time.Duration(rng.IntN(1e9)))}}})
	}
	// Two events in one webhook now and then.
	if len(out) > 2 && rng.IntN(3) == 0 {
		out[0] = append(out[0], out[1]...)
		out = slices.Delete(out, 1, 2)
	}
	for i := range out {
		if rng.IntN(5) == 0 {
			out = append(out, slices.Clone(out[i]))
		}
	}
	return out
}

// checkFolds checks that every call of conn is what Fold makes of its
// stored events.
func checkFolds(t *testing.T, s callbridge.Store, conn *callbridge.Connection) {
	t.Helper()
	ctx := t.Context()
	calls, err := s.ListCalls(ctx, callbridge.CallFilter{AccountID: conn.AccountID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) == 0 {
		t.Fatal("no calls")
	}
	for _, c := range calls {
		evs, err := s.ListCallEvents(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := *c
		want.Fold(evs)
		if got, exp := derived(c), derived(&want); got != exp {
			t.Errorf("call %s (version %d, %d events):\n got  %s\n want %s", c.ProviderCallID, c.Version, len(evs), got, exp)
		}
	}
}

// derived is a call's derived fields, comparable.
func derived(c *callbridge.Call) string {
	b, _ := json.Marshal([]any{c.Direction, c.Status, c.Ended, c.CustomerNumber, c.LineNumber, c.Agent, c.Duration,
		c.StartedAt.UnixMicro(), c.AnsweredAt.UnixMicro(), c.EndedAt.UnixMicro(), c.RecordingID, c.RecordingURL, c.Result})
	return string(b)
}

func counterValue(c prom.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestGroupCommitPanic checks that a panic while committing (here in
// OnCommit) fails that batch's webhooks with an error, which providers
// retry, and that the Ingester goes on committing.
func TestGroupCommitPanic(t *testing.T) {
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	_, conn := setupAccount(t, db)
	var panicked sync.Once
	in := &Ingester{Store: db, Hold: time.Hour, Logger: discardLogger(), OnCommit: func(*callbridge.Call) {
		panicked.Do(func() { panic("a bug") })
	}}
	if err := in.Ingest(ctx, conn, []callbridge.CallEvent{statusEvent("CA1", "ringing", 0)}); callbridge.ErrorCode(err) != callbridge.EINTERNAL {
		t.Fatalf("Ingest with a panicking OnCommit = %v, want EINTERNAL", err)
	}
	// The provider's retry is a duplicate; a new webhook goes through.
	for _, e := range []callbridge.CallEvent{statusEvent("CA1", "ringing", 0), statusEvent("CA1", "completed", 9)} {
		if err := in.Ingest(ctx, conn, []callbridge.CallEvent{e}); err != nil {
			t.Fatal(err)
		}
	}
	checkFolds(t, db, conn)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestCommittersChoice checks how an Ingester with Committers 0 chooses its
// number of committers: two until its store shows that it runs transactions
// one at a time (SQLite: never one inside while another is), then one; two
// for good once one transaction ran alongside another (PostgreSQL).
func TestCommittersChoice(t *testing.T) {
	t.Run("Rules", func(t *testing.T) {
		in := &Ingester{Logger: discardLogger()}
		if n := in.committers(); n != DefaultCommitters {
			t.Fatalf("undecided: %d committers", n)
		}
		// Transactions that each began while another committer waited.
		for range serialAfter {
			in.conc.inTx = 2
			in.entered()
			in.left()
		}
		if n := in.committers(); n != 1 || !in.conc.serial {
			t.Fatalf("after %d waits: %d committers", serialAfter, n)
		}
		in = &Ingester{Logger: discardLogger()}
		in.conc.inTx = 2
		in.entered()
		in.entered() // alongside
		in.left()
		in.left()
		for range 2 * serialAfter {
			in.entered()
			in.left()
		}
		if n := in.committers(); n != DefaultCommitters || !in.conc.overlapped || in.conc.serial {
			t.Fatalf("after an overlap: %d committers, %+v", n, in.conc)
		}
		if n := (&Ingester{Committers: 3}).committers(); n != 3 {
			t.Fatalf("Committers 3: %d", n)
		}
	})
	for _, s := range testStores {
		t.Run(s.name, func(t *testing.T) {
			ctx := t.Context()
			db := s.open(t)
			_, conn := setupAccount(t, db)
			in := &Ingester{Store: db, Hold: time.Hour, Logger: discardLogger()}
			decided := func() (bool, bool) {
				in.mu.Lock()
				defer in.mu.Unlock()
				return in.conc.serial, in.conc.overlapped
			}
			// Rounds of 32 concurrent webhooks until the Ingester has seen
			// enough; on two busy cores it takes a few rounds.
			for round := 0; ; round++ {
				var hooks [][]callbridge.CallEvent
				for c := range 32 {
					hooks = append(hooks, []callbridge.CallEvent{statusEvent(fmt.Sprintf("CA%d-%d", round, c), "ringing", 0)})
				}
				for i, err := range ingestAll(ctx, in, conn, hooks) {
					if err != nil {
						t.Fatalf("webhook %d: %v", i, err)
					}
				}
				serial, overlapped := decided()
				if serial || overlapped {
					if want := s.name == "SQLite"; serial != want {
						t.Fatalf("%s: serial %v, overlapped %v", s.name, serial, overlapped)
					}
					return
				}
				if round == 500 {
					t.Fatalf("undecided after %d rounds: %+v", round, in.conc)
				}
			}
		})
	}
}
