package sandbox

import (
	"net/http"
	"slices"
)

func (c *call) taskView(t *Task) map[string]any {
	var result any = []any{}
	if t.ResultText != "" {
		result = map[string]any{"text": t.ResultText}
	}
	var entityType any
	if t.EntityType != "" {
		entityType = t.EntityType
	}
	return map[string]any{
		"id":                  t.ID,
		"created_by":          t.CreatedBy,
		"updated_by":          t.UpdatedBy,
		"created_at":          t.CreatedAt,
		"updated_at":          t.UpdatedAt,
		"responsible_user_id": t.ResponsibleUserID,
		"group_id":            0,
		"entity_id":           t.EntityID,
		"entity_type":         entityType,
		"duration":            t.Duration,
		"is_completed":        t.IsCompleted,
		"task_type_id":        t.TaskTypeID,
		"text":                t.Text,
		"result":              result,
		"complete_till":       t.CompleteTill,
		"account_id":          c.acct.info.ID,
		"_links":              c.link("/api/v4/tasks/" + itoa(t.ID)),
	}
}

// validateTask checks a task create (full) or update (partial) item.
func (c *call) validateTask(it obj, create bool) []fieldError {
	var errs []fieldError
	a := c.acct
	if s, ok := it.str("text"); create && (!ok || s == "") || !create && it.has("text") && !ok {
		errs = append(errs, fieldError{"NotBlank", "text", "This value should not be blank."})
	}
	if n, present, ok := it.int("complete_till"); create && !present {
		errs = append(errs, fieldError{"NotBlank", "complete_till", "This value should not be blank."})
	} else if present && (!ok || n <= 0) {
		errs = append(errs, fieldError{"InvalidType", "complete_till", "This value should be a Unix timestamp."})
	}
	typ, hasType := it.str("entity_type")
	eid, hasID, idOK := it.int("entity_id")
	switch {
	case !idOK:
		errs = append(errs, fieldError{"InvalidType", "entity_id", "This value should be of type int."})
	case hasType != hasID && create:
		errs = append(errs, fieldError{"NotBlank", "entity_type", "entity_type and entity_id go together."})
	case hasType && !validEntityType(typ):
		errs = append(errs, fieldError{"NotSupportedChoice", "entity_type", "The value you selected is not a valid choice."})
	case hasType && hasID && !a.entityExists(typ, eid):
		errs = append(errs, fieldError{"NotFound", "entity_id", "Entity not found."})
	}
	for _, f := range []string{"task_type_id", "duration", "created_at"} {
		if _, present, ok := it.int(f); present && !ok {
			errs = append(errs, fieldError{"InvalidType", f, "This value should be of type int."})
		}
	}
	if r, present, ok := it.int("responsible_user_id"); present && (!ok || a.users[r] == nil) {
		errs = append(errs, fieldError{"NotFound", "responsible_user_id", "User not found."})
	}
	if it.has("result") {
		if _, ok := it.object("result"); !ok {
			errs = append(errs, fieldError{"InvalidType", "result", "This value should be of type object."})
		}
	}
	return errs
}

// applyTask copies the given fields of it onto t.
func applyTask(t *Task, it obj) {
	if s, ok := it.str("text"); ok {
		t.Text = s
	}
	if n, present, _ := it.int("complete_till"); present {
		t.CompleteTill = n
	}
	if s, ok := it.str("entity_type"); ok {
		t.EntityType = s
	}
	if n, present, _ := it.int("entity_id"); present {
		t.EntityID = n
	}
	if n, present, _ := it.int("task_type_id"); present {
		t.TaskTypeID = n
	}
	if n, present, _ := it.int("duration"); present {
		t.Duration = n
	}
	if n, present, _ := it.int("responsible_user_id"); present {
		t.ResponsibleUserID = n
	}
	if b, present := it.bool("is_completed"); present {
		t.IsCompleted = b
	}
	if r, ok := it.object("result"); ok {
		if s, ok := r.str("text"); ok {
			t.ResultText = s
		}
	}
}

// addTasks serves POST /api/v4/tasks (array; text and complete_till
// required; task_type_id defaults to 1, follow-up).
func (c *call) addTasks() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array of tasks.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	var v validation
	for i, it := range items {
		v.add(it.requestID(i), c.validateTask(it, true))
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	w, a := c.e.st, c.acct
	var out []any
	for i, it := range items {
		t := &Task{ID: w.assign(&w.ids.task, 0), TaskTypeID: 1, ResponsibleUserID: c.user.ID, CreatedBy: c.user.ID, UpdatedBy: c.user.ID,
			CreatedAt: c.unix(), UpdatedAt: c.unix()}
		applyTask(t, it)
		if at, present, _ := it.int("created_at"); present && at > 0 {
			t.CreatedAt, t.UpdatedAt = at, at
		}
		a.tasks[t.ID] = t
		a.taskIDs = append(a.taskIDs, t.ID)
		out = append(out, map[string]any{"id": t.ID, "request_id": it.requestID(i), "_links": c.link("/api/v4/tasks/" + itoa(t.ID))})
	}
	c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/tasks"), "_embedded": map[string]any{"tasks": out}})
}

// listTasks serves GET /api/v4/tasks with filter[entity_type],
// filter[entity_id][], filter[is_completed], filter[task_type][],
// filter[responsible_user_id][], filter[id][].
func (c *call) listTasks() {
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	q := c.r.URL.Query()
	entityIDs, ok1 := listInts(q, "filter[entity_id]")
	types, ok2 := listInts(q, "filter[task_type]")
	users, ok3 := listInts(q, "filter[responsible_user_id]")
	ids, ok4 := listInts(q, "filter[id]")
	if !ok1 || !ok2 || !ok3 || !ok4 {
		badRequest(c.w, "0", "InvalidType", "filter", "This value should be of type int.")
		return
	}
	entityType := q.Get("filter[entity_type]")
	completed := q.Get("filter[is_completed]")
	var found []*Task
	for _, id := range c.acct.taskIDs {
		t := c.acct.tasks[id]
		switch {
		case entityType != "" && t.EntityType != entityType,
			len(entityIDs) > 0 && !slices.Contains(entityIDs, t.EntityID),
			len(types) > 0 && !slices.Contains(types, t.TaskTypeID),
			len(users) > 0 && !slices.Contains(users, t.ResponsibleUserID),
			len(ids) > 0 && !slices.Contains(ids, t.ID),
			completed != "" && t.IsCompleted != (completed == "1" || completed == "true"):
			continue
		}
		found = append(found, t)
	}
	c.list("tasks", len(found), limit, page, func(i int) any { return c.taskView(found[i]) })
}

// getTask serves GET /api/v4/tasks/{id}.
func (c *call) getTask() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	t := c.acct.tasks[id]
	if t == nil {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.taskView(t))
}

// patchTasks serves PATCH /api/v4/tasks (array with id).
func (c *call) patchTasks() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array of tasks.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	out, ok := c.updateTasks(items, 0)
	if ok {
		c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/tasks"), "_embedded": map[string]any{"tasks": out}})
	}
}

// patchTask serves PATCH /api/v4/tasks/{id}.
func (c *call) patchTask() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	it, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	if c.acct.tasks[id] == nil {
		c.problem(http.StatusNotFound, "Task not found")
		return
	}
	out, ok := c.updateTasks([]obj{it}, id)
	if ok {
		c.ok(http.StatusOK, out[0])
	}
}

func (c *call) updateTasks(items []obj, pathID int64) ([]any, bool) {
	taskOf := func(it obj) *Task {
		id := pathID
		if id == 0 {
			id, _, _ = it.int("id")
		}
		return c.acct.tasks[id]
	}
	var v validation
	for i, it := range items {
		if taskOf(it) == nil {
			v.add(it.requestID(i), []fieldError{{"NotFound", "id", "Task not found."}})
			continue
		}
		v.add(it.requestID(i), c.validateTask(it, false))
	}
	if v.failed() {
		v.write(c.w)
		return nil, false
	}
	var out []any
	for i, it := range items {
		t := taskOf(it)
		applyTask(t, it)
		t.UpdatedAt, t.UpdatedBy = c.unix(), c.user.ID
		out = append(out, map[string]any{"id": t.ID, "updated_at": t.UpdatedAt, "request_id": it.requestID(i), "_links": c.link("/api/v4/tasks/" + itoa(t.ID))})
	}
	return out, true
}

// addEvents serves POST /api/v2/events {"add":[{"type":"phone_call",
// "phone_number", "users":[…]}]}: each notification is recorded with the
// entity Kommo would link (last 8 digits) and the answer is 202 with no body.
func (c *call) addEvents() {
	body, ok := decodeObject(c.body)
	var adds []any
	if ok {
		adds, ok = body.array("add")
	}
	if !ok || len(adds) == 0 {
		badRequest(c.w, "0", "NotBlank", "add", "This value should not be blank.")
		return
	}
	if len(adds) > maxPage {
		c.overLimit()
		return
	}
	var v validation
	parsed := make([]obj, 0, len(adds))
	for i, x := range adds {
		m, ok := x.(map[string]any)
		if !ok {
			v.add(itoa(int64(i)), []fieldError{{"InvalidType", "add", "This value should be of type object."}})
			continue
		}
		it := obj(m)
		parsed = append(parsed, it)
		var errs []fieldError
		if t, _ := it.str("type"); t != "phone_call" {
			errs = append(errs, fieldError{"NotSupportedChoice", "type", "The value you selected is not a valid choice."})
		}
		if s, ok := it.str("phone_number"); !ok || s == "" {
			errs = append(errs, fieldError{"NotBlank", "phone_number", "This value should not be blank."})
		}
		if it.has("users") {
			us, ok := it.array("users")
			if !ok {
				errs = append(errs, fieldError{"InvalidType", "users", "This value should be an array of user ids."})
			}
			for _, u := range us {
				if _, _, ok := toInt(u); !ok {
					errs = append(errs, fieldError{"InvalidType", "users", "This value should be an array of user ids."})
					break
				}
			}
		}
		v.add(it.requestID(i), errs)
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	w, a := c.e.st, c.acct
	for _, it := range parsed {
		phone, _ := it.str("phone_number")
		users := []int64{}
		us, _ := it.array("users")
		for _, u := range us {
			n, _, _ := toInt(u)
			users = append(users, n)
		}
		typ, id := a.chooseNotificationEntity(phone)
		a.events = append(a.events, Event{ID: w.assign(&w.ids.event, 0), Type: "phone_call", PhoneNumber: phone, Users: users,
			EntityType: typ, EntityID: id, CreatedAt: c.unix()})
	}
	c.w.WriteHeader(http.StatusAccepted)
}
