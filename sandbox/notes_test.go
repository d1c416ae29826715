package sandbox_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
	"callbridge/sandbox"
)

// noteIDs returns the ids of a notes list answer, in order (nil for 204).
func noteIDs(t *testing.T, status int, body map[string]any) []int64 {
	t.Helper()
	if status == http.StatusNoContent {
		return nil
	}
	if status != http.StatusOK {
		t.Fatalf("list: %d %v", status, body)
	}
	var ids []int64
	notes, _ := get(body, "_embedded", "notes").([]any)
	for i := range notes {
		ids = append(ids, num(get(notes[i], "id")))
	}
	return ids
}

func TestNotesUpdatedAtFilterAndOrder(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	ann := r.Contacts["ann"]
	t0 := e.clock.Now().Unix()

	// Three calls a minute apart; updated_at is set on create.
	var ids []int64
	for i := range 3 {
		s, body := e.postCall(tk.Access, call("+14155550100", "k"+itoa(int64(i))))
		if s != http.StatusOK {
			t.Fatalf("call %d: %d %v", i, s, body)
		}
		ids = append(ids, num(get(body, "_embedded", "calls", 0, "id")))
		e.clock.Advance(time.Minute)
	}
	n1, n2, n3 := ids[0], ids[1], ids[2]
	for i, id := range ids {
		_, n := e.api("GET", "/api/v4/contacts/notes/"+itoa(id), tk.Access, nil)
		if want := t0 + int64(60*i); num(n["updated_at"]) != want || num(n["created_at"]) != want {
			t.Fatalf("note %d: created_at %v updated_at %v, want both %d", id, n["created_at"], n["updated_at"], want)
		}
	}
	// PATCH moves the first note to t0+180.
	if s, body := e.api("PATCH", "/api/v4/contacts/notes", tk.Access, []any{
		map[string]any{"id": n1, "params": map[string]any{"call_result": "talked"}},
	}); s != http.StatusOK || num(get(body, "_embedded", "notes", 0, "updated_at")) != t0+180 {
		t.Fatalf("patch: %d %v", s, body)
	}

	list := func(query string) []int64 {
		t.Helper()
		s, body := e.api("GET", "/api/v4/contacts/notes?"+query, tk.Access, nil)
		return noteIDs(t, s, body)
	}
	at := func(d int64) string { return itoa(t0 + d) }
	for _, c := range []struct {
		query string
		want  []int64
	}{
		{"filter[updated_at][from]=" + at(60) + "&filter[updated_at][to]=" + at(120), []int64{n2, n3}}, // both bounds inclusive
		{"filter[updated_at][from]=" + at(61), []int64{n1, n3}},
		{"filter[updated_at][to]=" + at(119), []int64{n2}},
		{"filter[updated_at]=" + at(120), []int64{n1, n3}}, // the scalar form: edited at or after
		{"filter[updated_at][from]=" + at(181), nil},
		{"filter[updated_at][from]=" + at(0) + "&order[updated_at]=asc", []int64{n2, n3, n1}},
		{"filter[updated_at][from]=" + at(0) + "&order[updated_at]=desc", []int64{n1, n3, n2}},
		{"order[id]=desc", []int64{n3, n2, n1}},
		{"filter[id][]=" + itoa(n1) + "&filter[id][]=" + itoa(n2) + "&filter[updated_at][from]=" + at(100), []int64{n1}},
		{"filter[note_type][]=call_in&filter[updated_at][from]=" + at(0) + "&order[updated_at]=asc&limit=2&page=2", []int64{n1}},
	} {
		if got := list(c.query); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.query, got, c.want)
		}
	}
	// The per-entity list filters and orders the same way.
	s, body := e.api("GET", "/api/v4/contacts/"+itoa(ann)+"/notes?filter[updated_at][from]="+at(60)+"&order[updated_at]=desc", tk.Access, nil)
	if got := noteIDs(t, s, body); !slices.Equal(got, []int64{n1, n3, n2}) {
		t.Errorf("entity notes: %v", got)
	}
	for _, bad := range []string{"filter[updated_at][from]=yesterday", "filter[updated_at][to]=1.5", "filter[updated_at]=x"} {
		if s, _ := e.api("GET", "/api/v4/contacts/notes?"+bad, tk.Access, nil); s != http.StatusBadRequest {
			t.Errorf("%s: %d, want 400", bad, s)
		}
	}

	// A manager's edit in Kommo's UI moves updated_at too.
	e.clock.Advance(time.Hour)
	if _, err := e.emu.EditNote(n2, map[string]any{"call_result": "call back"}); err != nil {
		t.Fatal(err)
	}
	if got := list("filter[updated_at][from]=" + at(3600)); !slices.Equal(got, []int64{n2}) {
		t.Errorf("after a manager's edit: %v, want [%d]", got, n2)
	}
}

func TestCallNoteUpdatedAtDefaultsToCreatedAt(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	now := e.clock.Now().Unix()

	past := call("+14155550100", "old")
	past["created_at"] = now - 3600
	stamped := call("+14155550100", "stamped")
	stamped["created_at"] = now - 3600
	stamped["updated_at"] = now - 60
	if s, body := e.postCall(tk.Access, past, stamped); s != http.StatusOK {
		t.Fatalf("calls: %d %v", s, body)
	}
	notes := e.account(r.ID).Notes
	if len(notes) != 2 {
		t.Fatalf("%d notes", len(notes))
	}
	if n := notes[0]; n.CreatedAt != now-3600 || n.UpdatedAt != now-3600 {
		t.Errorf("call with created_at only: created %d updated %d, want both %d", n.CreatedAt, n.UpdatedAt, now-3600)
	}
	if n := notes[1]; n.CreatedAt != now-3600 || n.UpdatedAt != now-60 {
		t.Errorf("call with updated_at: created %d updated %d", n.CreatedAt, n.UpdatedAt)
	}

	s, body := e.api("POST", "/api/v4/contacts/notes", tk.Access, []any{
		map[string]any{"entity_id": r.Contacts["ann"], "note_type": "common", "params": map[string]any{"text": "x"}},
	})
	if s != http.StatusOK {
		t.Fatalf("note: %d %v", s, body)
	}
	_, n := e.api("GET", "/api/v4/contacts/notes/"+itoa(num(get(body, "_embedded", "notes", 0, "id"))), tk.Access, nil)
	if num(n["updated_at"]) != now || num(n["created_at"]) != now {
		t.Errorf("POST notes: created_at %v updated_at %v, want %d", n["created_at"], n["updated_at"], now)
	}
}

// oneToken is a kommo.TokenStore holding one account's pair, which never
// needs a refresh in these tests.
type oneToken struct {
	mu  sync.Mutex
	tok callbridge.Token
}

func (s *oneToken) FindToken(context.Context, int64) (*callbridge.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tok
	return &t, nil
}
func (s *oneToken) SaveToken(_ context.Context, t *callbridge.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tok = *t
	return nil
}
func (s *oneToken) AcquireRefreshLease(context.Context, int64, string, time.Time, time.Time) (*callbridge.Token, bool, error) {
	return nil, false, callbridge.Errorf(callbridge.EINTERNAL, "no refresh in this test")
}
func (s *oneToken) RotateToken(context.Context, *callbridge.Token, int64) error {
	return callbridge.Errorf(callbridge.EINTERNAL, "no refresh in this test")
}
func (s *oneToken) ReleaseRefreshLease(context.Context, int64, string) error { return nil }

// The kommo client's batched GetNote and update-time window work against
// the emulator: one request per batch, each caller its own note.
func TestKommoClientReadsNotesInBatches(t *testing.T) {
	e := newEnv(t, nil)
	r := e.seed(sandbox.SeedAccount{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}})
	tk := e.token(r.ID, 0)
	var ids []int64
	for i := range 5 {
		s, body := e.postCall(tk.Access, call("+14155550100", "u"+itoa(int64(i))))
		if s != http.StatusOK {
			t.Fatalf("call: %d %v", s, body)
		}
		ids = append(ids, num(get(body, "_embedded", "calls", 0, "id")))
		e.clock.Advance(time.Minute)
	}

	store := &oneToken{tok: callbridge.Token{AccountID: 1, AccessToken: tk.Access, RefreshToken: tk.Refresh, ExpiresAt: time.Now().Add(time.Hour)}}
	c := kommo.NewClient(kommo.Config{ClientID: clientID, ClientSecret: clientSecret, BaseURL: e.srv.URL,
		Limiter: kommo.NewLimiter(1000, 1000), BatchSize: 6, BatchWait: time.Minute}, store)
	acct := &callbridge.Account{ID: 1}

	want := append(slices.Clone(ids), 999999) // the last does not exist
	got := make([]*kommo.Note, len(want))
	errs := make([]error, len(want))
	var wg sync.WaitGroup
	for i, id := range want {
		wg.Go(func() { got[i], errs[i] = c.GetNote(t.Context(), acct, "contacts", id) })
	}
	wg.Wait()
	for i, id := range ids {
		if errs[i] != nil || got[i].ID != id || got[i].Params.Uniq != "u"+itoa(int64(i)) {
			t.Errorf("note %d: %+v, %v", id, got[i], errs[i])
		}
	}
	if code := callbridge.ErrorCode(errs[5]); code != callbridge.ENOTFOUND {
		t.Errorf("missing note: %v", errs[5])
	}
	reqs := e.emu.Stats().Requests
	if n := reqs["GET /api/v4/contacts/notes"][http.StatusOK]; n != 1 || len(reqs["GET /api/v4/contacts/notes/{id}"]) != 0 {
		t.Errorf("requests %v, want one notes list", reqs)
	}

	notes, err := c.ListNotes(t.Context(), acct, "contacts", kommo.NotesFilter{
		NoteTypes: []string{kommo.NoteCallIn}, UpdatedFrom: time.Unix(got[2].UpdatedAt.Unix(), 0), Order: kommo.NotesByUpdatedDesc,
	})
	if err != nil {
		t.Fatal(err)
	}
	var listed []int64
	for _, n := range notes {
		listed = append(listed, n.ID)
	}
	if w := []int64{ids[4], ids[3], ids[2]}; !slices.Equal(listed, w) {
		t.Errorf("notes updated since the third call, latest first: %v, want %v", listed, w)
	}
}

// FuzzNotesListQuery feeds arbitrary query strings to the notes list: the
// emulator answers 200, 204, 400 or 422, and every note it lists is within
// the update-time window the query asks for.
func FuzzNotesListQuery(f *testing.F) {
	f.Add("filter[updated_at][from]=1772366400&filter[updated_at][to]=1772366460&order[updated_at]=desc")
	f.Add("filter[updated_at]=1772366460&limit=1&page=2")
	f.Add("filter[updated_at][from]=x")
	f.Add("filter[updated_at][to]=-1&order[id]=asc")
	f.Add("filter[id][]=1,2&filter[updated_at][from]=9223372036854775807")
	f.Add("filter[updated_at][from]=99999999999999999999")
	f.Add("limit=251")
	f.Add("%zz&filter[updated_at][from]=%31")

	clk := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	emu := sandbox.New(sandbox.Config{ClientID: clientID, ClientSecret: clientSecret, RateLimit: 1 << 30, Now: clk.Now, Host: "sandbox.test"})
	res, err := emu.Seed(sandbox.SeedData{Accounts: []sandbox.SeedAccount{{Contacts: []sandbox.SeedContact{{Ref: "ann", Phones: []string{"+14155550100"}}}}}})
	if err != nil {
		f.Fatal(err)
	}
	code, err := emu.Install(f.Context(), res.Accounts[0].ID, "")
	if err != nil {
		f.Fatal(err)
	}
	serve := func(method, target, token, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		return rec
	}
	var tk tokens
	if err := json.Unmarshal(serve("POST", "/oauth2/access_token", "",
		`{"client_id":"`+clientID+`","client_secret":"`+clientSecret+`","grant_type":"authorization_code","code":"`+code+`"}`).Body.Bytes(), &tk); err != nil {
		f.Fatal(err)
	}
	for i := range 4 {
		if rec := serve("POST", "/api/v4/calls", tk.Access, `[{"direction":"inbound","duration":1,"source":"s","phone":"+14155550100","uniq":"u`+itoa(int64(i))+`"}]`); rec.Code != http.StatusOK {
			f.Fatalf("call: %d %s", rec.Code, rec.Body)
		}
		clk.Advance(30 * time.Second)
	}

	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest("GET", "/api/v4/contacts/notes", nil)
		req.URL.RawQuery = rawQuery
		req.Header.Set("Authorization", "Bearer "+tk.Access)
		rec := httptest.NewRecorder()
		emu.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusNoContent, http.StatusBadRequest, http.StatusUnprocessableEntity:
			return
		case http.StatusOK:
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		var body struct {
			Embedded struct {
				Notes []struct {
					UpdatedAt int64 `json:"updated_at"`
				} `json:"notes"`
			} `json:"_embedded"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Embedded.Notes) == 0 {
			t.Fatalf("200 without notes (%v): %s", err, rec.Body)
		}
		q := req.URL.Query()
		from, to := int64(math.MinInt64), int64(math.MaxInt64)
		for key, dst := range map[string]*int64{"filter[updated_at]": &from, "filter[updated_at][to]": &to} {
			if n, err := strconv.ParseInt(strings.TrimSpace(q.Get(key)), 10, 64); err == nil {
				*dst = n
			}
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(q.Get("filter[updated_at][from]")), 10, 64); err == nil {
			from = n
		}
		for _, n := range body.Embedded.Notes {
			if n.UpdatedAt < from || n.UpdatedAt > to {
				t.Fatalf("note updated at %d listed for the window [%d, %d]", n.UpdatedAt, from, to)
			}
		}
	})
}
