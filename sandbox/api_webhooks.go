package sandbox

import (
	"net/http"
	"slices"
	"strings"
)

// Webhook is an account webhook registered with POST /api/v4/webhooks: the
// emulator POSTs the events named in Settings (of those it models:
// "delete_unsorted", an incoming lead accepted or declined) to Destination.
type Webhook struct {
	ID          int64    `json:"id"`
	Destination string   `json:"destination"`
	Settings    []string `json:"settings"`
	CreatedAt   int64    `json:"created_at"`
	CreatedBy   int64    `json:"created_by"`
}

// maxWebhooks is Kommo's limit of webhooks per account.
const maxWebhooks = 100

func (c *call) webhookView(h *Webhook) map[string]any {
	return map[string]any{
		"id": h.ID, "destination": h.Destination, "settings": slices.Clone(h.Settings),
		"created_at": h.CreatedAt, "updated_at": h.CreatedAt, "created_by": h.CreatedBy,
		"account_id": c.acct.info.ID, "sort": 1, "disabled": false,
	}
}

// listWebhooks serves GET /api/v4/webhooks (administrators only),
// filter[destination].
func (c *call) listWebhooks() {
	if !c.requireAdmin() {
		return
	}
	dest := c.r.URL.Query().Get("filter[destination]")
	var found []*Webhook
	for _, h := range c.acct.webhooks {
		if dest == "" || h.Destination == dest {
			found = append(found, h)
		}
	}
	if len(found) == 0 {
		c.noContent()
		return
	}
	var out []any
	for _, h := range found {
		out = append(out, c.webhookView(h))
	}
	c.ok(http.StatusOK, map[string]any{"_total_items": len(out), "_embedded": map[string]any{"webhooks": out}})
}

// addWebhook serves POST /api/v4/webhooks {destination, settings}
// (administrators only). A destination already registered gets the new
// settings.
func (c *call) addWebhook() {
	if !c.requireAdmin() {
		return
	}
	body, ok := decodeObject(c.body)
	if !ok {
		badRequest(c.w, "0", "InvalidType", "", "The request body must be a JSON object.")
		return
	}
	dest, _ := body.str("destination")
	dest = strings.TrimSpace(dest)
	if !strings.HasPrefix(dest, "http://") && !strings.HasPrefix(dest, "https://") {
		badRequest(c.w, "0", "InvalidType", "destination", "This value is not a valid URL.")
		return
	}
	raw, ok := body.array("settings")
	var settings []string
	for _, v := range raw {
		if s, isStr := v.(string); isStr && s != "" {
			settings = append(settings, s)
		} else {
			ok = false
		}
	}
	if !ok || len(settings) == 0 {
		badRequest(c.w, "0", "NotBlank", "settings", "This value should not be blank.")
		return
	}
	a := c.acct
	for _, h := range a.webhooks {
		if h.Destination == dest {
			h.Settings = settings
			c.ok(http.StatusOK, c.webhookView(h))
			return
		}
	}
	if len(a.webhooks) >= maxWebhooks {
		badRequest(c.w, "0", "TooMany", "destination", "The account already has 100 webhooks.")
		return
	}
	w := c.e.st
	h := &Webhook{ID: w.assign(&w.ids.event, 0), Destination: dest, Settings: settings, CreatedAt: c.unix(), CreatedBy: c.user.ID}
	a.webhooks = append(a.webhooks, h)
	c.ok(http.StatusOK, c.webhookView(h))
}

// deleteWebhook serves DELETE /api/v4/webhooks {destination}
// (administrators only).
func (c *call) deleteWebhook() {
	if !c.requireAdmin() {
		return
	}
	body, ok := decodeObject(c.body)
	dest, _ := body.str("destination")
	if !ok || dest == "" {
		badRequest(c.w, "0", "NotBlank", "destination", "This value should not be blank.")
		return
	}
	a := c.acct
	i := slices.IndexFunc(a.webhooks, func(h *Webhook) bool { return h.Destination == dest })
	if i < 0 {
		c.problem(http.StatusNotFound, "Webhook not found")
		return
	}
	a.webhooks = slices.Delete(a.webhooks, i, i+1)
	c.noContent()
}

// webhookDestinations returns where the account's webhooks for event go:
// Config.WebhookURL and every registered destination subscribed to it.
func (c *call) webhookDestinations(event string) []string {
	var out []string
	if c.e.cfg.WebhookURL != "" {
		out = append(out, c.e.cfg.WebhookURL)
	}
	for _, h := range c.acct.webhooks {
		if slices.Contains(h.Settings, event) && !slices.Contains(out, h.Destination) {
			out = append(out, h.Destination)
		}
	}
	return out
}
