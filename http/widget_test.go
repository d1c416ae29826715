package http_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"callbridge"
)

// signJWT signs header.claims with HMAC-SHA256 under secret, whatever alg the
// header names.
func signJWT(header, claims map[string]any, secret string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signing := b64(h) + "." + b64(c)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64(mac.Sum(nil))
}

var hs256 = map[string]any{"alg": "HS256", "typ": "JWT"}

// widgetClaims are valid claims for the acme account at testNow.
func widgetClaims(kommoAccountID int64) map[string]any {
	return map[string]any{
		"iss":         "https://acme.kommo.com",
		"aud":         "https://cb.example.com",
		"jti":         "4b1e2c6a-7d3f-4e8b-9a10-2f3c4d5e6f70",
		"iat":         testNow.Add(-5 * time.Second).Unix(),
		"nbf":         testNow.Add(-5 * time.Second).Unix(),
		"exp":         testNow.Add(5 * time.Minute).Unix(),
		"account_id":  kommoAccountID,
		"user_id":     8320148,
		"client_uuid": testClientID,
	}
}

func widgetToken(kommoAccountID int64) string {
	return signJWT(hs256, widgetClaims(kommoAccountID), testClientSecret)
}

func widgetRequest(method, path, token string, body string) *nethttp.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", "https://acme.kommo.com")
	return req
}

func with(claims map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range claims {
		out[kk] = vv
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

func TestWidgetAuth(t *testing.T) {
	valid := widgetClaims(acmeKommoID)
	for _, tc := range []struct {
		name   string
		token  string
		status int
		code   string
	}{
		{"Valid", widgetToken(acmeKommoID), 200, ""},
		{"ValidWithinLeeway", signJWT(hs256, with(valid, "exp", testNow.Add(-50*time.Second).Unix()), testClientSecret), 200, ""},
		{"ValidNoClientUUID", signJWT(hs256, with(valid, "client_uuid", nil), testClientSecret), 200, ""},
		{"ValidStringIDs", signJWT(hs256, with(with(valid, "account_id", fmt.Sprint(acmeKommoID)), "user_id", "8320148"), testClientSecret), 200, ""},
		{"Missing", "", 401, callbridge.EUNAUTHORIZED},
		{"Expired", signJWT(hs256, with(valid, "exp", testNow.Add(-2*time.Minute).Unix()), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"NoExpiry", signJWT(hs256, with(valid, "exp", nil), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"NotYetValid", signJWT(hs256, with(valid, "nbf", testNow.Add(2*time.Minute).Unix()), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"IssuedInFuture", signJWT(hs256, with(valid, "iat", testNow.Add(2*time.Minute).Unix()), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"WrongSecret", signJWT(hs256, valid, "not the secret"), 401, callbridge.EUNAUTHORIZED},
		{"OtherClient", signJWT(hs256, with(valid, "client_uuid", "other-integration"), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"AlgNoneUnsigned", func() string {
			tok := signJWT(map[string]any{"alg": "none", "typ": "JWT"}, valid, testClientSecret)
			return tok[:strings.LastIndex(tok, ".")+1]
		}(), 401, callbridge.EUNAUTHORIZED},
		{"AlgNoneSigned", signJWT(map[string]any{"alg": "none"}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"AlgRS256", signJWT(map[string]any{"alg": "RS256", "typ": "JWT"}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"AlgHS512", signJWT(map[string]any{"alg": "HS512"}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"AlgLowercase", signJWT(map[string]any{"alg": "hs256"}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"NoAlg", signJWT(map[string]any{"typ": "JWT"}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"Crit", signJWT(map[string]any{"alg": "HS256", "crit": []string{"b64"}, "b64": false}, valid, testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"MalformedTwoParts", "abc.def", 401, callbridge.EUNAUTHORIZED},
		{"MalformedBase64", "a$c.d%f.g^h", 401, callbridge.EUNAUTHORIZED},
		{"MalformedPadding", widgetToken(acmeKommoID) + "=", 401, callbridge.EUNAUTHORIZED},
		{"MalformedJSON", func() string {
			signing := b64([]byte(`{"alg":"HS256"}`)) + "." + b64([]byte(`{"exp":`))
			mac := hmac.New(sha256.New, []byte(testClientSecret))
			mac.Write([]byte(signing))
			return signing + "." + b64(mac.Sum(nil))
		}(), 401, callbridge.EUNAUTHORIZED},
		{"TamperedClaims", func() string {
			good := strings.Split(widgetToken(acmeKommoID), ".")
			c, _ := json.Marshal(widgetClaims(otherKommoID))
			return good[0] + "." + b64(c) + "." + good[2]
		}(), 401, callbridge.EUNAUTHORIZED},
		{"NoAccount", signJWT(hs256, with(valid, "account_id", nil), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"NoUser", signJWT(hs256, with(valid, "user_id", nil), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"NegativeAccount", signJWT(hs256, with(valid, "account_id", -1), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"UnknownAccount", signJWT(hs256, with(valid, "account_id", 424242), testClientSecret), 401, callbridge.EUNAUTHORIZED},
		{"DisconnectedAccount", widgetToken(goneKommoID), 410, callbridge.EGONE},
		{"Huge", strings.Repeat("a", 9000) + ".b.c", 401, callbridge.EUNAUTHORIZED},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", tc.token, ""))
			if tc.status == 200 {
				if rec.Code != 200 {
					t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
				}
				return
			}
			assertError(t, rec, tc.status, tc.code)
			if tc.token != "" {
				e.assertNotLogged(tc.token)
			}
		})
	}

	t.Run("NoSecretConfigured", func(t *testing.T) {
		e := newEnv(t)
		e.server.ClientSecret = ""
		e.handler = e.server.Handler()
		assertError(t, e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", signJWT(hs256, valid, ""), "")), 401, callbridge.EUNAUTHORIZED)
	})

	t.Run("Audience", func(t *testing.T) {
		e := newEnv(t)
		e.server.WidgetAudience = "https://cb.example.com"
		e.handler = e.server.Handler()
		if rec := e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", widgetToken(acmeKommoID), "")); rec.Code != 200 {
			t.Fatalf("matching aud: %d %s", rec.Code, rec.Body)
		}
		tok := signJWT(hs256, with(valid, "aud", "https://elsewhere.example"), testClientSecret)
		assertError(t, e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", tok, "")), 401, callbridge.EUNAUTHORIZED)
	})
}

func TestWidgetCORS(t *testing.T) {
	preflight := func(e *env, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("OPTIONS", "/api/widget/calls/result", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "x-auth-token,content-type")
		return e.do(req)
	}
	for _, origin := range []string{"https://acme.kommo.com", "https://acme.amocrm.com", "https://acme.amocrm.ru", "https://ACME.Kommo.com", "https://a-b.eu.kommo.com"} {
		t.Run("Allows/"+origin, func(t *testing.T) {
			e := newEnv(t)
			rec := preflight(e, origin)
			if rec.Code != 204 {
				t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
			}
			h := rec.Header()
			if h.Get("Access-Control-Allow-Origin") != origin {
				t.Fatalf("Allow-Origin=%q", h.Get("Access-Control-Allow-Origin"))
			}
			allowHeaders := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
			if !strings.Contains(allowHeaders, "x-auth-token") || !strings.Contains(allowHeaders, "content-type") {
				t.Fatalf("Allow-Headers=%q", allowHeaders)
			}
			if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
				t.Fatalf("Allow-Methods=%q", h.Get("Access-Control-Allow-Methods"))
			}
			if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
				t.Fatalf("no Vary: Origin")
			}
		})
	}
	for _, origin := range []string{
		"https://evil.example", "http://acme.kommo.com", "https://kommo.com", "https://acme.kommo.com.evil.example",
		"https://evilkommo.com", "https://acme.kommo.com:8443", "null", "https://acme.kommo.com/path", "https://user@acme.kommo.com",
		"https://.kommo.com", "https://acme..kommo.com",
	} {
		t.Run("Refuses/"+origin, func(t *testing.T) {
			e := newEnv(t)
			rec := preflight(e, origin)
			if rec.Code != 403 {
				t.Fatalf("status=%d, want 403", rec.Code)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("Allow-Origin set for %q", origin)
			}
			// The actual request is refused too, even with a valid token.
			req := widgetRequest("GET", "/api/widget/calls/uid-acme-1", widgetToken(acmeKommoID), "")
			req.Header.Set("Origin", origin)
			assertError(t, e.do(req), 403, callbridge.EFORBIDDEN)
		})
	}
	t.Run("AllowedOrigins", func(t *testing.T) {
		e := newEnv(t)
		e.server.AllowedOrigins = []string{"https://crm.example.com/", "https://*.partner.example", "http://localhost:9000"}
		e.handler = e.server.Handler()
		for origin, want := range map[string]int{
			"https://crm.example.com":     204,
			"https://a.partner.example":   204,
			"https://partner.example":     403,
			"http://localhost:9000":       204,
			"http://localhost:9001":       403,
			"http://crm.example.com":      403,
			"https://x.crm.example.com":   403,
			"https://a.partner.example.x": 403,
		} {
			if rec := preflight(e, origin); rec.Code != want {
				t.Errorf("%s: status=%d, want %d", origin, rec.Code, want)
			}
		}
	})
	t.Run("ActualRequest", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", widgetToken(acmeKommoID), ""))
		if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://acme.kommo.com" {
			t.Fatalf("status=%d Allow-Origin=%q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
		// Errors carry CORS headers too, so the widget can read them.
		rec = e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", "", ""))
		if rec.Code != 401 || rec.Header().Get("Access-Control-Allow-Origin") != "https://acme.kommo.com" {
			t.Fatalf("status=%d Allow-Origin=%q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("NoOrigin", func(t *testing.T) {
		e := newEnv(t)
		req := widgetRequest("GET", "/api/widget/calls/uid-acme-1", widgetToken(acmeKommoID), "")
		req.Header.Del("Origin")
		if rec := e.do(req); rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("status=%d Allow-Origin=%q", rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
		}
	})
}
