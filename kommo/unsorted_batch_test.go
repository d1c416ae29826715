package kommo_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// Concurrent incoming leads of one account share one POST (the endpoint takes
// an array) and each caller gets its own lead.
func TestAddUnsortedSIPBatches(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v4/leads/unsorted/sip" {
			http.Error(w, "unexpected", http.StatusNotFound)
			return
		}
		posts.Add(1)
		var items []struct {
			SourceUID string `json:"source_uid"`
			RequestID string `json:"request_id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&items); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var out []map[string]any
		for i, it := range items {
			out = append(out, map[string]any{"uid": "u-" + it.SourceUID, "request_id": it.RequestID,
				"_embedded": map[string]any{"leads": []any{map[string]any{"id": 1000 + i}}, "contacts": []any{map[string]any{"id": 2000 + i}}}})
		}
		w.Header().Set("Content-Type", "application/hal+json")
		json.NewEncoder(w).Encode(map[string]any{"_embedded": map[string]any{"unsorted": out}})
	}))
	defer srv.Close()
	store := newMemStore()
	if err := store.SaveToken(t.Context(), &callbridge.Token{AccountID: testAccount, AccessToken: "at", RefreshToken: "rt",
		ExpiresAt: time.Now().Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := kommo.NewClient(kommo.Config{ClientID: "cid", ClientSecret: "s", BaseURL: srv.URL, Limiter: kommo.NewLimiter(1000, 1000),
		BatchWait: 100 * time.Millisecond}, store)
	acct := &callbridge.Account{ID: testAccount, Status: callbridge.AccountActive}
	const n = 12
	var wg sync.WaitGroup
	got := make([]*kommo.UnsortedCreated, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.AddUnsortedSIP(t.Context(), acct, kommo.UnsortedSIPInput{SourceUID: fmt.Sprintf("cb-%d", i), SourceName: "cb",
				Metadata: kommo.UnsortedMetadata{Uniq: fmt.Sprintf("cb-%d", i), From: "+14155550100", IsCallEventNeeded: true}})
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if want := fmt.Sprintf("u-cb-%d", i); got[i].UID != want || got[i].LeadID == 0 {
			t.Fatalf("caller %d got %+v, want uid %s", i, got[i], want)
		}
	}
	if p := posts.Load(); p != 1 {
		t.Fatalf("%d requests for %d concurrent incoming leads, want 1", p, n)
	}
}
