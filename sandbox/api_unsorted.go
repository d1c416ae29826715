package sandbox

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"callbridge"
)

func (c *call) unsortedView(u *Unsorted) map[string]any {
	a := c.acct
	leads := []any{}
	for _, id := range u.LeadIDs {
		if l := a.leads[id]; l != nil {
			leads = append(leads, c.leadView(l, nil))
		}
	}
	contacts := []any{}
	for _, id := range u.ContactIDs {
		if ct := a.contacts[id]; ct != nil {
			contacts = append(contacts, c.contactView(ct, nil))
		}
	}
	companies := []any{}
	for _, id := range u.CompanyIDs {
		if co := a.companies[id]; co != nil {
			companies = append(companies, c.companyView(co, nil))
		}
	}
	return map[string]any{
		"uid":         u.UID,
		"source_uid":  u.SourceUID,
		"source_name": u.SourceName,
		"category":    u.Category,
		"pipeline_id": u.PipelineID,
		"created_at":  u.CreatedAt,
		"metadata":    copyParams(u.Metadata),
		"account_id":  a.info.ID,
		"_links":      c.link("/api/v4/leads/unsorted/" + u.UID),
		"_embedded":   map[string]any{"leads": leads, "contacts": contacts, "companies": companies},
	}
}

// validateSIP checks one item of POST /api/v4/leads/unsorted/sip.
func (c *call) validateSIP(it obj, batchSources map[string]bool) []fieldError {
	var errs []fieldError
	src, ok := it.str("source_uid")
	if !ok || src == "" {
		errs = append(errs, fieldError{"NotBlank", "source_uid", "This value should not be blank."})
	} else if c.acct.pendingSources[src] != "" || batchSources[src] {
		errs = append(errs, fieldError{"NotUnique", "source_uid", "An incoming lead with this source_uid already exists."})
	} else {
		batchSources[src] = true
	}
	if s, ok := it.str("source_name"); !ok || s == "" {
		errs = append(errs, fieldError{"NotBlank", "source_name", "This value should not be blank."})
	}
	md, ok := it.object("metadata")
	if !ok {
		errs = append(errs, fieldError{"NotBlank", "metadata", "This value should not be blank."})
	} else {
		if s, ok := md.str("from"); !ok || strings.TrimSpace(s) == "" {
			errs = append(errs, fieldError{"NotBlank", "metadata.from", "This value should not be blank."})
		}
		for _, f := range []string{"duration", "called_at"} {
			if _, present, ok := md.int(f); present && !ok {
				errs = append(errs, fieldError{"InvalidType", "metadata." + f, "This value should be of type int."})
			}
		}
	}
	if pid, present, ok := it.int("pipeline_id"); present && (!ok || c.acct.pipeline(pid) == nil) {
		errs = append(errs, fieldError{"NotFound", "pipeline_id", "Pipeline not found."})
	}
	if _, present, ok := it.int("created_at"); present && !ok {
		errs = append(errs, fieldError{"InvalidType", "created_at", "This value should be of type int."})
	}
	if emb, ok := it.object("_embedded"); ok {
		for _, k := range []string{"leads", "contacts", "companies"} {
			if arr, ok := emb.array(k); ok {
				for _, x := range arr {
					if _, ok := x.(map[string]any); !ok {
						errs = append(errs, fieldError{"InvalidType", "_embedded." + k, "This value is not valid."})
						break
					}
				}
			} else if emb.has(k) {
				errs = append(errs, fieldError{"InvalidType", "_embedded." + k, "This value is not valid."})
			}
		}
	}
	return errs
}

// firstEmbedded returns _embedded[key][0] as an object.
func firstEmbedded(it obj, key string) (obj, bool) {
	emb, ok := it.object("_embedded")
	if !ok {
		return nil, false
	}
	arr, ok := emb.array(key)
	if !ok || len(arr) == 0 {
		return nil, false
	}
	m, ok := arr[0].(map[string]any)
	return obj(m), ok
}

// addUnsortedSIP serves POST /api/v4/leads/unsorted/sip. Each item creates a
// pending incoming lead: a lead in the pipeline's incoming-leads status, a
// contact with the caller's number (metadata.from) unless one is embedded,
// an embedded company if given, and — unless metadata.is_call_event_needed
// is false — a call_in note on the lead.
func (c *call) addUnsortedSIP() {
	items, ok := decodeArray(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON array.")
		return
	}
	if len(items) > maxPage {
		c.overLimit()
		return
	}
	var v validation
	sources := map[string]bool{}
	for i, it := range items {
		v.add(it.requestID(i), c.validateSIP(it, sources))
	}
	if v.failed() {
		v.write(c.w)
		return
	}
	w, a := c.e.st, c.acct
	out := make([]any, 0, len(items))
	for i, it := range items {
		md, _ := it.object("metadata")
		from, _ := md.str("from")
		from = strings.TrimSpace(from)
		srcUID, _ := it.str("source_uid")
		srcName, _ := it.str("source_name")
		p := a.mainPipeline()
		if pid, present, _ := it.int("pipeline_id"); present {
			p = a.pipeline(pid)
		}
		created := c.unix()
		if at, present, _ := it.int("created_at"); present && at > 0 {
			created = at
		}
		uid := uuid()
		u := &Unsorted{UID: uid, SourceUID: srcUID, SourceName: srcName, Category: "sip", PipelineID: p.ID,
			CreatedAt: created, Status: UnsortedPending, CompanyIDs: []int64{}}
		meta, _ := normalize(md).(map[string]any)
		delete(meta, "is_call_event_needed")
		u.Metadata = meta

		var co *Company
		if eco, ok := firstEmbedded(it, "companies"); ok {
			phones, _ := phonesFromFields(eco)
			co = &Company{Phones: phones, ResponsibleUserID: c.user.ID, CreatedBy: c.user.ID, CreatedAt: created, UpdatedAt: created, Unsorted: uid}
			co.Name, _ = eco.str("name")
			w.addCompany(a, co)
			u.CompanyIDs = []int64{co.ID}
		}
		ct := &Contact{ResponsibleUserID: c.user.ID, CreatedBy: c.user.ID, CreatedAt: created, UpdatedAt: created, Unsorted: uid}
		if ect, ok := firstEmbedded(it, "contacts"); ok {
			ct.Phones, _ = phonesFromFields(ect)
			ct.Name, _ = ect.str("name")
			ct.FirstName, _ = ect.str("first_name")
			ct.LastName, _ = ect.str("last_name")
		}
		if len(ct.Phones) == 0 {
			ct.Phones = []string{from}
		}
		if ct.Name == "" {
			ct.Name = from
		}
		if co != nil {
			ct.CompanyID = co.ID
		}
		w.addContact(a, ct)
		u.ContactIDs = []int64{ct.ID}

		l := &Lead{PipelineID: p.ID, StatusID: p.unsortedStatus(), ResponsibleUserID: c.user.ID, CreatedBy: c.user.ID,
			ContactIDs: []int64{ct.ID}, CreatedAt: created, UpdatedAt: created, Unsorted: uid}
		if el, ok := firstEmbedded(it, "leads"); ok {
			l.Name, _ = el.str("name")
			l.Price, _, _ = el.int("price")
		}
		if l.Name == "" {
			l.Name = "Incoming call " + from
		}
		if co != nil {
			l.CompanyID = co.ID
		}
		w.addLead(a, l)
		u.LeadIDs = []int64{l.ID}

		if need, present := md.bool("is_call_event_needed"); !present || need {
			params := map[string]any{"source": srcName, "phone": from}
			for _, f := range []string{"uniq", "link"} {
				s, _ := md.str(f)
				params[f] = s
			}
			d, _, _ := md.int("duration")
			params["duration"] = d
			at := created
			if ca, present, _ := md.int("called_at"); present && ca > 0 {
				at = ca
			}
			n := w.addNote(a, &Note{EntityType: "leads", EntityID: l.ID, NoteType: "call_in", Params: params,
				ResponsibleUserID: c.user.ID, CreatedAt: at, UpdatedAt: at})
			u.NoteID = n.ID
		}

		a.unsorted[uid] = u
		a.unsortedUIDs = append(a.unsortedUIDs, uid)
		a.pendingSources[srcUID] = uid
		w.unsorted[uid] = a
		out = append(out, map[string]any{
			"uid":        uid,
			"request_id": it.requestID(i),
			"account_id": a.info.ID,
			"_links":     c.link("/api/v4/leads/unsorted/" + uid),
			"_embedded": map[string]any{
				"leads":     []any{map[string]any{"id": l.ID, "_links": c.link("/api/v4/leads/" + itoa(l.ID))}},
				"contacts":  []any{map[string]any{"id": ct.ID, "_links": c.link("/api/v4/contacts/" + itoa(ct.ID))}},
				"companies": idsFrom(u.CompanyIDs),
			},
		})
	}
	c.ok(http.StatusOK, map[string]any{"_total_items": len(out), "_embedded": map[string]any{"unsorted": out}})
}

// listUnsorted serves GET /api/v4/leads/unsorted: pending incoming leads,
// filter[uid], filter[category][], filter[pipeline_id], order[created_at].
func (c *call) listUnsorted() {
	limit, page, ok := c.paging()
	if !ok {
		return
	}
	q := c.r.URL.Query()
	uids := listValues(q, "filter[uid]")
	cats := listValues(q, "filter[category]")
	pids, ok := listInts(q, "filter[pipeline_id]")
	if !ok {
		badRequest(c.w, "0", "InvalidType", "filter[pipeline_id]", "This value should be of type int.")
		return
	}
	a := c.acct
	cand := a.unsortedUIDs
	if len(uids) > 0 {
		cand = uids
	}
	var found []*Unsorted
	for _, uid := range cand {
		u := a.unsorted[uid]
		if u == nil || u.Status != UnsortedPending {
			continue
		}
		if len(cats) > 0 && !slices.Contains(cats, u.Category) {
			continue
		}
		if len(pids) > 0 && !slices.Contains(pids, u.PipelineID) {
			continue
		}
		found = append(found, u)
	}
	if q.Get("order[created_at]") == "desc" {
		slices.Reverse(found)
	}
	c.list("unsorted", len(found), limit, page, func(i int) any { return c.unsortedView(found[i]) })
}

// getUnsorted serves GET /api/v4/leads/unsorted/{uid}; 204 unless pending.
func (c *call) getUnsorted() {
	u := c.acct.unsorted[c.vars["uid"]]
	if u == nil || u.Status != UnsortedPending {
		c.noContent()
		return
	}
	c.ok(http.StatusOK, c.unsortedView(u))
}

// acceptUnsorted serves POST /api/v4/leads/unsorted/{uid}/accept
// {user_id?, status_id?}.
func (c *call) acceptUnsorted() {
	body, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	userID, _, uok := body.int("user_id")
	statusID, _, sok := body.int("status_id")
	if !uok || !sok {
		badRequest(c.w, "0", "InvalidType", "", "user_id and status_id must be integers.")
		return
	}
	if userID == 0 {
		userID = c.user.ID
	}
	c.resolveUnsorted(c.vars["uid"], true, userID, statusID)
}

// declineUnsorted serves DELETE /api/v4/leads/unsorted/{uid}/decline
// {user_id?}.
func (c *call) declineUnsorted() {
	body, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	userID, _, uok := body.int("user_id")
	if !uok {
		badRequest(c.w, "0", "InvalidType", "user_id", "This value should be of type int.")
		return
	}
	if userID == 0 {
		userID = c.user.ID
	}
	c.resolveUnsorted(c.vars["uid"], false, userID, 0)
}

// resolveUnsorted accepts or declines a pending incoming lead of c.acct and
// answers. Accept moves the lead to statusID (default: the pipeline's first
// working status), makes userID responsible and reveals the entities;
// decline deletes them (and their notes). Either way the account webhook is
// queued. Called with mu held.
func (c *call) resolveUnsorted(uid string, accept bool, userID, statusID int64) {
	a := c.acct
	u := a.unsorted[uid]
	if u == nil || u.Status != UnsortedPending {
		c.problem(http.StatusNotFound, "Incoming lead not found or already processed")
		return
	}
	if a.users[userID] == nil {
		badRequest(c.w, "0", "NotFound", "user_id", "User not found.")
		return
	}
	p := a.pipeline(u.PipelineID)
	if accept && statusID != 0 && (!p.hasStatus(statusID) || statusID == p.unsortedStatus()) {
		badRequest(c.w, "0", "NotFound", "status_id", "Status not found in the pipeline.")
		return
	}
	now := c.unix()
	u.ProcessedAt, u.ProcessedBy = now, userID
	delete(a.pendingSources, u.SourceUID)
	if accept {
		u.Status = UnsortedAccepted
		if statusID == 0 {
			statusID = p.firstWorkingStatus()
		}
		for _, id := range u.LeadIDs {
			if l := a.leads[id]; l != nil {
				l.Unsorted, l.StatusID, l.ResponsibleUserID, l.UpdatedAt = "", statusID, userID, now
				if !l.Active() {
					l.ClosedAt = now
				}
			}
		}
		for _, id := range u.ContactIDs {
			if ct := a.contacts[id]; ct != nil {
				ct.Unsorted, ct.ResponsibleUserID, ct.UpdatedAt = "", userID, now
			}
		}
		for _, id := range u.CompanyIDs {
			if co := a.companies[id]; co != nil {
				co.Unsorted, co.ResponsibleUserID, co.UpdatedAt = "", userID, now
			}
		}
	} else {
		u.Status = UnsortedDeclined
		for _, id := range u.LeadIDs {
			if l := a.leads[id]; l != nil {
				l.Deleted, l.UpdatedAt = true, now
				a.deleteNotes("leads", id)
			}
		}
		for _, id := range u.ContactIDs {
			if ct := a.contacts[id]; ct != nil {
				ct.Deleted, ct.UpdatedAt = true, now
				a.deleteNotes("contacts", id)
			}
		}
		for _, id := range u.CompanyIDs {
			if co := a.companies[id]; co != nil {
				co.Deleted, co.UpdatedAt = true, now
				a.deleteNotes("companies", id)
			}
		}
	}
	c.queueUnsortedWebhook(u, accept, userID)
	c.ok(http.StatusOK, map[string]any{
		"uid":         u.UID,
		"category":    u.Category,
		"pipeline_id": u.PipelineID,
		"created_at":  u.CreatedAt,
		"_links":      c.link("/api/v4/leads/unsorted/" + u.UID),
		"_embedded": map[string]any{
			"leads":     idsFrom(u.LeadIDs),
			"contacts":  idsFrom(u.ContactIDs),
			"companies": idsFrom(u.CompanyIDs),
		},
	})
}

func (a *account) deleteNotes(typ string, id int64) {
	for _, nid := range a.notesByEntity[entityKey{typ, id}] {
		if n := a.notes[nid]; n != nil {
			n.Deleted = true
		}
	}
}

// queueUnsortedWebhook schedules the account webhook for an accepted or
// declined incoming lead, delivered after mu is released to
// Config.WebhookURL and to every destination registered for
// "delete_unsorted".
func (c *call) queueUnsortedWebhook(u *Unsorted, accept bool, userID int64) {
	e := c.e
	dests := c.webhookDestinations("delete_unsorted")
	if len(dests) == 0 {
		return
	}
	action, result := "decline", "decline_result"
	if accept {
		action, result = "accept", "accept_result"
	}
	const p = "unsorted[delete][0]"
	v := url.Values{}
	v.Set(p+"[uid]", u.UID)
	v.Set(p+"[category]", u.Category)
	v.Set(p+"[action]", action)
	v.Set(p+"[pipeline_id]", itoa(u.PipelineID))
	v.Set(p+"[created_at]", itoa(u.CreatedAt))
	v.Set(p+"[modified_user_id]", itoa(userID))
	for i, id := range u.LeadIDs {
		v.Set(p+"["+result+"][leads]["+strconv.Itoa(i)+"]", itoa(id))
	}
	if accept {
		for i, id := range u.ContactIDs {
			v.Set(p+"["+result+"][contacts]["+strconv.Itoa(i)+"]", itoa(id))
		}
		for i, id := range u.CompanyIDs {
			v.Set(p+"["+result+"][companies]["+strconv.Itoa(i)+"]", itoa(id))
		}
	}
	v.Set("account[id]", itoa(c.acct.info.ID))
	v.Set("account[subdomain]", c.acct.info.Subdomain)
	v.Set("account[_links][self]", "https://"+c.acct.info.Subdomain+".kommo.com")
	body, accountID := v.Encode(), c.acct.info.ID
	for _, dest := range dests {
		e.wg.Add(1)
		c.after = append(c.after, func() { go e.deliverWebhook(accountID, dest, body) })
	}
}

// deliverWebhook POSTs one account webhook (form-encoded, 2 s timeout, no
// retries) and records the outcome.
func (e *Emulator) deliverWebhook(accountID int64, dest, body string) {
	defer e.wg.Done()
	h := HookDelivery{Kind: HookWebhook, AccountID: accountID, URL: dest, Body: body}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, dest, bytes.NewReader([]byte(body)))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		var resp *http.Response
		if resp, err = e.webhooks.Do(req); err == nil {
			h.Status = resp.StatusCode
			_ = resp.Body.Close()
		}
	}
	h.Error = errString(err)
	e.addHook(h)
}

// AcceptUnsorted accepts a pending incoming lead as a manager would in
// Kommo's interface: userID (0 = the account's admin) becomes responsible,
// statusID 0 means the pipeline's first working status. The account webhook
// is sent as for the API.
func (e *Emulator) AcceptUnsorted(uid string, userID, statusID int64) error {
	return e.manageUnsorted(uid, true, userID, statusID)
}

// DeclineUnsorted declines a pending incoming lead as a manager would: its
// lead, contact, company and notes are deleted.
func (e *Emulator) DeclineUnsorted(uid string, userID int64) error {
	return e.manageUnsorted(uid, false, userID, 0)
}

func (e *Emulator) manageUnsorted(uid string, accept bool, userID, statusID int64) error {
	e.mu.Lock()
	a := e.st.unsorted[uid]
	if a == nil {
		e.mu.Unlock()
		return callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: incoming lead %q not found", uid)
	}
	if userID == 0 {
		userID = a.adminID
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+e.st.host+"/", nil)
	c := &call{e: e, w: newBufWriter(), r: req, now: e.now(), acct: a, user: a.users[a.adminID]}
	c.resolveUnsorted(uid, accept, userID, statusID)
	after := c.after
	e.mu.Unlock()
	for _, f := range after {
		f()
	}
	switch c.w.code() {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		return callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: incoming lead %q not found or already processed", uid)
	}
	return callbridge.Errorf(callbridge.EINVALID, "sandbox: %s", strings.TrimSpace(c.w.body.String()))
}
