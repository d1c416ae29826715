package ringcentral

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Webhook limits.
const (
	maxIDLen      = 80  // session, party and recording ids
	maxParties    = 64  // parties read from one notification
	maxTokenLen   = 512 // Validation-Token and Verification-Token
	maxNumberLen  = 64  // phone numbers and extension ids
	verifyTokenSz = 32  // hex characters of a derived verification token
)

// flexString reads a JSON string or number (RingCentral sends ids both ways).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexInt reads a JSON number or numeric string; anything else is 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if err := s.UnmarshalJSON(b); err != nil {
		return nil // lenient: a bad sequence is no sequence
	}
	n, err := strconv.ParseInt(string(s), 10, 64)
	if err != nil || n < 0 {
		n = 0
	}
	*f = flexInt(n)
	return nil
}

// notification is a RingCentral webhook envelope.
type notification struct {
	UUID           string       `json:"uuid"`
	Event          string       `json:"event"`
	Timestamp      string       `json:"timestamp"`
	SubscriptionID string       `json:"subscriptionId"`
	OwnerID        flexString   `json:"ownerId"`
	Body           *sessionBody `json:"body"`
}

// sessionBody is the body of a telephony-sessions notification.
type sessionBody struct {
	Sequence           flexInt    `json:"sequence"`
	SessionID          flexString `json:"sessionId"`
	TelephonySessionID string     `json:"telephonySessionId"`
	ServerID           string     `json:"serverId"`
	EventTime          string     `json:"eventTime"`
	Origin             struct {
		Type string `json:"type"`
	} `json:"origin"`
	Parties []party `json:"parties"`
}

// party is one participant of a telephony session.
type party struct {
	AccountID   flexString `json:"accountId"`
	ExtensionID flexString `json:"extensionId"`
	ID          string     `json:"id"`
	Direction   string     `json:"direction"` // Inbound or Outbound
	To          endpoint   `json:"to"`
	From        endpoint   `json:"from"`
	Status      struct {
		Code   string `json:"code"`
		Reason string `json:"reason"`
	} `json:"status"`
	MissedCall bool        `json:"missedCall"`
	Recordings []recording `json:"recordings"`
}

// endpoint is a party's from or to.
type endpoint struct {
	PhoneNumber string     `json:"phoneNumber"`
	Name        string     `json:"name"`
	ExtensionID flexString `json:"extensionId"`
	DeviceID    flexString `json:"deviceId"`
}

// recording is a recording of a party.
type recording struct {
	ID     flexString `json:"id"`
	Active bool       `json:"active"`
}

// VerificationToken returns the verificationToken of conn's webhook
// subscription: the connection's verification_token credential when set,
// else 32 hex digits of HMAC-SHA256(client_secret, connection id and webhook
// token), stable for the connection and unknown to anyone without the
// client secret. It returns EUNAUTHORIZED when neither is available.
func VerificationToken(conn *callbridge.Connection) (string, error) {
	if conn == nil {
		return "", callbridge.Errorf(callbridge.EUNAUTHORIZED, "Missing RingCentral connection.")
	}
	if t := strings.TrimSpace(conn.Credentials[CredentialVerificationToken]); t != "" {
		return t, nil
	}
	secret := conn.Credentials[CredentialClientSecret]
	if secret == "" {
		return "", callbridge.Errorf(callbridge.EUNAUTHORIZED, "The RingCentral connection has no client secret.")
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("callbridge/ringcentral/verification-token/v1\x00" + strconv.FormatInt(conn.ID, 10) + "\x00" + conn.Token))
	return hex.EncodeToString(mac.Sum(nil))[:verifyTokenSz], nil
}

// validHeaderToken reports whether a handshake or verification token is a
// sane header value: 1 to maxTokenLen visible ASCII characters.
func validHeaderToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// ParseWebhook authenticates a RingCentral webhook and maps it to events.
//
// The Validation-Token handshake: a request carrying a Validation-Token
// header and an empty body is RingCentral checking the address while a
// subscription is created. It returns no events and a 200 reply; the
// Validation-Token header is echoed in the reply's headers (EchoValidationToken
// does the same for a handler that cannot pass reply headers through).
// A token that is not 1–512 visible ASCII characters is EINVALID.
//
// Every other request must carry a Verification-Token header equal, in
// constant time, to VerificationToken(conn); otherwise EUNAUTHORIZED. A body
// that is not a JSON notification is EINVALID. Notifications of other event
// filters than telephony sessions are acknowledged with no events.
//
// A telephony-session notification gives one event per party (Key "rc:" +
// telephonySessionId + ":" + party id + ":" + lowercased status code;
// ProviderCallID the telephonySessionId, LegID the party id; Sequence the
// notification's sequence; OccurredAt its eventTime; Payload the raw body,
// which keeps any AI artifacts such as aiNote or transcript). A party's role
// decides the mapping:
//
//   - the external caller of an inbound call (direction Outbound, no
//     extension): the parent leg; customer From, line To. RingCentral
//     picking up (an IVR, voicemail) makes it Answered, so Setup, Proceeding,
//     Answered, Hold and Parked are ringing and Disconnected is ended.
//   - an extension placing a call (direction Outbound with an extension):
//     the parent leg; customer To, line From, Agent the extension id.
//     Answered, Hold and Parked are answered (ringing for a call between
//     extensions, whose Answered only means call handling started).
//   - the called side (direction Inbound): a child leg. An extension of the
//     account on an inbound call (customer From, line To), or the customer
//     of an outbound call (customer To, line From; a leg with no extension
//     on either side is a call forwarded out: customer From, Agent To).
//     Answered, Hold and Parked are answered; VoiceMail is missed. The
//     extension id is the Agent on its answered, hold, parked, voicemail and
//     missed events.
//   - a RingOut (origin type RingOut) is outbound: the leg that rings the
//     manager's own phone (to carries an extension id) is the parent and its
//     Answered is ringing; the customer's leg is a child as above.
//
// Disconnected maps by reason: TargetBusy is busy; InternalError,
// InvalidNumber, InternationalDisabled, DestinationBlocked, NotEnoughFunds
// and NoSuchUser are failed; NoAnswer, Timeout, Rejected, Cancelled and a
// party with missedCall are missed (ended on the caller leg of an inbound
// call); reasons that hand the call on (transfers, pickup, park, redirect,
// a queue agent answering) and the Gone status give an event with no status,
// which does not end the leg; anything else is ended. FaxReceive and unknown
// codes give no event. Between two extensions the direction is internal and
// there is no customer. Party recordings give RecordingID and a content URL
// on the first media host.
func (c *Connector) ParseWebhook(_ context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	if conn == nil || req == nil {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Missing webhook request.")
	}
	if req.Method != "" && req.Method != http.MethodPost {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "RingCentral webhooks must be POST requests.")
	}
	if v := req.Header.Get(ValidationTokenHeader); v != "" && len(bytes.TrimSpace(req.Body)) == 0 {
		if !validHeaderToken(v) {
			return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Invalid %s header.", ValidationTokenHeader)
		}
		reply := okReply()
		reply.Header = http.Header{ValidationTokenHeader: []string{v}}
		return nil, reply, nil
	}
	want, err := VerificationToken(conn)
	if err != nil {
		return nil, nil, err
	}
	got := req.Header.Get(VerificationTokenHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Missing or wrong %s.", VerificationTokenHeader)
	}
	var n notification
	if err := json.Unmarshal(req.Body, &n); err != nil {
		return nil, nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not a RingCentral notification.", Err: err}
	}
	if n.Body == nil || !isTelephonyEvent(n.Event) {
		return nil, okReply(), nil
	}
	events, err := c.sessionEvents(conn, &n, req)
	if err != nil {
		return nil, nil, err
	}
	return events, okReply(), nil
}

// okReply is the empty 200 RingCentral expects.
func okReply() *callbridge.WebhookReply { return &callbridge.WebhookReply{Status: http.StatusOK} }

// isTelephonyEvent reports whether an event path is a telephony-sessions
// event (account or extension level).
func isTelephonyEvent(ev string) bool {
	path, _, _ := strings.Cut(ev, "?")
	return strings.HasPrefix(path, "/restapi/v1.0/account/") && strings.HasSuffix(path, "/telephony/sessions")
}

// sessionEvents maps a telephony-sessions notification.
func (c *Connector) sessionEvents(conn *callbridge.Connection, n *notification, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, error) {
	b := n.Body
	sess := strings.TrimSpace(b.TelephonySessionID)
	switch {
	case sess == "":
		return nil, callbridge.Errorf(callbridge.EINVALID, "Missing telephonySessionId.")
	case len(sess) > maxIDLen:
		return nil, callbridge.Errorf(callbridge.EINVALID, "telephonySessionId is too long.")
	}
	at := parseTime(b.EventTime, conn.TimeZone)
	if at.IsZero() {
		at = parseTime(n.Timestamp, conn.TimeZone)
	}
	var out []callbridge.CallEvent
	for i := range b.Parties {
		if i == maxParties {
			break
		}
		ev, ok := c.partyEvent(sess, b.Origin.Type, &b.Parties[i])
		if !ok {
			continue
		}
		ev.Sequence = int64(b.Sequence)
		ev.OccurredAt = at
		ev.ReceivedAt = req.ReceivedAt
		ev.Payload = bytes.Clone(req.Body)
		out = append(out, ev)
	}
	return out, nil
}

// Party roles.
type role int

const (
	roleInboundCaller  role = iota // a customer calling the account
	roleOutboundCaller             // an extension placing a call
	roleCallee                     // the side being called
	roleRingOutAgent               // the leg of a RingOut ringing the manager
)

// partyEvent maps one party; false when the party says nothing to record.
func (c *Connector) partyEvent(sess, originType string, p *party) (callbridge.CallEvent, bool) {
	id := strings.TrimSpace(p.ID)
	if id == "" || len(id) > maxIDLen {
		return callbridge.CallEvent{}, false
	}
	code := strings.ToLower(strings.TrimSpace(p.Status.Code))
	if code == "" || len(code) > 32 {
		return callbridge.CallEvent{}, false
	}
	ext := bound(string(p.ExtensionID))
	fromExt, toExt := bound(string(p.From.ExtensionID)), bound(string(p.To.ExtensionID))
	from := callbridge.NormalizePhone(bound(p.From.PhoneNumber), "US")
	to := callbridge.NormalizePhone(bound(p.To.PhoneNumber), "US")
	ringOut := strings.EqualFold(originType, "RingOut")

	var r role
	switch {
	case ringOut && toExt != "":
		r = roleRingOutAgent
	case ringOut:
		r = roleCallee
	case strings.EqualFold(p.Direction, "Outbound") && (ext != "" || fromExt != ""):
		r = roleOutboundCaller
	case strings.EqualFold(p.Direction, "Outbound"):
		r = roleInboundCaller
	default:
		r = roleCallee
	}

	ev := callbridge.CallEvent{Type: callbridge.EventStatus, ProviderCallID: sess, LegID: id,
		Key: "rc:" + sess + ":" + id + ":" + code}
	var customer string
	switch r {
	case roleInboundCaller:
		ev.Direction, customer, ev.LineNumber = callbridge.DirectionInbound, from, to
	case roleOutboundCaller:
		ev.Direction, customer, ev.LineNumber, ev.Agent = callbridge.DirectionOutbound, to, from, ext
	case roleRingOutAgent:
		ev.Direction, ev.Agent = callbridge.DirectionOutbound, ext
	case roleCallee:
		ev.Child = true
		switch {
		case ringOut || ext == "" && fromExt != "":
			// The customer of an outbound call.
			ev.Direction, customer, ev.LineNumber = callbridge.DirectionOutbound, to, from
		case ext == "":
			// An inbound call forwarded to an outside number.
			ev.Direction, customer = callbridge.DirectionInbound, from
		default:
			ev.Direction, customer, ev.LineNumber = callbridge.DirectionInbound, from, to
		}
	}
	internal := !ringOut && (fromExt != "" && toExt != "" || customer != "" && !callbridge.IsPhoneNumber(customer))
	if internal {
		ev.Direction, customer = callbridge.DirectionInternal, ""
	}
	ev.CustomerNumber = customer

	st, agentShown, ok := partyStatus(code, p.Status.Reason, p.MissedCall, r, internal)
	if !ok {
		return callbridge.CallEvent{}, false
	}
	ev.Status = st
	if r == roleCallee {
		switch {
		case ext != "" && agentShown:
			ev.Agent = ext
		case ext == "" && !ringOut && fromExt == "" && agentShown:
			ev.Agent = to // the outside number the call was forwarded to
		}
	}
	for _, rec := range p.Recordings {
		if rid := string(rec.ID); isToken(rid) {
			ev.RecordingID = rid
			ev.RecordingURL = c.recordingURL(string(p.AccountID), rid)
			break
		}
	}
	return ev, true
}

// bound returns s trimmed, or "" when it is longer than maxNumberLen.
func bound(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxNumberLen {
		return ""
	}
	return s
}

// Disconnect reasons, by what they mean for the party's leg.
var (
	busyReasons   = map[string]bool{"targetbusy": true}
	failedReasons = map[string]bool{"internalerror": true, "invalidnumber": true, "internationaldisabled": true,
		"destinationblocked": true, "notenoughfunds": true, "nosuchuser": true}
	missedReasons   = map[string]bool{"noanswer": true, "timeout": true, "rejected": true, "cancelled": true}
	handedOnReasons = map[string]bool{"blindtransfer": true, "attendedtransfer": true, "rcctransfer": true,
		"callerinputredirect": true, "callflip": true, "parklocation": true, "dtmftransfer": true, "pickup": true,
		"takeover": true, "supervising": true, "callpark": true, "callredirected": true, "callreplied": true,
		"callswitch": true, "agentanswered": true}
)

// partyStatus maps a party's status code and reason for its role. shown
// says whether the status proves a person's endpoint was involved (the
// callee's extension is then the call's Agent). ok is false for codes that
// give no event.
func partyStatus(code, reason string, missedCall bool, r role, internal bool) (st callbridge.Status, shown, ok bool) {
	reason = strings.ToLower(strings.TrimSpace(reason))
	switch code {
	case "setup", "proceeding":
		return callbridge.StatusRinging, false, true
	case "answered", "hold", "parked":
		switch {
		case r == roleCallee:
			return callbridge.StatusAnswered, true, true
		case r == roleOutboundCaller && !internal:
			return callbridge.StatusAnswered, true, true
		}
		return callbridge.StatusRinging, false, true
	case "voicemail", "vmscreening", "voicemailscreening":
		return callbridge.StatusMissed, true, true
	case "gone":
		return callbridge.StatusUnknown, false, true
	case "disconnected":
		switch {
		case handedOnReasons[reason]:
			return callbridge.StatusUnknown, false, true
		case busyReasons[reason]:
			return callbridge.StatusBusy, false, true
		case failedReasons[reason]:
			return callbridge.StatusFailed, false, true
		case r == roleInboundCaller:
			return callbridge.StatusEnded, false, true
		case missedReasons[reason] || missedCall:
			return callbridge.StatusMissed, true, true
		}
		return callbridge.StatusEnded, false, true
	}
	return callbridge.StatusUnknown, false, false
}

// isToken reports whether s is 1 to maxIDLen letters, digits, '-' or '_'.
func isToken(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// recordingURL returns the content URL of a recording on the first media
// host.
func (c *Connector) recordingURL(account, id string) string {
	if !isToken(account) {
		account = "~"
	}
	if len(c.media) == 0 {
		return ""
	}
	m := c.media[0]
	return m.scheme + "://" + m.host + "/restapi/v1.0/account/" + account + "/recording/" + id + "/content"
}

// parseTime reads an ISO 8601 time; one without a zone is read in the IANA
// zone tz (UTC when empty or unknown). It returns the zero time for "" or an
// unreadable value.
func parseTime(s, tz string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// EchoValidationToken wraps the webhook handler so that a request carrying a
// Validation-Token header (1–512 visible ASCII characters) gets the same
// header back, as RingCentral's subscription handshake requires. The wrapped
// handler still decides the status: the handshake succeeds only when it
// answers 200 (ParseWebhook does for a known connection), so an unknown
// webhook token fails the handshake. Other requests pass through untouched.
//
// It exists because callbridge.WebhookReply carries no headers; with a
// Header field on WebhookReply, ParseWebhook would set it itself.
func EchoValidationToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(ValidationTokenHeader); validHeaderToken(v) {
			w.Header().Set(ValidationTokenHeader, v)
		}
		next.ServeHTTP(w, r)
	})
}
