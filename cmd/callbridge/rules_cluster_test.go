package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

// TestRulesThroughServer sets call-handling rules through the widget API
// (checked against Kommo) and drives Twilio calls through the whole server:
// an unknown number gets a contact and a lead, a missed call from a contact
// whose deals are all closed gets a new lead and one callback task.
func TestRulesThroughServer(t *testing.T) {
	c := newTestCluster(t, backend{name: "SQLite"}, clusterOptions{Hold: 200 * time.Millisecond, Contacts: 1})
	ctx := context.Background()

	bad := map[string]any{"rules": map[string]any{"new_lead": map[string]any{"pipeline_id": 123}}}
	if err := c.widget(ctx, "PUT", "/api/widget/settings", c.AdminUserID, bad, nil); err == nil || !strings.Contains(err.Error(), "no pipeline 123") {
		t.Fatalf("unknown pipeline accepted: %v", err)
	}
	rules := map[string]any{"rules": map[string]any{
		"unknown_inbound":    callbridge.UnknownContactAndLead,
		"known_contact_lead": map[string]any{"enabled": true},
		"missed_call_task":   map[string]any{"enabled": true, "due_minutes": 20},
	}}
	if err := c.widget(ctx, "PUT", "/api/widget/settings", c.AdminUserID, rules, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Settings callbridge.Settings `json:"settings"`
	}
	if err := c.widget(ctx, "GET", "/api/widget/settings", c.AdminUserID, nil, &got); err != nil || !got.Settings.Rules.MissedCallTask.Enabled {
		t.Fatalf("settings read back: %+v %v", got.Settings.Rules, err)
	}

	unknown, plain := c.Phones.byCat[catUnknown][0], c.Phones.byCat[catContact][0]
	specs := []twilio.CallSpec{
		{CallSID: "CArules00000000000000000000000001", Customer: unknown, Line: "+14155550000", Agent: "+14155559999",
			DialLeg: true, Answered: true, Duration: 42, Recording: true},
		{CallSID: "CArules00000000000000000000000002", Customer: plain, Line: "+14155550000", Agent: "+14155559999", DialLeg: true},
	}
	var plans []*callPlan
	for _, spec := range specs {
		for _, r := range c.Sim.Requests(spec) {
			resp, err := c.Sim.Send(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		plans = append(plans, &callPlan{SID: spec.CallSID})
	}
	if err := c.waitSynced(ctx, plans, time.Minute); err != nil {
		t.Fatal(err)
	}
	calls, err := c.calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := c.Emu.State().Account(c.KommoAccountID)
	notesOf := func(uid string) (n int, entityType string, entityID int64) {
		for _, note := range st.Notes {
			if u, _ := note.Params["uniq"].(string); u == uid && !note.Deleted {
				n, entityType, entityID = n+1, note.EntityType, note.EntityID
			}
		}
		return
	}
	contactLeads := func(phone string) (contacts int, leads []int64) {
		for _, ct := range st.Contacts {
			for _, p := range ct.Phones {
				if p == phone && !ct.Deleted {
					contacts++
					leads = append(leads, ct.LeadIDs...)
				}
			}
		}
		return
	}

	// The unknown number: one contact, one lead, the note on the lead.
	n, typ, id := notesOf(calls[specs[0].CallSID].UID)
	if cs, leads := contactLeads(unknown); cs != 1 || len(leads) != 1 || n != 1 || typ != "leads" || id != leads[0] {
		t.Fatalf("unknown number: %d contacts, leads %v, %d notes on %s #%d", cs, leads, n, typ, id)
	}
	// The contact whose deal was lost: a new lead, the note and one task on it.
	missed := calls[specs[1].CallSID]
	n, typ, id = notesOf(missed.UID)
	_, leads := contactLeads(plain)
	if len(leads) != 2 || n != 1 || typ != "leads" || id != leads[1] {
		t.Fatalf("missed call: leads %v, %d notes on %s #%d", leads, n, typ, id)
	}
	var tasks int
	for _, tk := range st.Tasks {
		if strings.Contains(tk.Text, plain) {
			tasks++
			if tk.EntityType != "leads" || tk.EntityID != leads[1] || tk.CompleteTill != missed.EndedAt.Add(20*time.Minute).Unix() {
				t.Errorf("task %+v", tk)
			}
		}
	}
	if tasks != 1 {
		t.Fatalf("%d callback tasks, want 1", tasks)
	}
}
