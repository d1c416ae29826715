package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// codeTTL is how long an authorization code can be exchanged.
const codeTTL = 20 * time.Minute

// authCode is an authorization code: single use, 20 minutes.
type authCode struct {
	accountID, userID int64
	expires           time.Time
	used              bool
}

// grant is one token pair. Pairs obtained by refreshing form a chain through
// parent. A pair is used once its access token authenticates a request or
// its refresh token is spent; using a pair revokes its parent's refresh
// token.
type grant struct {
	id                int64
	accountID, userID int64
	access, refresh   string
	accessExp         time.Time
	refreshExp        time.Time
	parent            *grant
	child             *grant // the latest pair issued from this refresh token
	used              bool
	revoked           bool // both tokens dead (uninstall, superseded unused pair)
	refreshRevoked    bool // the refresh token is spent
}

// markUsed records that g's tokens were used: the previous pair's refresh
// token stops working. Called with mu held.
func (e *Emulator) markUsed(g *grant) {
	if g.used {
		return
	}
	g.used = true
	if g.parent != nil {
		g.parent.refreshRevoked = true
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// issue creates a token pair for the user. Called with mu held.
func (e *Emulator) issue(accountID, userID int64, parent *grant, now time.Time) *grant {
	w := e.st
	w.ids.grant++
	g := &grant{
		id:         w.ids.grant,
		accountID:  accountID,
		userID:     userID,
		accessExp:  now.Add(e.cfg.AccessTokenTTL),
		refreshExp: now.Add(e.cfg.RefreshTokenTTL),
		parent:     parent,
	}
	// The access token is a JWT like Kommo's; the emulator looks tokens up
	// by value, so its signing key is random and never checked.
	g.access = signHS256([]byte(randomHex(16)), map[string]any{
		"aud":        e.cfg.ClientID,
		"jti":        randomHex(16),
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        g.accessExp.Unix(),
		"sub":        strconv.FormatInt(userID, 10),
		"account_id": accountID,
		"api_domain": w.host,
		"scopes":     []string{"crm", "notifications"},
	})
	g.refresh = "def50200" + randomHex(64)
	w.byAccess[g.access] = g
	w.byRefresh[g.refresh] = g
	return g
}

// newCode creates an authorization code. Called with mu held.
func (e *Emulator) newCode(accountID, userID int64, now time.Time) string {
	code := "def50200" + randomHex(48)
	e.st.codes[code] = &authCode{accountID: accountID, userID: userID, expires: now.Add(codeTTL)}
	return code
}

// oauthProblem writes an OAuth error in the shape Kommo uses (the hint says
// what went wrong; title, type and detail are those Kommo sends).
func oauthProblem(w http.ResponseWriter, status int, hint string) {
	writeJSON(w, status, problemJSON, map[string]any{
		"hint":   hint,
		"title":  "Некорректный запрос",
		"type":   "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
		"status": status,
		"detail": "В запросе отсутствует ряд параметров или параметры невалидны",
	})
}

// RevokedHint is the hint of the 401 answered to a refresh token that is no
// longer valid because its successor pair was used.
const RevokedHint = "Token has been revoked"

// accessToken serves POST /oauth2/access_token (JSON or form body).
func (c *call) accessToken() {
	e := c.e
	params := map[string]string{}
	if trimmed := strings.TrimSpace(string(c.body)); strings.HasPrefix(trimmed, "{") {
		o, _ := decodeObject(c.body)
		for k := range o {
			if s, ok := o.str(k); ok {
				params[k] = s
			}
		}
	} else if v, err := url.ParseQuery(string(c.body)); err == nil {
		for k := range v {
			params[k] = v.Get(k)
		}
	}
	grantType := params["grant_type"]
	if grantType == "refresh_token" {
		e.st.stats.RefreshRequests++
	}
	if e.cfg.ClientID != "" && (!hmac.Equal([]byte(params["client_id"]), []byte(e.cfg.ClientID)) ||
		!hmac.Equal([]byte(params["client_secret"]), []byte(e.cfg.ClientSecret))) {
		oauthProblem(c.w, http.StatusUnauthorized, "Client authentication failed")
		return
	}
	if e.cfg.RedirectURI != "" && params["redirect_uri"] != e.cfg.RedirectURI {
		oauthProblem(c.w, http.StatusBadRequest, "Check the `redirect_uri` parameter")
		return
	}
	var g *grant
	switch grantType {
	case "authorization_code":
		code := e.st.codes[params["code"]]
		switch {
		case params["code"] == "":
			oauthProblem(c.w, http.StatusBadRequest, "Check the `code` parameter")
			return
		case code == nil:
			oauthProblem(c.w, http.StatusBadRequest, "Cannot decrypt the authorization code")
			return
		case code.used:
			oauthProblem(c.w, http.StatusBadRequest, "Authorization code has been revoked")
			return
		case !c.now.Before(code.expires):
			oauthProblem(c.w, http.StatusBadRequest, "Authorization code has expired")
			return
		}
		a := e.st.accounts[code.accountID]
		if a == nil {
			oauthProblem(c.w, http.StatusBadRequest, "Authorization code has been revoked")
			return
		}
		code.used = true
		a.installed = true
		g = e.issue(code.accountID, code.userID, nil, c.now)
	case "refresh_token":
		old := e.st.byRefresh[params["refresh_token"]]
		switch {
		case params["refresh_token"] == "":
			oauthProblem(c.w, http.StatusBadRequest, "Check the `refresh_token` parameter")
			return
		case old == nil:
			oauthProblem(c.w, http.StatusUnauthorized, "Cannot decrypt the refresh token")
			return
		case old.revoked || old.refreshRevoked:
			oauthProblem(c.w, http.StatusUnauthorized, RevokedHint)
			return
		case !c.now.Before(old.refreshExp):
			oauthProblem(c.w, http.StatusUnauthorized, "Token has expired")
			return
		case e.cfg.StrictRefresh && old.child != nil:
			oauthProblem(c.w, http.StatusUnauthorized, RevokedHint)
			return
		}
		if old.child != nil {
			// The earlier successor was never used (its answer was lost, or a
			// racing refresh won): it is superseded by the new pair.
			old.child.revoked = true
		}
		e.markUsed(old)
		g = e.issue(old.accountID, old.userID, old, c.now)
		old.child = g
	default:
		oauthProblem(c.w, http.StatusBadRequest, "Unsupported grant type")
		return
	}
	writeJSON(c.w, http.StatusOK, "application/json", map[string]any{
		"token_type":    "Bearer",
		"expires_in":    int64(e.cfg.AccessTokenTTL / time.Second),
		"server_time":   c.unix(),
		"access_token":  g.access,
		"refresh_token": g.refresh,
	})
}

// accountSubdomain serves GET /oauth2/account/subdomain.
func (c *call) accountSubdomain() {
	c.ok(http.StatusOK, map[string]any{
		"id":               c.acct.info.ID,
		"subdomain":        c.acct.info.Subdomain,
		"domain":           c.r.Host,
		"top_level_domain": "com",
	})
}

// authorize serves GET /oauth: the consent page, auto-approved. It redirects
// to RedirectURI with code, state, referer (the emulator's host) and
// client_id. Emulator extensions: account_id and user_id choose who
// approves (default: the first account, creating one if there is none, and
// its admin).
func (c *call) authorize() {
	e := c.e
	q := c.r.URL.Query()
	if e.cfg.ClientID != "" && q.Get("client_id") != e.cfg.ClientID {
		c.problem(http.StatusBadRequest, "Unknown client_id")
		return
	}
	var a *account
	if s := q.Get("account_id"); s != "" {
		id, _ := strconv.ParseInt(s, 10, 64)
		if a = e.st.accounts[id]; a == nil {
			c.problem(http.StatusNotFound, "Unknown account_id")
			return
		}
	} else if a = e.st.firstAccount(); a == nil {
		a = e.st.createAccount(0, "", "", c.unix(), true)
	}
	userID := a.adminID
	if s := q.Get("user_id"); s != "" {
		userID, _ = strconv.ParseInt(s, 10, 64)
		if a.users[userID] == nil {
			c.problem(http.StatusNotFound, "Unknown user_id")
			return
		}
	}
	code := e.newCode(a.info.ID, userID, c.now)
	v := url.Values{"code": {code}, "state": {q.Get("state")}, "referer": {c.r.Host}, "client_id": {e.cfg.ClientID}}
	if e.cfg.RedirectURI == "" {
		c.ok(http.StatusOK, map[string]any{"code": code, "state": q.Get("state"), "referer": c.r.Host, "client_id": e.cfg.ClientID})
		return
	}
	c.w.Header().Set("Location", withQuery(e.cfg.RedirectURI, v))
	c.w.WriteHeader(http.StatusFound)
}

func withQuery(base string, v url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + v.Encode()
}

// Install does what installing the integration from Kommo's Marketplace
// does: it issues an authorization code for the account's admin and sends
// the install GET to Config.RedirectURI with code, referer (the emulator's
// host:port, see SetHost), client_id, from_widget=1 and state (when not
// empty). accountID 0 creates a new account. Like Kommo, it waits at most 3
// seconds and ignores the response status; a failed delivery is returned as
// an error together with the (still valid) code. With no RedirectURI nothing
// is sent.
func (e *Emulator) Install(ctx context.Context, accountID int64, state string) (string, error) {
	return e.InstallUser(ctx, accountID, 0, state)
}

// InstallUser is Install by a given user of the account (0 = its admin):
// the tokens exchanged from the code act as that user.
func (e *Emulator) InstallUser(ctx context.Context, accountID, userID int64, state string) (string, error) {
	code, _, err := e.install(ctx, accountID, userID, state)
	return code, err
}

// install returns the code and the account it was issued for.
func (e *Emulator) install(ctx context.Context, accountID, userID int64, state string) (string, int64, error) {
	e.mu.Lock()
	host := e.st.host
	if host == "" {
		e.mu.Unlock()
		return "", 0, callbridge.Errorf(callbridge.EINVALID, "sandbox: emulator host unknown: set Config.Host or call SetHost")
	}
	now := e.now()
	var a *account
	if accountID == 0 {
		a = e.st.createAccount(0, "", "", now.Unix(), true)
	} else if a = e.st.accounts[accountID]; a == nil {
		e.mu.Unlock()
		return "", 0, callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: account %d not found", accountID)
	}
	if userID == 0 {
		userID = a.adminID
	} else if a.users[userID] == nil {
		e.mu.Unlock()
		return "", 0, callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: user %d not found in account %d", userID, a.info.ID)
	}
	code := e.newCode(a.info.ID, userID, now)
	accountID = a.info.ID
	e.mu.Unlock()

	if e.cfg.RedirectURI == "" {
		return code, accountID, nil
	}
	v := url.Values{"code": {code}, "referer": {host}, "client_id": {e.cfg.ClientID}, "from_widget": {"1"}}
	if state != "" {
		v.Set("state", state)
	}
	status, err := e.sendGET(ctx, withQuery(e.cfg.RedirectURI, v), "")
	e.addHook(HookDelivery{Kind: HookInstall, AccountID: accountID, URL: e.cfg.RedirectURI, Status: status, Error: errString(err)})
	if err != nil {
		return code, accountID, callbridge.Uncertain(err, "sandbox: install webhook not delivered")
	}
	return code, accountID, nil
}

// Uninstall disconnects the integration from the account: every token and
// code of the account is revoked (requests get 401) and the disconnect GET is
// sent to Config.DisconnectURL with client_uuid, account_id and signature =
// hex(HMAC-SHA256(client_secret, client_id + "|" + account_id)), User-Agent
// amoService-oAuth-Code-Sender/1.0. A failed delivery is returned as an
// error; the tokens stay revoked.
func (e *Emulator) Uninstall(ctx context.Context, accountID int64) error {
	e.mu.Lock()
	a := e.st.accounts[accountID]
	if a == nil {
		e.mu.Unlock()
		return callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: account %d not found", accountID)
	}
	a.installed = false
	for _, g := range e.st.byAccess {
		if g.accountID == accountID {
			g.revoked = true
		}
	}
	for k, code := range e.st.codes {
		if code.accountID == accountID {
			delete(e.st.codes, k)
		}
	}
	e.mu.Unlock()

	if e.cfg.DisconnectURL == "" {
		return nil
	}
	id := strconv.FormatInt(accountID, 10)
	v := url.Values{"client_uuid": {e.cfg.ClientID}, "account_id": {id}, "signature": {DisconnectSignature(e.cfg.ClientSecret, e.cfg.ClientID, accountID)}}
	status, err := e.sendGET(ctx, withQuery(e.cfg.DisconnectURL, v), "amoService-oAuth-Code-Sender/1.0")
	e.addHook(HookDelivery{Kind: HookDisconnect, AccountID: accountID, URL: e.cfg.DisconnectURL, Status: status, Error: errString(err)})
	if err != nil {
		return callbridge.Uncertain(err, "sandbox: disconnect webhook not delivered")
	}
	return nil
}

// DisconnectSignature is the signature Kommo puts on the disconnect hook:
// hex(HMAC-SHA256(key=clientSecret, clientID + "|" + accountID)).
func DisconnectSignature(clientSecret, clientID string, accountID int64) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(clientID + "|" + strconv.FormatInt(accountID, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

func (e *Emulator) sendGET(ctx context.Context, u, userAgent string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if userAgent != "" {
		req.Header.Set("User-Agent", userAgent)
	}
	resp, err := e.hooks.Do(req)
	if err != nil {
		return 0, redactURLError(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// redactURLError drops the URL (which carries the install code) from a
// transport error.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func (e *Emulator) addHook(h HookDelivery) {
	e.mu.Lock()
	defer e.mu.Unlock()
	h.At = e.now().Unix()
	e.st.hooks = append(e.st.hooks, h)
}

// defaultWidgetTokenTTL is the lifetime of widget tokens when none is given.
const defaultWidgetTokenTTL = 20 * time.Minute

// WidgetToken returns the disposable token Kommo's $authorizedAjax sends as
// X-Auth-Token for a user of an account: a JWT signed HS256 with the client
// secret, claims iss "https://<subdomain>.kommo.com", aud (the origin of
// RedirectURI), jti, iat, nbf, exp (iat + ttl; ttl 0 = 20 minutes),
// account_id, user_id and client_uuid (the client id). An unknown account
// gets the subdomain "unknown".
func (e *Emulator) WidgetToken(accountID, userID int64, ttl time.Duration) string {
	if ttl <= 0 {
		ttl = defaultWidgetTokenTTL
	}
	e.mu.Lock()
	sub := "unknown"
	if a := e.st.accounts[accountID]; a != nil {
		sub = a.info.Subdomain
	}
	now := e.now()
	e.mu.Unlock()
	return signHS256([]byte(e.cfg.ClientSecret), map[string]any{
		"iss":         "https://" + sub + ".kommo.com",
		"aud":         e.audience,
		"jti":         uuid(),
		"iat":         now.Unix(),
		"nbf":         now.Unix(),
		"exp":         now.Add(ttl).Unix(),
		"account_id":  accountID,
		"user_id":     userID,
		"client_uuid": e.cfg.ClientID,
	})
}

// signHS256 encodes claims as a compact JWT signed with HMAC-SHA256.
func signHS256(key []byte, claims map[string]any) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(claims)
	signing := header + "." + enc.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(m.Sum(nil))
}

// uuid returns a random version-4 UUID.
func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
