package kommo

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"callbridge"
)

// Writes the call-handling rules need besides calls and notes: contacts and
// leads for new numbers, accepting incoming leads, rewriting a note's params
// and registering the account webhook. Each is one request; a write without
// a readable answer is KindUncertain.

// ContactInput is a new contact with one phone number.
type ContactInput struct {
	Name  string // required
	Phone string // required; stored as the WORK phone
	// ResponsibleUserID is a Kommo user id; 0 = the token's user.
	ResponsibleUserID int64
}

// AddContact creates a contact with POST /api/v4/contacts and returns its
// id. The contact cache of Phone is dropped either way.
func (c *Client) AddContact(ctx context.Context, acct *callbridge.Account, in ContactInput) (int64, error) {
	if err := checkAccount(acct); err != nil {
		return 0, err
	}
	if strings.TrimSpace(in.Name) == "" || strings.TrimSpace(in.Phone) == "" {
		return 0, callbridge.Errorf(callbridge.EINVALID, "kommo: a contact needs a name and a phone number")
	}
	item := map[string]any{
		"name": in.Name, "request_id": "1",
		"custom_fields_values": []any{map[string]any{
			"field_code": "PHONE", "values": []any{map[string]any{"value": in.Phone, "enum_code": "WORK"}},
		}},
	}
	if in.ResponsibleUserID != 0 {
		item["responsible_user_id"] = in.ResponsibleUserID
	}
	defer c.InvalidateContacts(acct, in.Phone)
	req := &request{method: http.MethodPost, route: "POST /api/v4/contacts", path: "/api/v4/contacts", body: []any{item}}
	var body struct {
		Embedded struct {
			Contacts []struct {
				ID flexInt `json:"id"`
			} `json:"contacts"`
		} `json:"_embedded"`
	}
	if err := c.write(ctx, acct, req, &body); err != nil {
		return 0, err
	}
	if len(body.Embedded.Contacts) == 0 || body.Embedded.Contacts[0].ID == 0 {
		return 0, callbridge.Uncertain(nil, "kommo: the contact answer has no id")
	}
	return int64(body.Embedded.Contacts[0].ID), nil
}

// LeadInput is a new lead.
type LeadInput struct {
	Name string // required
	// PipelineID 0 is the main pipeline; StatusID 0 its first working stage.
	PipelineID int64
	StatusID   int64
	// ResponsibleUserID is a Kommo user id; 0 = the token's user.
	ResponsibleUserID int64
	// ContactIDs are linked to the lead.
	ContactIDs []int64
}

// AddLead creates a lead with POST /api/v4/leads and returns its id.
func (c *Client) AddLead(ctx context.Context, acct *callbridge.Account, in LeadInput) (int64, error) {
	if err := checkAccount(acct); err != nil {
		return 0, err
	}
	if strings.TrimSpace(in.Name) == "" {
		return 0, callbridge.Errorf(callbridge.EINVALID, "kommo: a lead needs a name")
	}
	item := map[string]any{"name": in.Name, "request_id": "1"}
	if in.PipelineID != 0 {
		item["pipeline_id"] = in.PipelineID
	}
	if in.StatusID != 0 {
		item["status_id"] = in.StatusID
	}
	if in.ResponsibleUserID != 0 {
		item["responsible_user_id"] = in.ResponsibleUserID
	}
	if len(in.ContactIDs) > 0 {
		var cs []any
		for _, id := range in.ContactIDs {
			cs = append(cs, map[string]any{"id": id})
		}
		item["_embedded"] = map[string]any{"contacts": cs}
	}
	req := &request{method: http.MethodPost, route: "POST /api/v4/leads", path: "/api/v4/leads", body: []any{item}}
	var body struct {
		Embedded struct {
			Leads []struct {
				ID flexInt `json:"id"`
			} `json:"leads"`
		} `json:"_embedded"`
	}
	if err := c.write(ctx, acct, req, &body); err != nil {
		return 0, err
	}
	if len(body.Embedded.Leads) == 0 || body.Embedded.Leads[0].ID == 0 {
		return 0, callbridge.Uncertain(nil, "kommo: the lead answer has no id")
	}
	return int64(body.Embedded.Leads[0].ID), nil
}

// AcceptUnsorted accepts the pending incoming lead uid with POST
// /api/v4/leads/unsorted/{uid}/accept: userID (0 = the token's user)
// becomes responsible and the lead moves to statusID (0 = the pipeline's
// first working stage). It returns what the incoming lead became. An
// incoming lead that is unknown or already accepted or declined is
// ENOTFOUND.
func (c *Client) AcceptUnsorted(ctx context.Context, acct *callbridge.Account, uid string, userID, statusID int64) (*Unsorted, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	if uid == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: empty incoming lead uid")
	}
	body := map[string]any{}
	if userID != 0 {
		body["user_id"] = userID
	}
	if statusID != 0 {
		body["status_id"] = statusID
	}
	req := &request{method: http.MethodPost, route: "POST /api/v4/leads/unsorted/{uid}/accept",
		path: "/api/v4/leads/unsorted/" + url.PathEscape(uid) + "/accept", body: body}
	var u unsortedJSON
	if err := c.write(ctx, acct, req, &u); err != nil {
		return nil, err
	}
	out := u.unsorted()
	if out.UID == "" {
		out.UID = uid
	}
	return &out, nil
}

// PatchNote replaces the given params of note id of entityType with PATCH
// /api/v4/{entity_type}/notes/{id}. Unlike UpdateNote every given key is
// sent, empty strings and zeros included (to clear a recording link); keys
// not given are left as they are. A PATCH is idempotent. A note that does
// not exist is ENOTFOUND.
func (c *Client) PatchNote(ctx context.Context, acct *callbridge.Account, entityType string, id int64, params map[string]any) error {
	if err := checkAccount(acct); err != nil {
		return err
	}
	if err := checkEntityType(entityType); err != nil {
		return err
	}
	if id <= 0 || len(params) == 0 {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: a note patch needs an id and params")
	}
	req := &request{method: http.MethodPatch, route: "PATCH /api/v4/{entity_type}/notes/{id}",
		path: fmt.Sprintf("/api/v4/%s/notes/%d", entityType, id), body: map[string]any{"params": params}}
	return c.write(ctx, acct, req, nil)
}

// Webhook is an account webhook registration.
type Webhook struct {
	ID          int64
	Destination string
	Settings    []string // events, e.g. "delete_unsorted"
	Disabled    bool
}

// ListWebhooks returns the account's webhooks with GET /api/v4/webhooks
// (administrators only: EFORBIDDEN otherwise), filtered by destination when
// it is not empty.
func (c *Client) ListWebhooks(ctx context.Context, acct *callbridge.Account, destination string) ([]Webhook, error) {
	q := url.Values{}
	if destination != "" {
		q.Set("filter[destination]", destination)
	}
	req := &request{method: http.MethodGet, route: "GET /api/v4/webhooks", path: "/api/v4/webhooks" + query(q), adminOnly: true}
	var body struct {
		Embedded struct {
			Webhooks []webhookJSON `json:"webhooks"`
		} `json:"_embedded"`
	}
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	out := make([]Webhook, 0, len(body.Embedded.Webhooks))
	for _, w := range body.Embedded.Webhooks {
		out = append(out, w.webhook())
	}
	return out, nil
}

// AddWebhook subscribes destination to the account's events (e.g.
// "delete_unsorted") with POST /api/v4/webhooks (administrators only).
// Subscribing the same destination again replaces its events.
func (c *Client) AddWebhook(ctx context.Context, acct *callbridge.Account, destination string, events []string) (*Webhook, error) {
	if destination == "" || len(events) == 0 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: a webhook needs a destination and events")
	}
	req := &request{method: http.MethodPost, route: "POST /api/v4/webhooks", path: "/api/v4/webhooks", adminOnly: true,
		body: map[string]any{"destination": destination, "settings": events}}
	var w webhookJSON
	if err := c.write(ctx, acct, req, &w); err != nil {
		return nil, err
	}
	out := w.webhook()
	if out.Destination == "" {
		out.Destination, out.Settings = destination, events
	}
	return &out, nil
}

type webhookJSON struct {
	ID          flexInt  `json:"id"`
	Destination string   `json:"destination"`
	Settings    []string `json:"settings"`
	Disabled    bool     `json:"disabled"`
}

func (w webhookJSON) webhook() Webhook {
	return Webhook{ID: int64(w.ID), Destination: w.Destination, Settings: w.Settings, Disabled: w.Disabled}
}
