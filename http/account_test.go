package http_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"callbridge"
)

const installCode = "def50200a1b2c3d4e5f6-authorization-code-secret"

func installURL(params map[string]string) string {
	q := url.Values{}
	for k, v := range params {
		q.Set(k, v)
	}
	return "/oauth/install?" + q.Encode()
}

// orderWriter checks, when the response is committed, that the install code
// was already persisted.
type orderWriter struct {
	*httptest.ResponseRecorder
	store             *fakeStore
	persistedAtHeader int
	wroteHeader       bool
}

func (w *orderWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		w.persistedAtHeader = w.store.installCount()
	}
	w.ResponseRecorder.WriteHeader(code)
}

func (w *orderWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(200)
	}
	return w.ResponseRecorder.Write(b)
}

func TestInstall(t *testing.T) {
	t.Run("PersistsBeforeAnswering", func(t *testing.T) {
		e := newEnv(t)
		req := httptest.NewRequest("GET", installURL(map[string]string{
			"code": installCode, "referer": "Acme.Kommo.com", "state": "csrf-state", "from_widget": "1", "client_id": testClientID,
		}), nil)
		w := &orderWriter{ResponseRecorder: httptest.NewRecorder(), store: e.store}
		e.handler.ServeHTTP(w, req)
		if w.Code != 200 {
			t.Fatalf("status=%d body=%s", w.Code, w.Body)
		}
		if w.persistedAtHeader != 1 {
			t.Fatalf("answered before the code was persisted (persisted=%d at first write)", w.persistedAtHeader)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("Content-Type=%q", ct)
		}
		if w.Header().Get("Referrer-Policy") != "no-referrer" || w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("page may leak the code: %v", w.Header())
		}
		e.store.mu.Lock()
		got := *e.store.installCodes[0]
		e.store.mu.Unlock()
		if got.Code != installCode || got.Referer != "acme.kommo.com" || got.State != "csrf-state" || !got.FromWidget || got.Status != "pending" || !got.CreatedAt.Equal(testNow) {
			t.Fatalf("persisted %+v", got)
		}
		e.assertNotLogged(installCode)
		if strings.Contains(e.logs.String(), "csrf-state") {
			t.Fatalf("query string logged:\n%s", e.logs)
		}
	})

	t.Run("EmulatorReferer", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(httptest.NewRequest("GET", installURL(map[string]string{"code": installCode, "referer": "127.0.0.1:8081"}), nil))
		if rec.Code != 200 || e.store.installCount() != 1 {
			t.Fatalf("status=%d persisted=%d", rec.Code, e.store.installCount())
		}
	})

	t.Run("StoreFails", func(t *testing.T) {
		e := newEnv(t)
		e.store.installErr = fmt.Errorf("disk full")
		rec := e.do(httptest.NewRequest("GET", installURL(map[string]string{"code": installCode, "referer": "acme.kommo.com"}), nil))
		if rec.Code != 503 {
			t.Fatalf("status=%d", rec.Code)
		}
		if !strings.Contains(e.logs.String(), "disk full") {
			t.Fatalf("cause not logged:\n%s", e.logs)
		}
		e.assertNotLogged(installCode)
	})

	long := strings.Repeat("a", 5000)
	for name, params := range map[string]map[string]string{
		"AccessDenied":     {"error": "access_denied", "client_id": testClientID, "state": "s"},
		"NoCode":           {"referer": "acme.kommo.com"},
		"NoReferer":        {"code": installCode},
		"RefererURL":       {"code": installCode, "referer": "https://acme.kommo.com/"},
		"RefererPath":      {"code": installCode, "referer": "acme.kommo.com/evil"},
		"RefererUserinfo":  {"code": installCode, "referer": "user@acme.kommo.com"},
		"RefererOneLabel":  {"code": installCode, "referer": "intranet"},
		"RefererBadLabel":  {"code": installCode, "referer": "-acme.kommo.com"},
		"RefererBadPort":   {"code": installCode, "referer": "acme.kommo.com:99999"},
		"RefererSpace":     {"code": installCode, "referer": "acme kommo.com"},
		"RefererTooLong":   {"code": installCode, "referer": long + ".com"},
		"CodeTooLong":      {"code": long, "referer": "acme.kommo.com"},
		"CodeControlChars": {"code": "abc\x00def", "referer": "acme.kommo.com"},
		"StateTooLong":     {"code": installCode, "referer": "acme.kommo.com", "state": long},
		"OtherClient":      {"code": installCode, "referer": "acme.kommo.com", "client_id": "someone-else"},
	} {
		t.Run("Rejects/"+name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(httptest.NewRequest("GET", installURL(params), nil))
			if rec.Code != 400 {
				t.Fatalf("status=%d, want 400; body=%s", rec.Code, rec.Body)
			}
			if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("not a page: %q", rec.Header().Get("Content-Type"))
			}
			if e.store.installCount() != 0 {
				t.Fatal("bad install request persisted")
			}
		})
	}
}

func disconnectSignature(secret, clientID, accountID string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(clientID + "|" + accountID))
	return hex.EncodeToString(mac.Sum(nil))
}

func disconnectRequest(clientUUID, accountID, signature string) *nethttp.Request {
	q := url.Values{"client_uuid": {clientUUID}, "account_id": {accountID}, "signature": {signature}}
	req := httptest.NewRequest("GET", "/oauth/disconnect?"+q.Encode(), nil)
	req.Header.Set("User-Agent", "amoService-oAuth-Code-Sender/1.0")
	return req
}

func TestDisconnect(t *testing.T) {
	acme := fmt.Sprint(acmeKommoID)

	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(disconnectRequest(testClientID, acme, disconnectSignature(testClientSecret, testClientID, acme)))
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		if got := e.store.accountStatus(1); got != callbridge.AccountDisconnected {
			t.Fatalf("status=%q, want disconnected", got)
		}
		if e.store.accountStatus(2) != callbridge.AccountActive {
			t.Fatal("another account was disconnected")
		}
		if !strings.Contains(e.logs.String(), "account disconnected") {
			t.Fatalf("no log line:\n%s", e.logs)
		}
		// Work stops at once: the account's webhooks are refused.
		assertError(t, e.do(webhookRequest("POST", acmeToken, "", "", "call=CA9&status=ringing")), 410, callbridge.EGONE)
	})

	t.Run("UppercaseHex", func(t *testing.T) {
		e := newEnv(t)
		sig := strings.ToUpper(disconnectSignature(testClientSecret, testClientID, acme))
		if rec := e.do(disconnectRequest(testClientID, acme, sig)); rec.Code != 200 {
			t.Fatalf("status=%d", rec.Code)
		}
	})

	t.Run("UnknownAccount", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(disconnectRequest(testClientID, "999", disconnectSignature(testClientSecret, testClientID, "999")))
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		for id := int64(1); id <= 2; id++ {
			if e.store.accountStatus(id) != callbridge.AccountActive {
				t.Fatalf("account %d changed", id)
			}
		}
	})

	for name, req := range map[string]*nethttp.Request{
		"WrongSecret":    disconnectRequest(testClientID, acme, disconnectSignature("another secret", testClientID, acme)),
		"OtherAccountID": disconnectRequest(testClientID, acme, disconnectSignature(testClientSecret, testClientID, fmt.Sprint(otherKommoID))),
		"MismatchedClient": disconnectRequest("another-client", acme,
			disconnectSignature(testClientSecret, "another-client", acme)),
		"ClientUUIDOnlyDiffers": disconnectRequest("another-client", acme, disconnectSignature(testClientSecret, testClientID, acme)),
		"NoSignature":           disconnectRequest(testClientID, acme, ""),
		"NotHex":                disconnectRequest(testClientID, acme, "zz"+disconnectSignature(testClientSecret, testClientID, acme)[2:]),
		"Truncated":             disconnectRequest(testClientID, acme, disconnectSignature(testClientSecret, testClientID, acme)[:32]),
	} {
		t.Run("Refuses/"+name, func(t *testing.T) {
			e := newEnv(t)
			assertError(t, e.do(req), 401, callbridge.EUNAUTHORIZED)
			if e.store.accountStatus(1) != callbridge.AccountActive {
				t.Fatal("account changed by an unverified request")
			}
		})
	}

	t.Run("NoSecretConfigured", func(t *testing.T) {
		e := newEnv(t)
		e.server.ClientSecret = ""
		e.handler = e.server.Handler()
		assertError(t, e.do(disconnectRequest(testClientID, acme, disconnectSignature("", testClientID, acme))), 401, callbridge.EUNAUTHORIZED)
		if e.store.accountStatus(1) != callbridge.AccountActive {
			t.Fatal("account changed")
		}
	})

	t.Run("BadAccountID", func(t *testing.T) {
		e := newEnv(t)
		assertError(t, e.do(disconnectRequest(testClientID, "-5", disconnectSignature(testClientSecret, testClientID, "-5"))), 400, callbridge.EINVALID)
	})
}

// FuzzInstall checks that the install hook persists a code only for a
// plausible referer host and a bounded, printable code, and never panics.
func FuzzInstall(f *testing.F) {
	f.Add(installCode, "acme.kommo.com", "state")
	f.Add(installCode, "127.0.0.1:8081", "")
	f.Add(installCode, "https://acme.kommo.com/", "")
	f.Add("", "acme.kommo.com", "")
	f.Add("x", "[::1]:80", "s")
	f.Add("x", "a..b", "s")
	f.Fuzz(func(t *testing.T, code, referer, state string) {
		e := newEnv(t)
		rec := e.do(httptest.NewRequest("GET", installURL(map[string]string{"code": code, "referer": referer, "state": state}), nil))
		switch rec.Code {
		case 200:
			if e.store.installCount() != 1 {
				t.Fatalf("200 without persisting")
			}
			got := e.store.installCodes[0]
			if got.Code != code || got.Code == "" || len(got.Code) > 4096 || strings.ContainsAny(got.Referer, "/@?# \t\n") || got.Referer != strings.ToLower(referer) {
				t.Fatalf("persisted %+v from code=%q referer=%q", got, code, referer)
			}
		case 400:
			if e.store.installCount() != 0 {
				t.Fatalf("400 but persisted")
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
