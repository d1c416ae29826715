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
}

// WebhookReply is what the HTTP layer answers a webhook with.
type WebhookReply struct {
	Status      int // default 200
	ContentType string
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
