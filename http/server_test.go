package http_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
)

// Test fixtures.
const (
	testPublicURL    = "https://cb.example.com"
	testClientID     = "5f1c7a0e-2b8d-4c1e-9a7f-0d3e6b2c4a11"
	testClientSecret = "integration-secret-0123456789abcdef"
	acmeKommoID      = 31000001
	otherKommoID     = 31000002
	goneKommoID      = 31000003
	acmeToken        = "acme-webhook-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	otherToken       = "other-webhook-token-BBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	goneToken        = "gone-webhook-token-CCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
	providerSecret   = "provider-shared-secret-do-not-leak"
)

var (
	testNow      = time.Date(2026, 3, 4, 10, 20, 30, 0, time.UTC)
	recordingKey = []byte("recording-key-0123456789abcdef01")
)

// fakeStore is an in-memory callbridge.Store with just what package http
// uses. Methods it does not implement panic through the nil embedded
// interface.
type fakeStore struct {
	callbridge.Store

	mu           sync.Mutex
	accounts     map[int64]*callbridge.Account
	connections  map[int64]*callbridge.Connection
	calls        map[int64]*callbridge.Call
	installCodes []*callbridge.InstallCode
	nextID       int64

	installErr error // returned by CreateInstallCode
	findErr    error // returned by FindConnectionByToken
}

func newFakeStore() *fakeStore {
	s := &fakeStore{
		accounts:    map[int64]*callbridge.Account{},
		connections: map[int64]*callbridge.Connection{},
		calls:       map[int64]*callbridge.Call{},
		nextID:      1000,
	}
	s.accounts[1] = &callbridge.Account{ID: 1, KommoID: acmeKommoID, Subdomain: "acme", Status: callbridge.AccountActive}
	s.accounts[2] = &callbridge.Account{ID: 2, KommoID: otherKommoID, Subdomain: "other", Status: callbridge.AccountActive}
	s.accounts[3] = &callbridge.Account{ID: 3, KommoID: goneKommoID, Subdomain: "gone", Status: callbridge.AccountDisconnected}
	creds := map[string]string{"secret": providerSecret, "user": "AC-user"}
	s.connections[11] = &callbridge.Connection{ID: 11, AccountID: 1, Provider: "fake", Name: "Acme line", Token: acmeToken, Credentials: creds, TimeZone: "UTC"}
	s.connections[21] = &callbridge.Connection{ID: 21, AccountID: 2, Provider: "fake", Name: "Other line", Token: otherToken, Credentials: creds, TimeZone: "UTC"}
	s.connections[31] = &callbridge.Connection{ID: 31, AccountID: 3, Provider: "fake", Name: "Gone line", Token: goneToken, Credentials: creds, TimeZone: "UTC"}
	s.calls[101] = &callbridge.Call{ID: 101, UID: "uid-acme-1", AccountID: 1, ConnectionID: 11, ProviderCallID: "CA1",
		Direction: callbridge.DirectionInbound, Status: callbridge.StatusCompleted, Ended: true,
		CustomerNumber: "+14155550100", LineNumber: "+14155550199", Duration: 42,
		StartedAt: testNow.Add(-time.Minute), EndedAt: testNow,
		Kommo: callbridge.KommoRecord{State: callbridge.KommoWritten, EntityType: "leads", EntityID: 555, SyncedVersion: 3}, Version: 3}
	s.calls[201] = &callbridge.Call{ID: 201, UID: "uid-other-1", AccountID: 2, ConnectionID: 21, ProviderCallID: "CA2",
		Status: callbridge.StatusCompleted, Ended: true, CustomerNumber: "+14155550111"}
	return s
}

func notFound(what string) error {
	return callbridge.Errorf(callbridge.ENOTFOUND, "%s not found", what)
}

func (s *fakeStore) FindAccount(ctx context.Context, id int64) (*callbridge.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[id]; ok {
		cp := *a
		return &cp, nil
	}
	return nil, notFound("account")
}

func (s *fakeStore) FindAccountByKommoID(ctx context.Context, kommoID int64) (*callbridge.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.accounts {
		if a.KommoID == kommoID {
			cp := *a
			return &cp, nil
		}
	}
	return nil, notFound("account")
}

func (s *fakeStore) SetAccountStatus(ctx context.Context, id int64, status callbridge.AccountStatus) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		return notFound("account")
	}
	a.Status = status
	return nil
}

func (s *fakeStore) accountStatus(id int64) callbridge.AccountStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accounts[id].Status
}

func (s *fakeStore) CreateInstallCode(ctx context.Context, c *callbridge.InstallCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.installErr != nil {
		return s.installErr
	}
	s.nextID++
	c.ID = s.nextID
	cp := *c
	s.installCodes = append(s.installCodes, &cp)
	return nil
}

func (s *fakeStore) installCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.installCodes)
}

func (s *fakeStore) UpdateConnection(ctx context.Context, c *callbridge.Connection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.connections[c.ID]
	if old == nil || old.AccountID != c.AccountID {
		return callbridge.Errorf(callbridge.ENOTFOUND, "Connection not found.")
	}
	cp := *c
	cp.Token, cp.CreatedAt = old.Token, old.CreatedAt
	s.connections[c.ID] = &cp
	c.Token = old.Token
	return nil
}

func (s *fakeStore) CreateConnection(ctx context.Context, c *callbridge.Connection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	c.ID = s.nextID
	if c.Token == "" {
		c.Token = fmt.Sprintf("generated-token-%d", c.ID)
	}
	c.CreatedAt = testNow
	cp := *c
	s.connections[c.ID] = &cp
	return nil
}

func (s *fakeStore) FindConnection(ctx context.Context, accountID, id int64) (*callbridge.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.connections[id]; ok && c.AccountID == accountID {
		cp := *c
		return &cp, nil
	}
	return nil, notFound("connection")
}

func (s *fakeStore) FindConnectionByToken(ctx context.Context, token string) (*callbridge.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.findErr != nil {
		return nil, s.findErr
	}
	for _, c := range s.connections {
		if c.Token == token {
			cp := *c
			return &cp, nil
		}
	}
	return nil, notFound("connection")
}

func (s *fakeStore) ListConnections(ctx context.Context, accountID int64) ([]*callbridge.Connection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*callbridge.Connection
	for id := int64(0); id <= s.nextID; id++ {
		if c, ok := s.connections[id]; ok && c.AccountID == accountID {
			cp := *c
			out = append(out, &cp)
		}
	}
	return out, nil
}

func (s *fakeStore) FindCall(ctx context.Context, accountID, id int64) (*callbridge.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls[id]; ok && c.AccountID == accountID {
		cp := *c
		return &cp, nil
	}
	return nil, notFound("call")
}

func (s *fakeStore) FindCallByUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.calls {
		if c.UID == uid && c.AccountID == accountID {
			cp := *c
			return &cp, nil
		}
	}
	return nil, notFound("call")
}

func (s *fakeStore) setCall(c *callbridge.Call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[c.ID] = c
}

// fakeIngester records what it is given.
type fakeIngester struct {
	store *fakeStore

	mu        sync.Mutex
	ingested  [][]callbridge.CallEvent
	conns     []*callbridge.Connection
	results   []callbridge.ResultInput
	accounts  []int64
	ingestErr error
	resultErr error
}

func (f *fakeIngester) Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ingestErr != nil {
		return f.ingestErr
	}
	f.ingested = append(f.ingested, events)
	f.conns = append(f.conns, conn)
	return nil
}

func (f *fakeIngester) SaveResult(ctx context.Context, acct *callbridge.Account, in callbridge.ResultInput) (*callbridge.Call, error) {
	f.mu.Lock()
	if f.resultErr != nil {
		defer f.mu.Unlock()
		return nil, f.resultErr
	}
	f.results = append(f.results, in)
	f.accounts = append(f.accounts, acct.ID)
	f.mu.Unlock()
	if in.CallUID != "" {
		c, err := f.store.FindCallByUID(ctx, acct.ID, in.CallUID)
		if err != nil {
			return nil, err
		}
		r := in.Result
		c.Result = &r
		return c, nil
	}
	r := in.Result
	return &callbridge.Call{ID: 999, UID: "uid-new", AccountID: acct.ID, ConnectionID: in.ConnectionID, ProviderCallID: in.ProviderCallID, Result: &r}, nil
}

func (f *fakeIngester) ingestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ingested)
}

func (f *fakeIngester) lastResult() (callbridge.ResultInput, int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.results) == 0 {
		return callbridge.ResultInput{}, 0, false
	}
	return f.results[len(f.results)-1], f.accounts[len(f.accounts)-1], true
}

// fakeConnector authenticates webhooks with X-Fake-Signature =
// hex(HMAC-SHA256(credentials["secret"], URL + body)) and reads bodies of the
// form "call=CA1&status=ringing". Recordings are allowed on allowHost only,
// with basic auth from the credentials.
type fakeConnector struct {
	allowHost string

	mu      sync.Mutex
	calls   int
	lastReq *callbridge.WebhookRequest
}

func (f *fakeConnector) Name() string { return "fake" }

func (f *fakeConnector) RequiredCredentials() []string { return []string{"secret"} }

func fakeSignature(url string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(providerSecret))
	mac.Write([]byte(url))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func (f *fakeConnector) ParseWebhook(ctx context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	f.mu.Lock()
	f.calls++
	cp := *req
	f.lastReq = &cp
	f.mu.Unlock()

	mac := hmac.New(sha256.New, []byte(conn.Credentials["secret"]))
	mac.Write([]byte(req.URL))
	mac.Write(req.Body)
	got, _ := hex.DecodeString(req.Header.Get("X-Fake-Signature"))
	if !hmac.Equal(got, mac.Sum(nil)) {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Bad signature.")
	}
	fields := map[string]string{}
	for _, kv := range strings.Split(string(req.Body), "&") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Malformed payload.")
		}
		fields[k] = v
	}
	reply := &callbridge.WebhookReply{ContentType: "text/xml", Body: []byte("<Response/>")}
	if fields["status"] == "recording-in-progress" {
		return nil, reply, nil
	}
	ev := callbridge.CallEvent{
		Type:           callbridge.EventStatus,
		Key:            "status:" + fields["call"] + ":" + fields["status"],
		ProviderCallID: fields["call"],
		Status:         callbridge.Status(fields["status"]),
	}
	return []callbridge.CallEvent{ev, ev}, reply, nil
}

func (f *fakeConnector) RecordingRequest(ctx context.Context, conn *callbridge.Connection, recordingURL string) (*nethttp.Request, error) {
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodGet, recordingURL, nil)
	if err != nil {
		return nil, callbridge.Errorf(callbridge.EFORBIDDEN, "Bad recording URL.")
	}
	if req.URL.Host != f.allowHost {
		return nil, callbridge.Errorf(callbridge.EFORBIDDEN, "Recording URL is not on the provider's hosts.")
	}
	req.SetBasicAuth(conn.Credentials["user"], conn.Credentials["secret"])
	return req, nil
}

func (f *fakeConnector) parseCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// env is a Server wired to fakes.
type env struct {
	t         *testing.T
	server    *cbhttp.Server
	handler   nethttp.Handler
	store     *fakeStore
	ingester  *fakeIngester
	connector *fakeConnector
	logs      *syncBuffer
	now       time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, store: newFakeStore(), connector: &fakeConnector{}, logs: &syncBuffer{}, now: testNow}
	e.ingester = &fakeIngester{store: e.store}
	e.server = &cbhttp.Server{
		PublicURL:    testPublicURL,
		Store:        e.store,
		Connectors:   map[string]callbridge.Connector{"fake": e.connector},
		Ingester:     e.ingester,
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		RecordingKey: recordingKey,
		Logger:       slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:          func() time.Time { return e.now },
	}
	e.handler = e.server.Handler()
	return e
}

// do serves req and returns the recorded response.
func (e *env) do(req *nethttp.Request) *httptest.ResponseRecorder {
	e.t.Helper()
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// assertError checks an API error response.
func assertError(t *testing.T, rec *httptest.ResponseRecorder, status int, code string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status=%d, want %d; body=%s", rec.Code, status, rec.Body)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, rec.Body)
	}
	if body.Error.Code != code {
		t.Fatalf("code=%q, want %q; body=%s", body.Error.Code, code, rec.Body)
	}
	if body.Error.Message == "" {
		t.Fatalf("empty error message: %s", rec.Body)
	}
}

// assertNotLogged fails if any of secrets appears in the logs.
func (e *env) assertNotLogged(secrets ...string) {
	e.t.Helper()
	logs := e.logs.String()
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			e.t.Fatalf("logs contain secret %q:\n%s", s, logs)
		}
	}
}

func TestErrorStatus(t *testing.T) {
	for code, want := range map[string]int{
		callbridge.EINVALID: 400, callbridge.EUNAUTHORIZED: 401, callbridge.EFORBIDDEN: 403,
		callbridge.ENOTFOUND: 404, callbridge.ECONFLICT: 409, callbridge.EGONE: 410,
		callbridge.ETOOLARGE: 413, callbridge.ERATELIMIT: 429, callbridge.EUNAVAILABLE: 503,
		callbridge.EINTERNAL: 500, "no-such-code": 500,
	} {
		if got := cbhttp.ErrorStatus(code); got != want {
			t.Errorf("ErrorStatus(%q)=%d, want %d", code, got, want)
		}
	}
}

func TestError(t *testing.T) {
	t.Run("AppError", func(t *testing.T) {
		rec := httptest.NewRecorder()
		err := &callbridge.Error{Code: callbridge.ERATELIMIT, Message: "Slow down.", RetryAfter: 1500 * time.Millisecond, Err: fmt.Errorf("secret cause")}
		cbhttp.Error(rec, httptest.NewRequest("GET", "/", nil), err)
		assertError(t, rec, 429, callbridge.ERATELIMIT)
		if got := rec.Header().Get("Retry-After"); got != "2" {
			t.Fatalf("Retry-After=%q, want 2", got)
		}
		if strings.Contains(rec.Body.String(), "secret cause") {
			t.Fatalf("cause leaked to client: %s", rec.Body)
		}
	})
	t.Run("PlainError", func(t *testing.T) {
		rec := httptest.NewRecorder()
		cbhttp.Error(rec, httptest.NewRequest("GET", "/", nil), fmt.Errorf("database password=hunter2"))
		assertError(t, rec, 500, callbridge.EINTERNAL)
		if strings.Contains(rec.Body.String(), "hunter2") {
			t.Fatalf("cause leaked to client: %s", rec.Body)
		}
	})
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	rec := e.do(httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "ok" {
		t.Fatalf("healthz: %d %q", rec.Code, rec.Body)
	}
}

func TestReady(t *testing.T) {
	e := newEnv(t)
	var ready error
	e.server.Ready = func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("Ready called without a deadline")
		}
		return ready
	}
	e.handler = e.server.Handler()
	if rec := e.do(httptest.NewRequest("GET", "/readyz", nil)); rec.Code != 200 {
		t.Fatalf("ready: %d %s", rec.Code, rec.Body)
	}
	ready = fmt.Errorf("database is down")
	rec := e.do(httptest.NewRequest("GET", "/readyz", nil))
	assertError(t, rec, 503, callbridge.EUNAVAILABLE)
	if !strings.Contains(e.logs.String(), "database is down") {
		t.Fatalf("cause not logged:\n%s", e.logs)
	}
}

func TestMetricsAndMounts(t *testing.T) {
	e := newEnv(t)
	e.server.Metrics = nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { io.WriteString(w, "metric 1\n") })
	e.server.Mounts = map[string]nethttp.Handler{
		"/riverui/": nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { io.WriteString(w, "river ui") }),
	}
	e.handler = e.server.Handler()
	if rec := e.do(httptest.NewRequest("GET", "/metrics", nil)); rec.Code != 200 || rec.Body.String() != "metric 1\n" {
		t.Fatalf("metrics: %d %q", rec.Code, rec.Body)
	}
	if rec := e.do(httptest.NewRequest("GET", "/riverui/jobs", nil)); rec.Code != 200 || rec.Body.String() != "river ui" {
		t.Fatalf("mount: %d %q", rec.Code, rec.Body)
	}
	// Without Metrics there is no /metrics.
	e2 := newEnv(t)
	if rec := e2.do(httptest.NewRequest("GET", "/metrics", nil)); rec.Code != 404 {
		t.Fatalf("metrics without handler: %d", rec.Code)
	}
}

func TestPanicRecovery(t *testing.T) {
	e := newEnv(t)
	e.server.Mounts = map[string]nethttp.Handler{
		"/boom": nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { panic("kaboom") }),
	}
	e.handler = e.server.Handler()
	rec := e.do(httptest.NewRequest("GET", "/boom", nil))
	assertError(t, rec, 500, callbridge.EINTERNAL)
	logs := e.logs.String()
	if !strings.Contains(logs, "kaboom") || !strings.Contains(logs, `"stack"`) {
		t.Fatalf("panic not logged with its stack:\n%s", logs)
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	rec := e.do(httptest.NewRequest("GET", "/healthz", nil))
	generated := rec.Header().Get("X-Request-Id")
	if len(generated) < 16 {
		t.Fatalf("no generated request id: %q", generated)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-Id", "abc-123")
	if got := e.do(req).Header().Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("request id not propagated: %q", got)
	}
	req = httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-Id", "evil\nid with spaces")
	if got := e.do(req).Header().Get("X-Request-Id"); got == "evil\nid with spaces" || len(got) < 16 {
		t.Fatalf("unsafe request id kept: %q", got)
	}
	if !strings.Contains(e.logs.String(), `"request_id":"abc-123"`) {
		t.Fatalf("request id not in access log:\n%s", e.logs)
	}
}

func TestAccessLog(t *testing.T) {
	e := newEnv(t)
	e.do(httptest.NewRequest("GET", "/healthz", nil))
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
	}
	if line["method"] != "GET" || line["route"] != "GET /healthz" || line["status"] != float64(200) {
		t.Fatalf("access log line: %v", line)
	}
	if _, ok := line["duration"]; !ok {
		t.Fatalf("no duration: %v", line)
	}
}

func TestOpenClose(t *testing.T) {
	e := newEnv(t)
	e.server.Addr = "127.0.0.1:0"
	if err := e.server.Open(); err != nil {
		t.Fatal(err)
	}
	url := e.server.URL()
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("URL()=%q", url)
	}
	resp, err := nethttp.Get(url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz over the network: %d", resp.StatusCode)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := e.server.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := nethttp.Get(url + "/healthz"); err == nil {
		t.Fatal("server still answers after Close")
	}
}

// b64 is base64url without padding.
func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func TestOpenRefusesBadPublicURL(t *testing.T) {
	for _, u := range []string{"cb.example.com", "ftp://cb.example.com", "https://cb.example.com/?x=1", "https://user:pw@cb.example.com"} {
		s := &cbhttp.Server{Addr: "127.0.0.1:0", PublicURL: u}
		if err := s.Open(); err == nil {
			s.Close(t.Context())
			t.Errorf("Open accepted PublicURL %q", u)
		}
	}
}
