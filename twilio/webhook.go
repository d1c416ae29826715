package twilio

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Twilio call directions (the Direction webhook parameter).
const (
	directionInbound      = "inbound"       // a caller dialled one of the account's numbers
	directionOutboundAPI  = "outbound-api"  // a call placed through the REST API
	directionOutboundDial = "outbound-dial" // a leg created by <Dial> from another call
)

// emptyTwiML is the TwiML document callbridge answers every webhook with.
var emptyTwiML = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response/>`)

// ParseWebhook authenticates a Twilio webhook and maps it to call events.
//
// Authentication: the X-Twilio-Signature header must be Sign(auth_token,
// req.URL, form parameters) (see ValidSignature); for a JSON body, req.URL
// carries a bodySHA256 query parameter, the signature covers the URL alone and
// the body must hash to bodySHA256. The payload's AccountSid must equal the
// connection's account_sid. Failures return *callbridge.Error with
// EUNAUTHORIZED; a body that cannot be parsed, a missing CallSid or
// CallStatus, or an over-long SID returns EINVALID.
//
// Voice webhooks (status callbacks, and the initial voice request, which has
// the same fields) become one EventStatus event:
//
//   - ProviderCallID is ParentCallSid when present, else CallSid; LegID is
//     CallSid; Child is true when ParentCallSid is present (a <Dial> leg).
//   - Direction: "inbound" → inbound (customer From, line To);
//     "outbound-api" (or "outbound-dial" on a leg without a parent) →
//     outbound (customer To, line From); other values → DirectionUnknown
//     without numbers. A child leg's
//     direction is DirectionUnknown: its Direction is "outbound-dial"
//     whichever way the logical call goes. On a child leg To is the manager's
//     side (Agent); From is the <Dial> caller id, which may be the customer or
//     one of the account's lines, so it is not attributed.
//   - Status: on an inbound parent leg "in-progress" means Twilio's
//     application answered (TwiML is running), not a person, so it maps to
//     ringing, and "completed" to ended. Everywhere else queued, initiated
//     and ringing map to ringing, in-progress to answered, completed to
//     completed, busy to busy, no-answer and canceled to missed, failed to
//     failed. Duration is CallDuration (seconds). Unknown CallStatus values
//     produce no event.
//   - Key is "status:" + CallSid + ":" + CallStatus. Twilio's retry of the
//     same callback has the same key and is stored once; the initial voice
//     request and a "ringing" status callback of the same leg share a key and
//     count once.
//
// Callbacks of a call placed by PlaceCall carry cb_flow=c2c in their URL:
// there the parent leg rings the manager (Agent is its To; in-progress is the
// manager picking up, so it maps to ringing, and completed, busy, no-answer
// and canceled to ended) and the <Dial> leg rings the customer (Child,
// CustomerNumber To, LineNumber From, generic statuses). Both are outbound.
//
// The action request of a routed call's <Dial> (cb_step=dial in the URL, see
// route) adds a second event for the leg the <Dial> created, from
// DialCallSid and DialCallStatus (Key "dial:" + DialCallSid + ":" + status,
// OccurredAt the time the request arrived), so the outcome is known even if
// the leg's callbacks were lost.
//
// Recording status callbacks (RecordingStatus present): only "completed"
// becomes an EventRecording (RecordingID, RecordingURL as Twilio sent it,
// RecordingDuration, Key "recording:" + RecordingSid); in-progress, absent
// and failed produce no event and a nil error.
//
// OccurredAt comes from Timestamp (RFC 2822; a time without zone is read in
// conn.TimeZone), or RecordingStartTime for recordings; Sequence from
// SequenceNumber. Payload is the raw body: Twilio puts no credentials in it.
//
// The reply is 200 text/xml. It is an empty <Response/> for status and
// recording callbacks. For the voice request of a new inbound call it is the
// routing TwiML when req.Route is set (see route; an empty <Response/>
// otherwise), and for the action requests of a routed call's <Dial> and
// <Record> the next step of the routing.
func (c *Connector) ParseWebhook(ctx context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	if conn == nil || req == nil {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Missing webhook request.")
	}
	sid, token := credentials(conn)
	if sid == "" || token == "" {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Twilio connection has no credentials.")
	}
	if req.Method != "" && req.Method != http.MethodPost {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Twilio webhooks must be POST requests.")
	}
	sig := req.Header.Get(SignatureHeader)
	if sig == "" {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Missing %s header.", SignatureHeader)
	}
	p, err := authenticate(token, req.URL, req.Body, sig)
	if err != nil {
		return nil, nil, err
	}
	if subtle.ConstantTimeCompare([]byte(p.Get("AccountSid")), []byte(sid)) != 1 {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The webhook is for another Twilio account.")
	}

	_, q := callbackURL(req.URL)
	m := mapper{conn: conn, p: p, q: q, received: req.ReceivedAt, payload: bytes.Clone(req.Body)}
	var events []callbridge.CallEvent
	if p.Has("RecordingStatus") {
		events, err = m.recording()
	} else {
		events, err = m.status()
	}
	if err != nil {
		return nil, nil, err
	}
	return events, c.reply(ctx, conn, req, p), nil
}

// twimlReply wraps a TwiML document.
func twimlReply(doc []byte) *callbridge.WebhookReply {
	return &callbridge.WebhookReply{Status: http.StatusOK, ContentType: "text/xml; charset=utf-8", Body: bytes.Clone(doc)}
}

// isVoiceRequest reports whether p is the request Twilio makes to a number's
// voice URL when a call arrives (it expects TwiML back), as opposed to a
// status callback (CallbackSource=call-progress-events) or a recording
// callback.
func isVoiceRequest(p url.Values) bool {
	return p.Get("CallbackSource") == "" && !p.Has("RecordingStatus") && p.Get("ParentCallSid") == "" &&
		strings.EqualFold(p.Get("Direction"), directionInbound)
}

// authenticate verifies the signature of a webhook and returns its parameters.
func authenticate(token, rawURL string, body []byte, sig string) (url.Values, error) {
	unauthorized := callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid %s.", SignatureHeader)
	var bodyHash string
	if u, err := url.Parse(rawURL); err == nil {
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			bodyHash = q.Get("bodySHA256")
		}
	}
	if bodyHash != "" {
		// JSON (or other raw) body: the signature covers the URL, whose
		// bodySHA256 covers the body.
		if !ValidSignature(token, rawURL, nil, sig) || !validBodyHash(body, bodyHash) {
			return nil, unauthorized
		}
		return parseBody(body)
	}
	p, err := parseForm(body)
	if err != nil {
		return nil, err
	}
	if !ValidSignature(token, rawURL, p, sig) {
		return nil, unauthorized
	}
	return p, nil
}

// parseBody reads a body authenticated through bodySHA256: a JSON object, or
// a form.
func parseBody(body []byte) (url.Values, error) {
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		return parseJSON(t)
	}
	return parseForm(body)
}

// parseForm reads an application/x-www-form-urlencoded body.
func parseForm(body []byte) (url.Values, error) {
	p, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not a valid form.", Err: err}
	}
	return p, nil
}

// parseJSON reads a flat JSON object into parameters: strings as they are,
// numbers in their JSON spelling, booleans as "true"/"false". Nested values
// and nulls are skipped: no field callbridge reads is nested.
func parseJSON(body []byte) (url.Values, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not a valid JSON object.", Err: err}
	}
	p := url.Values{}
	for k, v := range obj {
		switch v := v.(type) {
		case string:
			p.Set(k, v)
		case json.Number:
			p.Set(k, v.String())
		case bool:
			p.Set(k, strconv.FormatBool(v))
		}
	}
	return p, nil
}

// mapper turns one verified webhook's parameters into events.
type mapper struct {
	conn     *callbridge.Connection
	p        url.Values
	q        url.Values // callbridge's own query parameters of the URL (see route.go)
	received time.Time
	payload  []byte
}

// ids reads and bounds CallSid and ParentCallSid.
func (m *mapper) ids() (callSid, parent string, err error) {
	callSid = strings.TrimSpace(m.p.Get("CallSid"))
	parent = strings.TrimSpace(m.p.Get("ParentCallSid"))
	if callSid == "" {
		return "", "", callbridge.Errorf(callbridge.EINVALID, "Missing CallSid.")
	}
	if len(callSid) > maxSIDLen || len(parent) > maxSIDLen {
		return "", "", callbridge.Errorf(callbridge.EINVALID, "CallSid is too long.")
	}
	return callSid, parent, nil
}

// base returns an event with the fields every Twilio event shares.
func (m *mapper) base(typ callbridge.EventType, callSid, parent string) callbridge.CallEvent {
	ev := callbridge.CallEvent{
		Type:           typ,
		ProviderCallID: callSid,
		LegID:          callSid,
		ReceivedAt:     m.received,
		Payload:        m.payload,
	}
	if parent != "" {
		ev.ProviderCallID, ev.Child = parent, true
	}
	return ev
}

// status maps a voice status callback or voice request.
func (m *mapper) status() ([]callbridge.CallEvent, error) {
	callSid, parent, err := m.ids()
	if err != nil {
		return nil, err
	}
	raw := strings.ToLower(strings.TrimSpace(m.p.Get("CallStatus")))
	if raw == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "Missing CallStatus.")
	}
	if len(raw) > 32 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "CallStatus is too long.")
	}
	ev := m.base(callbridge.EventStatus, callSid, parent)
	if m.q.Get(queryFlow) == flowClickToCall {
		return m.clickToCall(ev, callSid, raw)
	}
	inboundParent := false
	if ev.Child {
		ev.Agent = callbridge.NormalizePhone(m.p.Get("To"), "US")
	} else {
		switch strings.ToLower(m.p.Get("Direction")) {
		case directionInbound:
			inboundParent = true
			ev.Direction = callbridge.DirectionInbound
			ev.CustomerNumber = callbridge.NormalizePhone(m.p.Get("From"), "US")
			ev.LineNumber = callbridge.NormalizePhone(m.p.Get("To"), "US")
		case directionOutboundAPI, directionOutboundDial:
			ev.Direction = callbridge.DirectionOutbound
			ev.CustomerNumber = callbridge.NormalizePhone(m.p.Get("To"), "US")
			ev.LineNumber = callbridge.NormalizePhone(m.p.Get("From"), "US")
		}
	}
	st, ok := legStatus(raw, inboundParent)
	if !ok {
		return nil, nil
	}
	ev.Status = st
	ev.Key = "status:" + callSid + ":" + raw
	ev.Duration = seconds(m.p.Get("CallDuration"))
	ev.Sequence = integer(m.p.Get("SequenceNumber"))
	ev.OccurredAt = parseTimestamp(m.p.Get("Timestamp"), m.conn.TimeZone)
	// A call placed with Record=true reports its recording on the status
	// callback itself.
	if rs, ru := m.p.Get("RecordingSid"), m.p.Get("RecordingUrl"); rs != "" && ru != "" && len(rs) <= maxSIDLen {
		ev.RecordingID, ev.RecordingURL = rs, ru
		ev.RecordingDuration = seconds(m.p.Get("RecordingDuration"))
	}
	out := []callbridge.CallEvent{ev}
	if d, ok := m.dialOutcome(callSid, parent); ok {
		out = append(out, d)
	}
	return out, nil
}

// legStatus maps a Twilio CallStatus. On an inbound parent leg Twilio's own
// application answers, so "in-progress" is still ringing for the caller and
// "completed" only says the leg ended; the outcome comes from the <Dial> legs.
func legStatus(s string, inboundParent bool) (callbridge.Status, bool) {
	switch s {
	case "queued", "initiated", "ringing":
		return callbridge.StatusRinging, true
	case "in-progress", "answered":
		if inboundParent {
			return callbridge.StatusRinging, true
		}
		return callbridge.StatusAnswered, true
	case "completed":
		if inboundParent {
			return callbridge.StatusEnded, true
		}
		return callbridge.StatusCompleted, true
	case "busy":
		return callbridge.StatusBusy, true
	case "no-answer", "canceled":
		return callbridge.StatusMissed, true
	case "failed":
		return callbridge.StatusFailed, true
	}
	return callbridge.StatusUnknown, false
}

// recording maps a recording status callback.
func (m *mapper) recording() ([]callbridge.CallEvent, error) {
	callSid, parent, err := m.ids()
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSpace(m.p.Get("RecordingStatus")), "completed") {
		return nil, nil // in-progress, absent, failed: nothing to record
	}
	rs := strings.TrimSpace(m.p.Get("RecordingSid"))
	ru := strings.TrimSpace(m.p.Get("RecordingUrl"))
	switch {
	case rs == "":
		return nil, callbridge.Errorf(callbridge.EINVALID, "Missing RecordingSid.")
	case len(rs) > maxSIDLen:
		return nil, callbridge.Errorf(callbridge.EINVALID, "RecordingSid is too long.")
	case ru == "":
		return nil, callbridge.Errorf(callbridge.EINVALID, "Missing RecordingUrl.")
	}
	ev := m.base(callbridge.EventRecording, callSid, parent)
	ev.Key = "recording:" + rs
	ev.RecordingID, ev.RecordingURL = rs, ru
	ev.RecordingDuration = seconds(m.p.Get("RecordingDuration"))
	ev.OccurredAt = parseTimestamp(m.p.Get("RecordingStartTime"), m.conn.TimeZone)
	return []callbridge.CallEvent{ev}, nil
}

// seconds parses a non-negative whole number of seconds; anything else is 0.
func seconds(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// integer parses a non-negative integer; anything else is 0.
func integer(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// Timestamp layouts. Twilio sends RFC 2822 with a numeric zone
// ("Tue, 12 Mar 2024 10:00:42 +0000"); the others are accepted for JSON
// bodies and lenient peers.
var (
	zonedLayouts = []string{
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 -0700",
		time.RFC3339Nano,
	}
	abbrevLayouts = []string{
		"Mon, 2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04:05 MST",
	}
	naiveLayouts = []string{
		"Mon, 2 Jan 2006 15:04:05",
		"2 Jan 2006 15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04:05",
	}
)

// parseTimestamp reads a provider time and returns it in UTC, or the zero time
// when s is empty or unreadable. A time without a zone, or with a zone
// abbreviation other than UTC or GMT (abbreviations are ambiguous), is read in
// the IANA zone tz (UTC when empty or unknown).
func parseTimestamp(s, tz string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	for _, l := range abbrevLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if name, _ := t.Zone(); name == "UTC" || name == "GMT" {
				return t.UTC()
			}
			s = strings.TrimSpace(s[:strings.LastIndexByte(s, ' ')])
			break
		}
	}
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// clickToCall maps a status callback of a call placed by PlaceCall.
func (m *mapper) clickToCall(ev callbridge.CallEvent, callSid, raw string) ([]callbridge.CallEvent, error) {
	ev.Direction = callbridge.DirectionOutbound
	st, ok := legStatus(raw, false)
	if !ok {
		return nil, nil
	}
	if ev.Child {
		// The <Dial> leg to the customer.
		ev.CustomerNumber = callbridge.NormalizePhone(m.p.Get("To"), "US")
		ev.LineNumber = callbridge.NormalizePhone(m.p.Get("From"), "US")
	} else {
		// The manager's leg: picking up is not yet a conversation.
		ev.Agent = callbridge.NormalizePhone(m.p.Get("To"), "US")
		ev.LineNumber = callbridge.NormalizePhone(m.p.Get("From"), "US")
		switch st {
		case callbridge.StatusAnswered:
			st = callbridge.StatusRinging
		case callbridge.StatusCompleted, callbridge.StatusBusy, callbridge.StatusMissed:
			st = callbridge.StatusEnded
		}
	}
	ev.Status = st
	ev.Key = "status:" + callSid + ":" + raw
	ev.Duration = seconds(m.p.Get("CallDuration"))
	ev.Sequence = integer(m.p.Get("SequenceNumber"))
	ev.OccurredAt = parseTimestamp(m.p.Get("Timestamp"), m.conn.TimeZone)
	if rs, ru := m.p.Get("RecordingSid"), m.p.Get("RecordingUrl"); rs != "" && ru != "" && len(rs) <= maxSIDLen {
		ev.RecordingID, ev.RecordingURL = rs, ru
		ev.RecordingDuration = seconds(m.p.Get("RecordingDuration"))
	}
	return []callbridge.CallEvent{ev}, nil
}

// dialOutcome returns the event of the leg a routed call's <Dial> created,
// read from the <Dial> action request (DialCallSid, DialCallStatus,
// DialCallDuration; the agent from cb_cur).
func (m *mapper) dialOutcome(callSid, parent string) (callbridge.CallEvent, bool) {
	if m.q.Get(queryStep) != stepDial || parent != "" {
		return callbridge.CallEvent{}, false
	}
	leg := strings.TrimSpace(m.p.Get("DialCallSid"))
	raw := strings.ToLower(strings.TrimSpace(m.p.Get("DialCallStatus")))
	if leg == "" || len(leg) > maxSIDLen || len(raw) > 32 {
		return callbridge.CallEvent{}, false
	}
	st, ok := legStatus(raw, false)
	if !ok {
		return callbridge.CallEvent{}, false
	}
	ev := m.base(callbridge.EventStatus, leg, callSid)
	ev.Status = st
	// Its own key: the leg's callback with the same status carries the
	// provider's Timestamp and SequenceNumber and must not be displaced by
	// this less precise copy. The action request has no Timestamp; it is
	// placed when it arrived.
	ev.Key = "dial:" + leg + ":" + raw
	ev.OccurredAt = m.received.UTC()
	if cur := m.q.Get(queryCurrent); len(cur) <= maxAgentLen {
		ev.Agent = callbridge.NormalizePhone(cur, "US")
	}
	ev.Duration = seconds(m.p.Get("DialCallDuration"))
	return ev, true
}
