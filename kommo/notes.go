package kommo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Note types callbridge writes.
const (
	NoteCallIn  = "call_in"
	NoteCallOut = "call_out"
	NoteCommon  = "common"
)

// entityTypes are the entity types that have notes (and tasks).
var entityTypes = map[string]bool{"leads": true, "contacts": true, "companies": true, "customers": true}

func checkEntityType(t string) error {
	if !entityTypes[t] {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: entity type must be leads, contacts, companies or customers")
	}
	return nil
}

// NoteParams are a note's params. Call notes (call_in, call_out) use Uniq,
// Duration (seconds), Source, Link, Phone, CallResult and CallStatus; common
// notes use Text.
type NoteParams struct {
	Uniq       string
	Duration   int
	Source     string
	Link       string
	Phone      string
	CallResult string
	CallStatus int
	Text       string
}

// Note is a note on a lead, contact, company or customer.
type Note struct {
	ID         int64
	EntityID   int64
	EntityType string // leads, contacts, companies or customers
	NoteType   string // call_in, call_out, common, …
	Params     NoteParams
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type noteParamsJSON struct {
	Uniq       string  `json:"uniq"`
	Duration   flexInt `json:"duration"`
	Source     string  `json:"source"`
	Link       string  `json:"link"`
	Phone      string  `json:"phone"`
	CallResult string  `json:"call_result"`
	CallStatus flexInt `json:"call_status"`
	Text       string  `json:"text"`
}

type noteJSON struct {
	ID        flexInt         `json:"id"`
	EntityID  flexInt         `json:"entity_id"`
	NoteType  string          `json:"note_type"`
	Params    json.RawMessage `json:"params"`
	CreatedAt flexInt         `json:"created_at"`
	UpdatedAt flexInt         `json:"updated_at"`
	RequestID flexString      `json:"request_id"`
}

func (n noteJSON) note(entityType string) Note {
	var p noteParamsJSON
	// Params of other note types may have other shapes; keep what fits.
	_ = json.Unmarshal(n.Params, &p)
	return Note{
		ID: int64(n.ID), EntityID: int64(n.EntityID), EntityType: entityType, NoteType: n.NoteType,
		Params: NoteParams{
			Uniq: p.Uniq, Duration: int(p.Duration), Source: p.Source, Link: p.Link, Phone: p.Phone,
			CallResult: p.CallResult, CallStatus: int(p.CallStatus), Text: p.Text,
		},
		CreatedAt: unixTime(n.CreatedAt), UpdatedAt: unixTime(n.UpdatedAt),
	}
}

// paramsBody encodes p for noteType. Call notes always carry uniq,
// duration, source and phone (Kommo requires them); other fields only when set.
func paramsBody(noteType string, p NoteParams) map[string]any {
	m := map[string]any{}
	call := noteType == NoteCallIn || noteType == NoteCallOut
	if call {
		m["uniq"], m["duration"], m["source"], m["phone"] = p.Uniq, p.Duration, p.Source, p.Phone
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("uniq", p.Uniq)
	set("source", p.Source)
	set("phone", p.Phone)
	set("link", p.Link)
	set("call_result", p.CallResult)
	set("text", p.Text)
	if p.Duration != 0 {
		m["duration"] = p.Duration
	}
	if p.CallStatus != 0 {
		m["call_status"] = p.CallStatus
	}
	return m
}

// NotesOrder sorts a notes list: Kommo's order[id] or order[updated_at],
// ascending or descending.
type NotesOrder string

// Orders of NotesFilter.Order.
const (
	NotesByIDAsc       NotesOrder = "id asc"          // order[id]=asc
	NotesByIDDesc      NotesOrder = "id desc"         // order[id]=desc
	NotesByUpdatedAsc  NotesOrder = "updated_at asc"  // order[updated_at]=asc: oldest edit first
	NotesByUpdatedDesc NotesOrder = "updated_at desc" // order[updated_at]=desc: latest edit first
)

// NotesFilter selects notes of one entity type; empty fields do not filter.
//
// The update-time window and the orders are those of Kommo's notes lists
// (GET /api/v4/{entity_type}/notes and …/{entity_id}/notes):
// filter[updated_at][from] and filter[updated_at][to] in unix seconds, and
// order[updated_at] or order[id] = asc|desc. Sources: Kommo's API reference,
// developers.kommo.com/reference/notes-by-entity-id ("Filter by the note edit
// date … notes edited after / before the timestamp"; "List elements sorting")
// and its "List Notes by Entity Type" page, which names the parameters
// filter[updated_at][from|to], order[updated_at] and order[id]; Kommo's PHP
// SDK (amocrm/amocrm-api-php, Filters/NotesFilter.php) sends the same
// filter[updated_at] range and order[field]=direction. Kommo does not say
// whether the bounds are inclusive: allow a second or more of margin.
//
// Paging a window ordered by updated_at is not stable while notes change:
// a note edited between two pages moves to the end and can be skipped or
// seen twice. To read a whole window, page with NotesByUpdatedAsc and, when a
// page is full, continue with UpdatedFrom set to the last updated_at seen
// (page 1 again), dropping ids already seen; or page with NotesByIDAsc.
type NotesFilter struct {
	EntityIDs []int64  // filter[entity_id][]
	IDs       []int64  // filter[id][]
	NoteTypes []string // filter[note_type][]
	// UpdatedFrom and UpdatedTo, when not zero, keep notes whose updated_at
	// is at or after UpdatedFrom and at or before UpdatedTo. They are sent
	// as whole unix seconds (rounded down).
	UpdatedFrom, UpdatedTo time.Time
	Order                  NotesOrder // "" = Kommo's default order
	Page                   int        // from 1; 0 = first page
	Limit                  int        // at most 250; 0 = Kommo's default (50)
}

// query encodes f as the query of a notes list.
func (f NotesFilter) query() (url.Values, error) {
	q := url.Values{}
	addIDs(q, "filter[entity_id][]", f.EntityIDs)
	addIDs(q, "filter[id][]", f.IDs)
	for _, t := range f.NoteTypes {
		q.Add("filter[note_type][]", t)
	}
	if !f.UpdatedFrom.IsZero() {
		q.Set("filter[updated_at][from]", strconv.FormatInt(f.UpdatedFrom.Unix(), 10))
	}
	if !f.UpdatedTo.IsZero() {
		q.Set("filter[updated_at][to]", strconv.FormatInt(f.UpdatedTo.Unix(), 10))
	}
	if !f.UpdatedFrom.IsZero() && !f.UpdatedTo.IsZero() && f.UpdatedTo.Unix() < f.UpdatedFrom.Unix() {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: notes filter: UpdatedTo is before UpdatedFrom")
	}
	switch f.Order {
	case "":
	case NotesByIDAsc, NotesByIDDesc, NotesByUpdatedAsc, NotesByUpdatedDesc:
		field, dir, _ := strings.Cut(string(f.Order), " ")
		q.Set("order["+field+"]", dir)
	default:
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: unknown notes order %.40q", f.Order)
	}
	page(q, f.Page, f.Limit)
	return q, nil
}

// ListNotes returns one page of the notes of entityType (leads, contacts,
// companies or customers) matching f, with GET /api/v4/{entity_type}/notes.
// No notes (204) is an empty slice.
func (c *Client) ListNotes(ctx context.Context, acct *callbridge.Account, entityType string, f NotesFilter) ([]Note, error) {
	if err := checkEntityType(entityType); err != nil {
		return nil, err
	}
	q, err := f.query()
	if err != nil {
		return nil, err
	}
	req := &request{method: http.MethodGet, route: notesRoute, path: "/api/v4/" + entityType + "/notes" + query(q)}
	var body notesBody
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	notes := make([]Note, 0, len(body.Embedded.Notes))
	for _, n := range body.Embedded.Notes {
		notes = append(notes, n.note(entityType))
	}
	return notes, nil
}

// notesRoute is the route of a notes list, for metrics and logs.
const notesRoute = "GET /api/v4/{entity_type}/notes"

// notesBody is the answer of a notes list.
type notesBody struct {
	Embedded struct {
		Notes []noteJSON `json:"notes"`
	} `json:"_embedded"`
}

// GetNote returns one note of entityType (leads, contacts, companies or
// customers); ENOTFOUND (permanent) when Kommo has no such note under that
// entity type.
//
// Concurrent calls for the same account and entity type are read together:
// the first waits Config.BatchWait for company, then one
// GET /api/v4/{entity_type}/notes?filter[id][]=…&limit=250 carries up to
// Config.BatchSize ids (a full batch goes at once), and each caller gets its
// own note. An error of that request (rate limit, 5xx, no answer) is every
// caller's error; it is never KindUncertain, since a read changes nothing.
func (c *Client) GetNote(ctx context.Context, acct *callbridge.Account, entityType string, id int64) (*Note, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	if err := checkEntityType(entityType); err != nil {
		return nil, err
	}
	if id <= 0 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: note id must be positive")
	}
	return c.noteReads.do(ctx, acct, entityType, id)
}

// flushNoteReads reads the notes whose ids take returns with one list
// request. Ids Kommo did not return (204 when it returned none) are
// ENOTFOUND.
func (c *Client) flushNoteReads(ctx context.Context, acct *callbridge.Account, entityType string, take func() []int64) ([]outcome[*Note], error) {
	var (
		ids   []int64
		taken bool
	)
	req := &request{method: http.MethodGet, route: notesRoute}
	req.prepare = func() (any, bool) {
		if !taken {
			taken = true
			ids = take()
			if len(ids) == 0 {
				return nil, false
			}
			q, _ := NotesFilter{IDs: distinct(ids), Limit: MaxBatchSize}.query()
			req.path = "/api/v4/" + entityType + "/notes" + query(q)
		}
		return nil, len(ids) > 0
	}
	var body notesBody
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	byID := make(map[int64]noteJSON, len(body.Embedded.Notes))
	for _, n := range body.Embedded.Notes {
		byID[int64(n.ID)] = n
	}
	outs := make([]outcome[*Note], len(ids))
	for i, id := range ids {
		n, ok := byID[id]
		if !ok {
			outs[i].err = callbridge.Errorf(callbridge.ENOTFOUND, "Kommo: note %d not found", id)
			continue
		}
		note := n.note(entityType)
		outs[i].val = &note
	}
	return outs, nil
}

// distinct returns ids without repeats, in their first order.
func distinct(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// NoteInput is a new note.
type NoteInput struct {
	EntityID int64
	NoteType string // call_in, call_out, common, …
	Params   NoteParams
}

// AddNote adds a note to an entity of entityType with POST
// /api/v4/{entity_type}/notes. A write without a readable answer is
// KindUncertain.
func (c *Client) AddNote(ctx context.Context, acct *callbridge.Account, entityType string, in NoteInput) (*Note, error) {
	if err := checkEntityType(entityType); err != nil {
		return nil, err
	}
	if in.EntityID <= 0 || in.NoteType == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: a note needs an entity id and a note type")
	}
	req := &request{method: http.MethodPost, route: "POST /api/v4/{entity_type}/notes", path: "/api/v4/" + entityType + "/notes",
		body: []any{map[string]any{
			"entity_id": in.EntityID, "note_type": in.NoteType, "params": paramsBody(in.NoteType, in.Params), "request_id": "1",
		}}}
	var body struct {
		Embedded struct {
			Notes []noteJSON `json:"notes"`
		} `json:"_embedded"`
	}
	if err := c.write(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	if len(body.Embedded.Notes) == 0 || body.Embedded.Notes[0].ID == 0 {
		return nil, callbridge.Uncertain(nil, "kommo: the note answer has no id")
	}
	n := body.Embedded.Notes[0]
	return &Note{ID: int64(n.ID), EntityID: in.EntityID, EntityType: entityType, NoteType: in.NoteType,
		Params: in.Params, CreatedAt: c.now().UTC(), UpdatedAt: c.now().UTC()}, nil
}

// NoteUpdate is a change to an existing note.
type NoteUpdate struct {
	ID int64 // required
	// NoteType, when set, is sent with the update (Kommo validates params
	// against it; its SDK always sends it).
	NoteType string
	// Params is partial: only non-zero fields are sent; zero fields are left
	// as they are in Kommo.
	Params NoteParams
}

// updateParams encodes the non-zero fields of p.
func updateParams(p NoteParams) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"uniq": p.Uniq, "source": p.Source, "link": p.Link, "phone": p.Phone,
		"call_result": p.CallResult, "text": p.Text} {
		if v != "" {
			m[k] = v
		}
	}
	if p.Duration != 0 {
		m["duration"] = p.Duration
	}
	if p.CallStatus != 0 {
		m["call_status"] = p.CallStatus
	}
	return m
}

// UpdateNote changes a note with PATCH /api/v4/{entity_type}/notes. Updates
// for the same account and entity type are sent together like AddCall. A
// note that does not exist is ENOTFOUND or EINVALID (permanent); a request
// without a readable answer is KindUncertain (an update is idempotent, so
// it can simply be sent again).
func (c *Client) UpdateNote(ctx context.Context, acct *callbridge.Account, entityType string, u NoteUpdate) error {
	if err := checkAccount(acct); err != nil {
		return err
	}
	if err := checkEntityType(entityType); err != nil {
		return err
	}
	if u.ID <= 0 {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: note update without an id")
	}
	_, err := c.notes.do(ctx, acct, entityType, u)
	return err
}

func (c *Client) flushNoteUpdates(ctx context.Context, acct *callbridge.Account, entityType string, take func() []NoteUpdate) ([]outcome[struct{}], error) {
	spec := &batchSpec[NoteUpdate, struct{}]{
		method: http.MethodPatch, route: "PATCH /api/v4/{entity_type}/notes", path: "/api/v4/" + entityType + "/notes",
		encode: func(u NoteUpdate, rid string) any {
			return struct {
				ID        int64          `json:"id"`
				NoteType  string         `json:"note_type,omitempty"`
				Params    map[string]any `json:"params"`
				RequestID string         `json:"request_id"`
			}{u.ID, u.NoteType, updateParams(u.Params), rid}
		},
		parse: parseNoteUpdates,
	}
	return runBatch(ctx, c, acct, spec, take)
}

// parseNoteUpdates reads {"_embedded":{"notes":[{id, request_id}]}} and a
// 400's validation-errors. Results without request_id are matched by note id.
func parseNoteUpdates(resp *response, items []entry[NoteUpdate]) (map[string]struct{}, map[string]error, []error) {
	var body struct {
		Errors   []itemError `json:"errors"`
		Embedded struct {
			Notes []noteJSON `json:"notes"`
		} `json:"_embedded"`
	}
	vals := make(map[string]struct{})
	errs := make(map[string]error)
	if json.Unmarshal(resp.body, &body) != nil {
		return vals, errs, nil
	}
	for _, n := range body.Embedded.Notes {
		if n.RequestID != "" {
			vals[string(n.RequestID)] = struct{}{}
			continue
		}
		for _, it := range items {
			if it.in.ID == int64(n.ID) {
				vals[it.rid] = struct{}{}
			}
		}
	}
	var loose []error
	for _, e := range body.Errors {
		if e.RequestID != "" {
			errs[string(e.RequestID)] = itemErr(e)
		} else {
			loose = append(loose, itemErr(e))
		}
	}
	validationErrs(problemOf(resp.body), errs)
	return vals, errs, loose
}

// get sends a read and decodes its answer; 204 leaves out unchanged.
func (c *Client) get(ctx context.Context, acct *callbridge.Account, req *request, out any) error {
	resp, err := c.do(ctx, acct, req)
	if err != nil {
		return err
	}
	return decode(req, resp, out)
}

// write sends a write and decodes its answer.
func (c *Client) write(ctx context.Context, acct *callbridge.Account, req *request, out any) error {
	resp, err := c.do(ctx, acct, req)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	return decode(req, resp, out)
}

func addIDs(q url.Values, key string, ids []int64) {
	for _, id := range ids {
		q.Add(key, strconv.FormatInt(id, 10))
	}
}

func page(q url.Values, page, limit int) {
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(min(limit, 250)))
	}
}

func query(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}
