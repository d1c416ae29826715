package kommo

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"callbridge"
)

// maxCachedSearches bounds the contact cache.
const maxCachedSearches = 10000

// Contact is a Kommo contact found by phone.
type Contact struct {
	ID                int64
	Name              string
	ResponsibleUserID int64
	Phones            []string // values of the PHONE field, as stored
	LeadIDs           []int64
	CompanyIDs        []int64
}

// Lead is a Kommo lead. StatusID 142 is won and 143 lost; any other status
// is active.
type Lead struct {
	ID                int64
	Name              string
	StatusID          int64
	PipelineID        int64
	ResponsibleUserID int64
	// CompanyID is the lead's company (0 for none), which Kommo embeds in
	// every lead.
	CompanyID int64
}

// Won and lost are the system statuses of every pipeline.
const (
	StatusWon  = 142
	StatusLost = 143
)

// Active reports whether the lead is neither won nor lost.
func (l Lead) Active() bool { return l.StatusID != StatusWon && l.StatusID != StatusLost }

type contactKey struct {
	account int64
	tail    string
}

type contactEntry struct {
	contacts []Contact
	expires  time.Time
}

type contactSearch struct {
	done     chan struct{}
	contacts []Contact
	err      error
}

// contactCache holds recent searches and the searches in flight.
type contactCache struct {
	mu       sync.Mutex
	entries  map[contactKey]contactEntry
	inflight map[contactKey]*contactSearch
	gen      map[contactKey]int // bumped by InvalidateContacts
}

func (cc *contactCache) init() {
	cc.entries = make(map[contactKey]contactEntry)
	cc.inflight = make(map[contactKey]*contactSearch)
	cc.gen = make(map[contactKey]int)
}

// SearchContacts returns the contacts that have phone (compared on the last
// 10 digits, as Kommo matches calls), with their lead and company ids, using
// GET /api/v4/contacts?query={digits}&with=leads. Results are cached per
// (account, last 10 digits) for Config.ContactCacheTTL, and concurrent
// searches for the same number share one request. No match is an empty slice.
func (c *Client) SearchContacts(ctx context.Context, acct *callbridge.Account, phone string) ([]Contact, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	tail := callbridge.PhoneTail(phone, 10)
	if len(tail) < 3 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: %q is not a phone number", phone)
	}
	key := contactKey{acct.ID, tail}
	cc := &c.contacts
	for {
		cc.mu.Lock()
		if e, ok := cc.entries[key]; ok && c.now().Before(e.expires) {
			cc.mu.Unlock()
			return cloneContacts(e.contacts), nil
		}
		s := cc.inflight[key]
		if s == nil {
			s = &contactSearch{done: make(chan struct{})}
			cc.inflight[key] = s
			gen := cc.gen[key]
			cc.mu.Unlock()
			s.contacts, s.err = c.searchContacts(ctx, acct, tail)
			cc.mu.Lock()
			delete(cc.inflight, key)
			if s.err == nil && c.cfg.ContactCacheTTL > 0 && cc.gen[key] == gen {
				cc.put(key, contactEntry{s.contacts, c.now().Add(c.cfg.ContactCacheTTL)}, c.now())
			}
			cc.mu.Unlock()
			close(s.done)
			return cloneContacts(s.contacts), s.err
		}
		cc.mu.Unlock()
		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "kommo: contact search: %v", ctx.Err())
		}
		if s.err == nil {
			return cloneContacts(s.contacts), nil
		}
		// The shared search failed. If only because its caller gave up, try
		// ours; otherwise share the failure.
		if ctx.Err() != nil || !(errors.Is(s.err, context.Canceled) || errors.Is(s.err, context.DeadlineExceeded)) {
			return nil, s.err
		}
	}
}

// put stores e, evicting expired entries (or everything) when the cache is full.
func (cc *contactCache) put(key contactKey, e contactEntry, now time.Time) {
	if len(cc.entries) >= maxCachedSearches {
		for k, v := range cc.entries {
			if !now.Before(v.expires) {
				delete(cc.entries, k)
			}
		}
		if len(cc.entries) >= maxCachedSearches {
			clear(cc.entries)
		}
	}
	cc.entries[key] = e
}

// InvalidateContacts forgets the cached search for phone in acct (call it
// after creating or changing a contact with that number).
func (c *Client) InvalidateContacts(acct *callbridge.Account, phone string) {
	if acct == nil {
		return
	}
	key := contactKey{acct.ID, callbridge.PhoneTail(phone, 10)}
	cc := &c.contacts
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.entries, key)
	if _, ok := cc.inflight[key]; ok {
		cc.gen[key]++ // a search in flight must not fill the cache with old data
	} else {
		delete(cc.gen, key)
	}
}

func (c *Client) searchContacts(ctx context.Context, acct *callbridge.Account, tail string) ([]Contact, error) {
	q := url.Values{"query": {tail}, "with": {"leads"}, "limit": {"250"}}
	req := &request{method: http.MethodGet, route: "GET /api/v4/contacts", path: "/api/v4/contacts" + query(q)}
	var body struct {
		Embedded struct {
			Contacts []struct {
				ID                flexInt `json:"id"`
				Name              string  `json:"name"`
				ResponsibleUserID flexInt `json:"responsible_user_id"`
				CustomFields      []struct {
					FieldCode string `json:"field_code"`
					Values    []struct {
						Value flexString `json:"value"`
					} `json:"values"`
				} `json:"custom_fields_values"`
				Embedded struct {
					Leads     []struct{ ID flexInt } `json:"leads"`
					Companies []struct{ ID flexInt } `json:"companies"`
				} `json:"_embedded"`
			} `json:"contacts"`
		} `json:"_embedded"`
	}
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	out := []Contact{}
	for _, k := range body.Embedded.Contacts {
		ct := Contact{ID: int64(k.ID), Name: k.Name, ResponsibleUserID: int64(k.ResponsibleUserID)}
		match := false
		for _, f := range k.CustomFields {
			if f.FieldCode != "PHONE" {
				continue
			}
			for _, v := range f.Values {
				ct.Phones = append(ct.Phones, string(v.Value))
				if sameTail(callbridge.PhoneTail(string(v.Value), 10), tail) {
					match = true
				}
			}
		}
		if !match {
			continue // the full-text query also matches names, notes, other numbers
		}
		for _, l := range k.Embedded.Leads {
			ct.LeadIDs = append(ct.LeadIDs, int64(l.ID))
		}
		for _, co := range k.Embedded.Companies {
			ct.CompanyIDs = append(ct.CompanyIDs, int64(co.ID))
		}
		out = append(out, ct)
	}
	return out, nil
}

// sameTail compares two digit strings on their last min(10, len) digits, as
// Kommo compares phone numbers.
func sameTail(a, b string) bool {
	n := min(len(a), len(b))
	return n > 0 && a[len(a)-n:] == b[len(b)-n:]
}

func cloneContacts(cs []Contact) []Contact {
	if cs == nil {
		return nil
	}
	out := make([]Contact, len(cs))
	for i, c := range cs {
		c.Phones = slices.Clone(c.Phones)
		c.LeadIDs = slices.Clone(c.LeadIDs)
		c.CompanyIDs = slices.Clone(c.CompanyIDs)
		out[i] = c
	}
	return out
}

// GetLeads returns the leads with the given ids (in Kommo's order; missing
// ids are left out), with GET /api/v4/leads?filter[id][]=…, 250 ids per request.
func (c *Client) GetLeads(ctx context.Context, acct *callbridge.Account, ids []int64) ([]Lead, error) {
	out := []Lead{}
	for chunk := range slices.Chunk(ids, 250) {
		q := url.Values{}
		addIDs(q, "filter[id][]", chunk)
		q.Set("limit", "250")
		req := &request{method: http.MethodGet, route: "GET /api/v4/leads", path: "/api/v4/leads" + query(q)}
		var body struct {
			Embedded struct {
				Leads []struct {
					ID                flexInt `json:"id"`
					Name              string  `json:"name"`
					StatusID          flexInt `json:"status_id"`
					PipelineID        flexInt `json:"pipeline_id"`
					ResponsibleUserID flexInt `json:"responsible_user_id"`
					Embedded          struct {
						Companies []struct {
							ID flexInt `json:"id"`
						} `json:"companies"`
					} `json:"_embedded"`
				} `json:"leads"`
			} `json:"_embedded"`
		}
		if err := c.get(ctx, acct, req, &body); err != nil {
			return nil, err
		}
		for _, l := range body.Embedded.Leads {
			lead := Lead{ID: int64(l.ID), Name: l.Name, StatusID: int64(l.StatusID),
				PipelineID: int64(l.PipelineID), ResponsibleUserID: int64(l.ResponsibleUserID)}
			if len(l.Embedded.Companies) > 0 {
				lead.CompanyID = int64(l.Embedded.Companies[0].ID)
			}
			out = append(out, lead)
		}
	}
	return out, nil
}
