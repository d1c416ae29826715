package sandbox

import (
	"net/http"
	"strings"
)

// callStatusMax is the largest call_status accepted (8 = undefined, as in
// Kommo's SDK).
const callStatusMax = 8

// validateCall checks one item of POST /api/v4/calls.
func validateCall(it obj) []fieldError {
	var errs []fieldError
	if s, ok := it.str("direction"); !ok || s == "" {
		errs = append(errs, fieldError{"NotBlank", "direction", "This value should not be blank."})
	} else if s != "inbound" && s != "outbound" {
		errs = append(errs, fieldError{"NotSupportedChoice", "direction", "The value you selected is not a valid choice."})
	}
	if n, present, ok := it.int("duration"); !present {
		errs = append(errs, fieldError{"NotBlank", "duration", "This value should not be blank."})
	} else if !ok || n < 0 {
		errs = append(errs, fieldError{"InvalidType", "duration", "This value should be of type int."})
	}
	for _, f := range []string{"source", "phone"} {
		if s, ok := it.str(f); !ok || strings.TrimSpace(s) == "" {
			errs = append(errs, fieldError{"NotBlank", f, "This value should not be blank."})
		}
	}
	for _, f := range []string{"uniq", "link", "call_result"} {
		if it.has(f) {
			if _, ok := it[f].(string); !ok {
				errs = append(errs, fieldError{"InvalidType", f, "This value should be of type string."})
			}
		}
	}
	if n, present, ok := it.int("call_status"); present && (!ok || n < 1 || n > callStatusMax) {
		errs = append(errs, fieldError{"NotSupportedChoice", "call_status", "The value you selected is not a valid choice."})
	}
	for _, f := range []string{"created_by", "responsible_user_id", "created_at", "updated_by", "updated_at"} {
		if _, present, ok := it.int(f); present && !ok {
			errs = append(errs, fieldError{"InvalidType", f, "This value should be of type int."})
		}
	}
	return errs
}

// addCalls serves POST /api/v4/calls: each call becomes a call_in/call_out
// note on the entity Kommo's rule chooses for its phone (last 10 digits).
// Calls are never deduplicated.
func (c *call) addCalls() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array of calls.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	if len(items) == 0 {
		badRequest(c.w, "0", "NotBlank", "", "This collection should contain 1 element or more.")
		return
	}
	var v validation
	for i, it := range items {
		v.add(it.requestID(i), validateCall(it))
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	a := c.acct
	errs := []any{}
	calls := []any{}
	for i, it := range items {
		rid := it.requestID(i)
		phone, _ := it.str("phone")
		typ, id, found := a.chooseEntity(phone, 10)
		if !found {
			errs = append(errs, map[string]any{"request_id": rid, "title": "Entity not found", "status": 263})
			continue
		}
		n := c.e.st.addNote(a, c.callNote(it, typ, id))
		calls = append(calls, map[string]any{
			"id":          n.ID,
			"entity_id":   id,
			"entity_type": singular(typ),
			"account_id":  a.info.ID,
			"request_id":  rid,
			"_embedded": map[string]any{"entity": map[string]any{
				"id":     id,
				"_links": c.link("/api/v4/" + typ + "/" + itoa(id)),
			}},
		})
	}
	if len(calls) == 0 {
		writeJSON(c.w, http.StatusBadRequest, problemJSON, map[string]any{"_total_items": 0, "errors": errs})
		return
	}
	c.ok(http.StatusOK, map[string]any{
		"_total_items": len(calls),
		"errors":       errs,
		"_embedded":    map[string]any{"calls": calls},
	})
}

// callNote builds the note for a validated call item.
func (c *call) callNote(it obj, typ string, id int64) *Note {
	dir, _ := it.str("direction")
	noteType := "call_in"
	if dir == "outbound" {
		noteType = "call_out"
	}
	duration, _, _ := it.int("duration")
	params := map[string]any{"duration": duration}
	for _, f := range []string{"uniq", "source", "link", "phone"} {
		s, _ := it.str(f)
		params[f] = s
	}
	if s, ok := it.str("call_result"); ok {
		params["call_result"] = s
	}
	if n, present, _ := it.int("call_status"); present {
		params["call_status"] = n
	}
	if it.has("call_responsible") {
		params["call_responsible"] = normalize(it["call_responsible"])
	}
	createdBy, _, _ := it.int("created_by")
	responsible, present, _ := it.int("responsible_user_id")
	if !present {
		responsible = c.user.ID
	}
	createdAt, present, _ := it.int("created_at")
	if !present || createdAt <= 0 {
		createdAt = c.unix()
	}
	updatedBy, present, _ := it.int("updated_by")
	if !present {
		updatedBy = createdBy
	}
	updatedAt, present, _ := it.int("updated_at")
	if !present || updatedAt <= 0 {
		updatedAt = createdAt
	}
	return &Note{
		EntityType:        typ,
		EntityID:          id,
		NoteType:          noteType,
		Params:            params,
		CreatedBy:         createdBy,
		UpdatedBy:         updatedBy,
		ResponsibleUserID: responsible,
		CreatedAt:         createdAt,
		UpdatedAt:         updatedAt,
	}
}
