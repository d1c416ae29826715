package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"callbridge"
)

// callResource is the part of Twilio's Call resource callbridge reads.
type callResource struct {
	SID           string `json:"sid"`
	ParentCallSID string `json:"parent_call_sid"`
	AccountSID    string `json:"account_sid"`
	To            string `json:"to"`
	From          string `json:"from"`
	Status        string `json:"status"`
	Direction     string `json:"direction"`
	StartTime     string `json:"start_time"`
	EndTime       string `json:"end_time"`
	Duration      string `json:"duration"`
}

// PlaceCall places a click-to-call: Twilio first rings the manager
// (req.Agent: a phone number, "sip:…" URI or "client:identity") from the
// connection's caller_id, and when the manager picks up, TwiML passed inline
// (the Twiml parameter) <Dial>s the customer (req.Customer, E.164) with the
// same caller id and Options.DialTimeout.
//
// The request is POST /2010-04-01/Accounts/{sid}/Calls.json with HTTP Basic
// auth. StatusCallback is req.StatusURL plus cb_flow=c2c for every
// call-progress event (initiated, ringing, answered, completed); the <Dial>'s
// <Number> reports to the same URL, so the customer's leg reports as a child
// leg. Record=true records the call from the moment the manager answers; the
// recording callback goes to the same URL. ParseWebhook reads these
// callbacks knowing the manager's leg is the parent (see ParseWebhook).
//
// The returned ProviderCallID is the new call's SID, the id the webhooks
// name. Errors: EINVALID for a bad request (no caller_id, a customer that is
// not E.164, a StatusURL that is not absolute http(s), or Twilio refusing
// the numbers); EUNAUTHORIZED for wrong credentials; ERATELIMIT; and a
// KindUncertain error when Twilio may have placed the call without
// answering (timeout, 5xx) — do not retry blindly, the manager's phone may
// already be ringing.
func (c *Connector) PlaceCall(ctx context.Context, conn *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	sid, token := credentials(conn)
	if !isSID(sid) || token == "" {
		return nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Twilio connection has no credentials.")
	}
	callerID := strings.TrimSpace(conn.Credentials[CredentialCallerID])
	if !isE164(callerID) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The Twilio connection needs a caller_id (a Twilio number in E.164) for click-to-call.")
	}
	agent := dialTarget(req.Agent)
	if agent == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The manager has no phone number, SIP URI or client identity to ring.")
	}
	customer := strings.TrimSpace(req.Customer)
	if !isE164(customer) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The number to call must be in E.164 format, e.g. +14155550100.")
	}
	status, err := absoluteURL(req.StatusURL)
	if err != nil {
		return nil, err
	}
	cb := withQuery(status, url.Values{queryFlow: {flowClickToCall}})

	d := newTwiML()
	d.open("Dial", "callerId", callerID, "timeout", secondsAttr(int(c.dialTimeout.Seconds())))
	d.dialNoun(customer, cb)
	d.close("Dial")

	form := url.Values{
		"To":                            {agent},
		"From":                          {callerID},
		"Twiml":                         {string(d.bytes())},
		"Timeout":                       {secondsAttr(int(c.dialTimeout.Seconds()))},
		"StatusCallback":                {cb},
		"StatusCallbackMethod":          {"POST"},
		"StatusCallbackEvent":           strings.Fields(allCallEvents),
		"Record":                        {"true"},
		"RecordingStatusCallback":       {cb},
		"RecordingStatusCallbackMethod": {"POST"},
		"RecordingStatusCallbackEvent":  {"completed"},
	}
	data, err := c.api(ctx, conn, http.MethodPost, accountPath(sid)+"/Calls.json", form, true)
	if err != nil {
		return nil, err
	}
	var call callResource
	if err := json.Unmarshal(data, &call); err != nil || !isSID(call.SID) {
		return nil, callbridge.Uncertain(err, "Twilio's answer named no call; the call may or may not have been placed.")
	}
	return &callbridge.PlacedCall{ProviderCallID: call.SID}, nil
}

var _ callbridge.CallPlacer = (*Connector)(nil)

// dialTarget returns a manager identity Twilio can ring: a "sip:" URI or
// "client:" identity as given, or a phone number in E.164 (read as a US
// number when it has no country code). It returns "" for anything else.
func dialTarget(s string) string {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	if len(s) > maxAgentLen || strings.ContainsFunc(s, unicode.IsControl) {
		return ""
	}
	switch {
	case strings.HasPrefix(low, "sip:") && len(s) > 4:
		return s
	case strings.HasPrefix(low, "client:") && len(s) > 7:
		return s
	}
	if p := callbridge.NormalizePhone(s, "US"); isE164(p) {
		return p
	}
	return ""
}

// isE164 reports whether s is "+" followed by 8 to 15 digits.
func isE164(s string) bool {
	if len(s) < 9 || len(s) > 16 || s[0] != '+' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// absoluteURL checks that s is an absolute http or https URL without user
// info or fragment.
func absoluteURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", callbridge.Errorf(callbridge.EINVALID, "The status URL must be an absolute http(s) URL.")
	}
	return u.String(), nil
}
