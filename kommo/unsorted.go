package kommo

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// UnsortedMetadata is the metadata of a sip incoming lead (an unknown caller).
type UnsortedMetadata struct {
	Uniq        string    // our call key
	From        string    // the caller
	Phone       string    // the number called
	CalledAt    time.Time // when the call started
	Duration    int       // seconds
	Link        string    // recording URL
	ServiceCode string    // the integration's service code
	// IsCallEventNeeded asks Kommo to add a call note to the card (write-only:
	// Kommo does not return it).
	IsCallEventNeeded bool
	CallResponsible   int64 // Kommo user id shown as the call's responsible
}

// UnsortedSIPInput is a new sip incoming lead for an unknown number.
type UnsortedSIPInput struct {
	SourceUID  string // required; our call key (unique per incoming lead)
	SourceName string // required; shown as the source
	PipelineID int64  // 0 = the account's main pipeline
	CreatedAt  time.Time
	Metadata   UnsortedMetadata
	// ContactName and LeadName name the contact and lead created with the
	// incoming lead; the contact gets the caller's number (Metadata.From).
	ContactName string
	LeadName    string
}

// UnsortedCreated is Kommo's answer for a new incoming lead.
type UnsortedCreated struct {
	UID       string // the incoming lead's uid
	LeadID    int64
	ContactID int64
}

// Unsorted is an incoming lead.
type Unsorted struct {
	UID        string
	SourceUID  string
	Category   string // sip, forms, chats or mail
	PipelineID int64
	Metadata   UnsortedMetadata // meaningful for the sip category
	LeadIDs    []int64
	ContactIDs []int64
}

// UnsortedFilter selects incoming leads; empty fields do not filter.
type UnsortedFilter struct {
	UIDs     []string
	Category string // e.g. "sip"
	Page     int
	Limit    int // at most 250
}

// AddUnsortedSIP creates a sip incoming lead with POST
// /api/v4/leads/unsorted/sip. A write without a readable answer is
// KindUncertain: look for in.SourceUID with ListUnsorted before writing again.
func (c *Client) AddUnsortedSIP(ctx context.Context, acct *callbridge.Account, in UnsortedSIPInput) (*UnsortedCreated, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.SourceUID) == "" || strings.TrimSpace(in.SourceName) == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: an incoming lead needs a source uid and a source name")
	}
	if in.Metadata.CalledAt.IsZero() {
		in.Metadata.CalledAt = c.now()
	}
	// Concurrent incoming leads of one account share one request (the
	// endpoint takes an array), like calls.
	return c.unsorted.do(ctx, acct, "unsorted", in)
}

var unsortedSpec = &batchSpec[UnsortedSIPInput, *UnsortedCreated]{
	method: http.MethodPost, route: "POST /api/v4/leads/unsorted/sip", path: "/api/v4/leads/unsorted/sip",
	encode: unsortedItem,
	parse:  parseUnsorted,
}

func (c *Client) flushUnsorted(ctx context.Context, acct *callbridge.Account, _ string, take func() []UnsortedSIPInput) ([]outcome[*UnsortedCreated], error) {
	return runBatch(ctx, c, acct, unsortedSpec, take)
}

// unsortedItem is the array element of POST /api/v4/leads/unsorted/sip.
func unsortedItem(in UnsortedSIPInput, rid string) any {
	m := in.Metadata
	meta := map[string]any{
		"uniq": m.Uniq, "from": m.From, "phone": m.Phone, "duration": m.Duration,
		"called_at": m.CalledAt.Unix(), "is_call_event_needed": m.IsCallEventNeeded,
	}
	if m.Link != "" {
		meta["link"] = m.Link
	}
	if m.ServiceCode != "" {
		meta["service_code"] = m.ServiceCode
	}
	if m.CallResponsible != 0 {
		meta["call_responsible"] = m.CallResponsible
	}
	item := map[string]any{
		"source_uid": in.SourceUID, "source_name": in.SourceName, "metadata": meta, "request_id": rid,
	}
	if in.PipelineID != 0 {
		item["pipeline_id"] = in.PipelineID
	}
	if !in.CreatedAt.IsZero() {
		item["created_at"] = in.CreatedAt.Unix()
	}
	embedded := map[string]any{}
	if in.LeadName != "" {
		embedded["leads"] = []any{map[string]any{"name": in.LeadName}}
	}
	contact := map[string]any{}
	if in.ContactName != "" {
		contact["name"] = in.ContactName
	}
	if m.From != "" {
		contact["custom_fields_values"] = []any{map[string]any{
			"field_code": "PHONE", "values": []any{map[string]any{"value": m.From, "enum_code": "WORK"}},
		}}
	}
	if len(contact) > 0 {
		embedded["contacts"] = []any{contact}
	}
	if len(embedded) > 0 {
		item["_embedded"] = embedded
	}
	return item
}

// parseUnsorted reads {"_embedded":{"unsorted":[{uid, request_id,
// _embedded:{leads, contacts}}]}} and per-item errors.
func parseUnsorted(resp *response, items []entry[UnsortedSIPInput]) (map[string]*UnsortedCreated, map[string]error, []error) {
	var body struct {
		Errors   []itemError `json:"errors"`
		Embedded struct {
			Unsorted []unsortedJSON `json:"unsorted"`
		} `json:"_embedded"`
	}
	vals := make(map[string]*UnsortedCreated)
	errs := make(map[string]error)
	if json.Unmarshal(resp.body, &body) != nil {
		return vals, errs, nil
	}
	for _, r := range body.Embedded.Unsorted {
		rid := string(r.RequestID)
		if rid == "" && len(items) == 1 && len(body.Embedded.Unsorted) == 1 {
			rid = items[0].rid
		}
		if rid == "" || r.UID == "" {
			continue
		}
		u := r.unsorted()
		out := &UnsortedCreated{UID: u.UID}
		if len(u.LeadIDs) > 0 {
			out.LeadID = u.LeadIDs[0]
		}
		if len(u.ContactIDs) > 0 {
			out.ContactID = u.ContactIDs[0]
		}
		vals[rid] = out
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

type unsortedJSON struct {
	UID        string          `json:"uid"`
	RequestID  flexString      `json:"request_id"`
	SourceUID  string          `json:"source_uid"`
	Category   string          `json:"category"`
	PipelineID flexInt         `json:"pipeline_id"`
	Metadata   json.RawMessage `json:"metadata"`
	Embedded   struct {
		Leads    []struct{ ID flexInt } `json:"leads"`
		Contacts []struct{ ID flexInt } `json:"contacts"`
	} `json:"_embedded"`
}

func (u unsortedJSON) unsorted() Unsorted {
	var m struct {
		Uniq            string     `json:"uniq"`
		From            flexString `json:"from"`
		Phone           flexString `json:"phone"`
		CalledAt        flexInt    `json:"called_at"`
		Duration        flexInt    `json:"duration"`
		Link            string     `json:"link"`
		ServiceCode     string     `json:"service_code"`
		CallResponsible flexInt    `json:"call_responsible"`
	}
	// Other categories have other metadata; keep what fits.
	_ = json.Unmarshal(u.Metadata, &m)
	out := Unsorted{
		UID: u.UID, SourceUID: u.SourceUID, Category: u.Category, PipelineID: int64(u.PipelineID),
		Metadata: UnsortedMetadata{
			Uniq: m.Uniq, From: string(m.From), Phone: string(m.Phone), CalledAt: unixTime(m.CalledAt),
			Duration: int(m.Duration), Link: m.Link, ServiceCode: m.ServiceCode, CallResponsible: int64(m.CallResponsible),
		},
	}
	for _, l := range u.Embedded.Leads {
		out.LeadIDs = append(out.LeadIDs, int64(l.ID))
	}
	for _, c := range u.Embedded.Contacts {
		out.ContactIDs = append(out.ContactIDs, int64(c.ID))
	}
	return out
}

// ListUnsorted returns one page of incoming leads matching f with GET
// /api/v4/leads/unsorted. None (204) is an empty slice.
func (c *Client) ListUnsorted(ctx context.Context, acct *callbridge.Account, f UnsortedFilter) ([]Unsorted, error) {
	q := url.Values{}
	switch len(f.UIDs) {
	case 0:
	case 1:
		q.Set("filter[uid]", f.UIDs[0])
	default:
		for _, uid := range f.UIDs {
			q.Add("filter[uid][]", uid)
		}
	}
	if f.Category != "" {
		q.Add("filter[category][]", f.Category)
	}
	page(q, f.Page, f.Limit)
	req := &request{method: http.MethodGet, route: "GET /api/v4/leads/unsorted", path: "/api/v4/leads/unsorted" + query(q)}
	var body struct {
		Embedded struct {
			Unsorted []unsortedJSON `json:"unsorted"`
		} `json:"_embedded"`
	}
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	out := make([]Unsorted, 0, len(body.Embedded.Unsorted))
	for _, u := range body.Embedded.Unsorted {
		out = append(out, u.unsorted())
	}
	return out, nil
}

// GetUnsorted returns the incoming lead uid with GET
// /api/v4/leads/unsorted/{uid}; ENOTFOUND when it does not exist (accepted
// or declined leads may no longer be listed).
func (c *Client) GetUnsorted(ctx context.Context, acct *callbridge.Account, uid string) (*Unsorted, error) {
	if uid == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: empty incoming lead uid")
	}
	req := &request{method: http.MethodGet, route: "GET /api/v4/leads/unsorted/{uid}",
		path: "/api/v4/leads/unsorted/" + url.PathEscape(uid)}
	var u unsortedJSON
	if err := c.get(ctx, acct, req, &u); err != nil {
		return nil, err
	}
	if u.UID == "" {
		return nil, callbridge.Errorf(callbridge.ENOTFOUND, "Kommo: incoming lead not found")
	}
	out := u.unsorted()
	return &out, nil
}
