package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"callbridge/sandbox"
)

func sip(sourceUID, from string) map[string]any {
	return map[string]any{
		"source_uid":  sourceUID,
		"source_name": "callbridge",
		"request_id":  "req-" + sourceUID,
		"metadata": map[string]any{
			"uniq": "call-" + sourceUID, "from": from, "phone": "+18005550000", "called_at": 1767268800,
			"duration": 0, "link": "", "service_code": "callbridge",
		},
	}
}

func TestUnsortedCreateAcceptWithWebhook(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Users: []sandbox.SeedUser{{Ref: "mgr"}}})
	tk := e.token(r.ID, 0)
	const caller = "+1 415 555 0177"

	s, body := e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{sip("src-1", caller)})
	if s != http.StatusOK {
		t.Fatalf("create: %d %v", s, body)
	}
	item := get(body, "_embedded", "unsorted", 0)
	uid := str(get(item, "uid"))
	leadID := num(get(item, "_embedded", "leads", 0, "id"))
	contactID := num(get(item, "_embedded", "contacts", 0, "id"))
	if uid == "" || leadID <= 0 || contactID <= 0 || str(get(item, "request_id")) != "req-src-1" {
		t.Fatalf("create answer %v", item)
	}

	// The call event is a call_in note on the lead, listed like any other.
	s, body = e.api("GET", "/api/v4/leads/"+itoa(leadID)+"/notes", tk.Access, nil)
	note := get(body, "_embedded", "notes", 0)
	if s != http.StatusOK || str(get(note, "note_type")) != "call_in" || str(get(note, "params", "uniq")) != "call-src-1" ||
		str(get(note, "params", "phone")) != caller || str(get(note, "params", "source")) != "callbridge" {
		t.Fatalf("lead notes: %d %v", s, body)
	}

	// A second pending incoming lead with the same source_uid is refused.
	s, body = e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{sip("src-1", caller)})
	if s != http.StatusBadRequest || str(get(body, "validation-errors", 0, "errors", 0, "path")) != "source_uid" {
		t.Fatalf("duplicate source_uid: %d %v", s, body)
	}

	// Until accepted, the contact is invisible: calls to the number fail.
	if s, body := e.postCall(tk.Access, call(caller, "again")); s != http.StatusBadRequest {
		t.Fatalf("call to a pending number: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/contacts?query=4155550177", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("search for a pending contact: %d", s)
	}

	// Listed with source_uid and metadata; filters work.
	s, body = e.api("GET", "/api/v4/leads/unsorted?filter[category][]=sip&filter[uid]="+uid, tk.Access, nil)
	listed := get(body, "_embedded", "unsorted", 0)
	if s != http.StatusOK || str(get(listed, "source_uid")) != "src-1" || str(get(listed, "metadata", "from")) != caller ||
		str(get(listed, "category")) != "sip" {
		t.Fatalf("list: %d %v", s, body)
	}
	if s, _ := e.api("GET", "/api/v4/leads/unsorted?filter[category][]=forms", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("forms filter: %d, want 204", s)
	}
	if s, one := e.api("GET", "/api/v4/leads/unsorted/"+uid, tk.Access, nil); s != http.StatusOK || str(one["uid"]) != uid {
		t.Fatalf("get one: %d %v", s, one)
	}

	// Accept as the manager.
	s, body = e.api("POST", "/api/v4/leads/unsorted/"+uid+"/accept", tk.Access, map[string]any{"user_id": r.Users["mgr"]})
	if s != http.StatusOK || num(get(body, "_embedded", "leads", 0, "id")) != leadID {
		t.Fatalf("accept: %d %v", s, body)
	}
	hook := e.in.wait(t, "/webhook", 1)[0]
	form, err := url.ParseQuery(hook.Body)
	if err != nil {
		t.Fatal(err)
	}
	if hook.Method != "POST" || hook.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
		form.Get("unsorted[delete][0][uid]") != uid || form.Get("unsorted[delete][0][action]") != "accept" ||
		form.Get("unsorted[delete][0][accept_result][leads][0]") != itoa(leadID) || form.Get("account[id]") != itoa(r.ID) {
		t.Fatalf("webhook = %+v", hook)
	}

	a := e.account(r.ID)
	var lead sandbox.Lead
	for _, l := range a.Leads {
		if l.ID == leadID {
			lead = l
		}
	}
	if lead.Unsorted != "" || lead.ResponsibleUserID != r.Users["mgr"] || !lead.Active() || lead.StatusID == a.Pipelines[0].Statuses[0].ID {
		t.Fatalf("accepted lead = %+v", lead)
	}
	if a.Unsorted[0].Status != sandbox.UnsortedAccepted {
		t.Fatalf("unsorted status %q", a.Unsorted[0].Status)
	}
	// Now the number is known: the single active lead takes the call.
	s, body = e.postCall(tk.Access, call(caller, "after-accept"))
	if s != http.StatusOK || str(get(body, "_embedded", "calls", 0, "entity_type")) != "lead" ||
		num(get(body, "_embedded", "calls", 0, "entity_id")) != leadID {
		t.Fatalf("call after accept: %d %v", s, body)
	}
	// Processed: gone from the list, refused again.
	if s, _ := e.api("GET", "/api/v4/leads/unsorted", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("list after accept: %d", s)
	}
	if s, _ := e.api("POST", "/api/v4/leads/unsorted/"+uid+"/accept", tk.Access, map[string]any{}); s != http.StatusNotFound {
		t.Fatalf("second accept: %d", s)
	}
	// The source_uid may be used again.
	if s, _ := e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{sip("src-1", caller)}); s != http.StatusOK {
		t.Fatalf("source_uid reuse after accept: %d", s)
	}
}

func TestUnsortedDeclineByManager(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	item := sip("src-2", "+14155550188")
	item["metadata"].(map[string]any)["is_call_event_needed"] = false
	s, body := e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{item})
	if s != http.StatusOK {
		t.Fatalf("create: %d %v", s, body)
	}
	uid := str(get(body, "_embedded", "unsorted", 0, "uid"))
	leadID := num(get(body, "_embedded", "unsorted", 0, "_embedded", "leads", 0, "id"))
	if s, _ := e.api("GET", "/api/v4/leads/"+itoa(leadID)+"/notes", tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("is_call_event_needed=false still added a note: %d", s)
	}

	// A manager declines in the UI (HTTP control).
	if s, body := e.api("POST", "/sandbox/unsorted/"+uid+"/decline", "", map[string]any{}); s != http.StatusOK {
		t.Fatalf("decline control: %d %v", s, body)
	}
	form, _ := url.ParseQuery(e.in.wait(t, "/webhook", 1)[0].Body)
	if form.Get("unsorted[delete][0][action]") != "decline" || form.Get("unsorted[delete][0][decline_result][leads][0]") != itoa(leadID) {
		t.Fatalf("decline webhook %v", form)
	}
	if s, _ := e.api("GET", "/api/v4/leads/"+itoa(leadID), tk.Access, nil); s != http.StatusNoContent {
		t.Fatalf("declined lead: %d, want 204", s)
	}
	if err := e.emu.AcceptUnsorted(uid, 0, 0); err == nil {
		t.Fatal("accepting a declined incoming lead succeeded")
	}
}

func TestUnsortedValidation(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{})
	tk := e.token(r.ID, 0)
	s, body := e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{map[string]any{"source_name": "x"}})
	if s != http.StatusBadRequest {
		t.Fatalf("missing fields: %d %v", s, body)
	}
	paths := map[string]bool{}
	for _, fe := range get(body, "validation-errors", 0, "errors").([]any) {
		paths[str(get(fe, "path"))] = true
	}
	if !paths["source_uid"] || !paths["metadata"] {
		t.Fatalf("paths %v", paths)
	}
	// Two items with one source_uid in one batch.
	s, _ = e.api("POST", "/api/v4/leads/unsorted/sip", tk.Access, []any{sip("dup", "+14155550100"), sip("dup", "+14155550101")})
	if s != http.StatusBadRequest || len(e.account(r.ID).Unsorted) != 0 {
		t.Fatalf("duplicate in batch: %d", s)
	}
}
