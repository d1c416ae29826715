package kommo_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// expire makes the stored pair of testAccount expired (its refresh token
// stays valid).
func (e *env) expire(t *testing.T) {
	t.Helper()
	e.store.mu.Lock()
	defer e.store.mu.Unlock()
	e.store.toks[testAccount].ExpiresAt = time.Now().Add(-time.Hour)
}

func pipelinesOK(f *fakeKommo) {
	f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
		halJSON(w, 200, `{"_embedded":{"pipelines":[{"id":1,"name":"Sales","_embedded":{"statuses":[{"id":142,"name":"Won"}]}}]}}`)
	})
}

// hammer runs n concurrent API calls with client c and returns their errors.
func hammer(t *testing.T, c *kommo.Client, acct *callbridge.Account, n int) []error {
	errs := make([]error, n)
	atOnce(n, func(i int) { _, errs[i] = c.ListPipelines(t.Context(), acct) })
	return errs
}

func TestRefreshIsSingleFlightWithinAProcess(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.f.with(func() { e.f.strict = true; e.f.refreshWait = 100 * time.Millisecond })
	e.expire(t)
	for _, err := range hammer(t, e.c, e.acct, 50) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refresh requests, want exactly 1", n)
	}
	if tok := e.store.get(testAccount); tok.Version != 2 || tok.LeaseOwner != "" || !tok.ExpiresAt.After(time.Now().Add(23*time.Hour)) {
		t.Errorf("stored token version %d lease %q expires %v; want version 2, no lease, a day ahead", tok.Version, tok.LeaseOwner, tok.ExpiresAt)
	}
	if n := e.f.count("GET /api/v4/leads/pipelines"); n != 50 {
		t.Errorf("%d API requests, want 50 (none refused)", n)
	}
}

func TestRefreshIsSingleFlightAcrossProcesses(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.f.with(func() { e.f.strict = true; e.f.refreshWait = 300 * time.Millisecond })
	e.expire(t)
	cfgB := baseConfig(e.f)
	cfgB.Owner = "process-b"
	other := kommo.NewClient(cfgB, e.store) // a second process sharing the database
	var wg sync.WaitGroup
	var errsA, errsB []error
	wg.Go(func() { errsA = hammer(t, e.c, e.acct, 25) })
	wg.Go(func() { errsB = hammer(t, other, e.acct, 25) })
	wg.Wait()
	for _, err := range append(errsA, errsB...) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refresh requests, want exactly 1 across both processes", n)
	}
	if v := e.store.get(testAccount).Version; v != 2 {
		t.Errorf("stored version %d, want 2", v)
	}
}

func TestRefreshTakesOverAnExpiredLease(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.LeaseTTL = 2 * time.Second })
	pipelinesOK(e.f)
	e.expire(t)
	// A process took the lease and died.
	if _, ok, _ := e.store.AcquireRefreshLease(t.Context(), testAccount, "dead", time.Now(), time.Now().Add(300*time.Millisecond)); !ok {
		t.Fatal("lease not taken")
	}
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestRefreshAdoptsPairStoredByAnotherProcess(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.expire(t)
	// Another process holds the lease and stores its new pair while we wait.
	now := time.Now()
	stale, ok, _ := e.store.AcquireRefreshLease(t.Context(), testAccount, "process-b", now, now.Add(time.Minute))
	if !ok {
		t.Fatal("lease not taken")
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		a, r := e.f.addAccount(testAccount)
		e.store.RotateToken(t.Context(), &callbridge.Token{AccountID: testAccount, AccessToken: a, RefreshToken: r, ExpiresAt: time.Now().Add(24 * time.Hour)}, stale.Version)
	}()
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if n := e.f.refreshes.Load(); n != 0 {
		t.Errorf("%d refreshes, want 0: the other process's pair must be used", n)
	}
}

func TestRevokedRefreshAdoptsNewerStoredPair(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.expire(t)
	// While our refresh is in flight, another process (whose lease had
	// lapsed) stores a pair; Kommo answers ours "Token has been revoked".
	e.f.with(func() {
		e.f.onRefresh = func(w http.ResponseWriter) bool {
			cur := e.store.get(testAccount)
			a, r := e.f.addAccount(testAccount)
			if err := e.store.RotateToken(t.Context(), &callbridge.Token{AccountID: testAccount, AccessToken: a, RefreshToken: r,
				ExpiresAt: time.Now().Add(24 * time.Hour)}, cur.Version); err != nil {
				t.Error(err)
			}
			problemJSON(w, 401, `{"hint":"Token has been revoked","title":"Некорректный запрос","type":"https://developers.amocrm.ru/v3/errors/OAuthProblemJson","status":401,"detail":"В запросе отсутствует ряд параметров или параметры невалидны"}`)
			return true
		}
	})
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatalf("got %v, want the other process's pair to be adopted", err)
	}
	if n := e.f.count("GET /api/v4/leads/pipelines"); n != 1 {
		t.Errorf("%d API requests, want 1", n)
	}
}

func TestRevokedRefreshTokenNeedsReinstall(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.f.with(func() { e.f.strict = true })
	// Our refresh token was used elsewhere and nothing newer is stored.
	tok := e.store.get(testAccount)
	req, _ := http.NewRequest("POST", e.f.srv.URL+"/oauth2/access_token", strings.NewReader(
		`{"client_id":"cid","client_secret":"secret","grant_type":"refresh_token","refresh_token":"`+tok.RefreshToken+`","redirect_uri":"https://cb.example/oauth"}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("using the refresh token elsewhere: %v %v", resp, err)
	}
	e.expire(t)
	_, err := e.c.ListPipelines(t.Context(), e.acct)
	ce := asErr(t, err)
	if ce.Code != callbridge.EUNAUTHORIZED || ce.Kind != callbridge.KindPermanent {
		t.Fatalf("got %v, want permanent EUNAUTHORIZED", err)
	}
	if st := e.store.get(testAccount); st.LeaseOwner != "" || st.Version != tok.Version {
		t.Errorf("store left with lease %q version %d", st.LeaseOwner, st.Version)
	}
}

func TestAPI401RefreshesOnceThenRetries(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	tok := e.store.get(testAccount)
	e.f.revokeAccess(tok.AccessToken) // valid by its expiry, refused by Kommo
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	if n := e.f.count("GET /api/v4/leads/pipelines"); n != 2 {
		t.Errorf("%d API requests, want 2 (refused, then retried)", n)
	}
}

func TestAPI401AfterRefreshIsPermanent(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
		problemJSON(w, 401, `{"title":"Unauthorized","status":401,"detail":"Account is blocked"}`)
	})
	_, err := e.c.ListPipelines(t.Context(), e.acct)
	if ce := asErr(t, err); ce.Code != callbridge.EUNAUTHORIZED || ce.Kind != callbridge.KindPermanent {
		t.Fatalf("got %v, want permanent EUNAUTHORIZED", err)
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want exactly 1", n)
	}
	if n := e.f.count("GET /api/v4/leads/pipelines"); n != 2 {
		t.Errorf("%d API requests, want 2", n)
	}
}

func TestRefreshLostAnswerRetriesWithOldRefreshToken(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.expire(t)
	old := e.store.get(testAccount)
	// Kommo rotates, but the answer is lost on the way back.
	e.f.with(func() {
		e.f.onRefresh = func(w http.ResponseWriter) bool {
			e.f.with(func() { e.f.onRefresh = nil })
			e.f.mu.Lock()
			st := e.f.refresh[old.RefreshToken]
			_, rt := e.f.issue(st.account)
			e.f.refresh[rt].pred = old.RefreshToken
			e.f.mu.Unlock()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return true
		}
	})
	_, err := e.c.ListPipelines(t.Context(), e.acct)
	if ce := asErr(t, err); ce.Kind != callbridge.KindTransient {
		t.Fatalf("got %v, want KindTransient", err)
	}
	if st := e.store.get(testAccount); st.Version != old.Version || st.RefreshToken != old.RefreshToken || st.LeaseOwner != "" {
		t.Fatalf("store changed after a failed refresh: version %d lease %q", st.Version, st.LeaseOwner)
	}
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatalf("retry with the old refresh token: %v", err)
	}
	if n := e.f.refreshes.Load(); n != 2 {
		t.Errorf("%d refreshes, want 2", n)
	}
}

func TestRefreshFailureKeepsUsingUnexpiredToken(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	e.store.mu.Lock()
	e.store.toks[testAccount].ExpiresAt = time.Now().Add(2 * time.Minute) // within RefreshBefore
	e.store.mu.Unlock()
	e.f.with(func() {
		e.f.onRefresh = func(w http.ResponseWriter) bool {
			problemJSON(w, 500, `{"title":"Internal Server Error","status":500}`)
			return true
		}
	})
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatalf("got %v; a token valid for 2 more minutes must still be used", err)
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestProactiveRefreshWithFakeClock(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, func(c *kommo.Config) { c.Now = clock.Now })
	pipelinesOK(e.f)
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if n := e.f.refreshes.Load(); n != 0 {
		t.Fatalf("%d refreshes of a fresh token", n)
	}
	clock.Add(24*time.Hour - 4*time.Minute) // within RefreshBefore (5 min) of expiry
	if _, err := e.c.ListPipelines(t.Context(), e.acct); err != nil {
		t.Fatal(err)
	}
	if n := e.f.refreshes.Load(); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

func TestMissingTokenIsUnauthorized(t *testing.T) {
	e := newEnv(t, nil)
	_, err := e.c.ListPipelines(t.Context(), &callbridge.Account{ID: 999})
	if ce := asErr(t, err); ce.Code != callbridge.EUNAUTHORIZED || ce.Kind != callbridge.KindPermanent {
		t.Fatalf("got %v, want permanent EUNAUTHORIZED", err)
	}
}
