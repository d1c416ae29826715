package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/sandbox"
)

// sweep runs the rules sweep at the clock's time and waits for the calls.
func (e *env) sweep(t *testing.T, calls map[*acctEnv][]string) int {
	t.Helper()
	n, err := e.sweeper.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for a, sids := range calls {
		for _, sid := range sids {
			a.waitIdle(t, sid)
		}
	}
	return n
}

// TestRecordingRetention checks the 18-hour rule with the pipeline's clock:
// a recording whose call gets a contact by 17 h 59 m (a contact created by
// hand, an incoming lead accepted, learnt by webhook or by polling) stays
// linked; one that has none at 18 h is deleted from the provider and the
// store, and its note says so.
func TestRecordingRetention(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testRecordingRetention(t, b) })
	}
}

func testRecordingRetention(t *testing.T, backend string) {
	e := newEnv(t, backend)
	logOnly := e.account(callbridge.Settings{Rules: callbridge.RuleSettings{UnknownInbound: callbridge.UnknownLogOnly}}, sandbox.SeedAccount{})
	leads := e.account(callbridge.Settings{}, sandbox.SeedAccount{})
	// An account whose webhook never arrives: the outcome is polled.
	e.hooks.PublicURL = "http://127.0.0.1:1"
	noHook := e.account(callbridge.Settings{}, sandbox.SeedAccount{})

	start := e.clock.Now().Add(-5 * time.Minute).Truncate(time.Second)
	spec := func(num string) callSpec { return callSpec{Number: num, Recording: true, Start: start} }
	type call struct {
		a      *acctEnv
		sid    string
		number string
		keep   bool
	}
	calls := map[string]*call{
		"contactByHand":  {a: logOnly, number: "+16285550101", keep: true},
		"noContact":      {a: logOnly, number: "+16285550102"},
		"accepted":       {a: leads, number: "+16285550103", keep: true},
		"pending":        {a: leads, number: "+16285550104"},
		"declined":       {a: leads, number: "+16285550105"},
		"acceptedNoHook": {a: noHook, number: "+16285550106", keep: true},
		"declinedNoHook": {a: noHook, number: "+16285550107"},
		"pendingNoHook":  {a: noHook, number: "+16285550108"},
	}
	all := map[*acctEnv][]string{}
	var ended time.Time
	for name, c := range calls {
		c.sid = "ret-" + name
		got := c.a.drive(t, c.sid, spec(c.number), []string{inHangup, inRecording})
		ended = got.EndedAt
		all[c.a] = append(all[c.a], c.sid)
	}
	uid := func(name string) string { c := calls[name]; return c.a.call(t, c.sid).Kommo.UnsortedUID }
	deleted := func() []string { return e.voip.deletions() }

	// 17 h 59 m after the calls: contacts appear.
	e.clock.Set(ended.Add(17*time.Hour + 59*time.Minute))
	if _, err := e.emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{ID: logOnly.kommoID,
		Contacts: []sandbox.SeedContact{{Ref: "byhand", Name: "Walk-in", Phones: []string{calls["contactByHand"].number}}}}}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"accepted", "acceptedNoHook"} {
		if err := e.emu.AcceptUnsorted(uid(name), 0, 0); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"declined", "declinedNoHook"} {
		if err := e.emu.DeclineUnsorted(uid(name), 0); err != nil {
			t.Fatal(err)
		}
	}
	e.emu.Close() // wait for the webhooks
	leads.waitIdle(t, calls["accepted"].sid)
	e.sweep(t, all)
	if d := deleted(); len(d) != 0 {
		t.Fatalf("deleted before 18 h: %v", d)
	}
	if r := leads.rules(t, leads.call(t, calls["accepted"].sid)); r.IncomingLead == nil || r.IncomingLead.Source != "webhook" {
		t.Fatalf("accept not learnt from the webhook: %+v", r.IncomingLead)
	}

	// One second before 18 h: still nothing deleted.
	e.clock.Set(ended.Add(18*time.Hour - time.Second))
	e.sweep(t, all)
	if d := deleted(); len(d) != 0 {
		t.Fatalf("deleted before 18 h: %v", d)
	}
	// 18 h: recordings without a contact go.
	e.clock.Set(ended.Add(18 * time.Hour))
	if e.sweep(t, all) == 0 {
		t.Fatal("nothing was due at 18 h")
	}
	for name, c := range calls {
		got := c.a.call(t, c.sid)
		r := c.a.rules(t, got)
		gone := slices.Contains(deleted(), "RE"+c.sid)
		st := c.a.state(t)
		notes := notesOf(st, got.UID)
		switch {
		case c.keep && (gone || r.RecordingDeletedAfter != 0 || got.RecordingURL == ""):
			t.Errorf("%s: recording deleted although a contact appeared in time (rules %+v)", name, r)
		case c.keep && (len(notes) != 1 || !strings.Contains(link(notes[0]), "/rec/") || !strings.Contains(text(notes[0]), "Recording: https://")):
			t.Errorf("%s: recording not linked: %+v", name, notes)
		case !c.keep && (!gone || r.RecordingDeletedAfter != 18 || got.RecordingURL != "" || got.RecordingID != ""):
			t.Errorf("%s: recording kept without a contact: gone %v rules %+v url %q", name, gone, r, got.RecordingURL)
		case !c.keep && len(notes) > 0 && (link(notes[0]) != "" || !strings.Contains(text(notes[0]), "Recording: deleted (no contact within 18 h)")):
			t.Errorf("%s: note still presents the recording: %q link %q", name, text(notes[0]), link(notes[0]))
		}
		if !c.keep {
			evs, _ := e.db.ListCallEvents(context.Background(), got.ID)
			for _, ev := range evs {
				if ev.RecordingURL != "" || strings.Contains(string(ev.Payload), "rec.example") {
					t.Errorf("%s: the store still holds the recording: %+v", name, ev)
				}
			}
		}
		if name == "contactByHand" && (len(notes) != 1 || notes[0].EntityType != "contacts") {
			t.Errorf("contactByHand: not logged on the new contact: %+v", notes)
		}
	}
	if d := deleted(); len(d) != 5 {
		t.Errorf("provider deletions %v, want 5 (each once)", d)
	}
	// Later sweeps change nothing.
	e.clock.Set(ended.Add(19 * time.Hour))
	if n := e.sweep(t, all); n != 0 {
		t.Errorf("%d calls still due", n)
	}
	if d := deleted(); len(d) != 5 {
		t.Errorf("provider deletions %v after another sweep", d)
	}
}

// TestIncomingLeadFollowed checks that the call follows its incoming lead:
// a decline leaves it unmatched (a later result creates nothing), an
// accept keeps later updates on the lead; outcomes arrive by the account
// webhook, and a forged or foreign webhook changes nothing.
func TestIncomingLeadFollowed(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testIncomingLeadFollowed(t, b) })
	}
}

func testIncomingLeadFollowed(t *testing.T, backend string) {
	e := newEnv(t, backend)
	a := e.account(callbridge.Settings{}, sandbox.SeedAccount{})
	declined := a.drive(t, "follow-declined", callSpec{Number: "+16285550201"}, []string{inHangup})
	accepted := a.drive(t, "follow-accepted", callSpec{Number: "+16285550202"}, []string{inHangup})
	if err := e.emu.DeclineUnsorted(declined.Kommo.UnsortedUID, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.emu.AcceptUnsorted(accepted.Kommo.UnsortedUID, 0, 0); err != nil {
		t.Fatal(err)
	}
	e.emu.Close()
	deadline := time.Now().Add(30 * time.Second)
	for a.call(t, "follow-declined").Kommo.State != callbridge.KommoUnmatched {
		if time.Now().After(deadline) {
			t.Fatal("the decline was not followed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.waitIdle(t, "follow-accepted")
	res := &callbridge.CallResult{Text: "Spam", CallStatus: callbridge.KommoCallWrongNumber}
	a.drive(t, "follow-declined", callSpec{Number: "+16285550201", Result: res}, []string{inResult})
	res2 := &callbridge.CallResult{Text: "Good lead", CallStatus: callbridge.KommoCallConversation}
	got := a.drive(t, "follow-accepted", callSpec{Number: "+16285550202", Result: res2}, []string{inResult})
	st := a.state(t)
	if c := a.call(t, "follow-declined"); c.Kommo.State != callbridge.KommoUnmatched || len(notesOf(st, c.UID)) != 0 || len(unsortedFor(st, c.UID)) != 1 {
		t.Fatalf("declined call: %+v", c.Kommo)
	}
	ns := notesOf(st, got.UID)
	if len(ns) != 1 || !strings.Contains(text(ns[0]), "Result: Good lead") || ns[0].EntityID != got.Kommo.EntityID {
		t.Fatalf("accepted call's note %+v", ns)
	}

	// A webhook with a forged token, or naming another Kommo account.
	form := map[string][]string{"unsorted[delete][0][uid]": {got.Kommo.UnsortedUID}, "unsorted[delete][0][action]": {"decline"}}
	if code := a.postHook(t, form); code != 200 {
		t.Fatalf("hook: %d", code)
	}
	form["account[id]"] = []string{fmt.Sprint(a.kommoID + 1)}
	if code := a.postHook(t, form); code != 403 {
		t.Fatalf("hook naming another account: %d", code)
	}
	a.waitIdle(t, "follow-accepted")
	if c := a.call(t, "follow-accepted"); c.Kommo.State != callbridge.KommoWritten {
		t.Fatalf("a second outcome for the same lead changed the call: %+v", c.Kommo)
	}
}

// TestManagerEditSurvives edits a call note by hand in Kommo before the
// recording arrives: the manager's lines stay as they are.
func TestManagerEditSurvives(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testManagerEditSurvives(t, b) })
	}
}

func testManagerEditSurvives(t *testing.T, backend string) {
	e := newEnv(t, backend)
	a := e.account(callbridge.Settings{}, sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Name: "Ann", Phones: []string{"+16285550301"}}}})
	spec := callSpec{Number: "+16285550301", Recording: true, Result: &callbridge.CallResult{Text: "Sent the price list"}}
	c := a.drive(t, "edit", spec, []string{inHangup})
	ns := notesOf(a.state(t), c.UID)
	if len(ns) != 1 || !strings.Contains(text(ns[0]), "Recording: (pending)") {
		t.Fatalf("first note %+v", ns)
	}
	edited := strings.Replace(text(ns[0]), "Status: Answered", "Status: Answered — VIP, call back Monday", 1) + "\nPrefers WhatsApp"
	if _, err := e.emu.EditNote(ns[0].ID, map[string]any{"call_result": edited}); err != nil {
		t.Fatal(err)
	}
	a.drive(t, "edit", spec, []string{inRecording, inResult})
	got := text(notesOf(a.state(t), c.UID)[0])
	for _, want := range []string{"Status: Answered — VIP, call back Monday", "\nPrefers WhatsApp", "Recording: https://cb.example/rec/", "Result: Sent the price list"} {
		if !strings.Contains(got, want) {
			t.Fatalf("note %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, callbridge.Pending) || strings.Count(got, "Status:") != 1 {
		t.Fatalf("note %q", got)
	}
}

// TestLostNoteUpdateStaysOurs loses the answer to a note update that Kommo
// applied (accept-then-drop, or a 5xx after applying) and saves a newer
// result before the retry: the note must end with the newer result. The
// lost update's lines are callbridge's own, not a manager's edit to keep.
func TestLostNoteUpdateStaysOurs(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testLostNoteUpdateStaysOurs(t, b) })
	}
}

func testLostNoteUpdateStaysOurs(t *testing.T, backend string) {
	e := newEnv(t, backend)
	for i, tc := range []struct {
		name   string
		known  bool   // the number is a contact's; otherwise an incoming lead
		fault  string // "drop" or "after"
		during string // the input whose note update is lost
	}{
		{name: "ContactDropped", known: true, fault: "drop", during: inResult},
		{name: "ContactFailedAfterApplying", known: true, fault: "after", during: inResult},
		{name: "IncomingLeadDropped", fault: "drop", during: inResult},
		{name: "IncomingLeadFirstUpdateDropped", fault: "drop", during: inHangup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			num := number(900, i)
			entity := "leads"
			var seed sandbox.SeedAccount
			if tc.known {
				entity = "contacts"
				seed.Contacts = []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{num}}}
			}
			a := e.account(callbridge.Settings{}, seed)
			sid := "lost-" + tc.name
			first := callSpec{Number: num, Outcome: "missed", Result: &callbridge.CallResult{Text: "Sent the price list"}}
			latest := first
			latest.Result = &callbridge.CallResult{Text: "Needs a contract draft"}
			if tc.during == inResult {
				a.drive(t, sid, first, []string{inHangup})
			}
			f := sandbox.Faults{Endpoints: []string{"PATCH /api/v4/" + entity + "/notes"}, MaxFaults: 1}
			if tc.fault == "drop" {
				f.DropRate = 1
			} else {
				f.ErrorAfterRate = 1
			}
			before := e.emu.Stats()
			e.emu.SetFaults(f)
			defer e.emu.SetFaults(sandbox.Faults{})
			if tc.during == inHangup {
				// The result comes first; the incoming lead's first update
				// carries it.
				a.drive(t, sid, first, []string{inResult})
				a.send(t, sid, first, inHangup)
				waitFault(t, e, before)
			} else {
				a.send(t, sid, first, inResult)
				waitFault(t, e, before)
			}
			a.send(t, sid, latest, inResult)
			a.waitIdle(t, sid)
			c := a.call(t, sid)
			ns := notesOf(a.state(t), c.UID)
			if len(ns) != 1 {
				t.Fatalf("%d notes", len(ns))
			}
			got := text(ns[0])
			if !strings.Contains(got, "Result: Needs a contract draft") || strings.Contains(got, "price list") || strings.Count(got, "Result:") != 1 {
				t.Fatalf("note %q, want only the latest result", got)
			}
			if c.Kommo.Unconfirmed != "" || c.Kommo.Text != got {
				t.Fatalf("record after a confirmed update: text %q, unconfirmed %q", c.Kommo.Text, c.Kommo.Unconfirmed)
			}
		})
	}
}

// waitFault waits until the emulator injected a fault after before.
func waitFault(t *testing.T, e *env, before sandbox.Stats) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.emu.Stats()
		if st.Dropped+st.InjectedErrors > before.Dropped+before.InjectedErrors {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no fault was injected")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
