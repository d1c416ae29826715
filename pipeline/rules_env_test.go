package pipeline_test

// The rules' test environment: the Kommo emulator over HTTP, the real Kommo
// client, a real SQLite store with River working sync jobs, and the Kommo
// account webhook received by http.KommoHook. Calls are driven by ingesting
// their three inputs (hang-up webhook, call result, recording) in a chosen
// order, waiting after each until the call's sync job has finished.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/kommo"
	"callbridge/pipeline"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/sandbox"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
	"callbridge/store"
)

const (
	testClientID     = "rules-client"
	testClientSecret = "rules-secret-0123456789"
	testLine         = "+14155550000"
	testAgent        = "101"
)

// testClock is the pipeline's clock: the wall clock moved by an offset
// that a test sets.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().UTC().Add(c.offset)
}

// Set makes the clock read t now.
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = time.Until(t)
}

// fakeVoIP is a provider connector whose recordings can be deleted.
type fakeVoIP struct {
	mu      sync.Mutex
	deleted []string
}

func (f *fakeVoIP) Name() string { return "fakevoip" }

func (f *fakeVoIP) ParseWebhook(context.Context, *callbridge.Connection, *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	return nil, nil, callbridge.Errorf(callbridge.EINVALID, "not used")
}

func (f *fakeVoIP) RecordingRequest(ctx context.Context, _ *callbridge.Connection, u string) (*http.Request, error) {
	return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
}

func (f *fakeVoIP) DeleteRecording(_ context.Context, _ *callbridge.Connection, id, _ string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, id)
	return nil
}

func (f *fakeVoIP) deletions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deleted)
}

// testDB is the store under test: SQLite, or PostgreSQL when
// CALLBRIDGE_TEST_POSTGRES_URL is set.
type testDB interface {
	callbridge.Store
	Start(ctx context.Context) error
	FindCallRules(ctx context.Context, accountID, callID int64) (*callbridge.CallRules, error)
}

// backends are the stores the rules are tested on.
func backends() []string {
	if os.Getenv(postgrestest.EnvURL) != "" {
		return []string{"SQLite", "PostgreSQL"}
	}
	return []string{"SQLite"}
}

type env struct {
	t       *testing.T
	emu     *sandbox.Emulator
	emuURL  string
	db      testDB
	kc      *kommo.Client
	sync    *pipeline.SyncWorker
	in      *pipeline.Ingester
	sweeper *pipeline.RulesWorker
	hooks   *pipeline.Hooks
	voip    *fakeVoIP
	clock   *testClock
	seq     atomic.Int64
}

var hookKey = []byte("hook-key-0123456789abcdef0123456")

func newEnv(t *testing.T, backend string) *env {
	t.Helper()
	var out io.Writer = io.Discard
	if os.Getenv("RULES_TEST_LOG") != "" { // RULES_TEST_LOG=1 shows the pipeline's logs
		out = os.Stderr
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e := &env{t: t, voip: &fakeVoIP{}, clock: &testClock{}}

	e.emu = sandbox.New(sandbox.Config{ClientID: testClientID, ClientSecret: testClientSecret, RateLimit: 1_000_000})
	emuSrv := httptest.NewServer(e.emu)
	t.Cleanup(func() { emuSrv.Close(); e.emu.Close() })
	e.emu.SetHost(emuSrv.Listener.Addr().String())
	e.emuURL = emuSrv.URL

	e.sync = &pipeline.SyncWorker{PublicURL: "https://cb.example", RecordingKey: []byte("recording-key-0123456789abcdef01"),
		Connectors: map[string]callbridge.Connector{"fakevoip": e.voip}, Now: e.clock.Now, Logger: logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, e.sync)
	jobs := store.JobConfig{Workers: workers, MaxWorkers: 8, FetchPollInterval: 50 * time.Millisecond,
		RetryPolicy: store.ExponentialRetryPolicy{Base: 50 * time.Millisecond, Max: 500 * time.Millisecond}}
	if backend == "PostgreSQL" {
		e.db = postgrestest.Open(t, postgres.Options{Logger: logger, Jobs: jobs})
	} else {
		e.db = sqlitetest.Open(t, sqlite.Options{Logger: logger, Jobs: jobs})
	}
	e.kc = kommo.NewClient(kommo.Config{ClientID: testClientID, ClientSecret: testClientSecret, BaseURL: emuSrv.URL,
		Limiter: kommo.NewLimiter(2000, 200), BatchWait: 5 * time.Millisecond, Logger: logger}, e.db)
	e.sync.Store, e.sync.Kommo = e.db, e.kc
	e.in = &pipeline.Ingester{Store: e.db, Hold: -1, Now: e.clock.Now, Logger: logger}
	e.sweeper = &pipeline.RulesWorker{Store: e.db, Now: e.clock.Now, Logger: logger}

	hook := &cbhttp.KommoHook{Accounts: e.db, Leads: e.sweeper, Key: hookKey, Logger: logger}
	mux := http.NewServeMux()
	mux.Handle(cbhttp.KommoHookPattern, hook)
	hookSrv := httptest.NewServer(mux)
	t.Cleanup(hookSrv.Close)
	e.hooks = &pipeline.Hooks{Kommo: e.kc, PublicURL: hookSrv.URL, Key: hookKey, Logger: logger}

	if err := e.db.Start(context.WithoutCancel(t.Context())); err != nil {
		t.Fatal(err)
	}
	return e
}

// acctEnv is one installed Kommo account with one provider connection.
type acctEnv struct {
	e       *env
	acct    *callbridge.Account
	conn    *callbridge.Connection
	kommoID int64
	seed    sandbox.SeedAccountResult

	mu  sync.Mutex
	ids map[string]int64 // call ids by provider call id
}

// account seeds a Kommo account, installs callbridge in it with settings,
// and registers its account webhook.
func (e *env) account(settings callbridge.Settings, seed sandbox.SeedAccount) *acctEnv {
	t := e.t
	t.Helper()
	ctx := context.Background()
	res, err := e.emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{seed}})
	if err != nil {
		t.Fatal(err)
	}
	a := &acctEnv{e: e, seed: res.Accounts[0], kommoID: res.Accounts[0].ID, ids: map[string]int64{}}
	code, err := e.emu.Install(ctx, a.kommoID, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, base, err := e.kc.ExchangeCode(ctx, "", code)
	if err != nil {
		t.Fatal(err)
	}
	a.acct = &callbridge.Account{KommoID: a.kommoID, Subdomain: a.seed.Subdomain, BaseURL: base, Settings: settings}
	if err := e.db.UpsertAccount(ctx, a.acct); err != nil {
		t.Fatal(err)
	}
	tok.AccountID = a.acct.ID
	if err := e.db.SaveToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	a.conn = &callbridge.Connection{AccountID: a.acct.ID, Provider: "fakevoip", Name: "line", Credentials: map[string]string{"k": "v"}}
	if err := e.db.CreateConnection(ctx, a.conn); err != nil {
		t.Fatal(err)
	}
	if err := e.hooks.Ensure(ctx, a.acct); err != nil {
		t.Fatal(err)
	}
	return a
}

// callSpec is one call to drive.
type callSpec struct {
	Dir     callbridge.Direction // default inbound
	Number  string
	Outcome string // answered (default), missed, busy, dropped
	Agent   string // default testAgent
	// Result, when set, is saved in the call-result window.
	Result *callbridge.CallResult
	// Recording sends a recording webhook (of an answered call, or a missed
	// call's voicemail); AI makes it carry RingCentral-style aiNote and
	// transcript.
	Recording, AI bool
	Start         time.Time // default the clock's now
}

// inputs of a call.
const (
	inHangup    = "hangup"
	inResult    = "result"
	inRecording = "recording"
)

// orderings returns every order of the call's inputs.
func (s callSpec) orderings() [][]string {
	ins := []string{inHangup}
	if s.Result != nil {
		ins = append(ins, inResult)
	}
	if s.Recording {
		ins = append(ins, inRecording)
	}
	return permutations(ins)
}

func permutations(xs []string) [][]string {
	if len(xs) <= 1 {
		return [][]string{slices.Clone(xs)}
	}
	var out [][]string
	for i := range xs {
		rest := append(slices.Clone(xs[:i]), xs[i+1:]...)
		for _, p := range permutations(rest) {
			out = append(out, append([]string{xs[i]}, p...))
		}
	}
	return out
}

// drive sends the call's inputs in order, waiting after each until the
// call's sync job finished, and returns the call.
func (a *acctEnv) drive(t *testing.T, sid string, spec callSpec, order []string) *callbridge.Call {
	t.Helper()
	for _, in := range order {
		a.send(t, sid, spec, in)
		a.waitIdle(t, sid)
	}
	return a.call(t, sid)
}

// send delivers one input of the call.
func (a *acctEnv) send(t *testing.T, sid string, spec callSpec, in string) {
	t.Helper()
	e := a.e
	ctx := context.Background()
	start := spec.Start
	if start.IsZero() {
		start = e.clock.Now().Add(-2 * time.Minute)
	}
	dir := spec.Dir
	if dir == "" {
		dir = callbridge.DirectionInbound
	}
	agent := spec.Agent
	if agent == "" {
		agent = testAgent
	}
	ev := func(key string, st callbridge.Status, at time.Time, dur int) callbridge.CallEvent {
		return callbridge.CallEvent{Type: callbridge.EventStatus, Key: sid + ":" + key, ProviderCallID: sid, LegID: sid,
			Status: st, Direction: dir, CustomerNumber: spec.Number, LineNumber: testLine, Agent: agent, Duration: dur, OccurredAt: at}
	}
	switch in {
	case inHangup:
		evs := []callbridge.CallEvent{ev("ringing", callbridge.StatusRinging, start, 0)}
		switch spec.Outcome {
		case "", "answered":
			evs = append(evs, ev("answered", callbridge.StatusAnswered, start.Add(5*time.Second), 0),
				ev("completed", callbridge.StatusCompleted, start.Add(65*time.Second), 60))
		case "missed":
			evs = append(evs, ev("missed", callbridge.StatusMissed, start.Add(30*time.Second), 0))
		case "busy":
			evs = append(evs, ev("busy", callbridge.StatusBusy, start.Add(5*time.Second), 0))
		case "dropped":
			evs = append(evs, ev("answered", callbridge.StatusAnswered, start.Add(5*time.Second), 0),
				ev("failed", callbridge.StatusFailed, start.Add(35*time.Second), 30))
		}
		if err := e.in.Ingest(ctx, a.conn, evs); err != nil {
			t.Fatal(err)
		}
	case inRecording:
		rec := callbridge.CallEvent{Type: callbridge.EventRecording, Key: sid + ":recording", ProviderCallID: sid,
			RecordingID: "RE" + sid, RecordingURL: "https://rec.example/" + sid + ".mp3", RecordingDuration: 60,
			OccurredAt: start.Add(70 * time.Second), Payload: []byte(`{"recording":"RE` + sid + `"}`)}
		if spec.AI {
			rec.Payload = []byte(`{"event":"/restapi/v1.0/account/1/telephony/sessions","body":{"telephonySessionId":"` + sid + `",
				"aiNote":{"summary":"Customer asked for a quote\nfor 20 seats"},
				"transcript":[{"speaker":"Agent","text":"Hello, Acme."},{"speaker":"Customer","text":"I need a quote."}]}}`)
		}
		if err := e.in.Ingest(ctx, a.conn, []callbridge.CallEvent{rec}); err != nil {
			t.Fatal(err)
		}
	case inResult:
		r := *spec.Result
		r.SavedAt = start.Add(90*time.Second + time.Duration(e.seq.Add(1))*time.Millisecond)
		if _, err := e.in.SaveResult(ctx, a.acct, callbridge.ResultInput{ConnectionID: a.conn.ID, ProviderCallID: sid,
			Result: r, Key: fmt.Sprintf("%s:%d", sid, e.seq.Add(1))}); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("unknown input %q", in)
	}
}

// call returns the call sid of the account's connection.
func (a *acctEnv) call(t *testing.T, sid string) *callbridge.Call {
	t.Helper()
	ctx := context.Background()
	a.mu.Lock()
	id, ok := a.ids[sid]
	a.mu.Unlock()
	if ok {
		c, err := a.e.db.FindCall(ctx, a.acct.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	var c *callbridge.Call
	err := a.e.db.InTx(ctx, func(q callbridge.Queries) error {
		var err error
		c, err = q.LockCall(ctx, a.acct.ID, a.conn.ID, sid)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.ids[sid] = c.ID
	a.mu.Unlock()
	return c
}

// rules returns the call's rule state.
func (a *acctEnv) rules(t *testing.T, c *callbridge.Call) *callbridge.CallRules {
	t.Helper()
	r, err := a.e.db.FindCallRules(context.Background(), a.acct.ID, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitIdle waits until the call's sync job has brought Kommo up to date
// with every input and rule change.
func (a *acctEnv) waitIdle(t *testing.T, sid string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c := a.call(t, sid)
		r := a.rules(t, c)
		if !c.Loggable() || (c.Synced() && r.DoneRev >= r.Rev && c.Kommo.State != callbridge.KommoIntent) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s not synced: state %q version %d/%d rules %d/%d last error %q", sid, c.Kommo.State, c.Kommo.SyncedVersion,
				c.Version, r.DoneRev, r.Rev, c.Kommo.LastError)
		}
		time.Sleep(150 * time.Millisecond)
	}
}

// setSettings replaces the account's settings.
func (a *acctEnv) setSettings(t *testing.T, s callbridge.Settings) {
	t.Helper()
	if err := a.e.db.UpdateAccountSettings(context.Background(), a.acct.ID, s); err != nil {
		t.Fatal(err)
	}
}

// state returns the emulator's view of the account.
func (a *acctEnv) state(t *testing.T) *sandbox.AccountState {
	t.Helper()
	st := a.e.emu.State().Account(a.kommoID)
	if st == nil {
		t.Fatalf("no emulator account %d", a.kommoID)
	}
	return st
}

// notes returns the live call notes carrying uniq.
func notesOf(st *sandbox.AccountState, uniq string) []sandbox.Note {
	var out []sandbox.Note
	for _, n := range st.Notes {
		if u, _ := n.Params["uniq"].(string); u == uniq && !n.Deleted && (n.NoteType == "call_in" || n.NoteType == "call_out") {
			out = append(out, n)
		}
	}
	return out
}

// text is a note's call_result.
func text(n sandbox.Note) string { s, _ := n.Params["call_result"].(string); return s }

// link is a note's recording link.
func link(n sandbox.Note) string { s, _ := n.Params["link"].(string); return s }

// tasksWith returns the tasks whose text contains s.
func tasksWith(st *sandbox.AccountState, s string) []sandbox.Task {
	var out []sandbox.Task
	for _, t := range st.Tasks {
		if strings.Contains(t.Text, s) {
			out = append(out, t)
		}
	}
	return out
}

// contactsWith returns the live contacts with phone p (last 10 digits).
func contactsWith(st *sandbox.AccountState, p string) []sandbox.Contact {
	var out []sandbox.Contact
	for _, c := range st.Contacts {
		if c.Deleted {
			continue
		}
		for _, q := range c.Phones {
			if callbridge.PhoneTail(q, 10) == callbridge.PhoneTail(p, 10) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// leadByID returns the lead with id.
func leadByID(st *sandbox.AccountState, id int64) *sandbox.Lead {
	for i := range st.Leads {
		if st.Leads[i].ID == id {
			return &st.Leads[i]
		}
	}
	return nil
}

// unsortedFor returns the incoming leads created for call uid.
func unsortedFor(st *sandbox.AccountState, uid string) []sandbox.Unsorted {
	var out []sandbox.Unsorted
	for _, u := range st.Unsorted {
		if u.SourceUID == uid {
			out = append(out, u)
		}
	}
	return out
}

// stage returns the id of the named working stage of the account's main
// pipeline ("Initial contact", "Discussions", "Decision making").
func stage(st *sandbox.AccountState, name string) int64 {
	for _, p := range st.Pipelines {
		if !p.IsMain {
			continue
		}
		for _, s := range p.Statuses {
			if s.Name == name {
				return s.ID
			}
		}
	}
	return 0
}

// postHook posts a raw account webhook to the account's hook address.
func (a *acctEnv) postHook(t *testing.T, form url.Values) int {
	t.Helper()
	resp, err := http.PostForm(callbridge.HookURL(a.e.hooks.PublicURL, hookKey, a.acct.ID), form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// number returns a distinct US number for the test's n-th call.
func number(prefix, n int) string { return fmt.Sprintf("+1628%03d%04d", prefix%1000, n%10000) }
