package sandbox

import (
	"maps"
	"slices"

	"callbridge"
)

// State returns a deep copy of everything the emulator holds: accounts with
// their users, pipelines, contacts, companies, leads, customers, notes,
// incoming leads, tasks and call notifications (each ordered by id), the
// hooks it sent, and Stats. Deleted entities are included, marked Deleted.
func (e *Emulator) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	w := e.st
	s := State{Accounts: []AccountState{}, Hooks: slices.Clone(w.hooks), Stats: e.statsLocked()}
	if s.Hooks == nil {
		s.Hooks = []HookDelivery{}
	}
	ids := slices.Sorted(maps.Keys(w.accounts))
	for _, id := range ids {
		s.Accounts = append(s.Accounts, w.accounts[id].dump())
	}
	return s
}

func (a *account) dump() AccountState {
	out := a.info
	out.AdminUserID = a.adminID
	out.PaymentRequired = a.paymentRequired
	out.Installed = a.installed
	out.Users = []User{}
	for _, id := range a.userIDs {
		out.Users = append(out.Users, *a.users[id])
	}
	out.Pipelines = []Pipeline{}
	for _, p := range a.pipelines {
		cp := *p
		cp.Statuses = slices.Clone(p.Statuses)
		out.Pipelines = append(out.Pipelines, cp)
	}
	out.Contacts = []Contact{}
	for _, id := range a.contactIDs {
		c := *a.contacts[id]
		c.Phones, c.LeadIDs, c.CustomerIDs = slices.Clone(c.Phones), slices.Clone(c.LeadIDs), slices.Clone(c.CustomerIDs)
		out.Contacts = append(out.Contacts, c)
	}
	out.Companies = []Company{}
	for _, id := range a.companyIDs {
		c := *a.companies[id]
		c.Phones, c.ContactIDs = slices.Clone(c.Phones), slices.Clone(c.ContactIDs)
		c.LeadIDs, c.CustomerIDs = slices.Clone(c.LeadIDs), slices.Clone(c.CustomerIDs)
		out.Companies = append(out.Companies, c)
	}
	out.Leads = []Lead{}
	for _, id := range a.leadIDs {
		l := *a.leads[id]
		l.ContactIDs = slices.Clone(l.ContactIDs)
		out.Leads = append(out.Leads, l)
	}
	out.Customers = []Customer{}
	for _, id := range a.customerIDs {
		cu := *a.customers[id]
		cu.ContactIDs = slices.Clone(cu.ContactIDs)
		out.Customers = append(out.Customers, cu)
	}
	out.Notes = []Note{}
	for _, id := range slices.Sorted(maps.Keys(a.notes)) {
		n := *a.notes[id]
		n.Params = copyParams(n.Params)
		out.Notes = append(out.Notes, n)
	}
	out.Unsorted = []Unsorted{}
	for _, uid := range a.unsortedUIDs {
		u := *a.unsorted[uid]
		u.Metadata = copyParams(u.Metadata)
		u.LeadIDs, u.ContactIDs, u.CompanyIDs = slices.Clone(u.LeadIDs), slices.Clone(u.ContactIDs), slices.Clone(u.CompanyIDs)
		out.Unsorted = append(out.Unsorted, u)
	}
	out.Tasks = []Task{}
	for _, id := range a.taskIDs {
		out.Tasks = append(out.Tasks, *a.tasks[id])
	}
	out.Events = []Event{}
	for _, ev := range a.events {
		ev.Users = slices.Clone(ev.Users)
		out.Events = append(out.Events, ev)
	}
	out.Webhooks = []Webhook{}
	for _, h := range a.webhooks {
		cp := *h
		cp.Settings = slices.Clone(h.Settings)
		out.Webhooks = append(out.Webhooks, cp)
	}
	return out
}

// Stats returns a copy of the request statistics.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.statsLocked()
}

func (e *Emulator) statsLocked() Stats {
	s := e.st.stats
	s.Requests = make(map[string]map[int]int, len(s.Requests))
	for k, v := range e.st.stats.Requests {
		s.Requests[k] = maps.Clone(v)
	}
	s.MaxPerSecondByIP = maps.Clone(s.MaxPerSecondByIP)
	s.MaxPerSecondByAccount = maps.Clone(s.MaxPerSecondByAccount)
	s.Served = maps.Clone(s.Served)
	return s
}

// SetPaymentRequired turns the account's "subscription ended" flag on or
// off: while on, every API call with its tokens answers 402.
func (e *Emulator) SetPaymentRequired(accountID int64, on bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.st.accounts[accountID]
	if a == nil {
		return callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: account %d not found", accountID)
	}
	a.paymentRequired = on
	return nil
}

// ExpireAccessTokens ends the life of every access token of the account
// now, as the passing of their 24 hours would: requests with them answer 401
// "Access token has expired" until the client refreshes. Refresh tokens
// keep working.
func (e *Emulator) ExpireAccessTokens(accountID int64) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.st.accounts[accountID] == nil {
		return callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: account %d not found", accountID)
	}
	now := e.now()
	for _, g := range e.st.byAccess {
		if g.accountID == accountID && g.accessExp.After(now) {
			g.accessExp = now
		}
	}
	return nil
}

// EditNote changes a note's params as a manager editing it by hand in
// Kommo would: the given keys (typically "text" or "call_result") replace
// the stored ones, updated_at becomes now and updated_by the account's
// admin. It returns the edited note.
func (e *Emulator) EditNote(noteID int64, params map[string]any) (Note, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	a := e.st.noteOwner[noteID]
	if a == nil || a.notes[noteID] == nil || a.notes[noteID].Deleted {
		return Note{}, callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: note %d not found", noteID)
	}
	n := a.notes[noteID]
	for k, v := range params {
		n.Params[k] = normalize(v)
	}
	n.UpdatedAt = e.now().Unix()
	n.UpdatedBy = a.adminID
	out := *n
	out.Params = copyParams(n.Params)
	return out, nil
}
