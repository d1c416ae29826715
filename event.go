package callbridge

import "time"

// Direction of a call as seen from the account's side.
type Direction string

// Directions.
const (
	DirectionUnknown  Direction = ""
	DirectionInbound  Direction = "inbound"  // a customer called the account
	DirectionOutbound Direction = "outbound" // the account called a customer
	DirectionInternal Direction = "internal" // extension to extension
)

// Status is both what one provider event says about a call leg and, after
// Call.Fold, the state of the whole call.
type Status string

// Statuses. An event may carry any of them; a folded Call has one of ringing,
// answered, completed, missed, busy or failed.
const (
	StatusUnknown   Status = ""
	StatusRinging   Status = "ringing"   // offered, not answered yet
	StatusAnswered  Status = "answered"  // a person is talking
	StatusEnded     Status = "ended"     // event only: this leg hung up; the outcome comes from other legs
	StatusCompleted Status = "completed" // hung up after a conversation
	StatusMissed    Status = "missed"    // nobody answered (no-answer, canceled)
	StatusBusy      Status = "busy"      // the callee was busy
	StatusFailed    Status = "failed"    // the call could not be placed, or dropped with an error
)

// Terminal reports whether s ends a call leg.
func (s Status) Terminal() bool {
	switch s {
	case StatusEnded, StatusCompleted, StatusMissed, StatusBusy, StatusFailed:
		return true
	}
	return false
}

// EventType says which of the three inputs an event came from.
type EventType string

// Event types.
const (
	EventStatus    EventType = "status"    // a provider's call-progress webhook
	EventRecording EventType = "recording" // a provider's recording-ready webhook
	EventResult    EventType = "result"    // the manager's call-result window
)

// CallEvent is one normalised input about one call. Connectors produce them
// from provider webhooks; the widget API produces EventResult events. Events
// are stored once per (ConnectionID, Key): a provider's retry of the same
// webhook is recognised by its Key and changes nothing.
type CallEvent struct {
	ID           int64
	AccountID    int64
	ConnectionID int64
	CallID       int64

	Type EventType
	// Key identifies the event for deduplication within a connection, e.g.
	// "status:CA123:ringing". Required; at most 200 bytes.
	Key string
	// ProviderCallID is the provider's id of the logical call: for Twilio the
	// parent leg's CallSid. Required; at most 200 bytes.
	ProviderCallID string
	// LegID is the provider's id of the leg this event describes (may equal
	// ProviderCallID). Child is true for a leg the provider created from the
	// logical call (Twilio's outbound-dial leg to the manager).
	LegID string
	Child bool
	// PlacedID is the id the provider's call-placing API returned for this
	// call, when the event carries it and the provider names the call
	// otherwise (Plivo's ALegRequestUUID); see Call.PlacedID. At most 200
	// bytes; optional.
	PlacedID string

	Status    Status
	Direction Direction

	// CustomerNumber is the external party's number in E.164 when it is a
	// phone number. LineNumber is the account's own number that was called or
	// called from. Agent identifies the manager's side as the provider names it
	// (extension, SIP URI, phone number, user id); it is mapped to a Kommo user.
	CustomerNumber string
	LineNumber     string
	Agent          string

	// Duration is the conversation length in seconds, when this event knows it.
	Duration int

	// Recording fields, for EventRecording (and status events that carry one).
	RecordingID       string
	RecordingURL      string
	RecordingDuration int // seconds

	// Result is set for EventResult.
	Result *CallResult

	// AISummary and Transcript are AI artifacts of the call when the
	// provider sends them (RingCentral's aiNote and transcript), as plain
	// text: the transcript's utterances as "Speaker: text" joined by " / ".
	// The ingester fills them from Payload (ParseAIArtifacts) when the
	// connector did not. At most MaxAISummary and MaxTranscript bytes are
	// stored.
	AISummary  string
	Transcript string

	// OccurredAt is when the provider says the event happened, in UTC; zero if
	// the payload has no time. Sequence is the provider's ordering hint (Twilio
	// SequenceNumber), 0 if none.
	OccurredAt time.Time
	Sequence   int64
	ReceivedAt time.Time

	// Payload is the webhook as received, with credentials redacted, kept for
	// the operator's event timeline. At most 16 KiB are stored.
	Payload []byte
}

// CallResult is what the manager saved in the call-result window.
type CallResult struct {
	Text       string `json:"text"`
	CallStatus int    `json:"call_status,omitempty"` // Kommo call_status 1–7; 0 = not given
	// EntityType and EntityID name the entity the manager chose ("leads",
	// "contacts", "companies", "customers"); empty keeps the algorithm's choice.
	EntityType string `json:"entity_type,omitempty"`
	EntityID   int64  `json:"entity_id,omitempty"`
	UserID     int64  `json:"user_id,omitempty"` // Kommo user who saved it
	// Rating is the manager's 1–5 call quality rating; 0 = not given.
	Rating  int       `json:"rating,omitempty"`
	SavedAt time.Time `json:"saved_at"`
}

// Kommo call_status values (POST /api/v4/calls).
const (
	KommoCallLeftMessage  = 1
	KommoCallCallBack     = 2
	KommoCallNotAvailable = 3
	KommoCallConversation = 4
	KommoCallWrongNumber  = 5
	KommoCallNotReached   = 6
	KommoCallBusy         = 7
)

// ValidEntityType reports whether t is a Kommo entity type a call note can be
// attached to.
func ValidEntityType(t string) bool {
	switch t {
	case "leads", "contacts", "companies", "customers":
		return true
	}
	return false
}

// ResultInput is a manager's call result as the widget API receives it. The
// call is named either by CallUID or by (ConnectionID, ProviderCallID); in the
// latter case a call that callbridge has not heard of yet is created, so a
// result saved before any webhook arrives is not lost.
type ResultInput struct {
	CallUID        string
	ConnectionID   int64
	ProviderCallID string
	Result         CallResult
	// Key deduplicates retries of the same save (e.g. the widget token's jti
	// plus a hash of the body). At most 200 bytes.
	Key string
}
