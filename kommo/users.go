package kommo

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"callbridge"
)

// maxUserPages bounds ListUsers (250 users per page).
const maxUserPages = 40

// User is a Kommo user.
type User struct {
	ID      int64
	Name    string
	Email   string
	IsAdmin bool
}

// ListUsers returns all users of the account with GET /api/v4/users. Kommo
// allows it to administrators only: with another user's token it is
// EFORBIDDEN (permanent), which is not an IP block.
func (c *Client) ListUsers(ctx context.Context, acct *callbridge.Account) ([]User, error) {
	out := []User{}
	for p := 1; p <= maxUserPages; p++ {
		q := url.Values{"page": {strconv.Itoa(p)}, "limit": {"250"}}
		req := &request{method: http.MethodGet, route: "GET /api/v4/users", path: "/api/v4/users" + query(q), adminOnly: true}
		var body struct {
			Embedded struct {
				Users []struct {
					ID     flexInt `json:"id"`
					Name   string  `json:"name"`
					Email  string  `json:"email"`
					Rights struct {
						IsAdmin bool `json:"is_admin"`
					} `json:"rights"`
				} `json:"users"`
			} `json:"_embedded"`
			Links struct {
				Next *struct {
					Href string `json:"href"`
				} `json:"next"`
			} `json:"_links"`
		}
		if err := c.get(ctx, acct, req, &body); err != nil {
			return nil, err
		}
		for _, u := range body.Embedded.Users {
			out = append(out, User{ID: int64(u.ID), Name: u.Name, Email: u.Email, IsAdmin: u.Rights.IsAdmin})
		}
		if len(body.Embedded.Users) < 250 || body.Links.Next == nil {
			break
		}
	}
	return out, nil
}

// NotifyCall shows an incoming-call notification for phone to userIDs (all
// users when empty) with POST /api/v2/events (type phone_call; Kommo finds
// the caller by the last 8 digits and answers 202).
func (c *Client) NotifyCall(ctx context.Context, acct *callbridge.Account, phone string, userIDs []int64) error {
	if phone == "" {
		return callbridge.Errorf(callbridge.EINVALID, "kommo: notification without a phone number")
	}
	ev := map[string]any{"type": "phone_call", "phone_number": phone}
	if len(userIDs) > 0 {
		ev["users"] = userIDs
	}
	req := &request{method: http.MethodPost, route: "POST /api/v2/events", path: "/api/v2/events",
		body: map[string]any{"add": []any{ev}}}
	return c.write(ctx, acct, req, nil)
}

// Status is a stage of a pipeline. Type is 1 for the incoming-leads stage
// and 0 for the others; 142 (won) and 143 (lost) are in every pipeline.
type Status struct {
	ID   int64
	Name string
	Type int
}

// Pipeline is a lead pipeline with its stages. IsMain marks the account's
// main pipeline (where leads go when no pipeline is named).
type Pipeline struct {
	ID       int64
	Name     string
	IsMain   bool
	Statuses []Status
}

// ListPipelines returns the account's lead pipelines with GET
// /api/v4/leads/pipelines.
func (c *Client) ListPipelines(ctx context.Context, acct *callbridge.Account) ([]Pipeline, error) {
	req := &request{method: http.MethodGet, route: "GET /api/v4/leads/pipelines", path: "/api/v4/leads/pipelines"}
	var body struct {
		Embedded struct {
			Pipelines []struct {
				ID       flexInt `json:"id"`
				Name     string  `json:"name"`
				IsMain   bool    `json:"is_main"`
				Embedded struct {
					Statuses []struct {
						ID   flexInt `json:"id"`
						Name string  `json:"name"`
						Type flexInt `json:"type"`
					} `json:"statuses"`
				} `json:"_embedded"`
			} `json:"pipelines"`
		} `json:"_embedded"`
	}
	if err := c.get(ctx, acct, req, &body); err != nil {
		return nil, err
	}
	out := make([]Pipeline, 0, len(body.Embedded.Pipelines))
	for _, p := range body.Embedded.Pipelines {
		pl := Pipeline{ID: int64(p.ID), Name: p.Name, IsMain: p.IsMain}
		for _, s := range p.Embedded.Statuses {
			pl.Statuses = append(pl.Statuses, Status{ID: int64(s.ID), Name: s.Name, Type: int(s.Type)})
		}
		out = append(out, pl)
	}
	return out, nil
}
