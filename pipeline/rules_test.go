package pipeline_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/sandbox"
)

// ruleCase is one rule exercised under every ordering of a call's inputs.
// Ordering n uses its own number and seeded entities (refs suffixed n).
type ruleCase struct {
	name string
	// seed adds ordering n's entities to the account.
	seed func(n int, sa *sandbox.SeedAccount)
	// settings are the account's settings (stages resolved from st).
	settings func(st *sandbox.AccountState) callbridge.Settings
	spec     func(a *acctEnv, n int) callSpec
	check    func(t *testing.T, a *acctEnv, n int, c *callbridge.Call)
}

const maxOrderings = 6

func ref(kind string, n int) string { return fmt.Sprintf("%s%d", kind, n) }

// TestRules drives every rule through the emulator, each under every
// ordering of {hang-up webhook, call result, recording} (a result may come
// before any webhook), waiting after each input until the call's sync job
// finished: every ordering must end in the same outcome, every side effect
// made exactly once.
func TestRules(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) { testRules(t, b) })
	}
}

func testRules(t *testing.T, backend string) {
	e := newEnv(t, backend)
	answered := func(num string) callSpec {
		return callSpec{Number: num, Result: &callbridge.CallResult{Text: "Wants a quote", CallStatus: callbridge.KommoCallConversation}, Recording: true}
	}
	contact := func(n int, phones ...string) sandbox.SeedContact {
		return sandbox.SeedContact{Ref: ref("c", n), Name: "Ann " + fmt.Sprint(n), Phones: phones, Responsible: "sales"}
	}
	voicemail := func(num string) callSpec {
		return callSpec{Number: num, Outcome: "missed", Recording: true,
			Result: &callbridge.CallResult{Text: "Left a message", CallStatus: callbridge.KommoCallLeftMessage}}
	}
	dropped := func(num string) callSpec {
		s := answered(num)
		s.Outcome = "dropped"
		return s
	}
	// linkedTo checks that the call got exactly one task, linked to
	// entityType #entityID and, unless responsible is 0, assigned to it.
	linkedTo := func(t *testing.T, a *acctEnv, c *callbridge.Call, num, entityType string, entityID, responsible int64) {
		t.Helper()
		ts := tasksWith(a.state(t), num)
		if len(ts) != 1 {
			t.Fatalf("%d tasks: %+v", len(ts), ts)
		}
		if tk := ts[0]; tk.EntityType != entityType || tk.EntityID != entityID || (responsible != 0 && tk.ResponsibleUserID != responsible) {
			t.Fatalf("task %+v, want it on %s #%d for user %d", tk, entityType, entityID, responsible)
		}
		if r := a.rules(t, c); (r.CallbackTask == nil) == (r.RecallTask == nil) {
			t.Fatalf("rule state %+v %+v", r.CallbackTask, r.RecallTask)
		}
	}
	oneNote := func(t *testing.T, a *acctEnv, c *callbridge.Call) sandbox.Note {
		t.Helper()
		ns := notesOf(a.state(t), c.UID)
		if len(ns) != 1 {
			t.Fatalf("%d call notes, want exactly 1: %+v", len(ns), ns)
		}
		return ns[0]
	}
	cases := []ruleCase{
		{
			name: "UnknownInbound/IncomingLead",
			spec: func(a *acctEnv, n int) callSpec { return answered(number(1, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				us := unsortedFor(st, c.UID)
				note := oneNote(t, a, c)
				if len(us) != 1 || us[0].Status != sandbox.UnsortedPending || note.EntityType != "leads" || !slices.Contains(us[0].LeadIDs, note.EntityID) {
					t.Fatalf("incoming leads %+v, note on %s #%d", us, note.EntityType, note.EntityID)
				}
				if !strings.Contains(text(note), "Result: Wants a quote") || !strings.Contains(link(note), "/rec/") {
					t.Fatalf("note %q link %q", text(note), link(note))
				}
			},
		},
		{
			name: "UnknownInbound/ContactAndLead",
			settings: func(st *sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{UnknownInbound: callbridge.UnknownContactAndLead,
					NewLead: callbridge.LeadTarget{StatusID: stage(st, "Discussions")}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(2, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				cs := contactsWith(st, number(2, n))
				note := oneNote(t, a, c)
				if len(unsortedFor(st, c.UID)) != 0 || len(cs) != 1 || len(cs[0].LeadIDs) != 1 {
					t.Fatalf("unsorted %d, contacts %+v", len(unsortedFor(st, c.UID)), cs)
				}
				l := leadByID(st, cs[0].LeadIDs[0])
				if l.StatusID != stage(st, "Discussions") || note.EntityType != "leads" || note.EntityID != l.ID {
					t.Fatalf("lead %+v, note on %s #%d", l, note.EntityType, note.EntityID)
				}
			},
		},
		{
			name: "UnknownInbound/LogOnly",
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{UnknownInbound: callbridge.UnknownLogOnly}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(3, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				if c.Kommo.State != callbridge.KommoUnmatched || len(notesOf(st, c.UID)) != 0 || len(unsortedFor(st, c.UID)) != 0 ||
					len(contactsWith(st, number(3, n))) != 0 {
					t.Fatalf("state %q: something was created in Kommo", c.Kommo.State)
				}
			},
		},
		{
			name: "UnknownInbound/AcceptAnswered",
			settings: func(st *sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{AcceptAnswered: true, AcceptStatusID: stage(st, "Decision making")}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(4, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				us := unsortedFor(st, c.UID)
				note := oneNote(t, a, c)
				if len(us) != 1 || us[0].Status != sandbox.UnsortedAccepted {
					t.Fatalf("incoming leads %+v", us)
				}
				l := leadByID(st, us[0].LeadIDs[0])
				if l.StatusID != stage(st, "Decision making") || note.EntityID != l.ID || !strings.Contains(link(note), "/rec/") {
					t.Fatalf("lead %+v note %+v", l, note)
				}
				if r := a.rules(t, c); r.IncomingLead == nil || r.IncomingLead.Action != callbridge.IncomingAccept || r.Accept.State != callbridge.EffectDone {
					t.Fatalf("rules %+v", r)
				}
			},
		},
		{
			name: "KnownContactLead/Created",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(5, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("lost", n), Name: "Old deal", StatusID: sandbox.StatusLost, Contacts: []string{ref("c", n)}})
			},
			settings: func(st *sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{KnownContactLead: callbridge.KnownContactRule{Enabled: true,
					StatusID: stage(st, "Discussions")}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(5, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				cs := contactsWith(st, number(5, n))
				note := oneNote(t, a, c)
				if len(cs) != 1 || len(cs[0].LeadIDs) != 2 {
					t.Fatalf("contacts %+v", cs)
				}
				l := leadByID(st, cs[0].LeadIDs[1])
				if !l.Active() || l.StatusID != stage(st, "Discussions") || note.EntityType != "leads" || note.EntityID != l.ID {
					t.Fatalf("new lead %+v, note on %s #%d", l, note.EntityType, note.EntityID)
				}
			},
		},
		{
			name: "KnownContactLead/ActiveLeadKept",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(6, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{KnownContactLead: callbridge.KnownContactRule{Enabled: true}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(6, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				note := oneNote(t, a, c)
				if cs := contactsWith(st, number(6, n)); len(cs[0].LeadIDs) != 1 || note.EntityID != a.seed.Leads[ref("deal", n)] {
					t.Fatalf("contact %+v note on %s #%d", cs, note.EntityType, note.EntityID)
				}
			},
		},
		{
			name: "ShowContactNumber",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(7, n), number(8, n)))
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{ShowContactNumber: true}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(7, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				if note := oneNote(t, a, c); !strings.Contains(text(note), "\nNumber: "+number(7, n)+"\n") {
					t.Fatalf("note %q", text(note))
				}
			},
		},
		{
			name: "MissedCallTask",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(9, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}, Responsible: "sales"})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{Enabled: true, DueMinutes: 45}}}
			},
			spec: func(a *acctEnv, n int) callSpec {
				return callSpec{Number: number(9, n), Outcome: "missed", Result: &callbridge.CallResult{Text: "No answer", CallStatus: callbridge.KommoCallNotReached}}
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				ts := tasksWith(st, number(9, n))
				if len(ts) != 1 {
					t.Fatalf("%d tasks: %+v", len(ts), ts)
				}
				tk := ts[0]
				if tk.EntityType != "leads" || tk.EntityID != a.seed.Leads[ref("deal", n)] || tk.ResponsibleUserID != a.seed.Users["sales"] ||
					tk.CompleteTill != c.EndedAt.Add(45*time.Minute).Unix() || tk.IsCompleted || tk.TaskTypeID != 1 {
					t.Fatalf("task %+v (call ended %v)", tk, c.EndedAt)
				}
				// A later answered call with the number completes it.
				later := callSpec{Number: number(9, n), Start: c.EndedAt.Add(10 * time.Minute)}
				a.drive(t, c.ProviderCallID+"-back", later, []string{inHangup})
				ts = tasksWith(a.state(t), number(9, n))
				if len(ts) != 1 || !ts[0].IsCompleted || !strings.Contains(ts[0].ResultText, "Called back") {
					t.Fatalf("after the call back: %+v", ts)
				}
			},
		},
		{
			name: "OutgoingNewNumber",
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{OutgoingNewNumber: true}}
			},
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(10, n))
				s.Dir = callbridge.DirectionOutbound
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				cs := contactsWith(st, number(10, n))
				note := oneNote(t, a, c)
				if len(cs) != 1 || len(cs[0].LeadIDs) != 1 || note.EntityType != "leads" || note.EntityID != cs[0].LeadIDs[0] || note.NoteType != "call_out" {
					t.Fatalf("contacts %+v note %+v", cs, note)
				}
			},
		},
		{
			name: "OutgoingNewNumber/Off",
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(11, n))
				s.Dir = callbridge.DirectionOutbound
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				if c.Kommo.State != callbridge.KommoUnmatched || len(contactsWith(st, number(11, n))) != 0 || len(notesOf(st, c.UID)) != 0 {
					t.Fatalf("state %q", c.Kommo.State)
				}
			},
		},
		{
			name: "ResultOnAnotherEntity",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(12, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}})
			},
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(12, n))
				s.Result.EntityType, s.Result.EntityID = "contacts", a.seed.Contacts[ref("c", n)]
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				note := oneNote(t, a, c)
				if note.EntityType != "contacts" || note.EntityID != a.seed.Contacts[ref("c", n)] ||
					!strings.Contains(text(note), "Result: Wants a quote") || !strings.Contains(link(note), "/rec/") {
					t.Fatalf("note %+v", note)
				}
				moved := notesOf(st, c.UID+":moved")
				if len(moved) > 1 || (len(moved) == 1 && (link(moved[0]) != "" || !strings.HasPrefix(text(moved[0]), "Call moved to contact #"))) {
					t.Fatalf("old notes %+v", moved)
				}
				if len(moved) == 1 && (moved[0].EntityType != "leads" || moved[0].EntityID != a.seed.Leads[ref("deal", n)]) {
					t.Fatalf("old note on %s #%d", moved[0].EntityType, moved[0].EntityID)
				}
			},
		},
		{
			name: "AIArtifacts",
			seed: func(n int, sa *sandbox.SeedAccount) { sa.Contacts = append(sa.Contacts, contact(n, number(13, n))) },
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(13, n))
				s.AI = true
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				tx := text(oneNote(t, a, c))
				if !strings.Contains(tx, "\nAI summary: Customer asked for a quote for 20 seats") ||
					!strings.Contains(tx, "\nTranscript: Agent: Hello, Acme. / Customer: I need a quote.") {
					t.Fatalf("note %q", tx)
				}
			},
		},
		{
			name: "InternalIgnored",
			seed: func(n int, sa *sandbox.SeedAccount) { sa.Contacts = append(sa.Contacts, contact(n, number(14, n))) },
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{InternalCalls: callbridge.InternalIgnore}}
			},
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(14, n))
				s.Dir = callbridge.DirectionInternal
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				if c.Kommo.State != callbridge.KommoUnmatched || len(notesOf(a.state(t), c.UID)) != 0 {
					t.Fatalf("state %q", c.Kommo.State)
				}
			},
		},
		{
			name: "BlockedAndOwnNumbers",
			settings: func(*sandbox.AccountState) callbridge.Settings {
				var blocked, own []string
				for n := range maxOrderings {
					if n%2 == 0 {
						blocked = append(blocked, number(15, n))
					} else {
						own = append(own, number(15, n))
					}
				}
				return callbridge.Settings{Rules: callbridge.RuleSettings{BlockedNumbers: blocked, OwnNumbers: own,
					MissedCallTask: callbridge.TaskRule{Enabled: true}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return answered(number(15, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				if c.Kommo.State != callbridge.KommoUnmatched || len(unsortedFor(st, c.UID)) != 0 || len(tasksWith(st, number(15, n))) != 0 {
					t.Fatalf("state %q: something was created", c.Kommo.State)
				}
			},
		},
		{
			name: "DroppedCallTask",
			seed: func(n int, sa *sandbox.SeedAccount) { sa.Contacts = append(sa.Contacts, contact(n, number(16, n))) },
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{Enabled: true,
					AssignTo: callbridge.AssignCalled, Text: "Dropped: call {number} back"}}}
			},
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(16, n))
				s.Outcome = "dropped"
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				ts := tasksWith(st, number(16, n))
				if len(ts) != 1 || ts[0].Text != "Dropped: call "+number(16, n)+" back" || ts[0].EntityType != "contacts" ||
					ts[0].EntityID != a.seed.Contacts[ref("c", n)] || ts[0].ResponsibleUserID != a.seed.Users["sales"] {
					t.Fatalf("tasks %+v", ts)
				}
			},
		},
		// Where a task is linked (TaskRule.LinkTo), for both tasks. A missed
		// call leaves a voicemail, so that it too has all three inputs. The
		// lead's and the contact's responsible managers differ: the task goes
		// to the one of the entity it is linked to.
		{
			name: "MissedCallTask/LinkLead",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(18, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}, Responsible: "admin"})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkLead}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return voicemail(number(18, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				linkedTo(t, a, c, number(18, n), "leads", a.seed.Leads[ref("deal", n)], a.seed.Users["admin"])
			},
		},
		{
			name: "MissedCallTask/LinkContact",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(19, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}, Responsible: "admin"})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkContact}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return voicemail(number(19, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				// The call is on the contact's only active lead; the task on
				// the contact.
				if note := oneNote(t, a, c); note.EntityType != "leads" || note.EntityID != a.seed.Leads[ref("deal", n)] {
					t.Fatalf("note on %s #%d", note.EntityType, note.EntityID)
				}
				linkedTo(t, a, c, number(19, n), "contacts", a.seed.Contacts[ref("c", n)], a.seed.Users["sales"])
			},
		},
		{
			name: "DroppedCallTask/LinkLead",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Contacts = append(sa.Contacts, contact(n, number(20, n)))
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("deal", n), Name: "Deal", Contacts: []string{ref("c", n)}, Responsible: "admin"})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkLead}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return dropped(number(20, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				linkedTo(t, a, c, number(20, n), "leads", a.seed.Leads[ref("deal", n)], a.seed.Users["admin"])
			},
		},
		{
			// A new number's incoming lead, accepted at once: the task goes on
			// the contact the accepted lead came with.
			name: "DroppedCallTask/LinkContact",
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{AcceptAnswered: true,
					DroppedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkContact}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return dropped(number(21, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				st := a.state(t)
				us := unsortedFor(st, c.UID)
				if len(us) != 1 || us[0].Status != sandbox.UnsortedAccepted || len(us[0].ContactIDs) != 1 {
					t.Fatalf("incoming leads %+v", us)
				}
				if note := oneNote(t, a, c); note.EntityType != "leads" || note.EntityID != us[0].LeadIDs[0] {
					t.Fatalf("note on %s #%d", note.EntityType, note.EntityID)
				}
				linkedTo(t, a, c, number(21, n), "contacts", us[0].ContactIDs[0], 0)
			},
		},
		{
			name: "DroppedCallTask/LinkContact/Company",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Companies = append(sa.Companies, sandbox.SeedCompany{Ref: ref("co", n), Name: "Acme " + fmt.Sprint(n),
					Phones: []string{number(22, n)}, Responsible: "admin"})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkContact}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return dropped(number(22, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				linkedTo(t, a, c, number(22, n), "companies", a.seed.Companies[ref("co", n)], 0)
			},
		},
		{
			name: "DroppedCallTask/LinkContact/CompanyLead",
			seed: func(n int, sa *sandbox.SeedAccount) {
				sa.Companies = append(sa.Companies, sandbox.SeedCompany{Ref: ref("cl", n), Name: "Globex " + fmt.Sprint(n),
					Phones: []string{number(23, n)}, Responsible: "admin"})
				sa.Leads = append(sa.Leads, sandbox.SeedLead{Ref: ref("cll", n), Name: "Globex deal " + fmt.Sprint(n), Company: ref("cl", n)})
			},
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Rules: callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkContact}}}
			},
			spec: func(a *acctEnv, n int) callSpec { return dropped(number(23, n)) },
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				if note := oneNote(t, a, c); note.EntityType != "leads" || note.EntityID != a.seed.Leads[ref("cll", n)] {
					t.Fatalf("note on %s #%d, want the company's lead", note.EntityType, note.EntityID)
				}
				linkedTo(t, a, c, number(23, n), "companies", a.seed.Companies[ref("cl", n)], 0)
			},
		},
		{
			name: "NoteLocalisedWithRating",
			seed: func(n int, sa *sandbox.SeedAccount) { sa.Contacts = append(sa.Contacts, contact(n, number(17, n))) },
			settings: func(*sandbox.AccountState) callbridge.Settings {
				return callbridge.Settings{Language: "es"}
			},
			spec: func(a *acctEnv, n int) callSpec {
				s := answered(number(17, n))
				s.Result.Rating = 4
				return s
			},
			check: func(t *testing.T, a *acctEnv, n int, c *callbridge.Call) {
				tx := text(oneNote(t, a, c))
				for _, want := range []string{"Llamada: Entrante", "Línea: " + testLine, "Gerente: Sales", "Estado: Contestada",
					"Duración: 1m 00s", "Resultado: Wants a quote", "Calidad: 4/5", "Grabación: https://cb.example/rec/"} {
					if !strings.Contains(tx, want) {
						t.Fatalf("note %q lacks %q", tx, want)
					}
				}
				if strings.Contains(tx, callbridge.Pending) {
					t.Fatalf("a placeholder was left: %q", tx)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sa := sandbox.SeedAccount{Users: []sandbox.SeedUser{{Ref: "admin", Name: "Admin", Admin: true}, {Ref: "sales", Name: "Sales"}}}
			if tc.seed != nil {
				for n := range maxOrderings {
					tc.seed(n, &sa)
				}
			}
			a := e.account(callbridge.Settings{}, sa)
			st := a.state(t)
			var s callbridge.Settings
			if tc.settings != nil {
				s = tc.settings(st)
			}
			s.Extensions = map[string]string{fmt.Sprint(a.seed.Users["sales"]): testAgent}
			a.setSettings(t, s)
			orders := tc.spec(a, 0).orderings()
			for n, order := range orders {
				t.Run(strings.Join(order, ","), func(t *testing.T) {
					t.Parallel()
					sid := fmt.Sprintf("%s-%d", strings.ReplaceAll(tc.name, "/", "-"), n)
					c := a.drive(t, sid, tc.spec(a, n), order)
					tc.check(t, a, n, c)
				})
			}
		})
	}
}

// TestTaskLinkExactlyOnce makes Kommo create a task linked to the contact
// (TaskRule.LinkTo) and then answer 500: the retried job must look for the
// task on the contact it planned, not write another, even though the call
// is logged on the contact's lead.
func TestTaskLinkExactlyOnce(t *testing.T) {
	for _, b := range backends() {
		t.Run(b, func(t *testing.T) {
			e := newEnv(t, b)
			num := number(23, 0)
			a := e.account(callbridge.Settings{}, sandbox.SeedAccount{
				Users:    []sandbox.SeedUser{{Ref: "admin", Name: "Admin", Admin: true}},
				Contacts: []sandbox.SeedContact{{Ref: "c", Name: "Client", Phones: []string{num}}},
				Leads:    []sandbox.SeedLead{{Ref: "deal", Name: "Deal", Contacts: []string{"c"}}},
			})
			a.setSettings(t, callbridge.Settings{Rules: callbridge.RuleSettings{
				MissedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkContact}}})
			before := e.emu.Stats()
			e.emu.SetFaults(sandbox.Faults{ErrorAfterRate: 1, Endpoints: []string{"POST /api/v4/tasks"}, MaxFaults: 1})
			defer e.emu.SetFaults(sandbox.Faults{})
			c := a.drive(t, "link-fault", callSpec{Number: num, Outcome: "missed"}, []string{inHangup})
			if after := e.emu.Stats(); after.InjectedErrors == before.InjectedErrors {
				t.Fatal("no fault was injected")
			}
			ts := tasksWith(a.state(t), num)
			if len(ts) != 1 || ts[0].EntityType != "contacts" || ts[0].EntityID != a.seed.Contacts["c"] {
				t.Fatalf("tasks %+v", ts)
			}
			if r := a.rules(t, c); r.CallbackTask == nil || r.CallbackTask.State != callbridge.EffectDone || r.CallbackTask.EntityID != ts[0].ID {
				t.Fatalf("rule state %+v", r.CallbackTask)
			}
		})
	}
}
