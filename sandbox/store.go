package sandbox

import (
	"slices"
	"strconv"
	"strings"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// digits returns the decimal digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// tail returns the last n characters of d (all of d if shorter).
func tail(d string, n int) string {
	if len(d) > n {
		return d[len(d)-n:]
	}
	return d
}

// phoneKey is the index key of a phone: its last 7 digits.
func phoneKey(p string) string { return tail(digits(p), 7) }

func appendUnique(ids []int64, id int64) []int64 {
	if slices.Contains(ids, id) {
		return ids
	}
	return append(ids, id)
}

func (c *Contact) visible() bool { return !c.Deleted && c.Unsorted == "" }
func (c *Company) visible() bool { return !c.Deleted && c.Unsorted == "" }
func (l *Lead) visible() bool    { return !l.Deleted && l.Unsorted == "" }

// addContact stores c (c.ID 0 = allocate) and indexes its phones.
func (w *world) addContact(a *account, c *Contact) *Contact {
	c.ID = w.assign(&w.ids.contact, c.ID)
	if c.Phones == nil {
		c.Phones = []string{}
	}
	c.LeadIDs, c.CustomerIDs = []int64{}, []int64{}
	a.contacts[c.ID] = c
	a.contactIDs = append(a.contactIDs, c.ID)
	for _, p := range c.Phones {
		k := phoneKey(p)
		if k != "" {
			a.contactPhones[k] = appendUnique(a.contactPhones[k], c.ID)
		}
	}
	if co := a.companies[c.CompanyID]; co != nil {
		co.ContactIDs = appendUnique(co.ContactIDs, c.ID)
	}
	return c
}

func (w *world) addCompany(a *account, c *Company) *Company {
	c.ID = w.assign(&w.ids.company, c.ID)
	if c.Phones == nil {
		c.Phones = []string{}
	}
	c.ContactIDs, c.LeadIDs, c.CustomerIDs = []int64{}, []int64{}, []int64{}
	a.companies[c.ID] = c
	a.companyIDs = append(a.companyIDs, c.ID)
	for _, p := range c.Phones {
		k := phoneKey(p)
		if k != "" {
			a.companyPhones[k] = appendUnique(a.companyPhones[k], c.ID)
		}
	}
	return c
}

// addLead stores l and links it to its contacts and company (which must
// exist).
func (w *world) addLead(a *account, l *Lead) *Lead {
	l.ID = w.assign(&w.ids.lead, l.ID)
	if l.ContactIDs == nil {
		l.ContactIDs = []int64{}
	}
	a.leads[l.ID] = l
	a.leadIDs = append(a.leadIDs, l.ID)
	for _, cid := range l.ContactIDs {
		if c := a.contacts[cid]; c != nil {
			c.LeadIDs = appendUnique(c.LeadIDs, l.ID)
		}
	}
	if co := a.companies[l.CompanyID]; co != nil {
		co.LeadIDs = appendUnique(co.LeadIDs, l.ID)
	}
	if !l.Active() && l.ClosedAt == 0 {
		l.ClosedAt = l.UpdatedAt
	}
	return l
}

func (w *world) addCustomer(a *account, cu *Customer) *Customer {
	cu.ID = w.assign(&w.ids.customer, cu.ID)
	if cu.ContactIDs == nil {
		cu.ContactIDs = []int64{}
	}
	a.customers[cu.ID] = cu
	a.customerIDs = append(a.customerIDs, cu.ID)
	for _, cid := range cu.ContactIDs {
		if c := a.contacts[cid]; c != nil {
			c.CustomerIDs = appendUnique(c.CustomerIDs, cu.ID)
		}
	}
	if co := a.companies[cu.CompanyID]; co != nil {
		co.CustomerIDs = appendUnique(co.CustomerIDs, cu.ID)
	}
	return cu
}

// addNote stores n and indexes it by entity type and entity.
func (w *world) addNote(a *account, n *Note) *Note {
	n.ID = w.assign(&w.ids.note, 0)
	if n.Params == nil {
		n.Params = map[string]any{}
	}
	if n.UpdatedAt == 0 {
		n.UpdatedAt = n.CreatedAt
	}
	a.notes[n.ID] = n
	a.notesByType[n.EntityType] = append(a.notesByType[n.EntityType], n.ID)
	k := entityKey{n.EntityType, n.EntityID}
	a.notesByEntity[k] = append(a.notesByEntity[k], n.ID)
	w.noteOwner[n.ID] = a
	return n
}

// entityExists reports whether the entity can carry notes and tasks: it
// exists and was not deleted. Entities of a pending incoming lead count.
func (a *account) entityExists(typ string, id int64) bool {
	switch typ {
	case "leads":
		l := a.leads[id]
		return l != nil && !l.Deleted
	case "contacts":
		c := a.contacts[id]
		return c != nil && !c.Deleted
	case "companies":
		c := a.companies[id]
		return c != nil && !c.Deleted
	case "customers":
		return a.customers[id] != nil
	}
	return false
}

func validEntityType(t string) bool {
	switch t {
	case "leads", "contacts", "companies", "customers":
		return true
	}
	return false
}

// singular is the entity_type Kommo reports in call results.
func singular(t string) string {
	switch t {
	case "leads":
		return "lead"
	case "contacts":
		return "contact"
	case "companies":
		return "company"
	case "customers":
		return "customer"
	}
	return t
}

// phonesMatch reports whether any of phones has the same last n digits as the
// digit string want (which is itself at most n long, and must then be the
// whole tail: a 10-digit want matches only 10-digit tails).
func phonesMatch(phones []string, want string, n int) bool {
	for _, p := range phones {
		if tail(digits(p), n) == want {
			return true
		}
	}
	return false
}

// matchPhone returns the visible contacts and companies with a phone whose
// last n digits equal those of phone, oldest first.
func (a *account) matchPhone(phone string, n int) ([]*Contact, []*Company) {
	d := digits(phone)
	if d == "" {
		return nil, nil
	}
	want, key := tail(d, n), tail(d, 7)
	var cs []*Contact
	for _, id := range a.contactPhones[key] {
		if c := a.contacts[id]; c.visible() && phonesMatch(c.Phones, want, n) {
			cs = append(cs, c)
		}
	}
	var cos []*Company
	for _, id := range a.companyPhones[key] {
		if c := a.companies[id]; c.visible() && phonesMatch(c.Phones, want, n) {
			cos = append(cos, c)
		}
	}
	slices.SortFunc(cs, func(x, y *Contact) int { return cmpOldest(x.CreatedAt, x.ID, y.CreatedAt, y.ID) })
	slices.SortFunc(cos, func(x, y *Company) int { return cmpOldest(x.CreatedAt, x.ID, y.CreatedAt, y.ID) })
	return cs, cos
}

func cmpOldest(at1, id1, at2, id2 int64) int {
	switch {
	case at1 != at2 && at1 < at2:
		return -1
	case at1 != at2:
		return 1
	case id1 < id2:
		return -1
	case id1 > id2:
		return 1
	}
	return 0
}

// chooseEntity applies Kommo's rule for where a call goes: among the
// entities linked to the matching contacts and companies, exactly one active
// lead and no customer → that lead; exactly one customer and no active lead →
// that customer; otherwise the oldest matching contact, else the oldest
// matching company. ok is false when nothing matches.
func (a *account) chooseEntity(phone string, n int) (typ string, id int64, ok bool) {
	cs, cos := a.matchPhone(phone, n)
	if len(cs) == 0 && len(cos) == 0 {
		return "", 0, false
	}
	var leads, customers []int64
	addLeads := func(ids []int64) {
		for _, lid := range ids {
			if l := a.leads[lid]; l != nil && l.visible() && l.Active() {
				leads = appendUnique(leads, lid)
			}
		}
	}
	addCustomers := func(ids []int64) {
		for _, cid := range ids {
			if a.customers[cid] != nil {
				customers = appendUnique(customers, cid)
			}
		}
	}
	for _, c := range cs {
		addLeads(c.LeadIDs)
		addCustomers(c.CustomerIDs)
	}
	for _, c := range cos {
		addLeads(c.LeadIDs)
		addCustomers(c.CustomerIDs)
	}
	switch {
	case len(leads) == 1 && len(customers) == 0:
		return "leads", leads[0], true
	case len(customers) == 1 && len(leads) == 0:
		return "customers", customers[0], true
	case len(cs) > 0:
		return "contacts", cs[0].ID, true
	default:
		return "companies", cos[0].ID, true
	}
}

// chooseNotificationEntity is the rule of call notifications (POST
// /api/v2/events): the oldest matching contact (last 8 digits), its single
// active lead or single customer when there is exactly one, else the
// contact; without a contact, the oldest company likewise.
func (a *account) chooseNotificationEntity(phone string) (string, int64) {
	cs, cos := a.matchPhone(phone, 8)
	pick := func(leadIDs, customerIDs []int64) (string, int64) {
		var leads []int64
		for _, lid := range leadIDs {
			if l := a.leads[lid]; l != nil && l.visible() && l.Active() {
				leads = append(leads, lid)
			}
		}
		switch {
		case len(leads) == 1 && len(customerIDs) == 0:
			return "leads", leads[0]
		case len(customerIDs) == 1 && len(leads) == 0:
			return "customers", customerIDs[0]
		}
		return "", 0
	}
	if len(cs) > 0 {
		if t, id := pick(cs[0].LeadIDs, cs[0].CustomerIDs); t != "" {
			return t, id
		}
		return "contacts", cs[0].ID
	}
	if len(cos) > 0 {
		if t, id := pick(cos[0].LeadIDs, cos[0].CustomerIDs); t != "" {
			return t, id
		}
		return "companies", cos[0].ID
	}
	return "", 0
}
