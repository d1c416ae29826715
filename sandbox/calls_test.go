package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"callbridge/sandbox"
)

func TestCallEntityChoice(t *testing.T) {
	const phone = "+1 415 555 0100"
	tests := []struct {
		name     string
		seed     sandbox.SeedAccount
		wantType string // singular, as the API reports it
		wantRef  string // ref of the expected entity in its kind
	}{
		{
			name: "one active lead, no customer: the lead",
			seed: sandbox.SeedAccount{
				Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}}},
				Leads: []sandbox.SeedLead{{Ref: "open", Contacts: []string{"ann"}},
					{Ref: "won", Contacts: []string{"ann"}, StatusID: sandbox.StatusWon}},
			},
			wantType: "lead", wantRef: "open",
		},
		{
			name: "one customer, no active lead: the customer",
			seed: sandbox.SeedAccount{
				Contacts:  []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}}},
				Leads:     []sandbox.SeedLead{{Ref: "lost", Contacts: []string{"ann"}, StatusID: sandbox.StatusLost}},
				Customers: []sandbox.SeedCustomer{{Ref: "cu", Contacts: []string{"ann"}}},
			},
			wantType: "customer", wantRef: "cu",
		},
		{
			name: "two active leads: the contact",
			seed: sandbox.SeedAccount{
				Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}}},
				Leads:    []sandbox.SeedLead{{Ref: "a", Contacts: []string{"ann"}}, {Ref: "b", Contacts: []string{"ann"}}},
			},
			wantType: "contact", wantRef: "ann",
		},
		{
			name: "one active lead and one customer: the contact",
			seed: sandbox.SeedAccount{
				Contacts:  []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}}},
				Leads:     []sandbox.SeedLead{{Ref: "a", Contacts: []string{"ann"}}},
				Customers: []sandbox.SeedCustomer{{Ref: "cu", Contacts: []string{"ann"}}},
			},
			wantType: "contact", wantRef: "ann",
		},
		{
			name: "only closed leads: the contact",
			seed: sandbox.SeedAccount{
				Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}}},
				Leads: []sandbox.SeedLead{{Ref: "w", Contacts: []string{"ann"}, StatusID: sandbox.StatusWon},
					{Ref: "l", Contacts: []string{"ann"}, StatusID: sandbox.StatusLost}},
			},
			wantType: "contact", wantRef: "ann",
		},
		{
			name: "leads of two matching contacts count together: the oldest contact",
			seed: sandbox.SeedAccount{
				Contacts: []sandbox.SeedContact{
					{Ref: "young", Phones: []string{phone}, CreatedAt: 2000},
					{Ref: "old", Phones: []string{"(415) 555-0100"}, CreatedAt: 1000},
				},
				Leads: []sandbox.SeedLead{{Ref: "a", Contacts: []string{"young"}}, {Ref: "b", Contacts: []string{"old"}}},
			},
			wantType: "contact", wantRef: "old",
		},
		{
			name: "one active lead shared by two contacts: the lead",
			seed: sandbox.SeedAccount{
				Contacts: []sandbox.SeedContact{{Ref: "x", Phones: []string{phone}}, {Ref: "y", Phones: []string{phone}}},
				Leads:    []sandbox.SeedLead{{Ref: "a", Contacts: []string{"x", "y"}}},
			},
			wantType: "lead", wantRef: "a",
		},
		{
			name: "company only, one active lead: the lead",
			seed: sandbox.SeedAccount{
				Companies: []sandbox.SeedCompany{{Ref: "co", Phones: []string{phone}}},
				Leads:     []sandbox.SeedLead{{Ref: "a", Company: "co"}},
			},
			wantType: "lead", wantRef: "a",
		},
		{
			name: "company only, no lead: the company",
			seed: sandbox.SeedAccount{
				Companies: []sandbox.SeedCompany{{Ref: "co", Phones: []string{phone}}},
			},
			wantType: "company", wantRef: "co",
		},
		{
			name: "contact and company match: the contact",
			seed: sandbox.SeedAccount{
				Companies: []sandbox.SeedCompany{{Ref: "co", Phones: []string{phone}, CreatedAt: 1}},
				Contacts:  []sandbox.SeedContact{{Ref: "ann", Phones: []string{phone}, CreatedAt: 5}},
			},
			wantType: "contact", wantRef: "ann",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.seed(tt.seed)
			tk := e.token(r.ID, 0)
			status, body := e.postCall(tk.Access, call("+14155550100", "u1"))
			if status != http.StatusOK {
				t.Fatalf("status %d, body %v", status, body)
			}
			c := get(body, "_embedded", "calls", 0)
			refs := map[string]map[string]int64{"lead": r.Leads, "customer": r.Customers, "contact": r.Contacts, "company": r.Companies}
			wantID := refs[tt.wantType][tt.wantRef]
			if got := str(get(c, "entity_type")); got != tt.wantType {
				t.Fatalf("entity_type = %q, want %q", got, tt.wantType)
			}
			if got := num(get(c, "entity_id")); got != wantID {
				t.Fatalf("entity_id = %d, want %d", got, wantID)
			}
			if got := num(get(c, "_embedded", "entity", "id")); got != wantID {
				t.Fatalf("_embedded.entity.id = %d, want %d", got, wantID)
			}
			noteID := num(get(c, "id"))
			var note *sandbox.Note
			for _, n := range e.account(r.ID).Notes {
				if n.ID == noteID {
					note = &n
				}
			}
			if note == nil {
				t.Fatalf("note %d not stored", noteID)
			}
			if note.EntityType+"" != map[string]string{"lead": "leads", "customer": "customers", "contact": "contacts", "company": "companies"}[tt.wantType] ||
				note.EntityID != wantID || note.NoteType != "call_in" {
				t.Fatalf("note = %+v", note)
			}
		})
	}
}

func TestCallPhoneLast10Digits(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{
		{Ref: "us", Phones: []string{"+1 (415) 555-0100"}},
		{Ref: "uk", Phones: []string{"+44 20 7946 0958"}},
	}})
	tk := e.token(r.ID, 0)
	tests := []struct {
		phone string
		want  int64 // 0: not found
	}{
		{"4155550100", r.Contacts["us"]},
		{"+14155550100", r.Contacts["us"]},
		{"0014155550100", r.Contacts["us"]},
		{"8 415 555-01-00", r.Contacts["us"]},
		{"+7 415 555 0100", r.Contacts["us"]}, // same last 10 digits, other country
		{"+1 415 555 0101", 0},
		{"5550100", 0},   // only 7 digits: the tails differ
		{"155550100", 0}, // 9 digits
		{"020 7946 0958", r.Contacts["uk"]},
		{"+442079460958", r.Contacts["uk"]},
		{"2079460958", r.Contacts["uk"]},
	}
	for _, tt := range tests {
		status, body := e.postCall(tk.Access, call(tt.phone, "x"))
		if tt.want == 0 {
			if status != http.StatusBadRequest {
				t.Errorf("%q: status %d, want 400 (%v)", tt.phone, status, body)
			}
			continue
		}
		if status != http.StatusOK || num(get(body, "_embedded", "calls", 0, "entity_id")) != tt.want {
			t.Errorf("%q: status %d body %v, want contact %d", tt.phone, status, body, tt.want)
		}
	}
}

func TestCallsEntityNotFound(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)

	unknown := call("+15555550199", "u-unknown")
	unknown["request_id"] = "r1"
	status, b, h := e.do("POST", "/api/v4/calls", tk.Access, []any{unknown})
	if status != http.StatusBadRequest {
		t.Fatalf("single unknown: status %d, want 400; body %s", status, b)
	}
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var body map[string]any
	mustJSON(t, b, &body)
	if num(body["_total_items"]) != 0 {
		t.Errorf("_total_items = %v, want 0", body["_total_items"])
	}
	errItem := get(body, "errors", 0)
	if str(get(errItem, "title")) != "Entity not found" || num(get(errItem, "status")) != 263 || str(get(errItem, "request_id")) != "r1" {
		t.Errorf("error item = %v", errItem)
	}

	// Mixed batch: the known call is stored, the unknown one is reported.
	status, body = e.postCall(tk.Access, call("+14155550100", "known"), call("+15555550199", "unknown"))
	if status != http.StatusOK {
		t.Fatalf("mixed: status %d, body %v", status, body)
	}
	if num(body["_total_items"]) != 1 || num(get(body, "_embedded", "calls", 0, "entity_id")) != r.Contacts["ann"] ||
		str(get(body, "_embedded", "calls", 0, "request_id")) != "0" {
		t.Errorf("mixed: body %v", body)
	}
	if str(get(body, "errors", 0, "request_id")) != "1" || num(get(body, "errors", 0, "status")) != 263 {
		t.Errorf("mixed: errors %v", body["errors"])
	}
	if n := len(e.account(r.ID).Notes); n != 1 {
		t.Errorf("%d notes stored, want 1", n)
	}
}

func TestCallsValidationAndLimit(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)

	bad := map[string]any{"direction": "sideways", "source": "x", "phone": "+14155550100"}
	status, body := e.postCall(tk.Access, call("+14155550100", "ok"), bad)
	if status != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", status)
	}
	item := get(body, "validation-errors", 0)
	if str(get(item, "request_id")) != "1" {
		t.Errorf("validation item %v", item)
	}
	paths := map[string]bool{}
	for _, fe := range get(item, "errors").([]any) {
		paths[str(get(fe, "path"))] = true
	}
	if !paths["direction"] || !paths["duration"] {
		t.Errorf("errors name paths %v, want direction and duration", paths)
	}
	if str(body["detail"]) != "Request validation failed" {
		t.Errorf("detail %v", body["detail"])
	}
	if n := len(e.account(r.ID).Notes); n != 0 {
		t.Errorf("an invalid batch stored %d notes", n)
	}

	var big []map[string]any
	for i := range 251 {
		big = append(big, call("+14155550100", fmt.Sprint(i)))
	}
	status, body = e.postCall(tk.Access, big...)
	if status != http.StatusUnprocessableEntity || str(body["detail"]) != "Limit 250 per page" {
		t.Fatalf("251 calls: status %d body %v", status, body)
	}
	status, body = e.postCall(tk.Access, big[:250]...)
	if status != http.StatusOK || num(body["_total_items"]) != 250 {
		t.Fatalf("250 calls: status %d total %v", status, body["_total_items"])
	}
}

func TestCallsAreNotDeduplicated(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	c := call("+14155550100", "same-uniq")
	c["direction"] = "outbound"
	c["call_status"] = 4
	c["call_result"] = "Talked"
	c["link"] = "https://rec.example/1.mp3"
	c["created_by"] = r.AdminUserID
	for range 2 {
		if status, body := e.postCall(tk.Access, c); status != http.StatusOK {
			t.Fatalf("status %d %v", status, body)
		}
	}
	notes := e.account(r.ID).Notes
	if len(notes) != 2 || notes[0].ID == notes[1].ID {
		t.Fatalf("notes = %+v, want two", notes)
	}
	p := notes[0].Params
	if notes[0].NoteType != "call_out" || p["uniq"] != "same-uniq" || p["duration"] != int64(42) || p["source"] != "callbridge" ||
		p["phone"] != "+14155550100" || p["link"] != "https://rec.example/1.mp3" || p["call_result"] != "Talked" || p["call_status"] != int64(4) {
		t.Errorf("note = %+v", notes[0])
	}
	if notes[0].CreatedBy != r.AdminUserID {
		t.Errorf("created_by = %d", notes[0].CreatedBy)
	}
}

func TestConcurrentCalls(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := range 200 {
		wg.Go(func() {
			status, b, _ := e.do("POST", "/api/v4/calls", tk.Access, []any{call("+14155550100", fmt.Sprint(i))})
			if status != http.StatusOK {
				errs <- fmt.Sprintf("%d %s", status, b)
			}
		})
	}
	wg.Wait()
	close(errs)
	for s := range errs {
		t.Error(s)
	}
	notes := e.account(r.ID).Notes
	if len(notes) != 200 {
		t.Fatalf("%d notes, want 200", len(notes))
	}
	seen := map[string]bool{}
	for _, n := range notes {
		seen[n.Params["uniq"].(string)] = true
	}
	if len(seen) != 200 {
		t.Errorf("%d distinct uniq values, want 200", len(seen))
	}
	if got := e.emu.Stats().Count("POST /api/v4/calls", 200); got != 200 {
		t.Errorf("Stats count %d, want 200", got)
	}
}

// FuzzCallsBody feeds arbitrary bodies to POST /api/v4/calls: the emulator
// must answer a documented status and never store anything on a refusal.
func FuzzCallsBody(f *testing.F) {
	f.Add(`[{"direction":"inbound","duration":1,"source":"s","phone":"+14155550100"}]`)
	f.Add(`[{"direction":"outbound","duration":"7","source":"s","phone":"4155550100","call_status":9}]`)
	f.Add(`{"direction":"inbound","duration":1,"source":"s","phone":"+15550000000"}`)
	f.Add(`[1,2,3]`)
	f.Add(`[]`)
	f.Add(`{`)
	f.Add(`[{"duration":1e400}]`)
	f.Fuzz(func(t *testing.T, body string) {
		e := newEnv(t, func(c *sandbox.Config) { c.WebhookURL, c.RedirectURI, c.DisconnectURL = "", "", "" })
		r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
		code, err := e.emu.Install(t.Context(), r.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		_, b := e.oauth(map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": ""})
		var tk tokens
		mustJSON(t, b, &tk)
		status, resp, _ := e.do("POST", "/api/v4/calls", tk.Access, body)
		notes := len(e.account(r.ID).Notes)
		switch status {
		case http.StatusOK:
			if notes == 0 {
				t.Fatalf("200 without a note: %s", resp)
			}
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			if notes != 0 {
				t.Fatalf("%d stored %d notes: %s", status, notes, resp)
			}
			if !strings.Contains(string(resp), `"status"`) && !strings.Contains(string(resp), "errors") {
				t.Fatalf("error body without status: %s", resp)
			}
		default:
			t.Fatalf("unexpected status %d: %s", status, resp)
		}
	})
}

// BenchmarkCalls measures one POST /api/v4/calls of a single call against an
// account with many contacts and notes.
func BenchmarkCalls(b *testing.B) {
	emu := sandbox.New(sandbox.Config{ClientID: "c", ClientSecret: "s", RateLimit: 1 << 30, Host: "sandbox.test"})
	var contacts []sandbox.SeedContact
	for i := range 5000 {
		contacts = append(contacts, sandbox.SeedContact{Phones: []string{fmt.Sprintf("+1415%07d", i)}})
	}
	res, err := emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{Contacts: contacts}}})
	if err != nil {
		b.Fatal(err)
	}
	code, _ := emu.Install(b.Context(), res.Accounts[0].ID, "")
	rec := httptest.NewRecorder()
	emu.ServeHTTP(rec, httptest.NewRequest("POST", "/oauth2/access_token", strings.NewReader(
		`{"client_id":"c","client_secret":"s","grant_type":"authorization_code","code":"`+code+`"}`)))
	var tk tokens
	if err := json.Unmarshal(rec.Body.Bytes(), &tk); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		body := fmt.Sprintf(`[{"direction":"inbound","duration":1,"source":"s","phone":"+1415%07d"}]`, i%5000)
		req := httptest.NewRequest("POST", "/api/v4/calls", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tk.Access)
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
