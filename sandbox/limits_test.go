package sandbox_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"callbridge/sandbox"
)

func limitedEnv(t *testing.T) (*env, tokens, sandbox.SeedAccountResult) {
	e := newEnv(t, func(c *sandbox.Config) {
		c.RateLimit = 7
		c.RetryAfter = time.Second
		c.BlockAfter = 3
	})
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0) // one /oauth2/ request, counted at the start time
	e.clock.Advance(2 * time.Second)
	return e, tk, r
}

func TestRateLimitPenaltyThenBlock(t *testing.T) {
	e, tk, r := limitedEnv(t)
	for i := range 7 {
		if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, s)
		}
	}
	// The 8th in the same second: 429 with Kommo's body, and a penalty.
	s, body := e.api("GET", "/api/v4/account", tk.Access, nil)
	if s != http.StatusTooManyRequests || str(body["title"]) != "Too Many Requests" || str(body["type"]) != "https://httpstatus.es/429" ||
		num(body["status"]) != 429 || num(body["retry_after"]) != 1 || str(body["detail"]) == "" {
		t.Fatalf("8th: %d %v", s, body)
	}
	// During the penalty every request is a violation: BlockAfter (3) get
	// 429, the next is blocked — even after the window has moved on.
	e.clock.Advance(500 * time.Millisecond)
	for i := range 3 {
		if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusTooManyRequests {
			t.Fatalf("violation %d: %d, want 429", i+1, s)
		}
	}
	if s, body := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusForbidden {
		t.Fatalf("after 3 violations: %d %v, want 403", s, body)
	}
	e.clock.Advance(time.Hour)
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusForbidden {
		t.Fatalf("blocked IP after an hour: %d, want 403", s)
	}
	// Blocks apply to OAuth too.
	if status, _, _ := e.refresh(tk.Refresh); status != http.StatusForbidden {
		t.Fatalf("refresh from a blocked IP: %d", status)
	}
	st := e.emu.Stats()
	if st.TooManyRequests != 4 || st.Blocked != 3 {
		t.Errorf("TooManyRequests %d Blocked %d, want 4 and 3", st.TooManyRequests, st.Blocked)
	}
	if st.MaxPerSecondByIP["127.0.0.1"] != 12 {
		t.Errorf("MaxPerSecondByIP = %v, want 12", st.MaxPerSecondByIP)
	}
	if st.MaxPerSecondByAccount[r.ID] != 12 {
		t.Errorf("MaxPerSecondByAccount = %v, want 12", st.MaxPerSecondByAccount)
	}
	if st.Count("GET /api/v4/account", 200) != 7 || st.Count("GET /api/v4/account", 429) != 4 || st.Count("GET /api/v4/account", 403) != 2 {
		t.Errorf("Requests = %v", st.Requests)
	}

	e.emu.Reset()
	r = e.seed(sandbox.SeedAccount{})
	tk = e.token(r.ID, 0)
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("after Reset: %d", s)
	}
}

func TestRateLimitPenaltyExpires(t *testing.T) {
	e, tk, _ := limitedEnv(t)
	for range 7 {
		e.api("GET", "/api/v4/account", tk.Access, nil)
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusTooManyRequests {
		t.Fatalf("8th: %d", s)
	}
	// A client that waits retry_after is served again, and its violation
	// count starts over.
	e.clock.Advance(time.Second)
	for round := range 3 {
		if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
			t.Fatalf("round %d after the penalty: %d", round, s)
		}
		e.clock.Advance(time.Second)
	}
	if st := e.emu.Stats(); st.Blocked != 0 {
		t.Errorf("Blocked = %d", st.Blocked)
	}
}

func TestRateLimitSlidingWindow(t *testing.T) {
	e, tk, _ := limitedEnv(t)
	// 4 at t, 3 at t+0.6s: the window (t-0.4s, t+0.6s] holds 7, so an 8th at
	// t+0.9s is refused although no calendar second saw 8.
	for range 4 {
		e.api("GET", "/api/v4/account", tk.Access, nil)
	}
	e.clock.Advance(600 * time.Millisecond)
	for range 3 {
		if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
			t.Fatalf("within the limit: %d", s)
		}
	}
	e.clock.Advance(300 * time.Millisecond)
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusTooManyRequests {
		t.Fatalf("8th in a sliding second: %d, want 429", s)
	}
}

func TestRateLimitIsPerIPAcrossAccounts(t *testing.T) {
	e, _, _ := limitedEnv(t)
	r1 := e.seed(sandbox.SeedAccount{})
	r2 := e.seed(sandbox.SeedAccount{})
	t1 := e.token(r1.ID, 0)
	t2 := e.token(r2.ID, 0)
	e.clock.Advance(2 * time.Second)
	for i := range 8 {
		tk := t1
		if i%2 == 1 {
			tk = t2
		}
		s, _ := e.api("GET", "/api/v4/account", tk.Access, nil)
		if want := http.StatusOK; i == 7 {
			if s != http.StatusTooManyRequests {
				t.Fatalf("8th request across two accounts: %d, want 429", s)
			}
		} else if s != want {
			t.Fatalf("request %d: %d", i+1, s)
		}
	}
	st := e.emu.Stats()
	if st.MaxPerSecondByAccount[r1.ID] != 4 || st.MaxPerSecondByAccount[r2.ID] != 4 || st.MaxPerSecondByIP["127.0.0.1"] != 8 {
		t.Errorf("per account %v, per IP %v", st.MaxPerSecondByAccount, st.MaxPerSecondByIP)
	}
}

func TestAcceptThenDropAppliesTheWrite(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	e.emu.SetFaults(sandbox.Faults{DropRate: 1, Endpoints: []string{"POST /api/v4/calls"}})

	resp, err := e.send("POST", "/api/v4/calls", tk.Access, []any{call("+14155550100", "dropped-1")})
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got a response (%d), want a connection error", resp.StatusCode)
	}
	notes := e.account(r.ID).Notes
	if len(notes) != 1 || notes[0].Params["uniq"] != "dropped-1" {
		t.Fatalf("notes after a dropped write: %+v", notes)
	}
	st := e.emu.Stats()
	if st.Dropped != 1 || st.Count("POST /api/v4/calls", 0) != 1 {
		t.Errorf("Dropped %d, Requests %v", st.Dropped, st.Requests)
	}
	// Reads outside Endpoints are untouched; the client can look for the
	// note it is unsure about.
	s, body := e.api("GET", "/api/v4/contacts/"+itoa(r.Contacts["ann"])+"/notes?filter[note_type][]=call_in", tk.Access, nil)
	if s != http.StatusOK || str(get(body, "_embedded", "notes", 0, "params", "uniq")) != "dropped-1" {
		t.Fatalf("looking for the dropped note: %d %v", s, body)
	}
}

func TestReadDropClosesWithoutHandling(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	e.emu.SetFaults(sandbox.Faults{DropRate: 1, MaxFaults: 1})
	e.http.Transport = &http.Transport{DisableKeepAlives: true}
	if resp, err := e.send("GET", "/api/v4/account", tk.Access, nil); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want a connection error", resp.StatusCode)
	}
	// MaxFaults reached: the next request is served.
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("after MaxFaults: %d", s)
	}
}

func TestErrorFaults(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)

	e.emu.SetFaults(sandbox.Faults{ErrorRate: 1})
	s, _ := e.postCall(tk.Access, call("+14155550100", "before"))
	if s < 500 {
		t.Fatalf("ErrorRate: %d, want 5xx", s)
	}
	if n := len(e.account(r.ID).Notes); n != 0 {
		t.Fatalf("ErrorRate applied the write (%d notes)", n)
	}

	e.emu.SetFaults(sandbox.Faults{ErrorAfterRate: 1})
	s, _ = e.postCall(tk.Access, call("+14155550100", "after"))
	if s < 500 {
		t.Fatalf("ErrorAfterRate: %d, want 5xx", s)
	}
	if notes := e.account(r.ID).Notes; len(notes) != 1 || notes[0].Params["uniq"] != "after" {
		t.Fatalf("ErrorAfterRate did not apply the write: %+v", notes)
	}
	// ErrorAfterRate leaves reads alone.
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("read under ErrorAfterRate: %d", s)
	}
	if st := e.emu.Stats(); st.InjectedErrors != 2 {
		t.Errorf("InjectedErrors = %d", st.InjectedErrors)
	}
	// /sandbox/ is never faulted.
	e.emu.SetFaults(sandbox.Faults{ErrorRate: 1, DropRate: 1})
	if s, _ := e.api("GET", "/sandbox/state", "", nil); s != http.StatusOK {
		t.Fatalf("/sandbox/state under faults: %d", s)
	}
}

func TestInjected429PenalisesAndStorm(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.BlockAfter = 2 })
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)

	e.emu.SetFaults(sandbox.Faults{RateLimitRate: 1, StormRetryAfter: 5 * time.Second, MaxFaults: 1})
	s, body := e.api("GET", "/api/v4/account", tk.Access, nil)
	if s != http.StatusTooManyRequests || num(body["retry_after"]) != 5 {
		t.Fatalf("injected 429: %d %v", s, body)
	}
	// Faults are spent, but the IP is penalised like after a real 429.
	for range 2 {
		if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusTooManyRequests {
			t.Fatalf("during the injected penalty: %d", s)
		}
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusForbidden {
		t.Fatalf("ignoring an injected 429 must lead to a block: %d", s)
	}

	e.emu.Reset()
	r = e.seed(sandbox.SeedAccount{})
	tk = e.token(r.ID, 0)
	e.emu.SetFaults(sandbox.Faults{StormUntil: e.clock.Now().Add(time.Minute)})
	for range 5 {
		s, body := e.api("GET", "/api/v4/account", tk.Access, nil)
		if s != http.StatusTooManyRequests || num(body["retry_after"]) != 60 {
			t.Fatalf("storm: %d %v", s, body)
		}
	}
	e.clock.Advance(time.Minute)
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("after the storm: %d (storms do not penalise)", s)
	}
}

func TestFaultsAreDeterministicUnderASeed(t *testing.T) {
	run := func() string {
		e := newEnv(t, func(c *sandbox.Config) { c.Seed = 42 })
		r := e.seed(sandbox.SeedAccount{})
		tk := e.token(r.ID, 0)
		e.emu.SetFaults(sandbox.Faults{ErrorRate: 0.5})
		out := ""
		for range 40 {
			s, _ := e.api("GET", "/api/v4/account", tk.Access, nil)
			out += fmt.Sprint(s, " ")
		}
		return out
	}
	a, b := run(), run()
	if a != b {
		t.Fatalf("same seed, different faults:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "200") || !strings.Contains(a, "50") {
		t.Fatalf("rate 0.5 should give both outcomes in 40 requests: %s", a)
	}
}

func TestLatencyDelaysAnswers(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	e.emu.SetFaults(sandbox.Faults{Latency: 150 * time.Millisecond})
	start := time.Now()
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("answered after %v, want at least the latency", d)
	}
}
