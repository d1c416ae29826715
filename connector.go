package callbridge

import (
	"context"
	"net/http"
	"time"
)

// WebhookRequest is a provider webhook as the HTTP layer received it, with the
// body already read (and bounded).
type WebhookRequest struct {
	// URL is the URL the provider called, rebuilt from the configured public
	// base URL (never the Host header) plus the request's path and raw query.
	// Signatures are computed over it.
	URL        string
	Method     string
	Header     http.Header
	Body       []byte
	ReceivedAt time.Time
	// Route, when set, answers where an incoming call should ring (smart
	// forwarding). Nil when routing is not configured.
	Route Router
}

// WebhookReply is what the HTTP layer answers a webhook with.
type WebhookReply struct {
	Status      int // default 200
	ContentType string
	Header      http.Header // extra response headers (e.g. RingCentral's Validation-Token echo)
	Body        []byte
}

// Connector is how callbridge talks to one provider. Connectors are safe for
// concurrent use.
type Connector interface {
	// Name is the provider name stored in Connection.Provider, e.g. "twilio".
	Name() string
	// ParseWebhook authenticates req with conn's credentials and parses it into
	// normalised events (ConnectionID and AccountID are filled in by the
	// caller). It returns an *Error with EUNAUTHORIZED for a missing or wrong
	// signature and EINVALID for a malformed payload. Zero events with a nil
	// error means "acknowledge, nothing to record" (e.g. an in-progress
	// recording). The reply is what the provider expects back.
	ParseWebhook(ctx context.Context, conn *Connection, req *WebhookRequest) ([]CallEvent, *WebhookReply, error)
	// RecordingRequest returns an authenticated GET for a recording URL taken
	// from one of this connector's events. It returns EFORBIDDEN when the URL is
	// not on one of the provider's own hosts (no SSRF through a forged URL).
	RecordingRequest(ctx context.Context, conn *Connection, recordingURL string) (*http.Request, error)
}

// Optional connector capabilities. A connector implements those its provider
// supports; callers check with a type assertion.

// CallPlacer places an outgoing call (click-to-call): the provider rings the
// manager's Agent first and then connects the Customer.
type CallPlacer interface {
	PlaceCall(ctx context.Context, conn *Connection, req PlaceCallRequest) (*PlacedCall, error)
}

// PlaceCallRequest is a click-to-call request.
type PlaceCallRequest struct {
	Agent    string // the manager's extension, number or SIP identity
	Customer string // E.164 number to call
	// StatusURL is callbridge's webhook URL for this connection; the provider
	// reports the call's progress there.
	StatusURL string
}

// PlacedCall is the provider's answer to PlaceCall.
type PlacedCall struct {
	ProviderCallID string
}

// HistoryLister lists calls from the provider's call log, for the periodic
// reconciliation that logs calls whose webhooks were lost. The events it
// returns name the same ProviderCallID as the webhooks would, so a call seen
// both ways is still one call.
type HistoryLister interface {
	ListCallHistory(ctx context.Context, conn *Connection, since, until time.Time) ([]CallEvent, error)
}

// Extension is a provider user or extension, to map onto a Kommo user.
type Extension struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Number string `json:"number"`
}

// ExtensionLister lists the provider's extensions.
type ExtensionLister interface {
	ListExtensions(ctx context.Context, conn *Connection) ([]Extension, error)
}

// CredentialChecker validates a connection's credentials against the provider
// before they are saved. It returns EUNAUTHORIZED for wrong credentials.
type CredentialChecker interface {
	CheckCredentials(ctx context.Context, conn *Connection) error
}

// RouteRequest asks where an incoming call should ring.
type RouteRequest struct {
	ProviderCallID string
	Customer       string // the caller, E.164 when known
	Line           string // the account's number that was called
}

// RouteTarget is the routing answer: ring Agents in order (the contact's
// responsible manager first), then Fallback; Voicemail when nobody answers.
type RouteTarget struct {
	Agents    []string
	Fallback  string
	Voicemail bool
	// Reason explains the choice for logs ("responsible manager", "fallback").
	Reason string
}

// Router answers routing requests. Connectors receive one in
// WebhookRequest.Route for providers whose incoming-call webhook is
// synchronous; it answers within its own time box, falling back when Kommo is
// slow.
type Router func(ctx context.Context, req RouteRequest) RouteTarget

// WebhookSubscriber is a provider whose webhooks must be subscribed and
// renewed through its API (RingCentral). EnsureWebhook creates or renews the
// subscription delivering to webhookURL; it is called periodically.
type WebhookSubscriber interface {
	EnsureWebhook(ctx context.Context, conn *Connection, webhookURL string) error
}
