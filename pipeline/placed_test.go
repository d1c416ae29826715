package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/sandbox"
)

// TestResultByPlacedID saves a click-to-call's result against the id the
// provider's API answered when placing it (Plivo's request_uuid), while the
// provider's webhooks name the call by another id and carry the placed one
// (PlacedID): the result reaches that call, and Kommo gets one note.
func TestResultByPlacedID(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testResultByPlacedID(t, b) })
	}
}

func testResultByPlacedID(t *testing.T, backend string) {
	e := newEnv(t, backend)
	num := number(901, 1)
	a := e.account(callbridge.Settings{}, sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{num}}}})
	ctx := context.Background()
	start := e.clock.Now().Add(-2 * time.Minute)
	ev := func(key string, st callbridge.Status, at time.Time, dur int) callbridge.CallEvent {
		return callbridge.CallEvent{Type: callbridge.EventStatus, Key: "A-1:" + key, ProviderCallID: "A-1", LegID: "A-1",
			PlacedID: "req-1", Status: st, Direction: callbridge.DirectionOutbound, CustomerNumber: num,
			LineNumber: testLine, Agent: testAgent, Duration: dur, OccurredAt: at}
	}
	if err := e.in.Ingest(ctx, a.conn, []callbridge.CallEvent{ev("ringing", callbridge.StatusRinging, start, 0)}); err != nil {
		t.Fatal(err)
	}
	got, err := e.in.SaveResult(ctx, a.acct, callbridge.ResultInput{ConnectionID: a.conn.ID, ProviderCallID: "req-1",
		Key: "placed-1", Result: callbridge.CallResult{Text: "Booked a demo"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.ProviderCallID != "A-1" || got.PlacedID != "req-1" || got.Result == nil || got.Result.Text != "Booked a demo" {
		t.Fatalf("the result went to %+v", got)
	}
	// A later event naming another placed id does not move the call's.
	later := ev("completed", callbridge.StatusCompleted, start.Add(40*time.Second), 35)
	later.PlacedID = "req-other"
	if err := e.in.Ingest(ctx, a.conn, []callbridge.CallEvent{ev("answered", callbridge.StatusAnswered, start.Add(5*time.Second), 0), later}); err != nil {
		t.Fatal(err)
	}
	a.waitIdle(t, "A-1")
	c := a.call(t, "A-1")
	if c.ID != got.ID || c.PlacedID != "req-1" || c.Result == nil {
		t.Fatalf("call %+v", c)
	}
	ns := notesOf(a.state(t), c.UID)
	if len(ns) != 1 || !strings.Contains(text(ns[0]), "Result: Booked a demo") {
		t.Fatalf("notes %+v", ns)
	}
	if st := a.state(t); len(st.Notes) != 1 {
		t.Fatalf("%d notes in the account, want 1", len(st.Notes))
	}

	// The result saved before any webhook (the widget knows only the placed
	// id): the first webhook naming the placed id takes the result over and
	// the call the result made alone is gone.
	early, err := e.in.SaveResult(ctx, a.acct, callbridge.ResultInput{ConnectionID: a.conn.ID, ProviderCallID: "req-2",
		Key: "placed-2", Result: callbridge.CallResult{Text: "Left a message"}})
	if err != nil {
		t.Fatal(err)
	}
	if early.ProviderCallID != "req-2" {
		t.Fatalf("early result on %+v", early)
	}
	b := func(key string, st callbridge.Status, at time.Time, dur int) callbridge.CallEvent {
		x := ev(key, st, at, dur)
		x.Key, x.ProviderCallID, x.LegID, x.PlacedID = "B-1:"+key, "B-1", "B-1", "req-2"
		return x
	}
	if err := e.in.Ingest(ctx, a.conn, []callbridge.CallEvent{b("ringing", callbridge.StatusRinging, start, 0),
		b("answered", callbridge.StatusAnswered, start.Add(5*time.Second), 0), b("completed", callbridge.StatusCompleted, start.Add(30*time.Second), 25)}); err != nil {
		t.Fatal(err)
	}
	a.waitIdle(t, "B-1")
	cb := a.call(t, "B-1")
	if cb.Result == nil || cb.Result.Text != "Left a message" || cb.PlacedID != "req-2" {
		t.Fatalf("call %+v", cb)
	}
	if _, err := e.db.FindCall(ctx, a.acct.ID, early.ID); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		t.Fatalf("the result's own call is still there: %v", err)
	}
	ns = notesOf(a.state(t), cb.UID)
	if len(ns) != 1 || !strings.Contains(text(ns[0]), "Result: Left a message") {
		t.Fatalf("notes %+v", ns)
	}
	if st := a.state(t); len(st.Notes) != 2 {
		t.Fatalf("%d notes in the account, want 2", len(st.Notes))
	}
	// Saved again (the widget retries) by the placed id: still that call.
	again, err := e.in.SaveResult(ctx, a.acct, callbridge.ResultInput{ConnectionID: a.conn.ID, ProviderCallID: "req-2",
		Key: "placed-2", Result: callbridge.CallResult{Text: "Left a message"}})
	if err != nil || again.ID != cb.ID {
		t.Fatalf("retried save: %+v, %v", again, err)
	}
}
