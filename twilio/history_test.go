package twilio_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

// History gives the same keys and the same folded call as the webhooks, so a
// call seen both ways is one call with one outcome.
func TestListCallHistoryMatchesWebhooks(t *testing.T) {
	sim, c := apiSim(t)
	specs := []twilio.CallSpec{
		{CallSID: "CA00000000000000000000000000000001", Answered: true, Duration: 42, DialLeg: true},
		{CallSID: "CA00000000000000000000000000000002", DialLeg: true},
		{CallSID: "CA00000000000000000000000000000003", Busy: true, DialLeg: true},
		{CallSID: "CA00000000000000000000000000000004", Direction: callbridge.DirectionOutbound, Answered: true, Duration: 95},
		{CallSID: "CA00000000000000000000000000000005", Direction: callbridge.DirectionOutbound, Failed: true},
		{CallSID: "CA00000000000000000000000000000006"},
	}
	webhook := map[string][]callbridge.CallEvent{}
	for i := range specs {
		specs[i].Customer, specs[i].Line, specs[i].Agent = customer, line, agentSIP
		specs[i].Start = t0.Add(time.Duration(i) * time.Minute)
		sim.LogCall(specs[i])
		for _, e := range events(t, sim.Requests(specs[i])) {
			if e.Type == callbridge.EventStatus {
				webhook[e.ProviderCallID] = append(webhook[e.ProviderCallID], e)
			}
		}
	}
	// A click-to-call, placed and played through the simulator.
	placed, err := c.PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := sim.PlayPlacedCall(placed.ProviderCallID, twilio.ClickToCallSpec{Start: t0.Add(10 * time.Minute),
		Agent: twilio.DialOutcome{Answered: true}, Customer: twilio.DialOutcome{Answered: true, Duration: 30}})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events(t, reqs) {
		if e.Type == callbridge.EventStatus {
			webhook[e.ProviderCallID] = append(webhook[e.ProviderCallID], e)
		}
	}

	hist, err := c.ListCallHistory(t.Context(), testConn(), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	byCall := map[string][]callbridge.CallEvent{}
	for _, e := range hist {
		byCall[e.ProviderCallID] = append(byCall[e.ProviderCallID], e)
		if len(e.Payload) == 0 || e.ReceivedAt.IsZero() {
			t.Fatalf("event %+v", e)
		}
	}
	if len(byCall) != len(webhook) {
		t.Fatalf("history has %d calls, webhooks %d", len(byCall), len(webhook))
	}
	for id, hevs := range byCall {
		wevs := webhook[id]
		keys := map[string]bool{}
		for _, e := range wevs {
			keys[e.Key] = true
		}
		for _, e := range hevs {
			if !keys[e.Key] {
				t.Errorf("%s: history key %s not among the webhook keys", id, e.Key)
			}
		}
		h, w := foldOrders(t, hevs), foldOrders(t, wevs)
		both := foldOrders(t, append(append([]callbridge.CallEvent(nil), hevs...), wevs...))
		for _, got := range []*callbridge.Call{h, both} {
			if got.Status != w.Status || got.Duration != w.Duration || got.Direction != w.Direction ||
				got.CustomerNumber != w.CustomerNumber || got.Agent != w.Agent || !got.Ended {
				t.Errorf("%s: history folds to %s/%d/%s/%s/%s, webhooks to %s/%d/%s/%s/%s", id,
					got.Status, got.Duration, got.Direction, got.CustomerNumber, got.Agent,
					w.Status, w.Duration, w.Direction, w.CustomerNumber, w.Agent)
			}
		}
	}

	// The range is exact: a call started before since is left out.
	hist, err = c.ListCallHistory(t.Context(), testConn(), t0.Add(90*time.Second), t0.Add(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range hist {
		seen[e.ProviderCallID] = true
	}
	if len(seen) != 3 || !seen[specs[2].CallSID] || !seen[specs[4].CallSID] || seen[specs[1].CallSID] || seen[specs[5].CallSID] {
		t.Fatalf("calls in range: %v", seen)
	}

	_, err = c.ListCallHistory(t.Context(), testConn(), t0, t0)
	wantCode(t, err, callbridge.EINVALID)
}

func TestListCallHistoryPages(t *testing.T) {
	sim, c := apiSim(t)
	const n = 1100 // more than one page of 1000
	for i := range n {
		sim.LogCall(twilio.CallSpec{CallSID: fmt.Sprintf("CA%032d", i), Direction: callbridge.DirectionOutbound,
			Customer: customer, Line: line, Start: t0.Add(time.Duration(i) * time.Second), Busy: true})
	}
	hist, err := c.ListCallHistory(t.Context(), testConn(), t0, t0.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]bool{}
	for _, e := range hist {
		calls[e.ProviderCallID] = true
	}
	if len(calls) != n {
		t.Fatalf("%d calls, want %d", len(calls), n)
	}
}

// A next_page_uri that leaves the account's call list is not followed: it
// could send the credentials elsewhere.
func TestListCallHistoryStaysOnTheList(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"calls":[{"sid":"CA1","account_sid":%q,"status":"busy","direction":"outbound-api","from":%q,"to":%q,"start_time":%q,"duration":"0"}],
			"next_page_uri":"/2010-04-01/Accounts/ACother/Calls.json?Page=1"}`, testSID, line, customer, t0.Format(time.RFC1123Z))
	}))
	defer srv.Close()
	hist, err := twilio.New(twilio.Options{APIBase: srv.URL}).ListCallHistory(t.Context(), testConn(), t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 1 || len(hist) != 1 || hist[0].Status != callbridge.StatusBusy || hist[0].Key != "status:CA1:busy" {
		t.Fatalf("paths %v events %+v", paths, hist)
	}
	if !strings.HasSuffix(paths[0], "/Accounts/"+testSID+"/Calls.json") {
		t.Fatalf("path %s", paths[0])
	}
}
