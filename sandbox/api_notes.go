package sandbox

import (
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// noteTypes are the note types the API accepts on create.
var noteTypes = map[string]bool{
	"common": true, "call_in": true, "call_out": true, "service_message": true,
	"extended_service_message": true, "geolocation": true, "sms_in": true, "sms_out": true,
	"attachment": true,
}

func (c *call) noteView(n *Note) map[string]any {
	return map[string]any{
		"id":                  n.ID,
		"entity_id":           n.EntityID,
		"created_by":          n.CreatedBy,
		"updated_by":          n.UpdatedBy,
		"created_at":          n.CreatedAt,
		"updated_at":          n.UpdatedAt,
		"responsible_user_id": n.ResponsibleUserID,
		"group_id":            0,
		"note_type":           n.NoteType,
		"params":              copyParams(n.Params),
		"account_id":          c.acct.info.ID,
		"_links":              c.link("/api/v4/" + n.EntityType + "/" + itoa(n.EntityID) + "/notes/" + itoa(n.ID)),
	}
}

// liveNote returns the account's note id under entity type typ, or nil.
func (c *call) liveNote(typ string, id int64) *Note {
	n := c.acct.notes[id]
	if n == nil || n.Deleted || n.EntityType != typ {
		return nil
	}
	return n
}

// listNotes serves GET /api/v4/{entity_type}/notes with filter[entity_id][],
// filter[note_type][], filter[id][], filter[updated_at] (see updatedWindow),
// order[id|updated_at], limit and page.
func (c *call) listNotes() {
	c.notesList(0)
}

// listEntityNotes serves GET /api/v4/{entity_type}/{entity_id}/notes, with
// the filters and orders of listNotes.
func (c *call) listEntityNotes() {
	id, ok := c.pathID("entity_id")
	if !ok {
		return
	}
	c.notesList(id)
}

func (c *call) notesList(entityID int64) {
	typ := c.vars["entity_type"]
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	q := c.r.URL.Query()
	entityIDs, ok1 := listInts(q, "filter[entity_id]")
	ids, ok2 := listInts(q, "filter[id]")
	if !ok1 || !ok2 {
		badRequest(c.w, "0", "InvalidType", "filter", "This value should be of type int.")
		return
	}
	from, to, ok := updatedWindow(q)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "filter[updated_at]", "This value should be of type int.")
		return
	}
	if entityID != 0 {
		entityIDs = []int64{entityID}
	}
	types := map[string]bool{}
	for _, t := range listValues(q, "filter[note_type]") {
		types[t] = true
	}
	a := c.acct
	var cand []int64
	switch {
	case len(ids) > 0:
		cand = slices.Clone(ids)
	case len(entityIDs) > 0:
		for _, eid := range entityIDs {
			cand = append(cand, a.notesByEntity[entityKey{typ, eid}]...)
		}
	default:
		cand = a.notesByType[typ]
	}
	var notes []*Note
	seen := map[int64]bool{}
	for _, id := range cand {
		n := c.liveNote(typ, id)
		if n == nil || seen[id] {
			continue
		}
		if len(entityIDs) > 0 && !slices.Contains(entityIDs, n.EntityID) {
			continue
		}
		if len(types) > 0 && !types[n.NoteType] {
			continue
		}
		if n.UpdatedAt < from || n.UpdatedAt > to {
			continue
		}
		seen[id] = true
		notes = append(notes, n)
	}
	orderNotes(notes, q.Get("order[updated_at]"), q.Get("order[id]"))
	c.list("notes", len(notes), limit, page, func(i int) any { return c.noteView(notes[i]) })
}

// updatedWindow reads the update-time filter of a notes list: unix seconds
// filter[updated_at][from] and filter[updated_at][to], both inclusive, or
// the scalar filter[updated_at]=N, which Kommo documents as "edited after"
// N and is read as from=N. Absent bounds are open. ok is false when a bound
// is not an integer.
func updatedWindow(q url.Values) (from, to int64, ok bool) {
	from, to = math.MinInt64, math.MaxInt64
	bound := func(key string, dst *int64) bool {
		s := strings.TrimSpace(q.Get(key))
		if s == "" {
			return true
		}
		n, err := strconv.ParseInt(s, 10, 64)
		*dst = n
		return err == nil
	}
	if !bound("filter[updated_at]", &from) || !bound("filter[updated_at][from]", &from) || !bound("filter[updated_at][to]", &to) {
		return 0, 0, false
	}
	return from, to, true
}

// orderNotes sorts by id ascending unless an order parameter says otherwise.
func orderNotes(notes []*Note, byUpdated, byID string) {
	desc := byID == "desc"
	if byUpdated != "" {
		desc = byUpdated == "desc"
		slices.SortStableFunc(notes, func(x, y *Note) int {
			r := cmpOldest(x.UpdatedAt, x.ID, y.UpdatedAt, y.ID)
			if desc {
				return -r
			}
			return r
		})
		return
	}
	slices.SortFunc(notes, func(x, y *Note) int {
		r := 0
		if x.ID < y.ID {
			r = -1
		} else if x.ID > y.ID {
			r = 1
		}
		if desc {
			return -r
		}
		return r
	})
}

// getNote serves GET /api/v4/{entity_type}/notes/{id}; 204 when there is
// none.
func (c *call) getNote() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	n := c.liveNote(c.vars["entity_type"], id)
	if n == nil {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.noteView(n))
}

// validateNoteParams checks params for a note type on create.
func validateNoteParams(noteType string, params obj) []fieldError {
	var errs []fieldError
	switch noteType {
	case "common", "service_message", "sms_in", "sms_out":
		if s, ok := params.str("text"); !ok || s == "" {
			errs = append(errs, fieldError{"NotBlank", "params.text", "This value should not be blank."})
		}
	case "call_in", "call_out":
		for _, f := range []string{"uniq", "source", "phone"} {
			if s, ok := params.str(f); !ok || s == "" {
				errs = append(errs, fieldError{"NotBlank", "params." + f, "This value should not be blank."})
			}
		}
		if n, present, ok := params.int("duration"); !present {
			errs = append(errs, fieldError{"NotBlank", "params.duration", "This value should not be blank."})
		} else if !ok || n < 0 {
			errs = append(errs, fieldError{"InvalidType", "params.duration", "This value should be of type int."})
		}
		if n, present, ok := params.int("call_status"); present && (!ok || n < 1 || n > callStatusMax) {
			errs = append(errs, fieldError{"NotSupportedChoice", "params.call_status", "The value you selected is not a valid choice."})
		}
	}
	return errs
}

// addNotes serves POST /api/v4/{entity_type}/notes and
// POST /api/v4/{entity_type}/{entity_id}/notes.
func (c *call) addNotes() {
	typ := c.vars["entity_type"]
	var pathEntity int64
	if c.vars["entity_id"] != "" {
		id, ok := c.pathID("entity_id")
		if !ok {
			return
		}
		pathEntity = id
	}
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array of notes.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	a := c.acct
	entityOf := func(it obj) int64 {
		if pathEntity != 0 {
			return pathEntity
		}
		id, _, _ := it.int("entity_id")
		return id
	}
	var v validation
	for i, it := range items {
		var errs []fieldError
		if eid := entityOf(it); eid == 0 {
			errs = append(errs, fieldError{"NotBlank", "entity_id", "This value should not be blank."})
		} else if !a.entityExists(typ, eid) {
			errs = append(errs, fieldError{"NotFound", "entity_id", "Entity not found."})
		}
		nt, _ := it.str("note_type")
		if !noteTypes[nt] {
			errs = append(errs, fieldError{"NotSupportedChoice", "note_type", "The value you selected is not a valid choice."})
		}
		params, ok := it.object("params")
		if it.has("params") && !ok {
			errs = append(errs, fieldError{"InvalidType", "params", "This value should be of type object."})
		}
		if noteTypes[nt] {
			errs = append(errs, validateNoteParams(nt, params)...)
		}
		for _, f := range []string{"created_by", "responsible_user_id", "created_at"} {
			if _, present, ok := it.int(f); present && !ok {
				errs = append(errs, fieldError{"InvalidType", f, "This value should be of type int."})
			}
		}
		v.add(it.requestID(i), errs)
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	var out []any
	for i, it := range items {
		nt, _ := it.str("note_type")
		params, _ := it.object("params")
		n := &Note{EntityType: typ, EntityID: entityOf(it), NoteType: nt, CreatedBy: c.user.ID, ResponsibleUserID: c.user.ID,
			CreatedAt: c.unix()}
		if p, ok := normalize(params).(map[string]any); ok {
			n.Params = p
		}
		if by, present, _ := it.int("created_by"); present {
			n.CreatedBy = by
		}
		if r, present, _ := it.int("responsible_user_id"); present {
			n.ResponsibleUserID = r
		}
		if at, present, _ := it.int("created_at"); present && at > 0 {
			n.CreatedAt = at
		}
		n.UpdatedAt, n.UpdatedBy = n.CreatedAt, n.CreatedBy
		c.e.st.addNote(a, n)
		out = append(out, map[string]any{"id": n.ID, "entity_id": n.EntityID, "request_id": it.requestID(i),
			"_links": c.link("/api/v4/" + typ + "/" + itoa(n.EntityID) + "/notes/" + itoa(n.ID))})
	}
	c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/" + typ + "/notes"), "_embedded": map[string]any{"notes": out}})
}

// patchNotes serves PATCH /api/v4/{entity_type}/notes (array with id).
func (c *call) patchNotes() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array of notes.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	out, ok := c.updateNotes(items, 0)
	if ok {
		c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/" + c.vars["entity_type"] + "/notes"), "_embedded": map[string]any{"notes": out}})
	}
}

// patchNote serves PATCH /api/v4/{entity_type}/notes/{id}.
func (c *call) patchNote() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	it, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	if c.liveNote(c.vars["entity_type"], id) == nil {
		c.problem(http.StatusNotFound, "Note not found")
		return
	}
	out, ok := c.updateNotes([]obj{it}, id)
	if ok {
		c.ok(http.StatusOK, out[0])
	}
}

// updateNotes validates then applies note updates: given params keys
// replace the stored ones, other keys are kept, note_type never changes.
// pathID, when not 0, overrides the items' id.
func (c *call) updateNotes(items []obj, pathID int64) ([]any, bool) {
	typ := c.vars["entity_type"]
	noteOf := func(it obj) *Note {
		id := pathID
		if id == 0 {
			id, _, _ = it.int("id")
		}
		return c.liveNote(typ, id)
	}
	var v validation
	for i, it := range items {
		var errs []fieldError
		n := noteOf(it)
		if n == nil {
			errs = append(errs, fieldError{"NotFound", "id", "Note not found."})
		}
		params, ok := it.object("params")
		if it.has("params") && !ok {
			errs = append(errs, fieldError{"InvalidType", "params", "This value should be of type object."})
		}
		if n != nil && (n.NoteType == "call_in" || n.NoteType == "call_out") {
			if d, present, ok := params.int("duration"); present && (!ok || d < 0) {
				errs = append(errs, fieldError{"InvalidType", "params.duration", "This value should be of type int."})
			}
			if s, present, ok := params.int("call_status"); present && (!ok || s < 1 || s > callStatusMax) {
				errs = append(errs, fieldError{"NotSupportedChoice", "params.call_status", "The value you selected is not a valid choice."})
			}
		}
		if r, present, ok := it.int("responsible_user_id"); present && (!ok || c.acct.users[r] == nil) {
			errs = append(errs, fieldError{"NotFound", "responsible_user_id", "User not found."})
		}
		v.add(it.requestID(i), errs)
	}
	if v.failed() {
		v.write(c.w)
		return nil, false
	}
	var out []any
	for i, it := range items {
		n := noteOf(it)
		params, _ := it.object("params")
		for k, x := range params {
			n.Params[k] = normalize(x)
		}
		if r, present, _ := it.int("responsible_user_id"); present {
			n.ResponsibleUserID = r
		}
		n.UpdatedAt, n.UpdatedBy = c.unix(), c.user.ID
		out = append(out, map[string]any{"id": n.ID, "entity_id": n.EntityID, "updated_at": n.UpdatedAt,
			"request_id": it.requestID(i), "_links": c.link("/api/v4/" + typ + "/" + itoa(n.EntityID) + "/notes/" + strconv.FormatInt(n.ID, 10))})
	}
	return out, true
}
