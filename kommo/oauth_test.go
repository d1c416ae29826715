package kommo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

func TestValidateReferer(t *testing.T) {
	good := map[string]string{
		"acme.kommo.com":      "acme.kommo.com",
		"ACME.Kommo.com":      "acme.kommo.com",
		"my-shop1.amocrm.ru":  "my-shop1.amocrm.ru",
		"x.amocrm.com":        "x.amocrm.com",
		"123.kommo.com":       "123.kommo.com",
		"a-b-c-d.amocrm.com":  "a-b-c-d.amocrm.com",
		"subdomain.kommo.com": "subdomain.kommo.com",
	}
	for in, want := range good {
		got, err := kommo.ValidateReferer(in)
		if err != nil || got != want {
			t.Errorf("ValidateReferer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", "kommo.com", ".kommo.com", "evil.com", "acme.kommo.com.evil.com", "acme.kommo.com.", "acme.kommo.com:8443",
		"https://acme.kommo.com", "acme.kommo.com/path", "user@acme.kommo.com", "evil.com/.kommo.com", "evil.com#.kommo.com",
		"evil.com?.kommo.com", "a.b.kommo.com", "-acme.kommo.com", "acme-.kommo.com", "acme.kommo.co", "acme.amocrm.org",
		"acme..kommo.com", "acme kommo.com", "acme.kommo.com\n", "www.kommo.com", "acmekommo.com", "acme.kommo.com\x00",
		"аcme.kommo.com", // Cyrillic а
		strings.Repeat("a", 64) + ".kommo.com",
	}
	for _, in := range bad {
		if got, err := kommo.ValidateReferer(in); err == nil {
			t.Errorf("ValidateReferer(%q) = %q, want an error", in, got)
		} else if callbridge.ErrorCode(err) != callbridge.EINVALID {
			t.Errorf("ValidateReferer(%q): code %s, want EINVALID", in, callbridge.ErrorCode(err))
		}
	}
}

func FuzzValidateReferer(f *testing.F) {
	for _, s := range []string{"acme.kommo.com", "evil.com", "a.amocrm.ru", "x.kommo.com:1", "a@b.kommo.com", "A.KOMMO.COM"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, referer string) {
		host, err := kommo.ValidateReferer(referer)
		if err != nil {
			return
		}
		u, perr := url.Parse("https://" + host + "/oauth2/access_token")
		if perr != nil || u.Hostname() != host || u.Port() != "" || u.User != nil || u.Path != "/oauth2/access_token" {
			t.Fatalf("accepted %q, which does not parse as a bare host: %v", referer, perr)
		}
		if !strings.HasSuffix(host, ".kommo.com") && !strings.HasSuffix(host, ".amocrm.com") && !strings.HasSuffix(host, ".amocrm.ru") {
			t.Fatalf("accepted %q outside Kommo's domains", referer)
		}
		if strings.Count(host, ".") != 2 {
			t.Fatalf("accepted %q with a nested subdomain", referer)
		}
	})
}

func TestExchangeCode(t *testing.T) {
	f := newFake(t)
	f.addCode("the-code", 42)
	var mu sync.Mutex
	var forms []map[string]string
	base := f.mux
	f.with(func() {
		f.mux = http.NewServeMux()
		f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var m map[string]string
			json.Unmarshal(body, &m)
			mu.Lock()
			forms = append(forms, m)
			mu.Unlock()
			r.Body = io.NopCloser(strings.NewReader(string(body)))
			base.ServeHTTP(w, r)
		})
	})
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	cfg := baseConfig(f)
	cfg.Now = clock.Now
	c := kommo.NewClient(cfg, newMemStore())

	tok, baseURL, err := c.ExchangeCode(t.Context(), "anything-with-emulator", "the-code")
	if err != nil {
		t.Fatal(err)
	}
	if baseURL != f.srv.URL {
		t.Errorf("base URL %q, want the configured %q", baseURL, f.srv.URL)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || !tok.ExpiresAt.Equal(clock.Now().Add(24*time.Hour)) {
		t.Errorf("token %+v: want both tokens, expiring 24 h from now", tok)
	}
	want := map[string]string{"client_id": "cid", "client_secret": "secret", "grant_type": "authorization_code",
		"code": "the-code", "redirect_uri": "https://cb.example/oauth"}
	mu.Lock()
	got := forms[0]
	mu.Unlock()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}

	_, _, err = c.ExchangeCode(t.Context(), "x", "the-code") // used
	if ce := asErr(t, err); ce.Code != callbridge.EINVALID || ce.Kind != callbridge.KindPermanent {
		t.Errorf("reused code: %v, want permanent EINVALID", err)
	}
}

// roundTripFunc is an http.RoundTripper for tests that must not touch the network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestExchangeCodeUsesRefererOnlyWhenItIsKommo(t *testing.T) {
	var mu sync.Mutex
	var urls []string
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		urls = append(urls, r.URL.String())
		mu.Unlock()
		body := `{"token_type":"Bearer","expires_in":86400,"access_token":"a","refresh_token":"r"}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})}
	c := kommo.NewClient(kommo.Config{ClientID: "cid", ClientSecret: "secret", HTTPClient: hc, Limiter: kommo.NewLimiter(1000, 1000)}, newMemStore())
	for _, ref := range []string{"evil.com", "acme.kommo.com.evil.com", "acme.kommo.com@evil.com", "evil.com/acme.kommo.com"} {
		_, _, err := c.ExchangeCode(t.Context(), ref, "code")
		if ce := asErr(t, err); ce.Code != callbridge.EINVALID {
			t.Errorf("referer %q: %v, want EINVALID", ref, err)
		}
	}
	mu.Lock()
	if len(urls) != 0 {
		t.Fatalf("requests were sent for bad referers: %v", urls)
	}
	mu.Unlock()
	_, base, err := c.ExchangeCode(t.Context(), "Acme.Kommo.com", "code")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if base != "https://acme.kommo.com" || len(urls) != 1 || urls[0] != "https://acme.kommo.com/oauth2/access_token" {
		t.Errorf("base %q, requests %v", base, urls)
	}
}

func TestAccountBaseURLMustBeKommoWithoutEmulator(t *testing.T) {
	var sent bool
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = true
		return nil, io.EOF
	})}
	store := newMemStore()
	store.SaveToken(t.Context(), &callbridge.Token{AccountID: 1, AccessToken: "a", RefreshToken: "r", ExpiresAt: time.Now().Add(time.Hour)})
	c := kommo.NewClient(kommo.Config{HTTPClient: hc}, store)
	for _, base := range []string{"", "https://evil.example", "http://acme.kommo.com", "https://acme.kommo.com.evil.example"} {
		_, err := c.ListPipelines(t.Context(), &callbridge.Account{ID: 1, BaseURL: base})
		if ce := asErr(t, err); ce.Code != callbridge.EINVALID {
			t.Errorf("base %q: %v, want EINVALID", base, err)
		}
	}
	if sent {
		t.Error("a request with the account's token went to a non-Kommo host")
	}
}

func TestAccountInfo(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/account", func(w http.ResponseWriter, r *http.Request) {
		halJSON(w, 200, `{"id":29085955,"name":"Acme Inc","subdomain":"acme","current_user_id":8320148,"country":"US","currency":"USD"}`)
	})
	tok := e.store.get(testAccount)
	info, err := e.c.AccountInfo(t.Context(), "ignored-with-emulator", tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	if *info != (kommo.AccountInfo{ID: 29085955, Name: "Acme Inc", Subdomain: "acme"}) {
		t.Errorf("info %+v", info)
	}
	_, err = e.c.AccountInfo(t.Context(), "", "wrong-token")
	if ce := asErr(t, err); ce.Code != callbridge.EUNAUTHORIZED || ce.Kind != callbridge.KindPermanent {
		t.Errorf("bad token: %v, want permanent EUNAUTHORIZED", err)
	}
	if n := e.f.refreshes.Load(); n != 0 {
		t.Errorf("AccountInfo refreshed %d times", n)
	}
}
