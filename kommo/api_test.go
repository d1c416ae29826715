package kommo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

const contactsBody = `{"_page":1,"_links":{},"_embedded":{"contacts":[
 {"id":11,"name":"Ann","responsible_user_id":501,"custom_fields_values":[{"field_id":1,"field_name":"Phone","field_code":"PHONE","field_type":"multitext","values":[{"value":"+1 (415) 555-0100","enum_id":1,"enum_code":"WORK"}]}],
  "_embedded":{"tags":[],"companies":[{"id":31}],"leads":[{"id":21,"_links":{}},{"id":22}]}},
 {"id":12,"name":"Bob mentions 4155550100 in his name","custom_fields_values":[{"field_code":"PHONE","values":[{"value":"+44 20 7946 0000"}]}],"_embedded":{}}
]}}`

func TestSearchContactsCachesByLastTenDigits(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	e := newEnv(t, func(c *kommo.Config) { c.Now = clock.Now })
	var mu sync.Mutex
	var queries []string
	e.f.handle("GET /api/v4/contacts", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query().Get("query")+"|"+r.URL.Query().Get("with"))
		mu.Unlock()
		halJSON(w, 200, contactsBody)
	})
	want := []kommo.Contact{{ID: 11, Name: "Ann", ResponsibleUserID: 501, Phones: []string{"+1 (415) 555-0100"}, LeadIDs: []int64{21, 22}, CompanyIDs: []int64{31}}}
	got, err := e.c.SearchContacts(t.Context(), e.acct, "+14155550100")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("contacts %+v, want %+v", got, want)
	}
	got[0].LeadIDs[0] = -1 // callers may not corrupt the cache

	// Same last 10 digits, other format: cached.
	again, err := e.c.SearchContacts(t.Context(), e.acct, "4155550100")
	if err != nil || !reflect.DeepEqual(again, want) {
		t.Errorf("cached search = %+v, %v", again, err)
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(queries) }
	if n := count(); n != 1 {
		t.Errorf("%d requests, want 1 (cached)", n)
	}
	e.c.InvalidateContacts(e.acct, "+1 415 555 0100")
	e.c.SearchContacts(t.Context(), e.acct, "+14155550100")
	if n := count(); n != 2 {
		t.Errorf("%d requests after invalidation, want 2", n)
	}
	clock.Add(61 * time.Second)
	e.c.SearchContacts(t.Context(), e.acct, "+14155550100")
	if n := count(); n != 3 {
		t.Errorf("%d requests after the TTL, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if queries[0] != "4155550100|leads" {
		t.Errorf("query %q, want the last 10 digits with=leads", queries[0])
	}
}

func TestSearchContactsConcurrentSearchesShareOneRequest(t *testing.T) {
	e := newEnv(t, nil)
	release := make(chan struct{})
	e.f.handle("GET /api/v4/contacts", func(w http.ResponseWriter, r *http.Request) {
		<-release
		halJSON(w, 200, contactsBody)
	})
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if cs, err := e.c.SearchContacts(t.Context(), e.acct, "+14155550100"); err != nil || len(cs) != 1 {
				t.Errorf("got %v, %v", cs, err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.f.count("GET /api/v4/contacts") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if n := e.f.count("GET /api/v4/contacts"); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestGetLeadsChunksIDs(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/leads", func(w http.ResponseWriter, r *http.Request) {
		ids := r.URL.Query()["filter[id][]"]
		var leads []string
		for _, id := range ids {
			leads = append(leads, fmt.Sprintf(`{"id":%s,"name":"Deal %s","price":0,"responsible_user_id":5,"status_id":142,"pipeline_id":9}`, id, id))
		}
		halJSON(w, 200, `{"_embedded":{"leads":[`+strings.Join(leads, ",")+`]}}`)
	})
	var ids []int64
	for i := range 300 {
		ids = append(ids, int64(i+1))
	}
	leads, err := e.c.GetLeads(t.Context(), e.acct, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 300 || e.f.count("GET /api/v4/leads") != 2 {
		t.Fatalf("%d leads in %d requests, want 300 in 2", len(leads), e.f.count("GET /api/v4/leads"))
	}
	if l := leads[299]; l != (kommo.Lead{ID: 300, Name: "Deal 300", StatusID: 142, PipelineID: 9, ResponsibleUserID: 5}) || l.Active() {
		t.Errorf("lead %+v", l)
	}
}

func TestNotes(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var query, posted string
	e.f.handle("GET /api/v4/leads/notes", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		query = r.URL.RawQuery
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"notes":[{"id":7,"entity_id":21,"created_by":0,"updated_by":0,"created_at":1700000000,"updated_at":1700000100,
			"responsible_user_id":5,"group_id":0,"note_type":"call_in","params":{"uniq":"c-1","duration":61,"source":"callbridge","link":"https://x/r","phone":"+14155550100","call_result":"Talked","call_status":"4"},"account_id":1}]}}`)
	})
	e.f.handle("POST /api/v4/leads/notes", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		posted = string(b)
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"notes":[{"id":8,"entity_id":21,"request_id":"1","_links":{}}]}}`)
	})
	notes, err := e.c.ListNotes(t.Context(), e.acct, "leads", kommo.NotesFilter{EntityIDs: []int64{21}, NoteTypes: []string{"call_in", "call_out"}, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	want := kommo.Note{ID: 7, EntityID: 21, EntityType: "leads", NoteType: "call_in",
		Params:    kommo.NoteParams{Uniq: "c-1", Duration: 61, Source: "callbridge", Link: "https://x/r", Phone: "+14155550100", CallResult: "Talked", CallStatus: 4},
		CreatedAt: time.Unix(1700000000, 0).UTC(), UpdatedAt: time.Unix(1700000100, 0).UTC()}
	if len(notes) != 1 || !reflect.DeepEqual(notes[0], want) {
		t.Errorf("notes %+v, want %+v", notes, want)
	}
	mu.Lock()
	if !strings.Contains(query, "filter%5Bentity_id%5D%5B%5D=21") || !strings.Contains(query, "filter%5Bnote_type%5D%5B%5D=call_out") || !strings.Contains(query, "limit=50") {
		t.Errorf("query %q", query)
	}
	mu.Unlock()

	n, err := e.c.AddNote(t.Context(), e.acct, "leads", kommo.NoteInput{EntityID: 21, NoteType: kommo.NoteCallOut,
		Params: kommo.NoteParams{Uniq: "c-2", Source: "callbridge", Phone: "+14155550100"}})
	if err != nil || n.ID != 8 {
		t.Fatalf("AddNote = %+v, %v", n, err)
	}
	var body []map[string]any
	mu.Lock()
	json.Unmarshal([]byte(posted), &body)
	mu.Unlock()
	params, _ := body[0]["params"].(map[string]any)
	if body[0]["note_type"] != "call_out" || body[0]["entity_id"] != 21.0 || params["duration"] != 0.0 || params["uniq"] != "c-2" {
		t.Errorf("posted %v", body)
	}
	if _, ok := params["link"]; ok {
		t.Error("empty link sent")
	}

	if _, err := e.c.ListNotes(t.Context(), e.acct, "leads/../users", kommo.NotesFilter{}); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("bad entity type: %v", err)
	}
}

func TestGetNoteNotFound(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/contacts/notes", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // Kommo's empty list
	})
	_, err := e.c.GetNote(t.Context(), e.acct, "contacts", 5)
	if ce := asErr(t, err); ce.Code != callbridge.ENOTFOUND || ce.Kind != callbridge.KindPermanent {
		t.Errorf("got %v", err)
	}
}

func TestUnsorted(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var posted []map[string]any
	var query string
	e.f.handle("POST /api/v4/leads/unsorted/sip", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		json.NewDecoder(r.Body).Decode(&posted)
		mu.Unlock()
		halJSON(w, 200, `{"_total_items":1,"_embedded":{"unsorted":[{"uid":"u-1","account_id":1,"request_id":"1","_embedded":{"contacts":[{"id":301}],"leads":[{"id":401}],"companies":[]}}]}}`)
	})
	e.f.handle("GET /api/v4/leads/unsorted", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		query = r.URL.RawQuery
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"unsorted":[{"uid":"u-1","source_uid":"call-1","source_name":"callbridge","category":"sip","pipeline_id":9,"created_at":1700000000,
			"metadata":{"from":"+14155550100","phone":"+14155550199","called_at":1700000000,"duration":"30","link":"https://x/r","service_code":"cb","uniq":"call-1","call_responsible":"5"},
			"account_id":1,"_embedded":{"leads":[{"id":401}],"contacts":[{"id":301}],"companies":[]}}]}}`)
	})
	e.f.handle("GET /api/v4/leads/unsorted/{uid}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("uid") != "u-1" {
			problemJSON(w, 404, `{"title":"Not Found","status":404}`)
			return
		}
		halJSON(w, 200, `{"uid":"u-1","source_uid":"call-1","category":"sip","pipeline_id":9,"metadata":{"uniq":"call-1"},"_embedded":{"leads":[{"id":401}],"contacts":[{"id":301}]}}`)
	})
	called := time.Unix(1700000000, 0)
	out, err := e.c.AddUnsortedSIP(t.Context(), e.acct, kommo.UnsortedSIPInput{SourceUID: "call-1", SourceName: "callbridge", PipelineID: 9,
		Metadata:    kommo.UnsortedMetadata{Uniq: "call-1", From: "+14155550100", Phone: "+14155550199", CalledAt: called, Duration: 30, IsCallEventNeeded: true, ServiceCode: "cb"},
		ContactName: "+14155550100", LeadName: "Call from +14155550100"})
	if err != nil {
		t.Fatal(err)
	}
	if *out != (kommo.UnsortedCreated{UID: "u-1", LeadID: 401, ContactID: 301}) {
		t.Errorf("created %+v", out)
	}
	mu.Lock()
	p := posted[0]
	meta := p["metadata"].(map[string]any)
	if p["source_uid"] != "call-1" || p["pipeline_id"] != 9.0 || meta["is_call_event_needed"] != true || meta["called_at"] != 1700000000.0 || meta["from"] != "+14155550100" {
		t.Errorf("posted %v", p)
	}
	contact := p["_embedded"].(map[string]any)["contacts"].([]any)[0].(map[string]any)
	if fmt.Sprint(contact["custom_fields_values"]) != "[map[field_code:PHONE values:[map[enum_code:WORK value:+14155550100]]]]" {
		t.Errorf("contact %v", contact)
	}
	mu.Unlock()

	list, err := e.c.ListUnsorted(t.Context(), e.acct, kommo.UnsortedFilter{UIDs: []string{"u-1"}, Category: "sip"})
	if err != nil {
		t.Fatal(err)
	}
	want := kommo.Unsorted{UID: "u-1", SourceUID: "call-1", Category: "sip", PipelineID: 9, LeadIDs: []int64{401}, ContactIDs: []int64{301},
		Metadata: kommo.UnsortedMetadata{Uniq: "call-1", From: "+14155550100", Phone: "+14155550199", CalledAt: called.UTC(), Duration: 30, Link: "https://x/r", ServiceCode: "cb", CallResponsible: 5}}
	if len(list) != 1 || !reflect.DeepEqual(list[0], want) {
		t.Errorf("list %+v, want %+v", list, want)
	}
	mu.Lock()
	if !strings.Contains(query, "filter%5Buid%5D=u-1") || !strings.Contains(query, "filter%5Bcategory%5D%5B%5D=sip") {
		t.Errorf("query %q", query)
	}
	mu.Unlock()
	u, err := e.c.GetUnsorted(t.Context(), e.acct, "u-1")
	if err != nil || u.UID != "u-1" || u.LeadIDs[0] != 401 {
		t.Errorf("GetUnsorted = %+v, %v", u, err)
	}
	if _, err := e.c.GetUnsorted(t.Context(), e.acct, "nope"); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		t.Errorf("missing uid: %v", err)
	}
}

func TestTasks(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var posted []map[string]any
	var patched map[string]any
	var query string
	e.f.handle("POST /api/v4/tasks", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		json.NewDecoder(r.Body).Decode(&posted)
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"tasks":[{"id":4745251,"request_id":"1","_links":{}}]}}`)
	})
	e.f.handle("GET /api/v4/tasks", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		query = r.URL.RawQuery
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"tasks":[{"id":4745251,"created_by":0,"responsible_user_id":5,"entity_id":21,"entity_type":"leads","is_completed":true,"task_type_id":1,"text":"Call back","duration":0,"complete_till":1700003600,"result":{"text":"done"},"account_id":1}]}}`)
	})
	e.f.handle("PATCH /api/v4/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		json.NewDecoder(r.Body).Decode(&patched)
		mu.Unlock()
		halJSON(w, 200, `{"id":4745251,"updated_at":1700000000,"_links":{}}`)
	})
	till := time.Unix(1700003600, 0)
	id, err := e.c.AddTask(t.Context(), e.acct, kommo.TaskInput{Text: "Call back", CompleteTill: till, EntityID: 21, EntityType: "leads", TaskTypeID: kommo.TaskFollowUp, ResponsibleUserID: 5})
	if err != nil || id != 4745251 {
		t.Fatalf("AddTask = %d, %v", id, err)
	}
	mu.Lock()
	if p := posted[0]; p["complete_till"] != 1700003600.0 || p["entity_type"] != "leads" || p["task_type_id"] != 1.0 || p["text"] != "Call back" {
		t.Errorf("posted %v", p)
	}
	mu.Unlock()
	done := true
	tasks, err := e.c.ListTasks(t.Context(), e.acct, kommo.TaskFilter{EntityType: "leads", EntityIDs: []int64{21}, IsCompleted: &done})
	if err != nil {
		t.Fatal(err)
	}
	want := kommo.Task{ID: 4745251, Text: "Call back", EntityID: 21, EntityType: "leads", TaskTypeID: 1, ResponsibleUserID: 5, CompleteTill: till.UTC(), IsCompleted: true, Result: "done"}
	if len(tasks) != 1 || tasks[0] != want {
		t.Errorf("tasks %+v, want %+v", tasks, want)
	}
	mu.Lock()
	if !strings.Contains(query, "filter%5Bis_completed%5D=1") || !strings.Contains(query, "filter%5Bentity_type%5D=leads") {
		t.Errorf("query %q", query)
	}
	mu.Unlock()
	if err := e.c.CompleteTask(t.Context(), e.acct, 4745251, "Reached"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(patched) != "map[is_completed:true result:map[text:Reached]]" {
		t.Errorf("patched %v", patched)
	}
}

func TestListUsersPaginates(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/users", func(w http.ResponseWriter, r *http.Request) {
		page := r.URL.Query().Get("page")
		n := 250
		if page == "2" {
			n = 3
		}
		var users []string
		for i := range n {
			users = append(users, fmt.Sprintf(`{"id":%s%03d,"name":"U%d","email":"u%d@x","lang":"en","rights":{"is_admin":%v,"is_free":false,"is_active":true}}`, page, i, i, i, i == 0))
		}
		next := ""
		if page == "1" {
			next = `"next":{"href":"…?page=2"},`
		}
		halJSON(w, 200, `{"_page":`+page+`,"_links":{`+next+`"self":{"href":"…"}},"_embedded":{"users":[`+strings.Join(users, ",")+`]}}`)
	})
	users, err := e.c.ListUsers(t.Context(), e.acct)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 253 || e.f.count("GET /api/v4/users") != 2 {
		t.Fatalf("%d users in %d requests", len(users), e.f.count("GET /api/v4/users"))
	}
	if users[0] != (kommo.User{ID: 1000, Name: "U0", Email: "u0@x", IsAdmin: true}) || users[1].IsAdmin {
		t.Errorf("users %+v %+v", users[0], users[1])
	}
}

func TestNotifyCall(t *testing.T) {
	e := newEnv(t, nil)
	var mu sync.Mutex
	var got map[string]any
	e.f.handle("POST /api/v2/events", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		json.NewDecoder(r.Body).Decode(&got)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})
	if err := e.c.NotifyCall(t.Context(), e.acct, "+18305703077", []int64{8320148, 8375357}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(got) != "map[add:[map[phone_number:+18305703077 type:phone_call users:[8.320148e+06 8.375357e+06]]]]" {
		t.Errorf("body %v", got)
	}
}

func TestListPipelines(t *testing.T) {
	e := newEnv(t, nil)
	pipelinesOK(e.f)
	ps, err := e.c.ListPipelines(t.Context(), e.acct)
	if err != nil {
		t.Fatal(err)
	}
	want := []kommo.Pipeline{{ID: 1, Name: "Sales", Statuses: []kommo.Status{{ID: 142, Name: "Won"}}}}
	if !reflect.DeepEqual(ps, want) {
		t.Errorf("%+v", ps)
	}
}

func TestSearchContactsMatchesShortNumbersOnTheirTail(t *testing.T) {
	e := newEnv(t, nil)
	e.f.handle("GET /api/v4/contacts", func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query().Get("query"); q != "99998888" {
			t.Errorf("query %q", q)
		}
		halJSON(w, 200, `{"_embedded":{"contacts":[
			{"id":1,"name":"Ana","custom_fields_values":[{"field_code":"PHONE","values":[{"value":"+55 11 9999-8888"}]}]},
			{"id":2,"name":"Other","custom_fields_values":[{"field_code":"PHONE","values":[{"value":"+55 11 9999-8887"}]},{"field_code":"EMAIL","values":[{"value":"99998888@x"}]}]}]}}`)
	})
	cs, err := e.c.SearchContacts(t.Context(), e.acct, "9999-8888")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].ID != 1 {
		t.Errorf("contacts %+v, want only Ana", cs)
	}
}
