package kommo_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge/kommo"
)

// entityNotes serves GET /api/v4/{entity_type}/notes for filter[entity_id][]
// like Kommo: the call notes of those entities, newest first when
// order[id]=desc, paged by limit and page. Entity e has perEntity notes
// with ids e*100000+1…, uniq "uid-<e>-<n>".
type entityNotes struct {
	perEntity int
	mu        sync.Mutex
	queries   []url.Values
}

func (s *entityNotes) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.queries = append(s.queries, q)
	s.mu.Unlock()
	type note struct{ id, entity int64 }
	var all []note
	for _, v := range q["filter[entity_id][]"] {
		e, _ := strconv.ParseInt(v, 10, 64)
		for n := 1; n <= s.perEntity; n++ {
			all = append(all, note{e*100_000 + int64(n), e})
		}
	}
	slices.SortFunc(all, func(a, b note) int { return int(a.id - b.id) })
	if q.Get("order[id]") == "desc" {
		slices.Reverse(all)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	from, to := min((page-1)*limit, len(all)), min(page*limit, len(all))
	if from == to {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var out []string
	for _, n := range all[from:to] {
		out = append(out, fmt.Sprintf(`{"id":%d,"entity_id":%d,"note_type":"call_in","created_at":1700000000,"updated_at":1700000000,
			"params":{"uniq":"uid-%d-%d","duration":1,"source":"s","phone":"+1"},"account_id":1}`, n.id, n.entity, n.entity, n.id%100_000))
	}
	halJSON(w, 200, `{"_page":`+strconv.Itoa(page)+`,"_embedded":{"notes":[`+strings.Join(out, ",")+`]}}`)
}

func (s *entityNotes) got() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

type find struct {
	entity int64
	uniq   string
}

// findNotes runs FindCallNote concurrently for finds, all released at once.
func findNotes(t *testing.T, e *env, finds []find) []noteResult {
	out := make([]noteResult, len(finds))
	atOnce(len(finds), func(i int) {
		n, err := e.c.FindCallNote(t.Context(), e.acct, "leads", finds[i].entity, finds[i].uniq)
		out[i] = noteResult{n, err}
	})
	return out
}

// TestFindCallNoteBatchesConcurrentSearches checks that concurrent searches
// of one account share one list request over all their entities, newest
// first, and that each caller gets its own note, or nil.
func TestFindCallNoteBatchesConcurrentSearches(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 4; c.BatchWait = time.Minute })
	s := &entityNotes{perEntity: 3}
	e.f.handle("GET /api/v4/leads/notes", s.serve)
	finds := []find{{7, "uid-7-3"}, {8, "uid-8-1"}, {9, "uid-9-9"}, {7, "uid-7-2"}} // 9-9 does not exist
	results := findNotes(t, e, finds)
	qs := s.got()
	if len(qs) != 1 {
		t.Fatalf("%d requests, want 1 for %d concurrent searches", len(qs), len(finds))
	}
	ids := qs[0]["filter[entity_id][]"]
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"7", "8", "9"}) || qs[0].Get("order[id]") != "desc" ||
		!slices.Equal(qs[0]["filter[note_type][]"], []string{"call_in", "call_out"}) {
		t.Errorf("query %v", qs[0])
	}
	for i, r := range results {
		f := finds[i]
		switch {
		case r.err != nil:
			t.Errorf("%v: %v", f, r.err)
		case f.uniq == "uid-9-9" && r.note != nil:
			t.Errorf("%v: found %+v, want nil", f, r.note)
		case f.uniq != "uid-9-9" && (r.note == nil || r.note.EntityID != f.entity || r.note.Params.Uniq != f.uniq):
			t.Errorf("%v: got %+v", f, r.note)
		}
	}
}

// TestFindCallNoteSearchesAloneWhenTheBatchRunsOutOfPages checks the
// fallback: when a batch's pages end before a note was found, that entity
// is searched on its own, so a batch never finds less than lone searches.
func TestFindCallNoteSearchesAloneWhenTheBatchRunsOutOfPages(t *testing.T) {
	e := newEnv(t, func(c *kommo.Config) { c.BatchSize = 2; c.BatchWait = time.Minute })
	// Two entities of 1,100 notes each: newest first, entity 1's oldest
	// note is the 2,200th, past the batch's 8 pages of 250.
	s := &entityNotes{perEntity: 1100}
	e.f.handle("GET /api/v4/leads/notes", s.serve)
	results := findNotes(t, e, []find{{1, "uid-1-1"}, {2, "uid-2-1100"}})
	for i, r := range results {
		if r.err != nil || r.note == nil {
			t.Fatalf("search %d: %+v, %v", i, r.note, r.err)
		}
	}
	qs := s.got()
	alone := 0
	for _, q := range qs {
		if len(q["filter[entity_id][]"]) == 1 {
			alone++
		}
	}
	if alone == 0 || len(qs) != 8+alone {
		t.Errorf("%d requests, %d of them alone: want the batch's 8 pages, then entity 1 alone", len(qs), alone)
	}
}
