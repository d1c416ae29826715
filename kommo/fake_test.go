package kommo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// memStore is an in-memory kommo.TokenStore with the semantics documented on
// callbridge.Queries.
type memStore struct {
	mu       sync.Mutex
	toks     map[int64]*callbridge.Token
	acquired atomic.Int64 // successful lease acquisitions
	rotated  atomic.Int64
	findErr  error // returned by FindToken when set
}

func newMemStore() *memStore { return &memStore{toks: make(map[int64]*callbridge.Token)} }

func (s *memStore) FindToken(_ context.Context, accountID int64) (*callbridge.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findErr != nil {
		return nil, s.findErr
	}
	t, ok := s.toks[accountID]
	if !ok {
		return nil, callbridge.Errorf(callbridge.ENOTFOUND, "no token")
	}
	cp := *t
	return &cp, nil
}

func (s *memStore) SaveToken(_ context.Context, t *callbridge.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var v int64
	if old, ok := s.toks[t.AccountID]; ok {
		v = old.Version
	}
	cp := *t
	cp.Version = v + 1
	cp.LeaseOwner, cp.LeaseUntil = "", time.Time{}
	s.toks[t.AccountID] = &cp
	t.Version = cp.Version
	return nil
}

func (s *memStore) AcquireRefreshLease(_ context.Context, accountID int64, owner string, now, until time.Time) (*callbridge.Token, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.toks[accountID]
	if !ok {
		return nil, false, callbridge.Errorf(callbridge.ENOTFOUND, "no token")
	}
	if t.LeaseOwner != "" && t.LeaseOwner != owner && now.Before(t.LeaseUntil) {
		cp := *t
		return &cp, false, nil
	}
	t.LeaseOwner, t.LeaseUntil = owner, until
	s.acquired.Add(1)
	cp := *t
	return &cp, true, nil
}

func (s *memStore) RotateToken(_ context.Context, t *callbridge.Token, prevVersion int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.toks[t.AccountID]
	if !ok {
		return callbridge.Errorf(callbridge.ENOTFOUND, "no token")
	}
	if old.Version != prevVersion {
		return callbridge.Errorf(callbridge.ECONFLICT, "token version changed")
	}
	cp := *t
	cp.Version = prevVersion + 1
	cp.LeaseOwner, cp.LeaseUntil = "", time.Time{}
	s.toks[t.AccountID] = &cp
	t.Version = cp.Version
	s.rotated.Add(1)
	return nil
}

func (s *memStore) ReleaseRefreshLease(_ context.Context, accountID int64, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.toks[accountID]; ok && t.LeaseOwner == owner {
		t.LeaseOwner, t.LeaseUntil = "", time.Time{}
	}
	return nil
}

func (s *memStore) get(accountID int64) callbridge.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.toks[accountID]
}

var (
	_ kommo.TokenStore = (*memStore)(nil)
	// Anything that implements the store contract (*store.DB) is a TokenStore.
	_ kommo.TokenStore = callbridge.Queries(nil)
)

// refreshState is one refresh token at the fake: valid until it is used in
// strict mode, else until its successor is used (Kommo's documented grace).
type refreshState struct {
	account   int64
	revoked   bool
	successor string
	pred      string
}

// fakeKommo is a small, faithful Kommo: rotating refresh tokens, bearer
// checks, POST /api/v4/calls with entity-not-found semantics, problem+json
// errors. Tests add routes with handle.
type fakeKommo struct {
	t   testing.TB
	srv *httptest.Server
	mux *http.ServeMux

	mu          sync.Mutex
	access      map[string]int64 // valid access tokens
	refresh     map[string]*refreshState
	codes       map[string]int64
	seq         int
	phones      map[string]string // last 10 digits → "leads:ID" etc.
	notes       map[int64]string  // note id → phone
	nextNote    int64
	batches     [][]map[string]any // bodies of POST /api/v4/calls
	arrivals    []time.Time
	counts      map[string]int
	strict      bool // refresh tokens are single-use
	ridInErrors bool // errors carry request_id
	dropCalls   bool // POST /api/v4/calls: read the body, then drop the connection

	refreshes   atomic.Int64
	refreshWait time.Duration                    // delay before answering a refresh
	onRefresh   func(w http.ResponseWriter) bool // true: the hook answered
	expiresIn   int
}

func newFake(t testing.TB) *fakeKommo {
	t.Helper()
	f := &fakeKommo{
		t: t, mux: http.NewServeMux(),
		access: map[string]int64{}, refresh: map[string]*refreshState{}, codes: map[string]int64{},
		phones: map[string]string{}, notes: map[int64]string{}, counts: map[string]int{},
		nextNote: 5000, ridInErrors: true, expiresIn: 86400,
	}
	f.mux.HandleFunc("POST /oauth2/access_token", f.token)
	f.handle("POST /api/v4/calls", f.calls)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.arrivals = append(f.arrivals, time.Now())
		mux := f.mux
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// with runs fn with the fake locked, to change its settings.
func (f *fakeKommo) with(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// reset drops every route but the token endpoint.
func (f *fakeKommo) reset() {
	f.with(func() {
		f.mux = http.NewServeMux()
		f.mux.HandleFunc("POST /oauth2/access_token", f.token)
	})
}

// handle registers an API route that requires a valid bearer token.
func (f *fakeKommo) handle(pattern string, h http.HandlerFunc) {
	f.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.counts[pattern]++
		_, ok := f.access[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		f.mu.Unlock()
		if !ok {
			problemJSON(w, 401, `{"title":"Unauthorized","type":"https://httpstatus.es/401","status":401,"detail":"Invalid access token"}`)
			return
		}
		h(w, r)
	})
}

func (f *fakeKommo) count(pattern string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[pattern]
}

func (f *fakeKommo) arrivalTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.arrivals...)
}

// issue creates a pair for account. f.mu is held.
func (f *fakeKommo) issue(account int64) (string, string) {
	f.seq++
	a, r := fmt.Sprintf("access-%d-%d", account, f.seq), fmt.Sprintf("refresh-%d-%d", account, f.seq)
	f.access[a] = account
	f.refresh[r] = &refreshState{account: account}
	return a, r
}

// addAccount registers an installed account and returns its pair.
func (f *fakeKommo) addAccount(account int64) (access, refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issue(account)
}

// revokeAccess makes an access token invalid (as after an admin's action).
func (f *fakeKommo) revokeAccess(access string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.access, access)
}

func (f *fakeKommo) addCode(code string, account int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes[code] = account
}

func (f *fakeKommo) token(w http.ResponseWriter, r *http.Request) {
	var req map[string]string
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		problemJSON(w, 400, `{"title":"Bad Request","status":400}`)
		return
	}
	if req["client_id"] != "cid" || req["client_secret"] != "secret" || req["redirect_uri"] != "https://cb.example/oauth" {
		problemJSON(w, 401, `{"hint":"Client authentication failed","title":"Unauthorized","status":401}`)
		return
	}
	revoked := `{"hint":"Token has been revoked","title":"Некорректный запрос","type":"https://developers.amocrm.ru/v3/errors/OAuthProblemJson","status":401,"detail":"В запросе отсутствует ряд параметров или параметры невалидны"}`
	switch req["grant_type"] {
	case "authorization_code":
		f.mu.Lock()
		acct, ok := f.codes[req["code"]]
		delete(f.codes, req["code"])
		var a, rt string
		if ok {
			a, rt = f.issue(acct)
		}
		f.mu.Unlock()
		if !ok {
			problemJSON(w, 400, `{"hint":"Authorization code has been revoked","title":"Некорректный запрос","status":400}`)
			return
		}
		f.writeToken(w, a, rt)
	case "refresh_token":
		f.refreshes.Add(1)
		f.mu.Lock()
		wait, hook := f.refreshWait, f.onRefresh
		f.mu.Unlock()
		time.Sleep(wait)
		if hook != nil && hook(w) {
			return
		}
		f.mu.Lock()
		st, ok := f.refresh[req["refresh_token"]]
		if !ok || st.revoked {
			f.mu.Unlock()
			problemJSON(w, 401, revoked)
			return
		}
		// Using a token ends its predecessor's grace.
		if p := f.refresh[st.pred]; p != nil {
			p.revoked = true
		}
		if f.strict {
			st.revoked = true
		}
		a, rt := f.issue(st.account)
		f.refresh[rt].pred = req["refresh_token"]
		st.successor = rt
		f.mu.Unlock()
		f.writeToken(w, a, rt)
	default:
		problemJSON(w, 400, `{"title":"Bad Request","status":400}`)
	}
}

func (f *fakeKommo) writeToken(w http.ResponseWriter, a, r string) {
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":%d,"server_time":%d,"access_token":%q,"refresh_token":%q}`,
		f.expiresIn, time.Now().Unix(), a, r)
}

// addPhone makes calls to phone land on entity (e.g. "leads", 77).
func (f *fakeKommo) addPhone(phone, entityType string, id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phones[callbridge.PhoneTail(phone, 10)] = fmt.Sprintf("%s:%d", entityType, id)
}

func (f *fakeKommo) calls(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	drop := f.dropCalls
	f.mu.Unlock()
	if drop {
		dropAfterRead(w, r)
		return
	}
	var items []map[string]any
	if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
		problemJSON(w, 400, `{"title":"Bad Request","status":400,"detail":"Request validation failed"}`)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, items)
	if len(items) > 250 {
		problemJSON(w, 422, `{"title":"Unprocessable Entity","type":"https://httpstatus.es/422","status":422,"detail":"Limit 250 per page"}`)
		return
	}
	// Validation first: any invalid item rejects the whole request.
	var verrs []map[string]any
	for _, it := range items {
		if it["phone"] == "invalid" {
			verrs = append(verrs, map[string]any{"request_id": it["request_id"], "errors": []any{
				map[string]any{"code": "NotSupportedChoice", "path": "phone", "detail": "The value you selected is not a valid choice."}}})
		}
	}
	if len(verrs) > 0 {
		b, _ := json.Marshal(map[string]any{"validation-errors": verrs, "title": "Bad Request", "type": "https://httpstatus.es/400", "status": 400, "detail": "Request validation failed"})
		problemJSON(w, 400, string(b))
		return
	}
	var calls, errs []any
	for _, it := range items {
		phone, _ := it["phone"].(string)
		ent, ok := f.phones[callbridge.PhoneTail(phone, 10)]
		if !ok {
			e := map[string]any{"title": "Entity not found", "status": 263}
			if f.ridInErrors {
				e["request_id"] = it["request_id"]
			}
			errs = append(errs, e)
			continue
		}
		var et string
		var eid int64
		fmt.Sscanf(strings.Replace(ent, ":", " ", 1), "%s %d", &et, &eid)
		f.nextNote++
		f.notes[f.nextNote] = phone
		calls = append(calls, map[string]any{"id": f.nextNote, "entity_id": eid, "entity_type": et, "account_id": 1,
			"request_id": it["request_id"], "_embedded": map[string]any{"entity": map[string]any{"id": eid}}})
	}
	body := map[string]any{"_total_items": len(calls), "errors": errs}
	if errs == nil {
		body["errors"] = []any{}
	}
	if len(calls) > 0 {
		body["_embedded"] = map[string]any{"calls": calls}
	}
	b, _ := json.Marshal(body)
	if len(calls) == 0 {
		problemJSON(w, 400, string(b))
		return
	}
	w.Header().Set("Content-Type", "application/hal+json")
	w.Write(b)
}

func (f *fakeKommo) notePhone(id int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.notes[id]
}

func (f *fakeKommo) callBatches() [][]map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]map[string]any(nil), f.batches...)
}

func problemJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func halJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/hal+json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// dropAfterRead reads the request body and closes the connection without
// answering: the write reached Kommo, its answer was lost.
func dropAfterRead(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// closedAddr returns an http URL on which nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// env is a client, its fake Kommo and store, with one installed account.
type env struct {
	f     *fakeKommo
	store *memStore
	c     *kommo.Client
	acct  *callbridge.Account
}

const testAccount = 7

func baseConfig(f *fakeKommo) kommo.Config {
	return kommo.Config{
		ClientID: "cid", ClientSecret: "secret", RedirectURI: "https://cb.example/oauth",
		BaseURL:   f.srv.URL,
		Limiter:   kommo.NewLimiter(1000, 1000),
		BatchWait: 5 * time.Millisecond,
	}
}

// newEnv installs testAccount with a fresh pair; mod adjusts the config.
func newEnv(t testing.TB, mod func(*kommo.Config)) *env {
	t.Helper()
	f := newFake(t)
	store := newMemStore()
	a, r := f.addAccount(testAccount)
	if err := store.SaveToken(t.Context(), &callbridge.Token{AccountID: testAccount, AccessToken: a, RefreshToken: r,
		ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(f)
	if mod != nil {
		mod(&cfg)
	}
	return &env{f: f, store: store, c: kommo.NewClient(cfg, store),
		acct: &callbridge.Account{ID: testAccount, KommoID: 1000 + testAccount, Subdomain: "acme", BaseURL: "https://acme.kommo.com", Status: callbridge.AccountActive}}
}

// recLimiter records penalties and never waits.
type recLimiter struct {
	mu        sync.Mutex
	penalties []time.Time
	waits     atomic.Int64
}

func (l *recLimiter) Wait(ctx context.Context, _ int64) error { l.waits.Add(1); return ctx.Err() }
func (l *recLimiter) Penalize(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.penalties = append(l.penalties, until)
}
func (l *recLimiter) got() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.penalties...)
}

// asErr returns err as *callbridge.Error or fails the test.
func asErr(t *testing.T, err error) *callbridge.Error {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok {
		t.Fatalf("error %T is not *callbridge.Error: %v", err, err)
	}
	return e
}

// fakeClock is a settable Config.Now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// atOnce runs f(0) … f(n-1) concurrently, released together so that they
// meet in the client's batches and limiter, and waits for all of them.
func atOnce(n int, f func(i int)) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}
