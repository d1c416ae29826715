package http

import (
	"maps"
	nethttp "net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"callbridge"
)

// Limits of the connections endpoint.
const (
	maxConnectionName = 100  // characters
	maxCredentials    = 32   // keys per connection
	maxCredentialKey  = 64   // bytes
	maxCredentialVal  = 4096 // bytes
)

// RequiredCredentials is implemented by connectors that declare the
// credential keys a connection must have (for Twilio: account_sid and
// auth_token). When a connector does not implement it, any non-empty set of
// credentials is accepted.
type RequiredCredentials interface {
	// RequiredCredentials returns the keys that must be present and
	// non-empty in Connection.Credentials.
	RequiredCredentials() []string
}

// connectionRequest is the body of POST /api/widget/connections.
type connectionRequest struct {
	Provider    string            `json:"provider"`
	Name        string            `json:"name"`
	Credentials map[string]string `json:"credentials"`
	TimeZone    string            `json:"time_zone"`
}

// connectionView is the public view of a connection. It never carries the
// credentials.
type connectionView struct {
	ID         int64     `json:"id"`
	Provider   string    `json:"provider"`
	Name       string    `json:"name"`
	TimeZone   string    `json:"time_zone"`
	WebhookURL string    `json:"webhook_url"`
	CreatedAt  time.Time `json:"created_at"`
}

func (s *Server) connectionView(c *callbridge.Connection) connectionView {
	return connectionView{
		ID:         c.ID,
		Provider:   c.Provider,
		Name:       c.Name,
		TimeZone:   c.TimeZone,
		WebhookURL: s.baseURL() + "/webhooks/" + c.Token,
		CreatedAt:  c.CreatedAt.UTC(),
	}
}

// handleCreateConnection is POST /api/widget/connections: link the token's
// account to a provider account. The answer (201) carries the webhook URL to
// configure at the provider, never the credentials.
func (s *Server) handleCreateConnection(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var req connectionRequest
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	conn, err := s.validateConnection(&req)
	if err != nil {
		Error(w, r, err)
		return
	}
	conn.AccountID = a.Account.ID
	if err := s.Store.CreateConnection(r.Context(), conn); err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, s.connectionView(conn))
}

// handleListConnections is GET /api/widget/connections: the account's
// connections, without credentials.
func (s *Server) handleListConnections(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	conns, err := s.Store.ListConnections(r.Context(), a.Account.ID)
	if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	views := make([]connectionView, 0, len(conns))
	for _, c := range conns {
		if c.AccountID != a.Account.ID { // the store is scoped; be sure anyway
			continue
		}
		views = append(views, s.connectionView(c))
	}
	writeJSON(w, nethttp.StatusOK, map[string]any{"connections": views})
}

// validateConnection checks a create request and returns the connection to
// store.
func (s *Server) validateConnection(req *connectionRequest) (*callbridge.Connection, error) {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	if req.Provider == "" {
		return nil, invalid("provider is required.")
	}
	connector := s.Connectors[req.Provider]
	if connector == nil {
		names := slices.Sorted(maps.Keys(s.Connectors))
		return nil, invalid("provider must be one of: %s.", strings.Join(names, ", "))
	}

	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = req.Provider
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxConnectionName {
		return nil, invalid("name must be at most %d characters of valid UTF-8.", maxConnectionName)
	}

	tz := req.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	if tz == "Local" || len(tz) > 64 {
		return nil, invalid("time_zone must be an IANA time zone such as \"America/Sao_Paulo\".")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return nil, invalid("time_zone must be an IANA time zone such as \"America/Sao_Paulo\".")
	}

	if len(req.Credentials) > maxCredentials {
		return nil, invalid("credentials may have at most %d keys.", maxCredentials)
	}
	for _, k := range slices.Sorted(maps.Keys(req.Credentials)) {
		v := req.Credentials[k]
		switch {
		case k == "" || len(k) > maxCredentialKey:
			return nil, invalid("credential keys must be 1 to %d bytes.", maxCredentialKey)
		case strings.TrimSpace(v) == "":
			return nil, invalid("credentials.%s must not be empty.", k)
		case len(v) > maxCredentialVal:
			return nil, invalid("credentials.%s must be at most %d bytes.", k, maxCredentialVal)
		}
	}
	if rc, ok := connector.(RequiredCredentials); ok {
		for _, k := range rc.RequiredCredentials() {
			if req.Credentials[k] == "" {
				return nil, invalid("credentials.%s is required for %s.", k, req.Provider)
			}
		}
	} else if len(req.Credentials) == 0 {
		return nil, invalid("credentials are required.")
	}

	return &callbridge.Connection{
		Provider:    req.Provider,
		Name:        name,
		TimeZone:    tz,
		Credentials: maps.Clone(req.Credentials),
	}, nil
}
