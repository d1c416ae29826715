package kommo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// noteLister serves GET /api/v4/{entity_type}/notes like Kommo: the notes
// named by filter[id][] that exist (uniq "u-<id>", entity id id+1000), 204
// when none does. It records each request's query.
type noteLister struct {
	mu      sync.Mutex
	exists  func(id int64) bool
	queries []url.Values
	arrived chan struct{} // when not nil, signalled on each request
	release chan struct{} // when not nil, the answer waits for it
}

func (l *noteLister) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l.mu.Lock()
	l.queries = append(l.queries, q)
	arrived, release := l.arrived, l.release
	l.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if release != nil {
		<-release
	}
	var notes []string
	for _, s := range q["filter[id][]"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			problemJSON(w, 400, `{"title":"Bad Request","status":400}`)
			return
		}
		if l.exists(id) {
			notes = append(notes, fmt.Sprintf(`{"id":%d,"entity_id":%d,"created_at":1700000000,"updated_at":1700000100,"note_type":"call_in",
				"params":{"uniq":"u-%d","duration":30,"source":"callbridge","phone":"+14155550100","call_result":"Status: Answered"},"account_id":1}`, id, id+1000, id))
		}
	}
	if len(notes) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	halJSON(w, 200, `{"_page":1,"_embedded":{"notes":[`+strings.Join(notes, ",")+`]}}`)
}

func (l *noteLister) got() []url.Values {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.queries)
}

type noteResult struct {
	note *kommo.Note
	err  error
}

// getNotes runs GetNote concurrently for ids, all released at once.
func getNotes(ctx context.Context, e *env, entityType string, ids []int64) []noteResult {
	out := make([]noteResult, len(ids))
	atOnce(len(ids), func(i int) {
		n, err := e.c.GetNote(ctx, e.acct, entityType, ids[i])
		out[i] = noteResult{n, err}
	})
	return out
}

func TestGetNoteBatchesConcurrentCallers(t *testing.T) {
	// The batch is full at 8 callers; the wait is long, so it goes out
	// because it is full, not because of timing.
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 8; c.BatchWait = time.Minute })
	const missing = 13
	l := &noteLister{exists: func(id int64) bool { return id != missing }}
	e.f.handle("GET /api/v4/leads/notes", l.serve)
	e.f.handle("GET /api/v4/leads/notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("GetNote used the single-note endpoint %s", r.URL.Path)
	})

	ids := []int64{11, 12, missing, 14, 15, 12, 17, 18} // 12 twice: two callers, one id
	results := getNotes(t.Context(), e, "leads", ids)

	qs := l.got()
	if len(qs) != 1 {
		t.Fatalf("%d requests, want 1 for %d concurrent GetNote calls", len(qs), len(ids))
	}
	sent := qs[0]["filter[id][]"]
	slices.Sort(sent)
	if want := []string{"11", "12", "13", "14", "15", "17", "18"}; !slices.Equal(sent, want) {
		t.Errorf("filter[id][] = %v, want each id once: %v", sent, want)
	}
	if got := qs[0].Get("limit"); got != "250" {
		t.Errorf("limit = %q, want 250", got)
	}
	for i, r := range results {
		id := ids[i]
		if id == missing {
			if ce := asErr(t, r.err); ce.Code != callbridge.ENOTFOUND || ce.Kind != callbridge.KindPermanent {
				t.Errorf("missing note %d: %v, want permanent ENOTFOUND", id, r.err)
			}
			continue
		}
		if r.err != nil {
			t.Errorf("note %d: %v", id, r.err)
			continue
		}
		n := r.note
		if n.ID != id || n.EntityID != id+1000 || n.EntityType != "leads" || n.Params.Uniq != fmt.Sprintf("u-%d", id) ||
			n.Params.CallResult != "Status: Answered" || n.UpdatedAt != time.Unix(1700000100, 0).UTC() {
			t.Errorf("caller of %d got %+v", id, n)
		}
	}
	if results[1].note == results[5].note {
		t.Error("two callers of the same id share one *Note")
	}
}

func TestGetNoteBatchesPerEntityType(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 2; c.BatchWait = time.Minute })
	leads := &noteLister{exists: func(int64) bool { return true }}
	contacts := &noteLister{exists: func(int64) bool { return true }}
	e.f.handle("GET /api/v4/leads/notes", leads.serve)
	e.f.handle("GET /api/v4/contacts/notes", contacts.serve)

	var wg sync.WaitGroup
	res := make([]noteResult, 4)
	for i, c := range []struct {
		typ string
		id  int64
	}{{"leads", 1}, {"contacts", 2}, {"leads", 3}, {"contacts", 4}} {
		wg.Go(func() {
			n, err := e.c.GetNote(t.Context(), e.acct, c.typ, c.id)
			res[i] = noteResult{n, err}
		})
	}
	wg.Wait()
	for i, r := range res {
		if r.err != nil {
			t.Fatalf("call %d: %v", i, r.err)
		}
	}
	if res[0].note.EntityType != "leads" || res[1].note.EntityType != "contacts" || res[1].note.ID != 2 {
		t.Errorf("results %+v %+v", res[0].note, res[1].note)
	}
	for name, l := range map[string]*noteLister{"leads": leads, "contacts": contacts} {
		if qs := l.got(); len(qs) != 1 || len(qs[0]["filter[id][]"]) != 2 {
			t.Errorf("%s: requests %v, want one with two ids", name, qs)
		}
	}
}

func TestGetNoteNoContentIsNotFoundForAll(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 4; c.BatchWait = time.Minute })
	l := &noteLister{exists: func(int64) bool { return false }}
	e.f.handle("GET /api/v4/contacts/notes", l.serve)
	for i, r := range getNotes(t.Context(), e, "contacts", []int64{1, 2, 3, 4}) {
		if ce := asErr(t, r.err); ce.Code != callbridge.ENOTFOUND || ce.Kind != callbridge.KindPermanent {
			t.Errorf("caller %d: %v, want permanent ENOTFOUND", i, r.err)
		}
	}
	if n := len(l.got()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestGetNoteServerErrorIsTransientForAll(t *testing.T) {
	for _, status := range []int{500, 502, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 3; c.BatchWait = time.Minute })
			e.f.handle("GET /api/v4/leads/notes", func(w http.ResponseWriter, r *http.Request) {
				problemJSON(w, status, `{"title":"Internal Server Error","status":500}`)
			})
			for i, r := range getNotes(t.Context(), e, "leads", []int64{1, 2, 3}) {
				ce := asErr(t, r.err)
				if ce.Kind != callbridge.KindTransient || ce.Code != callbridge.EUNAVAILABLE {
					t.Errorf("caller %d: %v (kind %s), want transient EUNAVAILABLE", i, r.err, ce.Kind)
				}
			}
			if n := e.f.count("GET /api/v4/leads/notes"); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestGetNoteDroppedConnectionIsTransient(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 2; c.BatchWait = time.Minute })
	e.f.handle("GET /api/v4/leads/notes", dropAfterRead)
	for i, r := range getNotes(t.Context(), e, "leads", []int64{1, 2}) {
		if ce := asErr(t, r.err); ce.Kind != callbridge.KindTransient {
			t.Errorf("caller %d: %v, want transient (a read is never uncertain)", i, r.err)
		}
	}
}

func TestGetNoteCallerLeavingAfterSendIsTransient(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 2; c.BatchWait = time.Minute })
	l := &noteLister{exists: func(int64) bool { return true },
		arrived: make(chan struct{}, 1), release: make(chan struct{})}
	e.f.handle("GET /api/v4/leads/notes", l.serve)

	leaving, leave := context.WithCancel(t.Context())
	defer leave()
	var left, stayed noteResult
	leftDone, stayedDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(leftDone)
		n, err := e.c.GetNote(leaving, e.acct, "leads", 1)
		left = noteResult{n, err}
	}()
	go func() {
		defer close(stayedDone)
		n, err := e.c.GetNote(t.Context(), e.acct, "leads", 2)
		stayed = noteResult{n, err}
	}()
	wait := func(ch <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal(what)
		}
	}
	wait(l.arrived, "the batch was never sent")
	leave() // the request is on the wire, its answer held back
	wait(leftDone, "the caller whose context ended did not return")
	close(l.release)
	wait(stayedDone, "the other caller never got its answer")
	if ce := asErr(t, left.err); ce.Kind != callbridge.KindTransient {
		t.Errorf("caller who left: %v, want transient", left.err)
	}
	if stayed.err != nil || stayed.note.ID != 2 {
		t.Errorf("caller who stayed: %+v, %v", stayed.note, stayed.err)
	}
}

func TestGetNoteValidatesBeforeSending(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := e.c.GetNote(t.Context(), e.acct, "leads", 0); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("id 0: %v", err)
	}
	if _, err := e.c.GetNote(t.Context(), e.acct, "tasks", 1); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("entity type tasks: %v", err)
	}
	if _, err := e.c.GetNote(t.Context(), nil, "leads", 1); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("no account: %v", err)
	}
	if n := e.f.count("GET /api/v4/leads/notes"); n != 0 {
		t.Errorf("%d requests for invalid input", n)
	}
}

func TestListNotesUpdatedWindowAndOrder(t *testing.T) {
	e := newEnv(t, nil)
	l := &noteLister{exists: func(int64) bool { return true }}
	e.f.handle("GET /api/v4/contacts/notes", l.serve)

	from := time.Unix(1_700_000_000, 900_000_000) // rounded down to whole seconds
	to := time.Unix(1_700_003_600, 0)
	_, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{
		NoteTypes: []string{kommo.NoteCallIn, kommo.NoteCallOut}, UpdatedFrom: from, UpdatedTo: to,
		Order: kommo.NotesByUpdatedAsc, Page: 2, Limit: 250,
	})
	if err != nil {
		t.Fatal(err)
	}
	q := l.got()[0]
	want := url.Values{
		"filter[note_type][]":      {"call_in", "call_out"},
		"filter[updated_at][from]": {"1700000000"},
		"filter[updated_at][to]":   {"1700003600"},
		"order[updated_at]":        {"asc"},
		"page":                     {"2"},
		"limit":                    {"250"},
	}
	if q.Encode() != want.Encode() {
		t.Errorf("query\n got %s\nwant %s", q.Encode(), want.Encode())
	}

	for order, param := range map[kommo.NotesOrder]string{
		kommo.NotesByUpdatedDesc: "order[updated_at]=desc", kommo.NotesByIDAsc: "order[id]=asc", kommo.NotesByIDDesc: "order[id]=desc",
	} {
		if _, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{Order: order}); err != nil {
			t.Fatal(err)
		}
		qs := l.got()
		if got, _ := url.QueryUnescape(qs[len(qs)-1].Encode()); got != param {
			t.Errorf("order %q: query %q, want %q", order, got, param)
		}
	}

	// Only the set bound is sent.
	if _, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{UpdatedFrom: from}); err != nil {
		t.Fatal(err)
	}
	qs := l.got()
	if got, _ := url.QueryUnescape(qs[len(qs)-1].Encode()); got != "filter[updated_at][from]=1700000000" {
		t.Errorf("from only: %q", got)
	}

	before := len(l.got())
	if _, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{Order: "created_at asc"}); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("unknown order: %v, want EINVALID", err)
	}
	if _, err := e.c.ListNotes(t.Context(), e.acct, "contacts", kommo.NotesFilter{UpdatedFrom: to, UpdatedTo: from}); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Errorf("to before from: %v, want EINVALID", err)
	}
	if n := len(l.got()); n != before {
		t.Errorf("invalid filters sent %d requests", n-before)
	}
}

// BenchmarkGetNoteBatched measures 50 concurrent GetNote calls, which share
// one request (requests/op reports it).
func BenchmarkGetNoteBatched(b *testing.B) {
	const callers = 50
	e := newEnv(b, func(c *kommo.Config) { c.BatchSize = callers; c.BatchWait = time.Minute })
	l := &noteLister{exists: func(int64) bool { return true }}
	e.f.handle("GET /api/v4/leads/notes", l.serve)
	ids := make([]int64, callers)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	for b.Loop() {
		for _, r := range getNotes(b.Context(), e, "leads", ids) {
			if r.err != nil {
				b.Fatal(r.err)
			}
		}
	}
	b.ReportMetric(float64(len(l.got()))/float64(b.N), "requests/op")
	b.ReportMetric(float64(len(l.got()))/float64(b.N*callers), "requests/note")
}
