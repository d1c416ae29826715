package sandbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/sandbox"
)

// revokedBody is the exact body Kommo answers to a spent refresh token.
var revokedBody = map[string]any{
	"hint":   "Token has been revoked",
	"title":  "Некорректный запрос",
	"type":   "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
	"status": json.Number("401"),
	"detail": "В запросе отсутствует ряд параметров или параметры невалидны",
}

func assertRevoked(t *testing.T, status int, body []byte) {
	t.Helper()
	if status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401; body %s", status, body)
	}
	var m map[string]any
	mustJSON(t, body, &m)
	if !reflect.DeepEqual(m, revokedBody) {
		t.Fatalf("body = %v\nwant   %v", m, revokedBody)
	}
}

func TestInstallSendsMarketplaceGET(t *testing.T) {
	e := newEnv(t, nil)
	code, err := e.emu.Install(t.Context(), 0, "csrf-1")
	if err != nil {
		t.Fatal(err)
	}
	h := e.in.wait(t, "/install", 1)[0]
	q := h.Query
	if h.Method != "GET" || q.Get("code") != code || q.Get("state") != "csrf-1" || q.Get("client_id") != clientID ||
		q.Get("from_widget") != "1" || q.Get("referer") != e.srv.Listener.Addr().String() {
		t.Fatalf("install GET = %+v", h)
	}
	st := e.emu.State()
	if len(st.Accounts) != 1 || st.Accounts[0].Installed {
		t.Fatalf("accounts %+v: want one new, not installed before the exchange", st.Accounts)
	}
	if len(st.Hooks) != 1 || st.Hooks[0].Kind != sandbox.HookInstall || st.Hooks[0].Status != 200 || strings.Contains(st.Hooks[0].URL, code) {
		t.Fatalf("hooks = %+v", st.Hooks)
	}
	status, body := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %s", status, body)
	}
	var tk tokens
	mustJSON(t, body, &tk)
	if tk.Type != "Bearer" || tk.Expires != 86400 || tk.Access == "" || tk.Refresh == "" {
		t.Fatalf("tokens = %+v", tk)
	}
	if !e.emu.State().Accounts[0].Installed {
		t.Error("account not installed after the exchange")
	}
	// Codes are single use.
	status, body = e.oauth(map[string]string{"grant_type": "authorization_code", "code": code})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "revoked") {
		t.Fatalf("second exchange: %d %s", status, body)
	}
	// The token works and names the account.
	id := st.Accounts[0].ID
	s, acct := e.api("GET", "/api/v4/account", tk.Access, nil)
	if s != http.StatusOK || num(acct["id"]) != id || str(acct["subdomain"]) != st.Accounts[0].Subdomain {
		t.Fatalf("account: %d %v", s, acct)
	}
}

func TestInstallDeliveryFailure(t *testing.T) {
	const redirect = "http://127.0.0.1:1/install" // nothing listens on port 1
	e := newEnv(t, func(c *sandbox.Config) { c.RedirectURI = redirect })
	code, err := e.emu.Install(t.Context(), 0, "")
	if err == nil || code == "" {
		t.Fatalf("Install = %q, %v; want a code and a delivery error", code, err)
	}
	if callbridge.ErrorKind(err) != callbridge.KindUncertain || strings.Contains(err.Error(), code) {
		t.Fatalf("error %v: want an uncertain error that does not reveal the code", err)
	}
	if h := e.emu.State().Hooks; len(h) != 1 || h[0].Status != 0 || h[0].Error == "" {
		t.Fatalf("hooks %+v", h)
	}
	// Like Kommo's, the code is still valid: the integration may get it
	// another way.
	if status, body := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}); status != http.StatusOK {
		t.Fatalf("exchange: %d %s", status, body)
	}
}

func TestCodeExpiresAfter20Minutes(t *testing.T) {
	e := newEnv(t, nil)
	code, err := e.emu.Install(t.Context(), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(20 * time.Minute)
	status, body := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "expired") {
		t.Fatalf("expired code: %d %s", status, body)
	}
}

func TestTokenRequestChecksClient(t *testing.T) {
	e := newEnv(t, nil)
	code, _ := e.emu.Install(t.Context(), 0, "")
	status, _ := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code, "client_secret": "wrong"})
	if status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", status)
	}
	status, _ = e.oauth(map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": "https://evil.example/cb"})
	if status != http.StatusBadRequest {
		t.Errorf("wrong redirect_uri: %d, want 400", status)
	}
	// A form-encoded request works too.
	form := url.Values{"client_id": {clientID}, "client_secret": {clientSecret}, "grant_type": {"authorization_code"},
		"code": {code}, "redirect_uri": {e.in.srv.URL + "/install"}}
	resp, err := e.http.PostForm(e.srv.URL+"/oauth2/access_token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("form exchange: %d", resp.StatusCode)
	}
}

func TestRefreshRotation(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	a := e.token(r.ID, 0)

	// Refresh with A: pair B. A's refresh token stays valid while B is unused.
	status, body, b := e.refresh(a.Refresh)
	if status != http.StatusOK || b.Access == a.Access || b.Refresh == a.Refresh {
		t.Fatalf("refresh A: %d %s", status, body)
	}
	// The answer to B was "lost": refresh with A again gives C, which
	// supersedes the unused B.
	status, body, c := e.refresh(a.Refresh)
	if status != http.StatusOK || c.Refresh == b.Refresh {
		t.Fatalf("second refresh with A: %d %s", status, body)
	}
	if s, _ := e.api("GET", "/api/v4/account", b.Access, nil); s != http.StatusUnauthorized {
		t.Errorf("superseded B access: %d, want 401", s)
	}
	// Using C's access token spends A.
	if s, _ := e.api("GET", "/api/v4/account", c.Access, nil); s != http.StatusOK {
		t.Fatalf("C access: %d", s)
	}
	status, body, _ = e.refresh(a.Refresh)
	assertRevoked(t, status, body)

	// Using the new refresh token (not its access token) also spends the old.
	status, _, d := e.refresh(c.Refresh)
	if status != http.StatusOK {
		t.Fatalf("refresh C: %d", status)
	}
	status, _, ee := e.refresh(d.Refresh)
	if status != http.StatusOK {
		t.Fatalf("refresh D: %d", status)
	}
	status, body, _ = e.refresh(c.Refresh)
	assertRevoked(t, status, body)

	// Old access tokens keep working until they expire.
	if s, _ := e.api("GET", "/api/v4/account", a.Access, nil); s != http.StatusOK {
		t.Errorf("old access token: %d, want 200", s)
	}
	if s, _ := e.api("GET", "/api/v4/account", ee.Access, nil); s != http.StatusOK {
		t.Errorf("newest access token: %d", s)
	}
	if got := e.emu.Stats().RefreshRequests; got != 6 {
		t.Errorf("RefreshRequests = %d, want 6", got)
	}
}

func TestStrictRefresh(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.StrictRefresh = true })
	r := e.seed(sandbox.SeedAccount{})
	a := e.token(r.ID, 0)
	if status, body, _ := e.refresh(a.Refresh); status != http.StatusOK {
		t.Fatalf("first refresh: %d %s", status, body)
	}
	status, body, _ := e.refresh(a.Refresh)
	assertRevoked(t, status, body)
}

func TestTokenExpiry(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.AccessTokenTTL = time.Hour; c.RefreshTokenTTL = 48 * time.Hour })
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	e.clock.Advance(59 * time.Minute)
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("before expiry: %d", s)
	}
	e.clock.Advance(time.Minute)
	s, body := e.api("GET", "/api/v4/account", tk.Access, nil)
	if s != http.StatusUnauthorized || num(body["status"]) != 401 {
		t.Fatalf("after expiry: %d %v", s, body)
	}
	if got := e.emu.Stats().Unauthorized; got != 1 {
		t.Errorf("Unauthorized = %d, want 1", got)
	}
	// The refresh token still works; after its own TTL it does not.
	if status, body, _ := e.refresh(tk.Refresh); status != http.StatusOK {
		t.Fatalf("refresh: %d %s", status, body)
	}
	tk2 := e.token(r.ID, 0)
	e.clock.Advance(48 * time.Hour)
	if status, _, _ := e.refresh(tk2.Refresh); status != http.StatusUnauthorized {
		t.Fatalf("expired refresh token: %d, want 401", status)
	}
}

func TestMissingAndForgedTokens(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{"", "forged"} {
		s, body := e.api("GET", "/api/v4/account", tok, nil)
		if s != http.StatusUnauthorized || str(body["title"]) != "Unauthorized" {
			t.Errorf("token %q: %d %v", tok, s, body)
		}
	}
}

func TestUninstallRevokesAndSignsDisconnect(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	if err := e.emu.Uninstall(t.Context(), r.ID); err != nil {
		t.Fatal(err)
	}
	h := e.in.wait(t, "/disconnect", 1)[0]
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(clientID + "|" + h.Query.Get("account_id")))
	want := hex.EncodeToString(mac.Sum(nil))
	if h.Query.Get("account_id") != itoa(r.ID) || h.Query.Get("client_uuid") != clientID || h.Query.Get("signature") != want ||
		h.Header.Get("User-Agent") != "amoService-oAuth-Code-Sender/1.0" {
		t.Fatalf("disconnect GET = %+v (want signature %s)", h, want)
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusUnauthorized {
		t.Errorf("access after uninstall: %d", s)
	}
	if status, _, _ := e.refresh(tk.Refresh); status != http.StatusUnauthorized {
		t.Errorf("refresh after uninstall: %d", status)
	}
	if e.account(r.ID).Installed {
		t.Error("still installed")
	}
}

func TestAuthorizePageRedirects(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Users: []sandbox.SeedUser{{Ref: "boss", Admin: true}, {Ref: "mgr"}}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	u := e.srv.URL + "/oauth?client_id=" + clientID + "&state=xyz&mode=popup&user_id=" + itoa(r.Users["mgr"])
	resp, err := noRedirect.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("status %d", resp.StatusCode)
	}
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if loc.Path != "/install" || q.Get("state") != "xyz" || q.Get("client_id") != clientID || q.Get("referer") != e.srv.Listener.Addr().String() {
		t.Fatalf("Location = %s", loc)
	}
	status, body := e.oauth(map[string]string{"grant_type": "authorization_code", "code": q.Get("code")})
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %s", status, body)
	}
	var tk tokens
	mustJSON(t, body, &tk)
	_, acct := e.api("GET", "/api/v4/account", tk.Access, nil)
	if num(acct["current_user_id"]) != r.Users["mgr"] {
		t.Errorf("current_user_id = %v, want the approving user %d", acct["current_user_id"], r.Users["mgr"])
	}
	if resp, err := noRedirect.Get(e.srv.URL + "/oauth?client_id=other"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("unknown client: %d", resp.StatusCode)
		}
	}
}

func TestWidgetTokenIsHS256WithClientSecret(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Subdomain: "acme"})
	tok := e.emu.WidgetToken(r.ID, r.AdminUserID, 10*time.Minute)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWT", tok)
	}
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, mac.Sum(nil)) {
		t.Fatal("signature does not verify with the client secret")
	}
	var header, claims map[string]any
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	mustJSON(t, hb, &header)
	mustJSON(t, cb, &claims)
	if header["alg"] != "HS256" || header["typ"] != "JWT" {
		t.Errorf("header %v", header)
	}
	now := e.clock.Now().Unix()
	if claims["iss"] != "https://acme.kommo.com" || claims["aud"] != e.in.srv.URL || claims["client_uuid"] != clientID ||
		num(claims["account_id"]) != r.ID || num(claims["user_id"]) != r.AdminUserID ||
		num(claims["iat"]) != now || num(claims["nbf"]) != now || num(claims["exp"]) != now+600 || str(claims["jti"]) == "" {
		t.Errorf("claims %v", claims)
	}
	// The same over HTTP.
	s, body := e.api("GET", "/sandbox/widget-token?account_id="+itoa(r.ID)+"&user_id=5", "", nil)
	if s != http.StatusOK || strings.Count(str(body["token"]), ".") != 2 {
		t.Errorf("widget-token control: %d %v", s, body)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
