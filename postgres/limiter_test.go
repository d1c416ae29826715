package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"callbridge"
	"callbridge/kommo"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
)

var _ kommo.Limiter = (*postgres.Limiter)(nil)

// replicas opens n databases on one fresh schema, as n replicas would.
func replicas(t *testing.T, n int) []*postgres.DB {
	t.Helper()
	first := postgrestest.Open(t, postgres.Options{})
	dbs := []*postgres.DB{first}
	for range n - 1 {
		db, err := postgres.Open(t.Context(), postgrestest.URL(t), postgrestest.Box(),
			postgres.Options{Schema: first.Schema(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	return dbs
}

// maxInWindow returns the most release times within any window of length w.
func maxInWindow(times []time.Time, w time.Duration) int {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= w {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// hammer has workers goroutines per limiter call Wait for account until the
// deadline and returns the release times.
func hammer(t *testing.T, lims []*postgres.Limiter, accounts []int64, workers int, d time.Duration) []time.Time {
	t.Helper()
	// No deadline (Wait would fail fast near it): cancel after d.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	time.AfterFunc(d, cancel)
	var mu sync.Mutex
	var out []time.Time
	var wg sync.WaitGroup
	for i, l := range lims {
		for range workers {
			wg.Go(func() {
				for {
					err := l.Wait(ctx, accounts[i%len(accounts)])
					if err != nil {
						if ctx.Err() == nil {
							t.Errorf("Wait: %v", err)
						}
						return
					}
					mu.Lock()
					out = append(out, time.Now())
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	return out
}

// TestLimiter_SharedAcrossReplicas has three replicas (three pools on one
// schema) with eight eager callers each, over several accounts: together they
// release at most six requests in any second, the budget of one process.
func TestLimiter_SharedAcrossReplicas(t *testing.T) {
	dbs := replicas(t, 3)
	var lims []*postgres.Limiter
	for _, db := range dbs {
		lims = append(lims, postgres.NewLimiter(db, postgres.LimiterOptions{RPS: 6}))
	}
	got := hammer(t, lims, []int64{1, 2, 3}, 8, 3500*time.Millisecond)
	if len(got) == 0 {
		t.Fatal("no request was released")
	}
	if n := maxInWindow(got, time.Second); n > 6 {
		t.Errorf("%d releases in one second across replicas, want at most 6", n)
	}
	// Over the whole run: at most one per interval plus the first.
	if limit := int(3.5*6) + 1; len(got) > limit {
		t.Errorf("%d releases in 3.5 s, want at most %d", len(got), limit)
	}
	t.Logf("%d releases in 3.5 s from 3 replicas × 8 callers", len(got))
}

// TestLimiter_AccountSharedAcrossEgress gives two replicas different egress
// addresses (each its own IP budget) and one account: the account's budget
// still holds across both.
func TestLimiter_AccountSharedAcrossEgress(t *testing.T) {
	dbs := replicas(t, 2)
	a := postgres.NewLimiter(dbs[0], postgres.LimiterOptions{RPS: 4, Egress: "a"})
	b := postgres.NewLimiter(dbs[1], postgres.LimiterOptions{RPS: 4, Egress: "b"})
	got := hammer(t, []*postgres.Limiter{a, b}, []int64{7}, 4, 2500*time.Millisecond)
	if n := maxInWindow(got, time.Second); n > 5 {
		t.Errorf("%d releases for one account in one second, want at most 4 (+1 for timer jitter)", n)
	}
	if limit := int(2.5*4) + 1; len(got) > limit {
		t.Errorf("%d releases in 2.5 s for one account, want at most %d", len(got), limit)
	}
}

// TestLimiter_PenaltyStopsEveryReplica: a 429 seen by one replica pauses the
// others, including a caller that had already reserved its slot and was
// sleeping.
func TestLimiter_PenaltyStopsEveryReplica(t *testing.T) {
	dbs := replicas(t, 2)
	a := postgres.NewLimiter(dbs[0], postgres.LimiterOptions{RPS: 2})
	b := postgres.NewLimiter(dbs[1], postgres.LimiterOptions{RPS: 2})
	ctx := t.Context()
	// Use up b's next slots so that its next caller sleeps ~0.5 s.
	if err := b.Wait(ctx, 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Time, 1)
	go func() {
		if err := b.Wait(ctx, 1); err != nil {
			t.Error(err)
		}
		done <- time.Now()
	}()
	time.Sleep(100 * time.Millisecond) // let it reserve and sleep
	start := time.Now()
	a.Penalize(start.Add(1500 * time.Millisecond))
	if left, err := b.Penalty(ctx); err != nil || left < time.Second {
		t.Fatalf("Penalty on the other replica = %v, %v; want about 1.5 s", left, err)
	}
	released := <-done
	if d := released.Sub(start); d < 1400*time.Millisecond {
		t.Fatalf("the sleeping caller was released %v after the penalty began, want ≥ 1.4 s", d)
	}
	t0 := time.Now()
	if err := a.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 1400*time.Millisecond {
		t.Fatalf("a new caller was released %v after the penalty began", t0.Sub(start))
	}
}

// TestLimiter_Deadline: a caller whose deadline comes before its slot fails
// at once with ERATELIMIT and reserves nothing; a cancelled caller gives its
// slot back.
func TestLimiter_Deadline(t *testing.T) {
	dbs := replicas(t, 1)
	l := postgres.NewLimiter(dbs[0], postgres.LimiterOptions{RPS: 1})
	if err := l.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Wait(ctx, 1)
	var cerr *callbridge.Error
	if !errors.As(err, &cerr) || cerr.Code != callbridge.ERATELIMIT || cerr.RetryAfter <= 0 {
		t.Fatalf("Wait before the deadline = %v, want ERATELIMIT with RetryAfter", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("Wait returned after the deadline (%v): it should fail at once", time.Since(start))
	}

	// A caller cancelled while sleeping refunds its slot: the next slot is
	// one interval after the first release, not two, so a caller whose
	// deadline is 1.5 s after it is served.
	cctx, ccancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() { errc <- l.Wait(cctx, 1) }()
	time.Sleep(100 * time.Millisecond)
	ccancel()
	if err := <-errc; callbridge.ErrorCode(err) != callbridge.EUNAVAILABLE {
		t.Fatalf("cancelled Wait = %v, want EUNAVAILABLE", err)
	}
	dctx, dcancel := context.WithDeadline(t.Context(), start.Add(1500*time.Millisecond))
	defer dcancel()
	if err := l.Wait(dctx, 1); err != nil {
		t.Fatalf("Wait after a refund = %v; the cancelled caller's slot was not given back", err)
	}
}

// TestLimiter_ConfirmsDepartures: the schedule is not enough when replicas'
// timers fire late. Here six requests have just left (as if another
// replica's overdue timers fired together): a caller whose slot has come is
// held until the oldest of them is 1.02 s old.
func TestLimiter_ConfirmsDepartures(t *testing.T) {
	dbs := replicas(t, 1)
	l := postgres.NewLimiter(dbs[0], postgres.LimiterOptions{RPS: 6})
	ctx := t.Context()
	if err := l.Wait(ctx, 1); err != nil { // creates the rows
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, postgrestest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	// Six departures 100 ms ago, 10 ms apart; the schedule (tat) knows none.
	_, err = conn.Exec(ctx, `
		UPDATE `+pgx.Identifier{dbs[0].Schema(), "kommo_rate_limits"}.Sanitize()+`
		   SET sent = ARRAY(SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT - 100000 + i * 10000
		                    FROM generate_series(0, 5) AS i), tat = 0, releases = '{}'`)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := l.Wait(ctx, 2); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 850*time.Millisecond {
		t.Fatalf("released %v after six departures 100 ms old; want about 920 ms (cap of 6 in 1.02 s)", d)
	}
}

// TestLimiter_NoBurstAfterABurst: six requests have just left at once (a
// stalled replica's overdue timers); a dozen callers on two replicas, whose
// slots come while the cap is full, leave one by one afterwards instead of
// repeating the burst a second later.
func TestLimiter_NoBurstAfterABurst(t *testing.T) {
	dbs := replicas(t, 2)
	a := postgres.NewLimiter(dbs[0], postgres.LimiterOptions{RPS: 6})
	b := postgres.NewLimiter(dbs[1], postgres.LimiterOptions{RPS: 6})
	ctx := t.Context()
	if err := a.Wait(ctx, 1); err != nil { // creates the rows
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, postgrestest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		UPDATE `+pgx.Identifier{dbs[0].Schema(), "kommo_rate_limits"}.Sanitize()+`
		   SET sent = ARRAY(SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT FROM generate_series(1, 6)),
		       tat = 0, releases = '{}'`)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []time.Time
	var wg sync.WaitGroup
	for i := range 12 {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			if err := l.Wait(ctx, int64(1+i%3)); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, time.Now())
			mu.Unlock()
		})
	}
	wg.Wait()
	if n := maxInWindow(got, time.Second); n > 6 {
		t.Errorf("%d releases in one second, want at most 6", n)
	}
	if n := maxInWindow(got, 100*time.Millisecond); n > 2 {
		t.Errorf("%d releases within 100 ms: the burst repeated", n)
	}
}
