package sandbox

import (
	"callbridge"
)

// SeedData describes accounts and their data to add. Entities refer to each
// other by Ref, a name of the caller's choosing that is unique per kind
// within an account; refs persist, so a later Seed call can link to
// entities seeded earlier. IDs are optional everywhere (0 = allocate).
type SeedData struct {
	Accounts []SeedAccount `json:"accounts"`
}

// SeedAccount is one account. An ID naming an existing account adds the
// entities to it; otherwise a new account is created with a default
// pipeline ("Sales") and, unless Users holds an admin, a default admin user.
type SeedAccount struct {
	ID        int64  `json:"id,omitempty"`
	Name      string `json:"name,omitempty"`
	Subdomain string `json:"subdomain,omitempty"` // default "sandbox<id>"
	// PaymentRequired makes every API call of the account answer 402.
	PaymentRequired bool           `json:"payment_required,omitempty"`
	Users           []SeedUser     `json:"users,omitempty"`
	Pipelines       []SeedPipeline `json:"pipelines,omitempty"`
	Companies       []SeedCompany  `json:"companies,omitempty"`
	Contacts        []SeedContact  `json:"contacts,omitempty"`
	Leads           []SeedLead     `json:"leads,omitempty"`
	Customers       []SeedCustomer `json:"customers,omitempty"`
}

// SeedUser is a user. The first admin of a new account is its admin.
type SeedUser struct {
	Ref   string `json:"ref,omitempty"`
	ID    int64  `json:"id,omitempty"`
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Admin bool   `json:"admin,omitempty"`
}

// SeedPipeline is an extra pipeline; the incoming-leads status and 142/143
// are added around Statuses.
type SeedPipeline struct {
	Ref      string       `json:"ref,omitempty"`
	ID       int64        `json:"id,omitempty"`
	Name     string       `json:"name"`
	Statuses []SeedStatus `json:"statuses,omitempty"`
}

// SeedStatus is a working status of a seeded pipeline.
type SeedStatus struct {
	Ref  string `json:"ref,omitempty"`
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
}

// SeedContact is a contact. CreatedAt (Unix seconds, default now) decides
// which contact is "oldest" for call matching. Company and Responsible are
// refs.
type SeedContact struct {
	Ref         string   `json:"ref,omitempty"`
	ID          int64    `json:"id,omitempty"`
	Name        string   `json:"name,omitempty"`
	Phones      []string `json:"phones,omitempty"`
	Company     string   `json:"company,omitempty"`
	Responsible string   `json:"responsible,omitempty"`
	CreatedAt   int64    `json:"created_at,omitempty"`
}

// SeedCompany is a company.
type SeedCompany struct {
	Ref         string   `json:"ref,omitempty"`
	ID          int64    `json:"id,omitempty"`
	Name        string   `json:"name,omitempty"`
	Phones      []string `json:"phones,omitempty"`
	Responsible string   `json:"responsible,omitempty"`
	CreatedAt   int64    `json:"created_at,omitempty"`
}

// SeedLead is a lead. Pipeline is a pipeline ref ("" = the main pipeline);
// the status is StatusID when set (e.g. 142 or 143), else the status ref
// Status, else the pipeline's first working status. Contacts and Company are
// refs.
type SeedLead struct {
	Ref         string   `json:"ref,omitempty"`
	ID          int64    `json:"id,omitempty"`
	Name        string   `json:"name,omitempty"`
	Price       int64    `json:"price,omitempty"`
	Pipeline    string   `json:"pipeline,omitempty"`
	Status      string   `json:"status,omitempty"`
	StatusID    int64    `json:"status_id,omitempty"`
	Contacts    []string `json:"contacts,omitempty"`
	Company     string   `json:"company,omitempty"`
	Responsible string   `json:"responsible,omitempty"`
	CreatedAt   int64    `json:"created_at,omitempty"`
}

// SeedCustomer is a customer linked to contacts and a company (refs).
type SeedCustomer struct {
	Ref         string   `json:"ref,omitempty"`
	ID          int64    `json:"id,omitempty"`
	Name        string   `json:"name,omitempty"`
	Contacts    []string `json:"contacts,omitempty"`
	Company     string   `json:"company,omitempty"`
	Responsible string   `json:"responsible,omitempty"`
	CreatedAt   int64    `json:"created_at,omitempty"`
}

// SeedResult gives the ids of what Seed created, per account in the order of
// SeedData.Accounts, and per kind by ref (entities without a ref are not
// listed).
type SeedResult struct {
	Accounts []SeedAccountResult `json:"accounts"`
}

// SeedAccountResult is one seeded account.
type SeedAccountResult struct {
	ID          int64            `json:"id"`
	Subdomain   string           `json:"subdomain"`
	AdminUserID int64            `json:"admin_user_id"`
	Users       map[string]int64 `json:"users"`
	Pipelines   map[string]int64 `json:"pipelines"`
	Statuses    map[string]int64 `json:"statuses"`
	Contacts    map[string]int64 `json:"contacts"`
	Companies   map[string]int64 `json:"companies"`
	Leads       map[string]int64 `json:"leads"`
	Customers   map[string]int64 `json:"customers"`
}

// Ref kinds.
const (
	kindUser     = "users"
	kindPipeline = "pipelines"
	kindStatus   = "statuses"
	kindContact  = "contacts"
	kindCompany  = "companies"
	kindLead     = "leads"
	kindCustomer = "customers"
)

// Seed adds accounts and data. It validates everything first (refs resolve,
// ids and subdomains are free) and changes nothing on error (EINVALID).
func (e *Emulator) Seed(d SeedData) (SeedResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.checkSeed(d); err != nil {
		return SeedResult{}, err
	}
	w := e.st
	now := e.now().Unix()
	reserveSeedIDs(w, d)
	var res SeedResult
	for _, sa := range d.Accounts {
		a := w.accounts[sa.ID]
		if a == nil {
			hasAdmin := false
			for _, u := range sa.Users {
				hasAdmin = hasAdmin || u.Admin
			}
			a = w.createAccount(sa.ID, sa.Name, sa.Subdomain, now, !hasAdmin)
		}
		if sa.PaymentRequired {
			a.paymentRequired = true
		}
		r := SeedAccountResult{ID: a.info.ID, Subdomain: a.info.Subdomain,
			Users: map[string]int64{}, Pipelines: map[string]int64{}, Statuses: map[string]int64{},
			Contacts: map[string]int64{}, Companies: map[string]int64{}, Leads: map[string]int64{}, Customers: map[string]int64{}}
		remember := func(kind, ref string, id int64, out map[string]int64) {
			if ref == "" {
				return
			}
			if a.refs[kind] == nil {
				a.refs[kind] = map[string]int64{}
			}
			a.refs[kind][ref] = id
			out[ref] = id
		}
		for _, su := range sa.Users {
			name := su.Name
			if name == "" {
				name = "User " + su.Ref
			}
			u := w.addUser(a, su.ID, name, su.Email, su.Admin)
			if su.Admin && a.adminID == 0 {
				a.adminID = u.ID
			}
			remember(kindUser, su.Ref, u.ID, r.Users)
		}
		r.AdminUserID = a.adminID
		user := func(ref string) int64 {
			if ref == "" {
				return a.adminID
			}
			return a.refs[kindUser][ref]
		}
		at := func(t int64) int64 {
			if t > 0 {
				return t
			}
			return now
		}
		for _, sp := range sa.Pipelines {
			var sts []Status
			for _, ss := range sp.Statuses {
				sts = append(sts, Status{ID: ss.ID, Name: ss.Name})
			}
			p := w.addPipeline(a, sp.ID, sp.Name, false, sts)
			remember(kindPipeline, sp.Ref, p.ID, r.Pipelines)
			for i, ss := range sp.Statuses {
				remember(kindStatus, ss.Ref, p.Statuses[i+1].ID, r.Statuses)
			}
		}
		for _, sc := range sa.Companies {
			co := w.addCompany(a, &Company{ID: sc.ID, Name: sc.Name, Phones: append([]string(nil), sc.Phones...),
				ResponsibleUserID: user(sc.Responsible), CreatedBy: a.adminID, CreatedAt: at(sc.CreatedAt), UpdatedAt: at(sc.CreatedAt)})
			remember(kindCompany, sc.Ref, co.ID, r.Companies)
		}
		for _, sc := range sa.Contacts {
			ct := &Contact{ID: sc.ID, Name: sc.Name, Phones: append([]string(nil), sc.Phones...),
				ResponsibleUserID: user(sc.Responsible), CreatedBy: a.adminID, CreatedAt: at(sc.CreatedAt), UpdatedAt: at(sc.CreatedAt)}
			if sc.Company != "" {
				ct.CompanyID = a.refs[kindCompany][sc.Company]
			}
			w.addContact(a, ct)
			remember(kindContact, sc.Ref, ct.ID, r.Contacts)
		}
		for _, sl := range sa.Leads {
			p := a.mainPipeline()
			switch {
			case sl.Pipeline != "":
				p = a.pipeline(a.refs[kindPipeline][sl.Pipeline])
			case sl.Status != "":
				p = a.statusPipeline(a.refs[kindStatus][sl.Status])
			}
			status := p.firstWorkingStatus()
			switch {
			case sl.StatusID != 0:
				status = sl.StatusID
			case sl.Status != "":
				status = a.refs[kindStatus][sl.Status]
			}
			l := &Lead{ID: sl.ID, Name: sl.Name, Price: sl.Price, PipelineID: p.ID, StatusID: status,
				ResponsibleUserID: user(sl.Responsible), CreatedBy: a.adminID, CreatedAt: at(sl.CreatedAt), UpdatedAt: at(sl.CreatedAt)}
			for _, ref := range sl.Contacts {
				l.ContactIDs = append(l.ContactIDs, a.refs[kindContact][ref])
			}
			if sl.Company != "" {
				l.CompanyID = a.refs[kindCompany][sl.Company]
			}
			if l.Name == "" {
				l.Name = "Lead " + sl.Ref
			}
			w.addLead(a, l)
			remember(kindLead, sl.Ref, l.ID, r.Leads)
		}
		for _, sc := range sa.Customers {
			cu := &Customer{ID: sc.ID, Name: sc.Name, ResponsibleUserID: user(sc.Responsible), CreatedBy: a.adminID,
				CreatedAt: at(sc.CreatedAt), UpdatedAt: at(sc.CreatedAt)}
			for _, ref := range sc.Contacts {
				cu.ContactIDs = append(cu.ContactIDs, a.refs[kindContact][ref])
			}
			if sc.Company != "" {
				cu.CompanyID = a.refs[kindCompany][sc.Company]
			}
			w.addCustomer(a, cu)
			remember(kindCustomer, sc.Ref, cu.ID, r.Customers)
		}
		res.Accounts = append(res.Accounts, r)
	}
	return res, nil
}

// checkSeed validates d against the current state without changing it.
func (e *Emulator) checkSeed(d SeedData) error {
	w := e.st
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, "sandbox: seed: "+format, args...)
	}
	usedIDs := map[string]map[int64]bool{}
	idFree := func(kind string, id int64, exists bool) error {
		if id == 0 {
			return nil
		}
		if id < 0 {
			return invalid("%s id %d is negative", kind, id)
		}
		if exists || usedIDs[kind][id] {
			return invalid("%s id %d is already used", kind, id)
		}
		if usedIDs[kind] == nil {
			usedIDs[kind] = map[int64]bool{}
		}
		usedIDs[kind][id] = true
		return nil
	}
	subdomains := map[string]bool{}
	seenAccounts := map[int64]bool{}
	for i, sa := range d.Accounts {
		a := w.accounts[sa.ID]
		if sa.ID < 0 {
			return invalid("account %d: negative id", i)
		}
		if sa.ID != 0 && seenAccounts[sa.ID] {
			return invalid("account %d listed twice", sa.ID)
		}
		seenAccounts[sa.ID] = true
		if a == nil && sa.Subdomain != "" {
			if _, taken := w.subdomains[sa.Subdomain]; taken || subdomains[sa.Subdomain] {
				return invalid("subdomain %q is already used", sa.Subdomain)
			}
			subdomains[sa.Subdomain] = true
		}
		// refs known after this account is seeded: existing plus new.
		refs := map[string]map[string]bool{}
		declare := func(kind, ref string) error {
			if ref == "" {
				return nil
			}
			if refs[kind] == nil {
				refs[kind] = map[string]bool{}
			}
			if refs[kind][ref] {
				return invalid("duplicate %s ref %q", kind, ref)
			}
			if a != nil && a.refs[kind][ref] != 0 {
				return invalid("%s ref %q already exists in account %d", kind, ref, a.info.ID)
			}
			refs[kind][ref] = true
			return nil
		}
		known := func(kind, ref string) bool {
			return refs[kind][ref] || (a != nil && a.refs[kind][ref] != 0)
		}
		for _, u := range sa.Users {
			if err := declare(kindUser, u.Ref); err != nil {
				return err
			}
			if err := idFree(kindUser, u.ID, anyAccountHas(w, func(x *account) bool { return x.users[u.ID] != nil })); err != nil {
				return err
			}
		}
		statusRefs := map[string]string{} // new status ref → its pipeline ref
		for _, p := range sa.Pipelines {
			if p.Name == "" {
				return invalid("pipeline without a name")
			}
			if err := declare(kindPipeline, p.Ref); err != nil {
				return err
			}
			if err := idFree(kindPipeline, p.ID, anyAccountHas(w, func(x *account) bool { return x.pipeline(p.ID) != nil })); err != nil {
				return err
			}
			for _, s := range p.Statuses {
				if err := declare(kindStatus, s.Ref); err != nil {
					return err
				}
				if s.ID == StatusWon || s.ID == StatusLost {
					return invalid("status id %d is reserved", s.ID)
				}
				if err := idFree(kindStatus, s.ID, s.ID != 0 && anyAccountHas(w, func(x *account) bool {
					for _, xp := range x.pipelines {
						if xp.hasStatus(s.ID) {
							return true
						}
					}
					return false
				})); err != nil {
					return err
				}
				if s.Ref != "" {
					statusRefs[s.Ref] = p.Ref
				}
			}
		}
		userOK := func(ref string) error {
			if ref != "" && !known(kindUser, ref) {
				return invalid("unknown user ref %q", ref)
			}
			return nil
		}
		for _, c := range sa.Companies {
			if err := declare(kindCompany, c.Ref); err != nil {
				return err
			}
			if err := idFree(kindCompany, c.ID, anyAccountHas(w, func(x *account) bool { return x.companies[c.ID] != nil })); err != nil {
				return err
			}
			if err := userOK(c.Responsible); err != nil {
				return err
			}
		}
		for _, c := range sa.Contacts {
			if err := declare(kindContact, c.Ref); err != nil {
				return err
			}
			if err := idFree(kindContact, c.ID, anyAccountHas(w, func(x *account) bool { return x.contacts[c.ID] != nil })); err != nil {
				return err
			}
			if c.Company != "" && !known(kindCompany, c.Company) {
				return invalid("unknown company ref %q", c.Company)
			}
			if err := userOK(c.Responsible); err != nil {
				return err
			}
		}
		for _, l := range sa.Leads {
			if err := declare(kindLead, l.Ref); err != nil {
				return err
			}
			if err := idFree(kindLead, l.ID, anyAccountHas(w, func(x *account) bool { return x.leads[l.ID] != nil })); err != nil {
				return err
			}
			if l.Pipeline != "" && !known(kindPipeline, l.Pipeline) {
				return invalid("unknown pipeline ref %q", l.Pipeline)
			}
			if l.Status != "" && !known(kindStatus, l.Status) {
				return invalid("unknown status ref %q", l.Status)
			}
			if l.StatusID != 0 && l.StatusID != StatusWon && l.StatusID != StatusLost {
				return invalid("lead %q: status_id %d must be 142 or 143 (use a status ref for others)", l.Ref, l.StatusID)
			}
			if l.Status != "" && l.Pipeline != "" {
				// The status must belong to the named pipeline.
				same := statusRefs[l.Status] == l.Pipeline && l.Pipeline != ""
				if !same && a != nil && a.refs[kindStatus][l.Status] != 0 && a.refs[kindPipeline][l.Pipeline] != 0 {
					same = a.statusPipeline(a.refs[kindStatus][l.Status]).ID == a.refs[kindPipeline][l.Pipeline]
				}
				if !same {
					return invalid("lead %q: status ref %q is not in pipeline %q", l.Ref, l.Status, l.Pipeline)
				}
			}
			for _, c := range l.Contacts {
				if !known(kindContact, c) {
					return invalid("unknown contact ref %q", c)
				}
			}
			if l.Company != "" && !known(kindCompany, l.Company) {
				return invalid("unknown company ref %q", l.Company)
			}
			if err := userOK(l.Responsible); err != nil {
				return err
			}
		}
		for _, c := range sa.Customers {
			if err := declare(kindCustomer, c.Ref); err != nil {
				return err
			}
			if err := idFree(kindCustomer, c.ID, anyAccountHas(w, func(x *account) bool { return x.customers[c.ID] != nil })); err != nil {
				return err
			}
			for _, ct := range c.Contacts {
				if !known(kindContact, ct) {
					return invalid("unknown contact ref %q", ct)
				}
			}
			if c.Company != "" && !known(kindCompany, c.Company) {
				return invalid("unknown company ref %q", c.Company)
			}
			if err := userOK(c.Responsible); err != nil {
				return err
			}
		}
	}
	return nil
}

func anyAccountHas(w *world, f func(*account) bool) bool {
	for _, a := range w.accounts {
		if f(a) {
			return true
		}
	}
	return false
}

// reserveSeedIDs marks every explicit id of d as taken before anything is
// allocated, so that an automatic id never equals one given later in d.
func reserveSeedIDs(w *world, d SeedData) {
	r := func(id int64) {
		if id != 0 {
			w.reserved[id] = true
		}
	}
	for _, sa := range d.Accounts {
		if w.accounts[sa.ID] == nil {
			r(sa.ID)
		}
		for _, x := range sa.Users {
			r(x.ID)
		}
		for _, x := range sa.Pipelines {
			r(x.ID)
			for _, st := range x.Statuses {
				r(st.ID)
			}
		}
		for _, x := range sa.Companies {
			r(x.ID)
		}
		for _, x := range sa.Contacts {
			r(x.ID)
		}
		for _, x := range sa.Leads {
			r(x.ID)
		}
		for _, x := range sa.Customers {
			r(x.ID)
		}
	}
}
