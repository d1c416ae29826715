package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The phone custom field has the same id in every emulated account.
const (
	phoneFieldID = 1_000_001
	phoneEnumID  = 2_000_001
)

func (c *call) withs() map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.Split(c.r.URL.Query().Get("with"), ",") {
		if w = strings.TrimSpace(w); w != "" {
			out[w] = true
		}
	}
	return out
}

// pathID parses the {name} path segment as an id; on failure it answers 404.
func (c *call) pathID(name string) (int64, bool) {
	id, err := strconv.ParseInt(c.vars[name], 10, 64)
	if err != nil || id <= 0 {
		c.problem(http.StatusNotFound, "Not found")
		return 0, false
	}
	return id, true
}

func phoneFields(phones []string) []any {
	if len(phones) == 0 {
		return nil
	}
	vals := make([]any, 0, len(phones))
	for _, p := range phones {
		vals = append(vals, map[string]any{"value": p, "enum_id": phoneEnumID, "enum_code": "WORK"})
	}
	return []any{map[string]any{
		"field_id": phoneFieldID, "field_name": "Phone", "field_code": "PHONE", "field_type": "multitext", "values": vals,
	}}
}

func (c *call) contactView(ct *Contact, w map[string]bool) map[string]any {
	emb := map[string]any{"tags": []any{}, "companies": []any{}}
	if ct.CompanyID != 0 {
		emb["companies"] = idsFrom([]int64{ct.CompanyID})
	}
	if w["leads"] {
		emb["leads"] = idsFrom(c.liveLeads(ct.LeadIDs))
	}
	if w["customers"] {
		emb["customers"] = idsFrom(ct.CustomerIDs)
	}
	return map[string]any{
		"id":                   ct.ID,
		"name":                 ct.Name,
		"first_name":           ct.FirstName,
		"last_name":            ct.LastName,
		"responsible_user_id":  ct.ResponsibleUserID,
		"group_id":             0,
		"created_by":           ct.CreatedBy,
		"updated_by":           ct.CreatedBy,
		"created_at":           ct.CreatedAt,
		"updated_at":           ct.UpdatedAt,
		"closest_task_at":      nil,
		"is_deleted":           false,
		"is_unsorted":          ct.Unsorted != "",
		"custom_fields_values": phoneFields(ct.Phones),
		"account_id":           c.acct.info.ID,
		"_links":               c.link("/api/v4/contacts/" + itoa(ct.ID)),
		"_embedded":            emb,
	}
}

// liveLeads filters out deleted leads.
func (c *call) liveLeads(ids []int64) []int64 {
	out := []int64{}
	for _, id := range ids {
		if l := c.acct.leads[id]; l != nil && !l.Deleted {
			out = append(out, id)
		}
	}
	return out
}

func (c *call) companyView(co *Company, w map[string]bool) map[string]any {
	emb := map[string]any{"tags": []any{}}
	if w["contacts"] {
		emb["contacts"] = idsFrom(co.ContactIDs)
	}
	if w["leads"] {
		emb["leads"] = idsFrom(c.liveLeads(co.LeadIDs))
	}
	if w["customers"] {
		emb["customers"] = idsFrom(co.CustomerIDs)
	}
	return map[string]any{
		"id":                   co.ID,
		"name":                 co.Name,
		"responsible_user_id":  co.ResponsibleUserID,
		"group_id":             0,
		"created_by":           co.CreatedBy,
		"updated_by":           co.CreatedBy,
		"created_at":           co.CreatedAt,
		"updated_at":           co.UpdatedAt,
		"is_deleted":           false,
		"custom_fields_values": phoneFields(co.Phones),
		"account_id":           c.acct.info.ID,
		"_links":               c.link("/api/v4/companies/" + itoa(co.ID)),
		"_embedded":            emb,
	}
}

func (c *call) leadView(l *Lead, w map[string]bool) map[string]any {
	emb := map[string]any{"tags": []any{}, "companies": []any{}}
	if l.CompanyID != 0 {
		emb["companies"] = idsFrom([]int64{l.CompanyID})
	}
	if w["contacts"] {
		var cs []any
		for i, id := range l.ContactIDs {
			cs = append(cs, map[string]any{"id": id, "is_main": i == 0})
		}
		if cs == nil {
			cs = []any{}
		}
		emb["contacts"] = cs
	}
	var closed any
	if l.ClosedAt != 0 {
		closed = l.ClosedAt
	}
	return map[string]any{
		"id":                   l.ID,
		"name":                 l.Name,
		"price":                l.Price,
		"responsible_user_id":  l.ResponsibleUserID,
		"group_id":             0,
		"status_id":            l.StatusID,
		"pipeline_id":          l.PipelineID,
		"loss_reason_id":       nil,
		"created_by":           l.CreatedBy,
		"updated_by":           l.CreatedBy,
		"created_at":           l.CreatedAt,
		"updated_at":           l.UpdatedAt,
		"closed_at":            closed,
		"closest_task_at":      nil,
		"is_deleted":           false,
		"custom_fields_values": nil,
		"score":                nil,
		"account_id":           c.acct.info.ID,
		"_links":               c.link("/api/v4/leads/" + itoa(l.ID)),
		"_embedded":            emb,
	}
}

func (c *call) customerView(cu *Customer) map[string]any {
	emb := map[string]any{"tags": []any{}, "contacts": idsFrom(cu.ContactIDs), "companies": []any{}}
	if cu.CompanyID != 0 {
		emb["companies"] = idsFrom([]int64{cu.CompanyID})
	}
	return map[string]any{
		"id":                  cu.ID,
		"name":                cu.Name,
		"responsible_user_id": cu.ResponsibleUserID,
		"created_by":          cu.CreatedBy,
		"updated_by":          cu.CreatedBy,
		"created_at":          cu.CreatedAt,
		"updated_at":          cu.UpdatedAt,
		"is_deleted":          false,
		"account_id":          c.acct.info.ID,
		"_links":              c.link("/api/v4/customers/" + itoa(cu.ID)),
		"_embedded":           emb,
	}
}

func (c *call) userView(u *User) map[string]any {
	return map[string]any{
		"id":    u.ID,
		"name":  u.Name,
		"email": u.Email,
		"lang":  "en",
		"rights": map[string]any{
			"is_admin":  u.Admin,
			"is_free":   false,
			"is_active": true,
			"group_id":  nil,
			"role_id":   nil,
		},
		"_links": c.link("/api/v4/users/" + itoa(u.ID)),
	}
}

// getAccount serves GET /api/v4/account.
func (c *call) getAccount() {
	a := c.acct
	body := map[string]any{
		"id":                         a.info.ID,
		"name":                       a.info.Name,
		"subdomain":                  a.info.Subdomain,
		"created_at":                 a.info.CreatedAt,
		"created_by":                 a.adminID,
		"updated_at":                 a.info.CreatedAt,
		"updated_by":                 a.adminID,
		"current_user_id":            c.user.ID,
		"country":                    "US",
		"currency":                   "USD",
		"currency_symbol":            "$",
		"customers_mode":             "periodicity",
		"is_unsorted_on":             true,
		"is_loss_reason_enabled":     false,
		"is_helpbot_enabled":         false,
		"is_technical_account":       true,
		"contact_name_display_order": 1,
		"_links":                     c.link("/api/v4/account"),
	}
	// with=task_types embeds the account's task types: Kommo's two
	// standard ones (an account may add its own; the emulator's have none).
	for _, w := range strings.Split(c.r.URL.Query().Get("with"), ",") {
		if strings.TrimSpace(w) == "task_types" {
			body["_embedded"] = map[string]any{"task_types": []map[string]any{
				{"id": 1, "name": "Follow-up", "code": "FOLLOW_UP", "color": nil, "icon_id": nil},
				{"id": 2, "name": "Meeting", "code": "MEETING", "color": nil, "icon_id": nil},
			}}
		}
	}
	c.ok(http.StatusOK, body)
}

// requireAdmin answers 403 unless the token's user is an administrator.
func (c *call) requireAdmin() bool {
	if !c.user.Admin {
		c.problem(http.StatusForbidden, "Access denied: administrator rights required")
		return false
	}
	return true
}

// listUsers serves GET /api/v4/users (administrators only).
func (c *call) listUsers() {
	if !c.requireAdmin() {
		return
	}
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	ids := c.acct.userIDs
	c.list("users", len(ids), limit, page, func(i int) any { return c.userView(c.acct.users[ids[i]]) })
}

// getUser serves GET /api/v4/users/{id} (administrators only).
func (c *call) getUser() {
	if !c.requireAdmin() {
		return
	}
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	u := c.acct.users[id]
	if u == nil {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.userView(u))
}

// listPipelines serves GET /api/v4/leads/pipelines.
func (c *call) listPipelines() {
	a := c.acct
	var ps []any
	for i, p := range a.pipelines {
		var sts []any
		for _, s := range p.Statuses {
			sts = append(sts, map[string]any{
				"id": s.ID, "name": s.Name, "sort": s.Sort, "is_editable": s.ID != StatusWon && s.ID != StatusLost,
				"pipeline_id": p.ID, "color": "#99ccff", "type": s.Type, "account_id": a.info.ID,
				"_links": c.link("/api/v4/leads/pipelines/" + itoa(p.ID) + "/statuses/" + itoa(s.ID)),
			})
		}
		ps = append(ps, map[string]any{
			"id": p.ID, "name": p.Name, "sort": (i + 1) * 10, "is_main": p.IsMain, "is_unsorted_on": true,
			"is_archive": false, "account_id": a.info.ID,
			"_links":    c.link("/api/v4/leads/pipelines/" + itoa(p.ID)),
			"_embedded": map[string]any{"statuses": sts},
		})
	}
	c.ok(http.StatusOK, map[string]any{
		"_total_items": len(ps),
		"_links":       c.link("/api/v4/leads/pipelines"),
		"_embedded":    map[string]any{"pipelines": ps},
	})
}

// queryMatcher returns how a contact or company search query matches: a
// query with at least 7 digits is a phone number, matched when a stored
// phone's digits end with the query's last 10 digits; any other query
// matches names (case-insensitive substring) and phone digits (substring).
func queryMatcher(q string) func(name string, phones []string) bool {
	q = strings.TrimSpace(q)
	if q == "" {
		return func(string, []string) bool { return true }
	}
	d := digits(q)
	if len(d) >= 7 {
		want := tail(d, 10)
		return func(_ string, phones []string) bool {
			for _, p := range phones {
				if strings.HasSuffix(tail(digits(p), 10), want) {
					return true
				}
			}
			return false
		}
	}
	low := strings.ToLower(q)
	return func(name string, phones []string) bool {
		if strings.Contains(strings.ToLower(name), low) {
			return true
		}
		if d != "" && len(d) == len(q) {
			for _, p := range phones {
				if strings.Contains(digits(p), d) {
					return true
				}
			}
		}
		return false
	}
}

// candidateContacts returns the ids to consider for a query: the phone index
// for phone queries, all contacts otherwise.
func (c *call) candidateContacts(q string) []int64 {
	if d := digits(q); len(d) >= 7 {
		ids := slices.Clone(c.acct.contactPhones[tail(d, 7)])
		slices.Sort(ids)
		return ids
	}
	return c.acct.contactIDs
}

// listContacts serves GET /api/v4/contacts (query, filter[id], with=leads).
// Contacts of pending incoming leads are not listed.
func (c *call) listContacts() {
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	qv := c.r.URL.Query()
	ids, ok := listInts(qv, "filter[id]")
	if !ok {
		badRequest(c.w, "0", "InvalidType", "filter[id]", "This value should be of type int.")
		return
	}
	q := qv.Get("query")
	match := queryMatcher(q)
	w := c.withs()
	cand := c.candidateContacts(q)
	if len(ids) > 0 {
		cand = ids
	}
	var found []*Contact
	for _, id := range cand {
		ct := c.acct.contacts[id]
		if ct == nil || !ct.visible() || !match(ct.Name, ct.Phones) {
			continue
		}
		found = append(found, ct)
	}
	c.list("contacts", len(found), limit, page, func(i int) any { return c.contactView(found[i], w) })
}

// getContact serves GET /api/v4/contacts/{id}; 204 when there is none.
func (c *call) getContact() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	ct := c.acct.contacts[id]
	if ct == nil || ct.Deleted {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.contactView(ct, c.withs()))
}

// phonesFromFields reads the PHONE values of custom_fields_values.
func phonesFromFields(it obj) ([]string, bool) {
	if !it.has("custom_fields_values") {
		return nil, true
	}
	arr, ok := it.array("custom_fields_values")
	if !ok {
		return nil, false
	}
	var phones []string
	for _, f := range arr {
		fo, ok := f.(map[string]any)
		if !ok {
			return nil, false
		}
		field := obj(fo)
		code, _ := field.str("field_code")
		fid, _, _ := field.int("field_id")
		if !strings.EqualFold(code, "PHONE") && fid != phoneFieldID {
			continue
		}
		vals, ok := field.array("values")
		if !ok {
			return nil, false
		}
		for _, v := range vals {
			vo, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			s, ok := obj(vo).str("value")
			if !ok {
				return nil, false
			}
			if s = strings.TrimSpace(s); s != "" {
				phones = append(phones, s)
			}
		}
	}
	return phones, true
}

// addContacts serves POST /api/v4/contacts.
func (c *call) addContacts() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	a := c.acct
	var v validation
	for i, it := range items {
		var errs []fieldError
		if _, ok := phonesFromFields(it); !ok {
			errs = append(errs, fieldError{"InvalidType", "custom_fields_values", "This value is not valid."})
		}
		if ids, ok := it.embeddedIDs("companies"); !ok {
			errs = append(errs, fieldError{"InvalidType", "_embedded.companies", "This value is not valid."})
		} else {
			for _, id := range ids {
				if co := a.companies[id]; co == nil || co.Deleted {
					errs = append(errs, fieldError{"NotFound", "_embedded.companies", "Company not found."})
				}
			}
		}
		if r, present, ok := it.int("responsible_user_id"); present && (!ok || a.users[r] == nil) {
			errs = append(errs, fieldError{"NotFound", "responsible_user_id", "User not found."})
		}
		v.add(it.requestID(i), errs)
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	var out []any
	for i, it := range items {
		phones, _ := phonesFromFields(it)
		companies, _ := it.embeddedIDs("companies")
		ct := &Contact{Phones: phones, CreatedBy: c.user.ID, CreatedAt: c.unix(), UpdatedAt: c.unix()}
		ct.Name, _ = it.str("name")
		ct.FirstName, _ = it.str("first_name")
		ct.LastName, _ = it.str("last_name")
		if ct.Name == "" {
			ct.Name = strings.TrimSpace(ct.FirstName + " " + ct.LastName)
		}
		ct.ResponsibleUserID = c.user.ID
		if r, present, _ := it.int("responsible_user_id"); present {
			ct.ResponsibleUserID = r
		}
		if at, present, _ := it.int("created_at"); present && at > 0 {
			ct.CreatedAt, ct.UpdatedAt = at, at
		}
		if len(companies) > 0 {
			ct.CompanyID = companies[0]
		}
		c.e.st.addContact(a, ct)
		out = append(out, map[string]any{"id": ct.ID, "request_id": it.requestID(i), "is_deleted": false, "_links": c.link("/api/v4/contacts/" + itoa(ct.ID))})
	}
	c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/contacts"), "_embedded": map[string]any{"contacts": out}})
}

// listCompanies serves GET /api/v4/companies (query, filter[id]).
func (c *call) listCompanies() {
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	qv := c.r.URL.Query()
	ids, ok := listInts(qv, "filter[id]")
	if !ok {
		badRequest(c.w, "0", "InvalidType", "filter[id]", "This value should be of type int.")
		return
	}
	match := queryMatcher(qv.Get("query"))
	cand := c.acct.companyIDs
	if len(ids) > 0 {
		cand = ids
	}
	w := c.withs()
	var found []*Company
	for _, id := range cand {
		co := c.acct.companies[id]
		if co == nil || !co.visible() || !match(co.Name, co.Phones) {
			continue
		}
		found = append(found, co)
	}
	c.list("companies", len(found), limit, page, func(i int) any { return c.companyView(found[i], w) })
}

// getCompany serves GET /api/v4/companies/{id}.
func (c *call) getCompany() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	co := c.acct.companies[id]
	if co == nil || co.Deleted {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.companyView(co, c.withs()))
}

// getCustomer serves GET /api/v4/customers/{id}.
func (c *call) getCustomer() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	cu := c.acct.customers[id]
	if cu == nil {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.customerView(cu))
}

// listLeads serves GET /api/v4/leads (filter[id], query, with=contacts).
// Leads of pending incoming leads are listed (in the incoming-leads status).
func (c *call) listLeads() {
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	qv := c.r.URL.Query()
	ids, ok := listInts(qv, "filter[id]")
	if !ok {
		badRequest(c.w, "0", "InvalidType", "filter[id]", "This value should be of type int.")
		return
	}
	q := strings.ToLower(strings.TrimSpace(qv.Get("query")))
	cand := c.acct.leadIDs
	if len(ids) > 0 {
		cand = ids
	}
	w := c.withs()
	var found []*Lead
	for _, id := range cand {
		l := c.acct.leads[id]
		if l == nil || l.Deleted {
			continue
		}
		if q != "" && !strings.Contains(strings.ToLower(l.Name), q) && itoa(l.ID) != q {
			continue
		}
		found = append(found, l)
	}
	c.list("leads", len(found), limit, page, func(i int) any { return c.leadView(found[i], w) })
}

// getLead serves GET /api/v4/leads/{id}.
func (c *call) getLead() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	l := c.acct.leads[id]
	if l == nil || l.Deleted {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.leadView(l, c.withs()))
}

// leadStatus resolves pipeline_id/status_id of a lead write; current is the
// lead being patched (nil on create).
func (c *call) leadStatus(it obj, current *Lead) (pipelineID, statusID int64, errs []fieldError) {
	a := c.acct
	var p *Pipeline
	if current != nil {
		p = a.pipeline(current.PipelineID)
		statusID = current.StatusID
	}
	if pid, present, ok := it.int("pipeline_id"); present {
		if !ok || a.pipeline(pid) == nil {
			return 0, 0, []fieldError{{"NotFound", "pipeline_id", "Pipeline not found."}}
		}
		p = a.pipeline(pid)
		if current == nil || pid != current.PipelineID {
			statusID = p.firstWorkingStatus()
		}
	}
	if p == nil {
		p = a.mainPipeline()
		statusID = p.firstWorkingStatus()
	}
	if sid, present, ok := it.int("status_id"); present {
		if !ok || !p.hasStatus(sid) {
			return 0, 0, []fieldError{{"NotFound", "status_id", "Status not found in the pipeline."}}
		}
		statusID = sid
	}
	return p.ID, statusID, nil
}

// addLeads serves POST /api/v4/leads.
func (c *call) addLeads() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	a := c.acct
	var v validation
	for i, it := range items {
		_, _, errs := c.leadStatus(it, nil)
		if cs, ok := it.embeddedIDs("contacts"); !ok {
			errs = append(errs, fieldError{"InvalidType", "_embedded.contacts", "This value is not valid."})
		} else {
			for _, id := range cs {
				if ct := a.contacts[id]; ct == nil || ct.Deleted {
					errs = append(errs, fieldError{"NotFound", "_embedded.contacts", "Contact not found."})
				}
			}
		}
		if cos, ok := it.embeddedIDs("companies"); !ok {
			errs = append(errs, fieldError{"InvalidType", "_embedded.companies", "This value is not valid."})
		} else {
			for _, id := range cos {
				if co := a.companies[id]; co == nil || co.Deleted {
					errs = append(errs, fieldError{"NotFound", "_embedded.companies", "Company not found."})
				}
			}
		}
		if _, present, ok := it.int("price"); present && !ok {
			errs = append(errs, fieldError{"InvalidType", "price", "This value should be of type int."})
		}
		if r, present, ok := it.int("responsible_user_id"); present && (!ok || a.users[r] == nil) {
			errs = append(errs, fieldError{"NotFound", "responsible_user_id", "User not found."})
		}
		v.add(it.requestID(i), errs)
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	var out []any
	for i, it := range items {
		pid, sid, _ := c.leadStatus(it, nil)
		contacts, _ := it.embeddedIDs("contacts")
		companies, _ := it.embeddedIDs("companies")
		l := &Lead{PipelineID: pid, StatusID: sid, CreatedBy: c.user.ID, ResponsibleUserID: c.user.ID, ContactIDs: contacts,
			CreatedAt: c.unix(), UpdatedAt: c.unix()}
		l.Name, _ = it.str("name")
		l.Price, _, _ = it.int("price")
		if r, present, _ := it.int("responsible_user_id"); present {
			l.ResponsibleUserID = r
		}
		if at, present, _ := it.int("created_at"); present && at > 0 {
			l.CreatedAt, l.UpdatedAt = at, at
		}
		if len(companies) > 0 {
			l.CompanyID = companies[0]
		}
		if l.Name == "" {
			l.Name = "Lead"
		}
		c.e.st.addLead(a, l)
		out = append(out, map[string]any{"id": l.ID, "request_id": it.requestID(i), "_links": c.link("/api/v4/leads/" + itoa(l.ID))})
	}
	c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/leads"), "_embedded": map[string]any{"leads": out}})
}

// patchLeads serves PATCH /api/v4/leads (array with id).
func (c *call) patchLeads() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	out, ok := c.updateLeads(items, nil)
	if ok {
		c.ok(http.StatusOK, map[string]any{"_links": c.link("/api/v4/leads"), "_embedded": map[string]any{"leads": out}})
	}
}

// patchLead serves PATCH /api/v4/leads/{id}.
func (c *call) patchLead() {
	id, ok := c.pathID("id")
	if !ok {
		return
	}
	it, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	if l := c.acct.leads[id]; l == nil || l.Deleted {
		c.problem(http.StatusNotFound, "Lead not found")
		return
	}
	out, ok := c.updateLeads([]obj{it}, &id)
	if ok {
		c.ok(http.StatusOK, out[0])
	}
}

// updateLeads validates then applies lead updates; pathID overrides the
// items' id.
func (c *call) updateLeads(items []obj, pathID *int64) ([]any, bool) {
	a := c.acct
	leadOf := func(it obj) *Lead {
		id, _, _ := it.int("id")
		if pathID != nil {
			id = *pathID
		}
		if l := a.leads[id]; l != nil && !l.Deleted {
			return l
		}
		return nil
	}
	var v validation
	for i, it := range items {
		l := leadOf(it)
		if l == nil {
			v.add(it.requestID(i), []fieldError{{"NotFound", "id", "Lead not found."}})
			continue
		}
		_, _, errs := c.leadStatus(it, l)
		if _, present, ok := it.int("price"); present && !ok {
			errs = append(errs, fieldError{"InvalidType", "price", "This value should be of type int."})
		}
		if r, present, ok := it.int("responsible_user_id"); present && (!ok || a.users[r] == nil) {
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
		l := leadOf(it)
		l.PipelineID, l.StatusID, _ = c.leadStatus(it, l)
		if s, ok := it.str("name"); ok {
			l.Name = s
		}
		if n, present, _ := it.int("price"); present {
			l.Price = n
		}
		if r, present, _ := it.int("responsible_user_id"); present {
			l.ResponsibleUserID = r
		}
		l.UpdatedAt = c.unix()
		if l.Active() {
			l.ClosedAt = 0
		} else if l.ClosedAt == 0 {
			l.ClosedAt = l.UpdatedAt
		}
		out = append(out, map[string]any{"id": l.ID, "updated_at": l.UpdatedAt, "request_id": it.requestID(i), "_links": c.link("/api/v4/leads/" + itoa(l.ID))})
	}
	return out, true
}
