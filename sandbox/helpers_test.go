package sandbox_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge/sandbox"
)

const (
	clientID     = "client-uuid-1"
	clientSecret = "s3cret"
)

// clock is a manual clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// hookRequest is a request the emulator sent to the integration.
type hookRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   string
}

// integration records the hooks the emulator sends.
type integration struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []hookRequest
}

func newIntegration(t *testing.T) *integration {
	in := &integration{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		in.mu.Lock()
		in.got = append(in.got, hookRequest{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), string(b)})
		in.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(in.srv.Close)
	return in
}

// wait returns the first recorded request to path, polling until deadline.
func (in *integration) wait(t *testing.T, path string, n int) []hookRequest {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		in.mu.Lock()
		var out []hookRequest
		for _, h := range in.got {
			if h.Path == path {
				out = append(out, h)
			}
		}
		in.mu.Unlock()
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d requests to %s, want %d", len(out), path, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type env struct {
	t     *testing.T
	emu   *sandbox.Emulator
	srv   *httptest.Server
	clock *clock
	in    *integration
	http  *http.Client
}

// newEnv starts an emulator with a manual clock, a high rate limit (tests of
// the limiter lower it) and an integration server receiving hooks.
func newEnv(t *testing.T, mutate func(*sandbox.Config)) *env {
	t.Helper()
	in := newIntegration(t)
	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := sandbox.Config{
		ClientID:      clientID,
		ClientSecret:  clientSecret,
		RedirectURI:   in.srv.URL + "/install",
		DisconnectURL: in.srv.URL + "/disconnect",
		WebhookURL:    in.srv.URL + "/webhook",
		RateLimit:     100000,
		RetryAfter:    time.Second,
		Now:           clk.Now,
		Seed:          1,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	emu := sandbox.New(cfg)
	srv := httptest.NewServer(emu)
	t.Cleanup(func() {
		srv.Close()
		_ = emu.Close()
	})
	emu.SetHost(srv.Listener.Addr().String())
	return &env{t: t, emu: emu, srv: srv, clock: clk, in: in, http: &http.Client{Timeout: 10 * time.Second}}
}

// seed seeds one account and returns its result.
func (e *env) seed(a sandbox.SeedAccount) sandbox.SeedAccountResult {
	e.t.Helper()
	res, err := e.emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{a}})
	if err != nil {
		e.t.Fatalf("Seed: %v", err)
	}
	return res.Accounts[0]
}

type tokens struct {
	Access  string `json:"access_token"`
	Refresh string `json:"refresh_token"`
	Expires int64  `json:"expires_in"`
	Type    string `json:"token_type"`
}

// token installs the integration for a user of the account (0 = admin) and
// exchanges the code.
func (e *env) token(accountID, userID int64) tokens {
	e.t.Helper()
	code, err := e.emu.InstallUser(e.t.Context(), accountID, userID, "st")
	if err != nil {
		e.t.Fatalf("Install: %v", err)
	}
	status, body := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code})
	if status != http.StatusOK {
		e.t.Fatalf("code exchange: %d %s", status, body)
	}
	var tk tokens
	mustJSON(e.t, body, &tk)
	return tk
}

// oauth posts to /oauth2/access_token with the client credentials and
// redirect_uri added.
func (e *env) oauth(params map[string]string) (int, []byte) {
	e.t.Helper()
	body := map[string]string{"client_id": clientID, "client_secret": clientSecret, "redirect_uri": e.in.srv.URL + "/install"}
	for k, v := range params {
		body[k] = v
	}
	status, b, _ := e.do("POST", "/oauth2/access_token", "", body)
	return status, b
}

func (e *env) refresh(rt string) (int, []byte, tokens) {
	e.t.Helper()
	status, b := e.oauth(map[string]string{"grant_type": "refresh_token", "refresh_token": rt})
	var tk tokens
	if status == http.StatusOK {
		mustJSON(e.t, b, &tk)
	}
	return status, b, tk
}

// do sends a request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, token string, body any) (int, []byte, http.Header) {
	e.t.Helper()
	resp, err := e.send(method, path, token, body)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, b, resp.Header
}

func (e *env) send(method, path, token string, body any) (*http.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.http.Do(req)
}

// api sends and decodes a JSON answer (nil for an empty body).
func (e *env) api(method, path, token string, body any) (int, map[string]any) {
	e.t.Helper()
	status, b, _ := e.do(method, path, token, body)
	if len(b) == 0 {
		return status, nil
	}
	var m map[string]any
	mustJSON(e.t, b, &m)
	return status, m
}

func mustJSON(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("decoding %q: %v", b, err)
	}
}

// get walks a decoded JSON value: keys for objects, ints for arrays.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

// num returns a decoded JSON number as int64 (-1 if it is not one).
func num(v any) int64 {
	if n, ok := v.(json.Number); ok {
		i, err := n.Int64()
		if err == nil {
			return i
		}
	}
	return -1
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// call is a minimal valid POST /api/v4/calls item.
func call(phone, uniq string) map[string]any {
	return map[string]any{"direction": "inbound", "duration": 42, "source": "callbridge", "phone": phone, "uniq": uniq}
}

// postCall posts one call and returns the status and decoded body.
func (e *env) postCall(token string, items ...map[string]any) (int, map[string]any) {
	e.t.Helper()
	return e.api("POST", "/api/v4/calls", token, items)
}

// state returns the emulator's only/first account state.
func (e *env) account(id int64) *sandbox.AccountState {
	e.t.Helper()
	st := e.emu.State()
	a := st.Account(id)
	if a == nil {
		e.t.Fatalf("account %d not in state", id)
	}
	return a
}
