package kommo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"callbridge"
	"callbridge/kommo"
)

// body records a request's JSON body.
type body struct {
	mu  sync.Mutex
	got map[string]any
}

func (b *body) read(r *http.Request) {
	data, _ := io.ReadAll(r.Body)
	var v any
	_ = json.Unmarshal(data, &v)
	if arr, ok := v.([]any); ok && len(arr) == 1 {
		v = arr[0]
	}
	m, _ := v.(map[string]any)
	b.mu.Lock()
	b.got = m
	b.mu.Unlock()
}

func (b *body) get() map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.got
}

func TestRuleWrites(t *testing.T) {
	e := newEnv(t, nil)
	var contact, lead, patch, accept, hook body
	e.f.handle("POST /api/v4/contacts", func(w http.ResponseWriter, r *http.Request) {
		contact.read(r)
		halJSON(w, 200, `{"_embedded":{"contacts":[{"id":11,"request_id":"1"}]}}`)
	})
	e.f.handle("POST /api/v4/leads", func(w http.ResponseWriter, r *http.Request) {
		lead.read(r)
		halJSON(w, 200, `{"_embedded":{"leads":[{"id":21,"request_id":"1"}]}}`)
	})
	e.f.handle("PATCH /api/v4/leads/notes/7", func(w http.ResponseWriter, r *http.Request) {
		patch.read(r)
		halJSON(w, 200, `{"id":7}`)
	})
	e.f.handle("POST /api/v4/leads/unsorted/u-1/accept", func(w http.ResponseWriter, r *http.Request) {
		accept.read(r)
		halJSON(w, 200, `{"uid":"u-1","_embedded":{"leads":[{"id":21}],"contacts":[{"id":11}]}}`)
	})
	e.f.handle("POST /api/v4/leads/unsorted/gone/accept", func(w http.ResponseWriter, r *http.Request) {
		halJSON(w, 404, `{"title":"Not Found","status":404,"detail":"Incoming lead not found or already processed"}`)
	})
	e.f.handle("GET /api/v4/webhooks", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("filter[destination]") != "https://cb/kommo/hooks/t" {
			t.Errorf("webhook filter %q", r.URL.RawQuery)
		}
		w.WriteHeader(204)
	})
	e.f.handle("POST /api/v4/webhooks", func(w http.ResponseWriter, r *http.Request) {
		hook.read(r)
		halJSON(w, 200, `{"id":5,"destination":"https://cb/kommo/hooks/t","settings":["delete_unsorted"]}`)
	})
	e.f.handle("GET /api/v4/tasks", func(w http.ResponseWriter, r *http.Request) {
		halJSON(w, 200, `{"_embedded":{"tasks":[{"id":1,"text":"Call back","entity_id":21,"entity_type":"leads","task_type_id":1,"complete_till":1700000000,"is_completed":false,"result":[]},
			{"id":2,"text":"Done","is_completed":true,"result":{"text":"Called"}}]}}`)
	})
	ctx := t.Context()

	if id, err := e.c.AddContact(ctx, e.acct, kommo.ContactInput{Name: "+14155550100", Phone: "+14155550100", ResponsibleUserID: 5}); err != nil || id != 11 {
		t.Fatalf("AddContact: %d %v", id, err)
	}
	want := map[string]any{"name": "+14155550100", "request_id": "1", "responsible_user_id": 5.0, "custom_fields_values": []any{
		map[string]any{"field_code": "PHONE", "values": []any{map[string]any{"value": "+14155550100", "enum_code": "WORK"}}}}}
	if !reflect.DeepEqual(contact.get(), want) {
		t.Errorf("contact body %v", contact.get())
	}
	if id, err := e.c.AddLead(ctx, e.acct, kommo.LeadInput{Name: "Call from +1", PipelineID: 7, StatusID: 70, ContactIDs: []int64{11}}); err != nil || id != 21 {
		t.Fatalf("AddLead: %d %v", id, err)
	}
	want = map[string]any{"name": "Call from +1", "request_id": "1", "pipeline_id": 7.0, "status_id": 70.0,
		"_embedded": map[string]any{"contacts": []any{map[string]any{"id": 11.0}}}}
	if !reflect.DeepEqual(lead.get(), want) {
		t.Errorf("lead body %v", lead.get())
	}
	if err := e.c.PatchNote(ctx, e.acct, "leads", 7, map[string]any{"link": "", "uniq": "u:moved"}); err != nil {
		t.Fatal(err)
	}
	if got := patch.get(); !reflect.DeepEqual(got, map[string]any{"params": map[string]any{"link": "", "uniq": "u:moved"}}) {
		t.Errorf("patch body %v", got)
	}
	u, err := e.c.AcceptUnsorted(ctx, e.acct, "u-1", 5, 70)
	if err != nil || u.UID != "u-1" || !reflect.DeepEqual(u.LeadIDs, []int64{21}) || !reflect.DeepEqual(u.ContactIDs, []int64{11}) {
		t.Fatalf("AcceptUnsorted: %+v %v", u, err)
	}
	if got := accept.get(); !reflect.DeepEqual(got, map[string]any{"user_id": 5.0, "status_id": 70.0}) {
		t.Errorf("accept body %v", got)
	}
	if _, err := e.c.AcceptUnsorted(ctx, e.acct, "gone", 0, 0); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		t.Fatalf("accepting a processed lead: %v", err)
	}
	hooks, err := e.c.ListWebhooks(ctx, e.acct, "https://cb/kommo/hooks/t")
	if err != nil || len(hooks) != 0 {
		t.Fatalf("ListWebhooks: %v %v", hooks, err)
	}
	h, err := e.c.AddWebhook(ctx, e.acct, "https://cb/kommo/hooks/t", []string{"delete_unsorted"})
	if err != nil || h.ID != 5 || !reflect.DeepEqual(hook.get(), map[string]any{"destination": "https://cb/kommo/hooks/t", "settings": []any{"delete_unsorted"}}) {
		t.Fatalf("AddWebhook: %+v %v %v", h, err, hook.get())
	}
	tasks, err := e.c.ListTasks(ctx, e.acct, kommo.TaskFilter{})
	if err != nil || len(tasks) != 2 || tasks[0].Result != "" || tasks[1].Result != "Called" || tasks[0].CompleteTill.Unix() != 1700000000 {
		t.Fatalf("ListTasks (a result of [] and of {text}): %+v %v", tasks, err)
	}
}
