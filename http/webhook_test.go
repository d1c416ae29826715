package http_test

import (
	"fmt"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"callbridge"
)

// webhookRequest builds a signed webhook for token as the provider would
// send it to the public URL.
func webhookRequest(method, token, pathSuffix, query, body string) *nethttp.Request {
	path := "/webhooks/" + token + pathSuffix
	if query != "" {
		path += "?" + query
	}
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Fake-Signature", fakeSignature(testPublicURL+path, []byte(body)))
	return req
}

func TestWebhook(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		req := webhookRequest("POST", acmeToken, "", "leg=parent&x=%2F", "call=CA9&status=ringing")
		// The Host header the server sees differs from the public URL (a
		// proxy, or an attacker): signatures are still checked against
		// PublicURL.
		req.Host = "internal-lb:8080"
		rec := e.do(req)
		if rec.Code != 200 || rec.Body.String() != "<Response/>" || rec.Header().Get("Content-Type") != "text/xml" {
			t.Fatalf("reply: %d %q %q", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
		}
		e.connector.mu.Lock()
		got := e.connector.lastReq
		e.connector.mu.Unlock()
		if want := testPublicURL + "/webhooks/" + acmeToken + "?leg=parent&x=%2F"; got.URL != want {
			t.Fatalf("connector URL=%q, want %q", got.URL, want)
		}
		if got.Method != "POST" || string(got.Body) != "call=CA9&status=ringing" || !got.ReceivedAt.Equal(testNow) {
			t.Fatalf("connector request: %+v", got)
		}
		if e.ingester.ingestCount() != 1 {
			t.Fatalf("ingested %d batches, want 1", e.ingester.ingestCount())
		}
		e.ingester.mu.Lock()
		events, conn := e.ingester.ingested[0], e.ingester.conns[0]
		e.ingester.mu.Unlock()
		if conn.ID != 11 || len(events) != 2 {
			t.Fatalf("ingested conn=%d events=%d", conn.ID, len(events))
		}
		for _, ev := range events {
			if ev.AccountID != 1 || ev.ConnectionID != 11 || !ev.ReceivedAt.Equal(testNow) || ev.ProviderCallID != "CA9" {
				t.Fatalf("event not stamped: %+v", ev)
			}
		}
		e.assertNotLogged(acmeToken, providerSecret, "CA9")
		if !strings.Contains(e.logs.String(), `"route":"POST /webhooks/{token}"`) || !strings.Contains(e.logs.String(), `"account_id":1`) {
			t.Fatalf("access log lacks route or account:\n%s", e.logs)
		}
	})

	t.Run("RestOfPathAndGET", func(t *testing.T) {
		e := newEnv(t)
		req := webhookRequest("GET", acmeToken, "/status/child", "", "call=CA9&status=answered")
		rec := e.do(req)
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		e.connector.mu.Lock()
		got := e.connector.lastReq
		e.connector.mu.Unlock()
		if got.Method != "GET" || got.URL != testPublicURL+"/webhooks/"+acmeToken+"/status/child" {
			t.Fatalf("connector saw %s %s", got.Method, got.URL)
		}
	})

	t.Run("NothingToRecord", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(webhookRequest("POST", acmeToken, "", "", "call=CA9&status=recording-in-progress"))
		if rec.Code != 200 || rec.Body.String() != "<Response/>" {
			t.Fatalf("reply: %d %q", rec.Code, rec.Body)
		}
		if e.ingester.ingestCount() != 0 {
			t.Fatal("Ingest called with no events")
		}
	})

	t.Run("UnknownToken", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(webhookRequest("POST", "no-such-token", "", "", "call=CA9&status=ringing"))
		assertError(t, rec, 404, callbridge.ENOTFOUND)
		if strings.Contains(strings.ToLower(rec.Body.String()), "token") || strings.Contains(strings.ToLower(rec.Body.String()), "connection") {
			t.Fatalf("404 reveals too much: %s", rec.Body)
		}
		if e.connector.parseCalls() != 0 || e.ingester.ingestCount() != 0 {
			t.Fatal("unknown token reached the connector or the ingester")
		}
		e.assertNotLogged("no-such-token")
	})

	t.Run("HugeToken", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(webhookRequest("POST", strings.Repeat("a", 5000), "", "", "call=CA9&status=ringing"))
		assertError(t, rec, 404, callbridge.ENOTFOUND)
	})

	t.Run("StoreDown", func(t *testing.T) {
		e := newEnv(t)
		e.store.findErr = fmt.Errorf("connection refused")
		rec := e.do(webhookRequest("POST", acmeToken, "", "", "call=CA9&status=ringing"))
		assertError(t, rec, 503, callbridge.EUNAVAILABLE)
	})

	t.Run("DisconnectedAccount", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(webhookRequest("POST", goneToken, "", "", "call=CA9&status=ringing"))
		assertError(t, rec, 410, callbridge.EGONE)
		if e.connector.parseCalls() != 0 || e.ingester.ingestCount() != 0 {
			t.Fatal("disconnected account's webhook was processed")
		}
		if !strings.Contains(e.logs.String(), "disconnected account") || !strings.Contains(e.logs.String(), `"account_id":3`) {
			t.Fatalf("no log line for the disconnected account:\n%s", e.logs)
		}
	})

	t.Run("Oversized", func(t *testing.T) {
		e := newEnv(t)
		e.server.MaxBodyBytes = 1024
		e.handler = e.server.Handler()
		body := "call=CA9&status=ringing&pad=" + strings.Repeat("x", 2000)
		rec := e.do(webhookRequest("POST", acmeToken, "", "", body))
		assertError(t, rec, 413, callbridge.ETOOLARGE)
		if e.connector.parseCalls() != 0 || e.ingester.ingestCount() != 0 {
			t.Fatal("oversized body was parsed or stored")
		}
		// Exactly at the limit is fine.
		body = "call=CA9&status=ringing&pad="
		body += strings.Repeat("x", 1024-len(body))
		if rec := e.do(webhookRequest("POST", acmeToken, "", "", body)); rec.Code != 200 {
			t.Fatalf("body at the limit: %d %s", rec.Code, rec.Body)
		}
	})

	t.Run("DefaultLimit64KiB", func(t *testing.T) {
		e := newEnv(t)
		body := "call=CA9&status=ringing&pad=" + strings.Repeat("x", 64<<10)
		assertError(t, e.do(webhookRequest("POST", acmeToken, "", "", body)), 413, callbridge.ETOOLARGE)
		if e.ingester.ingestCount() != 0 {
			t.Fatal("oversized body stored")
		}
	})

	t.Run("BadSignature", func(t *testing.T) {
		e := newEnv(t)
		req := webhookRequest("POST", acmeToken, "", "", "call=CA9&status=ringing")
		req.Header.Set("X-Fake-Signature", fakeSignature("https://evil.example/webhooks/"+acmeToken, []byte("call=CA9&status=ringing")))
		assertError(t, e.do(req), 401, callbridge.EUNAUTHORIZED)
		if e.ingester.ingestCount() != 0 {
			t.Fatal("unauthenticated webhook stored")
		}
	})

	t.Run("SignedForHostHeader", func(t *testing.T) {
		// A signature computed over the Host header's URL instead of the
		// public URL must not pass.
		e := newEnv(t)
		body := "call=CA9&status=ringing"
		req := httptest.NewRequest("POST", "/webhooks/"+acmeToken, strings.NewReader(body))
		req.Host = "attacker.example"
		req.Header.Set("X-Fake-Signature", fakeSignature("http://attacker.example/webhooks/"+acmeToken, []byte(body)))
		assertError(t, e.do(req), 401, callbridge.EUNAUTHORIZED)
	})

	t.Run("Malformed", func(t *testing.T) {
		e := newEnv(t)
		assertError(t, e.do(webhookRequest("POST", acmeToken, "", "", "garbage")), 400, callbridge.EINVALID)
		if e.ingester.ingestCount() != 0 {
			t.Fatal("malformed webhook stored")
		}
	})

	t.Run("IngestFails", func(t *testing.T) {
		e := newEnv(t)
		e.ingester.ingestErr = fmt.Errorf("database is locked")
		rec := e.do(webhookRequest("POST", acmeToken, "", "", "call=CA9&status=ringing"))
		assertError(t, rec, 503, callbridge.EUNAVAILABLE)
		if strings.Contains(rec.Body.String(), "<Response/>") {
			t.Fatal("connector reply written although nothing was stored")
		}
		if !strings.Contains(e.logs.String(), "database is locked") {
			t.Fatalf("ingest failure not logged:\n%s", e.logs)
		}
	})

	t.Run("UnknownProvider", func(t *testing.T) {
		e := newEnv(t)
		e.server.Connectors = map[string]callbridge.Connector{}
		e.handler = e.server.Handler()
		assertError(t, e.do(webhookRequest("POST", acmeToken, "", "", "call=CA9&status=ringing")), 503, callbridge.EUNAVAILABLE)
	})

	t.Run("OtherMethods", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(httptest.NewRequest("DELETE", "/webhooks/"+acmeToken, nil))
		if rec.Code != 405 {
			t.Fatalf("DELETE: %d", rec.Code)
		}
	})
}
