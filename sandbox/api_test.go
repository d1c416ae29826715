package sandbox_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"callbridge/sandbox"
)

func TestNotePatch(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{
		Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}},
		Leads:    []sandbox.SeedLead{{Ref: "deal", Contacts: []string{"ann"}}},
	})
	tk := e.token(r.ID, 0)
	c := call("+14155550100", "k1")
	c["call_result"] = "Result: (pending)"
	_, body := e.postCall(tk.Access, c)
	noteID := num(get(body, "_embedded", "calls", 0, "id"))
	path := "/api/v4/leads/notes/" + itoa(noteID)
	_, before := e.api("GET", path, tk.Access, nil)

	e.clock.Advance(time.Minute)
	s, body := e.api("PATCH", path, tk.Access, map[string]any{
		"note_type": "common",
		"params":    map[string]any{"call_result": "Result: talked", "link": "https://rec.example/k1.mp3", "duration": 61},
	})
	if s != http.StatusOK || num(body["id"]) != noteID {
		t.Fatalf("patch: %d %v", s, body)
	}
	_, after := e.api("GET", path, tk.Access, nil)
	p := after["params"]
	if str(after["note_type"]) != "call_in" || str(get(p, "call_result")) != "Result: talked" || num(get(p, "duration")) != 61 ||
		str(get(p, "uniq")) != "k1" || str(get(p, "source")) != "callbridge" || str(get(p, "link")) != "https://rec.example/k1.mp3" {
		t.Fatalf("after patch: %v", after)
	}
	if num(after["created_at"]) != num(before["created_at"]) || num(after["updated_at"]) != num(before["updated_at"])+60 {
		t.Errorf("times before %v/%v after %v/%v", before["created_at"], before["updated_at"], after["created_at"], after["updated_at"])
	}

	// Batch PATCH; an unknown id rejects the whole batch.
	s, _ = e.api("PATCH", "/api/v4/leads/notes", tk.Access, []any{
		map[string]any{"id": noteID, "params": map[string]any{"call_result": "x"}},
		map[string]any{"id": 999, "params": map[string]any{"call_result": "y"}},
	})
	if s != http.StatusBadRequest {
		t.Fatalf("batch with an unknown id: %d", s)
	}
	s, body = e.api("PATCH", "/api/v4/leads/notes", tk.Access, []any{
		map[string]any{"id": noteID, "request_id": "a", "params": map[string]any{"call_status": 4}},
	})
	if s != http.StatusOK || str(get(body, "_embedded", "notes", 0, "request_id")) != "a" {
		t.Fatalf("batch patch: %d %v", s, body)
	}
	// The note belongs to leads, not contacts.
	if s, _ := e.api("PATCH", "/api/v4/contacts/notes/"+itoa(noteID), tk.Access, map[string]any{"params": map[string]any{}}); s != http.StatusNotFound {
		t.Fatalf("patch under the wrong entity type: %d", s)
	}

	// A manager edits the text by hand.
	s, body = e.api("PATCH", "/sandbox/notes/"+itoa(noteID), "", map[string]any{"call_result": "Result: talked\nManager: call back Friday"})
	if s != http.StatusOK {
		t.Fatalf("manager edit: %d %v", s, body)
	}
	_, edited := e.api("GET", path, tk.Access, nil)
	if str(get(edited, "params", "call_result")) != "Result: talked\nManager: call back Friday" || num(get(edited, "params", "call_status")) != 4 {
		t.Fatalf("after manager edit: %v", edited)
	}
}

func TestNotesCreateAndList(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann"}, {Ref: "bob"}}})
	tk := e.token(r.ID, 0)
	ann, bob := r.Contacts["ann"], r.Contacts["bob"]
	s, body := e.api("POST", "/api/v4/contacts/notes", tk.Access, []any{
		map[string]any{"entity_id": ann, "note_type": "common", "params": map[string]any{"text": "hello"}},
		map[string]any{"entity_id": ann, "note_type": "call_out", "params": map[string]any{"uniq": "u", "duration": 3, "source": "s", "phone": "+1"}},
		map[string]any{"entity_id": bob, "note_type": "common", "params": map[string]any{"text": "bob"}},
	})
	if s != http.StatusOK || len(get(body, "_embedded", "notes").([]any)) != 3 {
		t.Fatalf("create: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/contacts/notes?filter[entity_id][]="+itoa(ann)+"&filter[note_type][]=call_out", tk.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "notes").([]any)) != 1 || str(get(body, "_embedded", "notes", 0, "params", "uniq")) != "u" {
		t.Fatalf("filtered list: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/contacts/notes?limit=2", tk.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "notes").([]any)) != 2 || get(body, "_links", "next") == nil {
		t.Fatalf("page 1: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/contacts/notes?limit=2&page=2", tk.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "notes").([]any)) != 1 {
		t.Fatalf("page 2: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/contacts/notes?limit=2&page=3", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("page 3: %d, want 204", s)
	}
	if s, _ := e.api("GET", "/api/v4/contacts/notes?limit=251", tk.Access, nil); s != http.StatusUnprocessableEntity {
		t.Fatalf("limit 251: %d, want 422", s)
	}
	// Validation: unknown entity, missing text, bad type.
	s, body = e.api("POST", "/api/v4/contacts/notes", tk.Access, []any{
		map[string]any{"entity_id": 12345, "note_type": "common", "params": map[string]any{"text": "x"}},
		map[string]any{"entity_id": ann, "note_type": "common", "params": map[string]any{}},
		map[string]any{"entity_id": ann, "note_type": "bogus"},
	})
	if s != http.StatusBadRequest || len(get(body, "validation-errors").([]any)) != 3 {
		t.Fatalf("invalid notes: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/leads/notes", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("no lead notes: %d, want 204", s)
	}
	if s, _ := e.api("GET", "/api/v4/contacts/notes/1", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("missing note: %d, want 204", s)
	}
	if s, _ := e.api("GET", "/api/v4/widgets/notes", tk.Access, nil); s != http.StatusNotFound {
		t.Fatalf("unknown entity type: %d, want 404", s)
	}
}

func TestContactsSearch(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{
		Contacts: []sandbox.SeedContact{{Ref: "ann", Name: "Ann Smith", Phones: []string{"+1 415 555 0100"}}, {Ref: "bob", Name: "Bob", Phones: []string{"+1 212 555 0100"}}},
		Leads:    []sandbox.SeedLead{{Ref: "deal", Contacts: []string{"ann"}}},
	})
	tk := e.token(r.ID, 0)
	s, body := e.api("GET", "/api/v4/contacts?query=%2B14155550100&with=leads", tk.Access, nil)
	cs, _ := get(body, "_embedded", "contacts").([]any)
	if s != http.StatusOK || len(cs) != 1 || num(get(cs[0], "id")) != r.Contacts["ann"] ||
		num(get(cs[0], "_embedded", "leads", 0, "id")) != r.Leads["deal"] ||
		str(get(cs[0], "custom_fields_values", 0, "field_code")) != "PHONE" {
		t.Fatalf("phone search: %d %v", s, body)
	}
	// 7 digits match both numbers' tails.
	s, body = e.api("GET", "/api/v4/contacts?query=5550100", tk.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "contacts").([]any)) != 2 {
		t.Fatalf("7-digit search: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/contacts?query=smi", tk.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "contacts").([]any)) != 1 {
		t.Fatalf("name search: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/contacts?query=%2B15550009999", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("no match: %d, want 204", s)
	}
	if s, _ := e.api("GET", "/api/v4/contacts/999", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("missing contact: %d, want 204", s)
	}

	// Create a contact with a phone; calls then find it.
	s, body = e.api("POST", "/api/v4/contacts", tk.Access, []any{map[string]any{
		"name": "Carol", "custom_fields_values": []any{map[string]any{"field_code": "PHONE", "values": []any{map[string]any{"value": "+1 305 555 0100", "enum_code": "WORK"}}}},
	}})
	carol := num(get(body, "_embedded", "contacts", 0, "id"))
	if s != http.StatusOK || carol <= 0 {
		t.Fatalf("create contact: %d %v", s, body)
	}
	if s, body := e.postCall(tk.Access, call("3055550100", "c")); s != http.StatusOK || num(get(body, "_embedded", "calls", 0, "entity_id")) != carol {
		t.Fatalf("call to the new contact: %d %v", s, body)
	}
}

func TestLeadsAndPipelines(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{
		Pipelines: []sandbox.SeedPipeline{{Ref: "p2", Name: "Support", Statuses: []sandbox.SeedStatus{{Ref: "open", Name: "Open"}}}},
		Contacts:  []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}},
		Leads:     []sandbox.SeedLead{{Ref: "l2", Pipeline: "p2", Status: "open", Contacts: []string{"ann"}}},
	})
	tk := e.token(r.ID, 0)
	s, body := e.api("GET", "/api/v4/leads/pipelines", tk.Access, nil)
	ps, _ := get(body, "_embedded", "pipelines").([]any)
	if s != http.StatusOK || len(ps) != 2 {
		t.Fatalf("pipelines: %d %v", s, body)
	}
	for _, p := range ps {
		ids := map[int64]bool{}
		for _, st := range get(p, "_embedded", "statuses").([]any) {
			ids[num(get(st, "id"))] = true
		}
		if !ids[142] || !ids[143] {
			t.Errorf("pipeline %v lacks 142/143", get(p, "name"))
		}
	}
	s, body = e.api("GET", "/api/v4/leads?filter[id][]="+itoa(r.Leads["l2"])+"&with=contacts", tk.Access, nil)
	l := get(body, "_embedded", "leads", 0)
	if s != http.StatusOK || num(get(l, "status_id")) != r.Statuses["open"] || num(get(l, "pipeline_id")) != r.Pipelines["p2"] ||
		num(get(l, "_embedded", "contacts", 0, "id")) != r.Contacts["ann"] {
		t.Fatalf("lead list: %d %v", s, body)
	}
	// Closing the only lead sends calls to the contact.
	s, body = e.api("PATCH", "/api/v4/leads", tk.Access, []any{map[string]any{"id": r.Leads["l2"], "status_id": 142}})
	if s != http.StatusOK {
		t.Fatalf("close lead: %d %v", s, body)
	}
	if s, body := e.postCall(tk.Access, call("+14155550100", "x")); s != http.StatusOK || str(get(body, "_embedded", "calls", 0, "entity_type")) != "contact" {
		t.Fatalf("call after closing: %d %v", s, body)
	}
	// A status of another pipeline is refused.
	if s, _ := e.api("PATCH", "/api/v4/leads/"+itoa(r.Leads["l2"]), tk.Access, map[string]any{"status_id": 1}); s != http.StatusBadRequest {
		t.Fatalf("bad status: %d", s)
	}
	// Creating a lead for the contact makes it the call target again.
	s, body = e.api("POST", "/api/v4/leads", tk.Access, []any{map[string]any{"name": "New", "_embedded": map[string]any{"contacts": []any{map[string]any{"id": r.Contacts["ann"]}}}}})
	newLead := num(get(body, "_embedded", "leads", 0, "id"))
	if s != http.StatusOK || newLead <= 0 {
		t.Fatalf("create lead: %d %v", s, body)
	}
	if s, body := e.postCall(tk.Access, call("+14155550100", "y")); num(get(body, "_embedded", "calls", 0, "entity_id")) != newLead {
		t.Fatalf("call with the new lead: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/leads/1", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("missing lead: %d", s)
	}
}

func TestCompaniesAndCustomers(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{
		Companies: []sandbox.SeedCompany{{Ref: "co", Name: "Acme", Phones: []string{"+14155550100"}}},
		Contacts:  []sandbox.SeedContact{{Ref: "ann", Company: "co"}},
		Customers: []sandbox.SeedCustomer{{Ref: "cu", Name: "Acme subscription", Contacts: []string{"ann"}, Company: "co"}},
	})
	tk := e.token(r.ID, 0)
	s, body := e.api("GET", "/api/v4/companies/"+itoa(r.Companies["co"])+"?with=contacts", tk.Access, nil)
	if s != http.StatusOK || str(body["name"]) != "Acme" || num(get(body, "_embedded", "contacts", 0, "id")) != r.Contacts["ann"] {
		t.Fatalf("company: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/customers/"+itoa(r.Customers["cu"]), tk.Access, nil)
	if s != http.StatusOK || num(get(body, "_embedded", "contacts", 0, "id")) != r.Contacts["ann"] {
		t.Fatalf("customer: %d %v", s, body)
	}
	// The company's single customer takes its calls.
	if s, body := e.postCall(tk.Access, call("+14155550100", "z")); str(get(body, "_embedded", "calls", 0, "entity_type")) != "customer" {
		t.Fatalf("call: %d %v", s, body)
	}
}

func TestUsersAdminOnly(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Users: []sandbox.SeedUser{{Ref: "boss", Admin: true, Name: "Boss"}, {Ref: "mgr", Name: "Manager"}}})
	admin := e.token(r.ID, 0)
	mgr := e.token(r.ID, r.Users["mgr"])
	if r.AdminUserID != r.Users["boss"] {
		t.Fatalf("admin %d, want the seeded admin %d", r.AdminUserID, r.Users["boss"])
	}
	s, body := e.api("GET", "/api/v4/users", mgr.Access, nil)
	if s != http.StatusForbidden || num(body["status"]) != 403 {
		t.Fatalf("non-admin: %d %v", s, body)
	}
	s, body = e.api("GET", "/api/v4/users", admin.Access, nil)
	us, _ := get(body, "_embedded", "users").([]any)
	if s != http.StatusOK || len(us) != 2 || get(us[0], "rights", "is_admin") != true || get(us[1], "rights", "is_admin") != false {
		t.Fatalf("admin: %d %v", s, body)
	}
	// The manager's token still works for everything else.
	if s, acct := e.api("GET", "/api/v4/account", mgr.Access, nil); s != http.StatusOK || num(acct["current_user_id"]) != r.Users["mgr"] {
		t.Fatalf("manager account: %d %v", s, acct)
	}
}

func TestTasks(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Leads: []sandbox.SeedLead{{Ref: "deal"}}})
	tk := e.token(r.ID, 0)
	deal := r.Leads["deal"]
	s, body := e.api("POST", "/api/v4/tasks", tk.Access, []any{map[string]any{"text": "no deadline"}})
	if s != http.StatusBadRequest {
		t.Fatalf("missing complete_till: %d %v", s, body)
	}
	s, body = e.api("POST", "/api/v4/tasks", tk.Access, []any{
		map[string]any{"text": "Call back", "complete_till": 1767300000, "entity_type": "leads", "entity_id": deal, "request_id": "t1"},
		map[string]any{"text": "Meet", "complete_till": 1767300000, "task_type_id": 2},
	})
	if s != http.StatusOK || str(get(body, "_embedded", "tasks", 0, "request_id")) != "t1" {
		t.Fatalf("create: %d %v", s, body)
	}
	taskID := num(get(body, "_embedded", "tasks", 0, "id"))
	s, body = e.api("GET", "/api/v4/tasks?filter[entity_type]=leads&filter[entity_id][]="+itoa(deal)+"&filter[is_completed]=0&filter[task_type][]=1", tk.Access, nil)
	ts, _ := get(body, "_embedded", "tasks").([]any)
	if s != http.StatusOK || len(ts) != 1 || num(get(ts[0], "id")) != taskID || num(get(ts[0], "responsible_user_id")) != r.AdminUserID {
		t.Fatalf("list: %d %v", s, body)
	}
	s, body = e.api("PATCH", "/api/v4/tasks", tk.Access, []any{map[string]any{"id": taskID, "is_completed": true, "result": map[string]any{"text": "Done"}}})
	if s != http.StatusOK {
		t.Fatalf("complete: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/tasks?filter[is_completed]=0&filter[entity_id][]="+itoa(deal), tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("open tasks after completion: %d, want 204", s)
	}
	tasks := e.account(r.ID).Tasks
	if len(tasks) != 2 || !tasks[0].IsCompleted || tasks[0].ResultText != "Done" || tasks[1].TaskTypeID != 2 {
		t.Fatalf("state tasks %+v", tasks)
	}
}

func TestEventsV2(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{
		Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+1 415 555 0100"}}},
		Leads:    []sandbox.SeedLead{{Ref: "deal", Contacts: []string{"ann"}}},
	})
	tk := e.token(r.ID, 0)
	s, b, _ := e.do("POST", "/api/v2/events", tk.Access, map[string]any{"add": []any{
		map[string]any{"type": "phone_call", "phone_number": "+44 15 5550100", "users": []any{r.AdminUserID}}, // same last 8 digits
		map[string]any{"type": "phone_call", "phone_number": "+15550009999"},
	}})
	if s != http.StatusAccepted || len(b) != 0 {
		t.Fatalf("events: %d %q", s, b)
	}
	evs := e.account(r.ID).Events
	if len(evs) != 2 || evs[0].EntityType != "leads" || evs[0].EntityID != r.Leads["deal"] || len(evs[0].Users) != 1 ||
		evs[1].EntityType != "" {
		t.Fatalf("events %+v", evs)
	}
	if s, _, _ := e.do("POST", "/api/v2/events", tk.Access, map[string]any{"add": []any{map[string]any{"type": "sms"}}}); s != http.StatusBadRequest {
		t.Fatalf("bad event: %d", s)
	}
}

func TestPaymentRequired(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{PaymentRequired: true})
	tk := e.token(r.ID, 0)
	if s, body := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusPaymentRequired {
		t.Fatalf("%d %v", s, body)
	}
	if s, _ := e.api("PATCH", "/sandbox/accounts/"+itoa(r.ID), "", map[string]any{"payment_required": false}); s != http.StatusOK {
		t.Fatalf("control: %d", s)
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusOK {
		t.Fatalf("after payment: %d", s)
	}
}

func TestAccountsAreIsolated(t *testing.T) {
	e := newEnv(t, nil)
	r1 := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	r2 := e.seed(sandbox.SeedAccount{})
	t2 := e.token(r2.ID, 0)
	if s, _ := e.api("GET", "/api/v4/contacts/"+itoa(r1.Contacts["ann"]), t2.Access, nil); s != http.StatusNoContent {
		t.Fatalf("another account's contact: %d, want 204", s)
	}
	if s, _ := e.postCall(t2.Access, call("+14155550100", "x")); s != http.StatusBadRequest {
		t.Fatalf("call matched another account's contact: %d", s)
	}
}

func TestStateDumpAndControls(t *testing.T) {
	e := newEnv(t, nil)
	// Seed over HTTP.
	s, body := e.api("POST", "/sandbox/seed", "", sandbox.SeedData{Accounts: []sandbox.SeedAccount{{
		Subdomain: "acme",
		Contacts:  []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}},
	}}})
	if s != http.StatusOK {
		t.Fatalf("seed: %d %v", s, body)
	}
	accountID := num(get(body, "accounts", 0, "id"))
	s, body = e.api("POST", "/sandbox/install", "", map[string]any{"account_id": accountID, "state": "x"})
	code := str(body["code"])
	if s != http.StatusOK || code == "" {
		t.Fatalf("install: %d %v", s, body)
	}
	_, tb := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code})
	var tk tokens
	mustJSON(t, tb, &tk)
	e.postCall(tk.Access, call("+14155550100", "dump"))

	st := e.emu.State()
	a := st.Account(accountID)
	if a == nil || a.Subdomain != "acme" || len(a.Contacts) != 1 || len(a.Notes) != 1 || len(a.Users) != 1 || len(a.Pipelines) != 1 ||
		a.Notes[0].EntityType != "contacts" || !a.Installed || st.Stats.Count("POST /api/v4/calls", 200) != 1 {
		t.Fatalf("state %+v", st)
	}
	// The dump is a copy.
	a.Notes[0].Params["uniq"] = "mutated"
	if e.emu.State().Account(accountID).Notes[0].Params["uniq"] != "dump" {
		t.Fatal("State shares memory with the emulator")
	}
	// The same over HTTP.
	_, raw, _ := e.do("GET", "/sandbox/state", "", nil)
	var viaHTTP sandbox.State
	if err := json.Unmarshal(raw, &viaHTTP); err != nil {
		t.Fatal(err)
	}
	if len(viaHTTP.Accounts) != 1 || len(viaHTTP.Accounts[0].Notes) != 1 || len(viaHTTP.Hooks) != 1 {
		t.Fatalf("state over HTTP: %+v", viaHTTP)
	}
	// Faults over HTTP.
	if s, body := e.api("POST", "/sandbox/faults", "", map[string]any{"error_rate": 1}); s != http.StatusOK {
		t.Fatalf("faults: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s < 500 {
		t.Fatalf("faulted request: %d", s)
	}
	if s, _ := e.api("POST", "/sandbox/faults", "", map[string]any{"error_rate": 2}); s != http.StatusBadRequest {
		t.Fatalf("invalid rate: %d", s)
	}
	// Reset over HTTP drops everything.
	if s, _ := e.api("POST", "/sandbox/reset", "", nil); s != http.StatusOK {
		t.Fatal("reset")
	}
	if st := e.emu.State(); len(st.Accounts) != 0 || len(st.Stats.Requests) != 0 {
		t.Fatalf("after reset: %+v", st)
	}
	if s, _ := e.api("GET", "/api/v4/account", tk.Access, nil); s != http.StatusUnauthorized {
		t.Fatalf("old token after reset: %d", s)
	}
	if s, _ := e.api("GET", "/sandbox/nothing", "", nil); s != http.StatusNotFound {
		t.Fatalf("unknown control: %d", s)
	}
}

func TestSeedValidation(t *testing.T) {
	e := newEnv(t, nil)
	bad := []sandbox.SeedAccount{
		{Leads: []sandbox.SeedLead{{Ref: "l", Contacts: []string{"nobody"}}}},
		{Contacts: []sandbox.SeedContact{{Ref: "a"}, {Ref: "a"}}},
		{Leads: []sandbox.SeedLead{{Ref: "l", StatusID: 5}}},
		{Pipelines: []sandbox.SeedPipeline{{Ref: "p", Name: "P", Statuses: []sandbox.SeedStatus{{Ref: "s", Name: "S"}}}},
			Leads: []sandbox.SeedLead{{Ref: "l", Pipeline: "", Status: "s"}, {Ref: "m", Pipeline: "p", Status: "nope"}}},
	}
	for i, a := range bad {
		if _, err := e.emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{a}}); err == nil {
			t.Errorf("seed %d: no error", i)
		}
	}
	if st := e.emu.State(); len(st.Accounts) != 0 {
		t.Fatalf("a failed seed left %d accounts", len(st.Accounts))
	}
	// Explicit ids are kept and never reallocated; refs persist across calls.
	r := e.seed(sandbox.SeedAccount{ID: 777, Users: []sandbox.SeedUser{{Ref: "u", ID: 8000002}}, Contacts: []sandbox.SeedContact{{Ref: "a"}}})
	if r.ID != 777 || r.Users["u"] != 8000002 || r.AdminUserID == 8000002 {
		t.Fatalf("result %+v", r)
	}
	res, err := e.emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{ID: 777, Leads: []sandbox.SeedLead{{Ref: "l", Contacts: []string{"a"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	a := e.account(777)
	if len(a.Leads) != 1 || a.Leads[0].ID != res.Accounts[0].Leads["l"] || a.Leads[0].ContactIDs[0] != r.Contacts["a"] || a.Contacts[0].LeadIDs[0] != a.Leads[0].ID {
		t.Fatalf("account %+v", a)
	}
}
