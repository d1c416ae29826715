package pipeline_test

import (
	"fmt"
	"testing"

	"callbridge"
	"callbridge/sandbox"
)

// TestRulesExactlyOnceUnderFaults makes Kommo apply each kind of rule write
// and lose the answer (accept-then-drop, or a 5xx after applying): the
// retried job must look before writing again and leave exactly one contact,
// lead, task, accepted incoming lead or moved note.
func TestRulesExactlyOnceUnderFaults(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testRulesExactlyOnceUnderFaults(t, b) })
	}
}

func testRulesExactlyOnceUnderFaults(t *testing.T, backend string) {
	e := newEnv(t, backend)
	drop := func(endpoint string, n int) sandbox.Faults {
		return sandbox.Faults{DropRate: 1, Endpoints: []string{endpoint}, MaxFaults: n}
	}
	after := func(endpoint string) sandbox.Faults {
		return sandbox.Faults{ErrorAfterRate: 1, Endpoints: []string{endpoint}, MaxFaults: 1}
	}
	contactAndLead := func(*sandbox.AccountState) callbridge.Settings {
		return callbridge.Settings{Rules: callbridge.RuleSettings{UnknownInbound: callbridge.UnknownContactAndLead}}
	}
	result := &callbridge.CallResult{Text: "Talked", CallStatus: callbridge.KommoCallConversation}
	newLeadOK := func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
		st := a.state(t)
		cs := contactsWith(st, num)
		ns := notesOf(st, c.UID)
		if len(cs) != 1 || len(cs[0].LeadIDs) != 1 || len(ns) != 1 || ns[0].EntityID != cs[0].LeadIDs[0] {
			t.Fatalf("contacts %+v notes %+v", cs, ns)
		}
	}
	for i, tc := range []struct {
		name     string
		faults   sandbox.Faults
		seed     sandbox.SeedAccount
		settings func(*sandbox.AccountState) callbridge.Settings
		spec     callSpec
		check    func(t *testing.T, a *acctEnv, c *callbridge.Call, num string)
	}{
		{name: "ContactDropped", faults: drop("POST /api/v4/contacts", 1), settings: contactAndLead,
			spec: callSpec{Result: result, Recording: true}, check: newLeadOK},
		{name: "LeadDropped", faults: drop("POST /api/v4/leads", 1), settings: contactAndLead,
			spec: callSpec{Result: result, Recording: true}, check: newLeadOK},
		{name: "LeadNoteFailedAfterApplying", faults: after("POST /api/v4/leads/notes"), settings: contactAndLead,
			spec: callSpec{Result: result, Recording: true}, check: newLeadOK},
		{name: "KnownContactLeadDropped", faults: drop("POST /api/v4/leads", 1),
			seed: sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Old client", Phones: []string{"%s"}}},
				Leads: []sandbox.SeedLead{{Ref: "won", Name: "Old deal", StatusID: sandbox.StatusWon, Contacts: []string{"c"}}}},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{KnownContactLead: callbridge.KnownContactRule{Enabled: true}}}
			},
			spec: callSpec{Result: result},
			check: func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
				st := a.state(t)
				cs := contactsWith(st, num)
				ns := notesOf(st, c.UID)
				if len(cs) != 1 || len(cs[0].LeadIDs) != 2 || len(ns) != 1 || ns[0].EntityID != cs[0].LeadIDs[1] {
					t.Fatalf("contacts %+v notes %+v", cs, ns)
				}
			}},
		{name: "TaskDropped", faults: drop("POST /api/v4/tasks", 1),
			seed: sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{"%s"}}}},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{Enabled: true}}}
			},
			spec: callSpec{Outcome: "missed", Result: result},
			check: func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
				if ts := tasksWith(a.state(t), num); len(ts) != 1 {
					t.Fatalf("tasks %+v", ts)
				}
			}},
		{name: "TaskFailedAfterApplying", faults: after("POST /api/v4/tasks"),
			seed: sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{"%s"}}}},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{Enabled: true}}}
			},
			spec: callSpec{Outcome: "dropped", Result: result},
			check: func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
				if ts := tasksWith(a.state(t), num); len(ts) != 1 {
					t.Fatalf("tasks %+v", ts)
				}
			}},
		{name: "IncomingLeadAndAcceptDropped", faults: drop("POST /api/v4/leads/unsorted", 2),
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{AcceptAnswered: true}}
			},
			spec: callSpec{Result: result, Recording: true},
			check: func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
				st := a.state(t)
				us := unsortedFor(st, c.UID)
				ns := notesOf(st, c.UID)
				if len(us) != 1 || us[0].Status != sandbox.UnsortedAccepted || len(ns) != 1 || ns[0].EntityID != us[0].LeadIDs[0] {
					t.Fatalf("incoming leads %+v notes %+v", us, ns)
				}
				if r := a.rules(t, c); r.IncomingLead == nil || r.IncomingLead.Action != callbridge.IncomingAccept {
					t.Fatalf("rules %+v", r)
				}
			}},
		{name: "MoveDropped", faults: drop("POST /api/v4/contacts/notes", 1),
			seed: sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{"%s"}}},
				Leads: []sandbox.SeedLead{{Ref: "deal", Name: "Deal", Contacts: []string{"c"}}}},
			spec: callSpec{Recording: true},
			check: func(t *testing.T, a *acctEnv, c *callbridge.Call, num string) {
				st := a.state(t)
				ns := notesOf(st, c.UID)
				if len(ns) != 1 || ns[0].EntityType != "contacts" || ns[0].EntityID != a.seed.Contacts["c"] || len(notesOf(st, c.UID+":moved")) != 1 {
					t.Fatalf("notes %+v", ns)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			num := fmt.Sprintf("+1628777%04d", i)
			for j := range tc.seed.Contacts {
				for k, p := range tc.seed.Contacts[j].Phones {
					tc.seed.Contacts[j].Phones[k] = fmt.Sprintf(p, num)
				}
			}
			tc.seed.Users = []sandbox.SeedUser{{Ref: "admin", Name: "Admin", Admin: true}}
			a := e.account(callbridge.Settings{}, tc.seed)
			if tc.settings != nil {
				a.setSettings(t, tc.settings(a.state(t)))
			}
			spec := tc.spec
			spec.Number = num
			before := e.emu.Stats()
			e.emu.SetFaults(tc.faults)
			defer e.emu.SetFaults(sandbox.Faults{})
			sid := "fault-" + tc.name
			order := []string{inHangup}
			if spec.Recording {
				order = append(order, inRecording)
			}
			c := a.drive(t, sid, spec, order)
			if tc.name == "MoveDropped" {
				spec.Result = &callbridge.CallResult{Text: "Belongs to the contact", EntityType: "contacts", EntityID: a.seed.Contacts["c"]}
				order = append(order, inResult)
				c = a.drive(t, sid, spec, []string{inResult})
			} else if spec.Result != nil {
				c = a.drive(t, sid, spec, []string{inResult})
			}
			after := e.emu.Stats()
			if after.Dropped+after.InjectedErrors == before.Dropped+before.InjectedErrors {
				t.Fatal("no fault was injected")
			}
			tc.check(t, a, c, num)
		})
	}
}
