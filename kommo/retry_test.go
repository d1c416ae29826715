package kommo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// countingLimiter counts Wait calls and never waits.
type countingLimiter struct{ waits atomic.Int32 }

func (l *countingLimiter) Wait(context.Context, int64) error { l.waits.Add(1); return nil }
func (l *countingLimiter) Penalize(time.Time)                {}

// Go's http.Transport sends an idempotent request again when its reused
// connection dies. Kommo counts every attempt, so the limiter must see each.
func TestTransportRetryPassesTheLimiter(t *testing.T) {
	var arrivals atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrivals.Add(1) == 2 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close() // drop the second request on the reused connection
			}
			return
		}
		w.Header().Set("Content-Type", "application/hal+json")
		w.Write([]byte(`{"_embedded":{"pipelines":[]}}`))
	}))
	defer srv.Close()

	store := newMemStore()
	if err := store.SaveToken(t.Context(), &callbridge.Token{AccountID: testAccount, AccessToken: "at", RefreshToken: "rt",
		ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	lim := &countingLimiter{}
	c := kommo.NewClient(kommo.Config{ClientID: "cid", ClientSecret: "secret", BaseURL: srv.URL, Limiter: lim}, store)
	acct := &callbridge.Account{ID: testAccount, Status: callbridge.AccountActive}
	for i := 0; i < 2; i++ {
		if _, err := c.ListPipelines(t.Context(), acct); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	if got, want := arrivals.Load(), int32(3); got != want {
		t.Fatalf("server saw %d requests, want %d (the transport did not retry; the test no longer exercises the retry)", got, want)
	}
	if got, want := lim.waits.Load(), arrivals.Load(); got != want {
		t.Fatalf("limiter consulted %d times for %d requests on the wire", got, want)
	}
}
