package twilio_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	hookURL   = "https://cb.example.com/webhooks/conn-token"
)

var received = time.Date(2024, 3, 12, 10, 5, 0, 0, time.UTC)

func testConn() *callbridge.Connection {
	return &callbridge.Connection{
		ID: 7, AccountID: 3, Provider: "twilio",
		Credentials: map[string]string{twilio.CredentialAccountSID: testSID, twilio.CredentialAuthToken: testToken},
	}
}

// formRequest encodes p as a form body and signs it for hookURL with the
// test's own HMAC (the signed string is built by hand).
func formRequest(p url.Values) *callbridge.WebhookRequest {
	return signedRequest(hookURL, []byte(p.Encode()), hmacSHA1(testToken, hookURL+concat(p)))
}

func signedRequest(u string, body []byte, sig string) *callbridge.WebhookRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	if sig != "" {
		h.Set("X-Twilio-Signature", sig)
	}
	return &callbridge.WebhookRequest{URL: u, Method: http.MethodPost, Header: h, Body: body, ReceivedAt: received}
}

// concat is the test's own rendering of Twilio's parameter string, for
// parameters without repeated keys.
func concat(p url.Values) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	// insertion sort: small and independent of the package under test
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(p.Get(k))
	}
	return b.String()
}

func statusParams(callSid, status, direction, from, to string) url.Values {
	return url.Values{
		"AccountSid": {testSID}, "ApiVersion": {"2010-04-01"},
		"CallSid": {callSid}, "CallStatus": {status}, "Direction": {direction},
		"From": {from}, "To": {to}, "CallbackSource": {"call-progress-events"},
		"SequenceNumber": {"2"}, "Timestamp": {"Tue, 12 Mar 2024 10:00:42 +0000"},
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok {
		t.Fatalf("err = %T %v, want *callbridge.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, err, code)
	}
}

func parse(t *testing.T, req *callbridge.WebhookRequest) []callbridge.CallEvent {
	t.Helper()
	evs, reply, err := twilio.New(twilio.Options{}).ParseWebhook(t.Context(), testConn(), req)
	if err != nil {
		t.Fatalf("ParseWebhook: %v", err)
	}
	if reply == nil || reply.Status != http.StatusOK || !strings.HasPrefix(reply.ContentType, "text/xml") ||
		!bytes.Contains(reply.Body, []byte("<Response/>")) {
		t.Fatalf("reply = %+v", reply)
	}
	return evs
}

func TestName(t *testing.T) {
	if got := twilio.New(twilio.Options{}).Name(); got != "twilio" {
		t.Fatalf("Name = %q", got)
	}
}

func TestParseWebhookAuthentication(t *testing.T) {
	p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
	body := []byte(p.Encode())
	good := hmacSHA1(testToken, hookURL+concat(p))
	c := twilio.New(twilio.Options{})

	tests := []struct {
		name string
		conn *callbridge.Connection
		req  *callbridge.WebhookRequest
		code string
	}{
		{"missing signature", testConn(), signedRequest(hookURL, body, ""), callbridge.EUNAUTHORIZED},
		{"garbage signature", testConn(), signedRequest(hookURL, body, "not-a-signature"), callbridge.EUNAUTHORIZED},
		{"wrong token", testConn(), signedRequest(hookURL, body, hmacSHA1("other-token", hookURL+concat(p))), callbridge.EUNAUTHORIZED},
		{"wrong scheme", testConn(), signedRequest(strings.Replace(hookURL, "https:", "http:", 1), body, good), callbridge.EUNAUTHORIZED},
		{"wrong port", testConn(), signedRequest(strings.Replace(hookURL, ".com/", ".com:8443/", 1), body, good), callbridge.EUNAUTHORIZED},
		{"extra query", testConn(), signedRequest(hookURL+"?x=1", body, good), callbridge.EUNAUTHORIZED},
		{"other token in path", testConn(), signedRequest(hookURL+"2", body, good), callbridge.EUNAUTHORIZED},
		{"tampered body", testConn(), signedRequest(hookURL, bytes.Replace(body, []byte("ringing"), []byte("completed"), 1), good), callbridge.EUNAUTHORIZED},
		{"no credentials", &callbridge.Connection{Provider: "twilio"}, signedRequest(hookURL, body, good), callbridge.EUNAUTHORIZED},
		{"connection token differs", func() *callbridge.Connection {
			c := testConn()
			c.Credentials[twilio.CredentialAuthToken] = "rotated"
			return c
		}(), signedRequest(hookURL, body, good), callbridge.EUNAUTHORIZED},
		{"unparseable body", testConn(), signedRequest(hookURL, []byte("CallSid=%zz"), good), callbridge.EINVALID},
		{"GET", testConn(), func() *callbridge.WebhookRequest {
			r := signedRequest(hookURL, body, good)
			r.Method = http.MethodGet
			return r
		}(), callbridge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, reply, err := c.ParseWebhook(t.Context(), tt.conn, tt.req)
			wantCode(t, err, tt.code)
			if evs != nil || reply != nil {
				t.Fatalf("events %v reply %v with an error", evs, reply)
			}
		})
	}
	// Control: the untouched request passes, also with the default port
	// spelled out.
	parse(t, signedRequest(hookURL, body, good))
	parse(t, signedRequest(strings.Replace(hookURL, ".com/", ".com:443/", 1), body, good))
}

func TestParseWebhookAccountSid(t *testing.T) {
	for _, sid := range []string{"AC99999999999999999999999999999999", "", testSID + "x", strings.ToUpper(testSID)} {
		p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
		if sid == "" {
			p.Del("AccountSid")
		} else {
			p.Set("AccountSid", sid)
		}
		_, _, err := twilio.New(twilio.Options{}).ParseWebhook(t.Context(), testConn(), formRequest(p))
		wantCode(t, err, callbridge.EUNAUTHORIZED)
	}
}

func TestParseWebhookInvalid(t *testing.T) {
	long := "CA" + strings.Repeat("0", 100)
	tests := []struct {
		name string
		edit func(url.Values)
	}{
		{"missing CallSid", func(p url.Values) { p.Del("CallSid") }},
		{"blank CallSid", func(p url.Values) { p.Set("CallSid", "  ") }},
		{"long CallSid", func(p url.Values) { p.Set("CallSid", long) }},
		{"long ParentCallSid", func(p url.Values) { p.Set("ParentCallSid", long) }},
		{"missing CallStatus", func(p url.Values) { p.Del("CallStatus") }},
		{"recording without RecordingSid", func(p url.Values) {
			p.Set("RecordingStatus", "completed")
			p.Set("RecordingUrl", "https://api.twilio.com/x")
		}},
		{"recording without RecordingUrl", func(p url.Values) {
			p.Set("RecordingStatus", "completed")
			p.Set("RecordingSid", "RE1")
		}},
		{"recording without CallSid", func(p url.Values) {
			p.Del("CallSid")
			p.Set("RecordingStatus", "completed")
			p.Set("RecordingSid", "RE1")
			p.Set("RecordingUrl", "https://api.twilio.com/x")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
			tt.edit(p)
			_, _, err := twilio.New(twilio.Options{}).ParseWebhook(t.Context(), testConn(), formRequest(p))
			wantCode(t, err, callbridge.EINVALID)
		})
	}
}

// Twilio's helper libraries sign a repeated key with each of its distinct
// values, sorted. A signature over the first value only must not pass.
func TestParseWebhookRepeatedKeys(t *testing.T) {
	p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
	body := []byte(p.Encode() + "&Extra=b&Extra=a&Extra=b")
	// Keys in byte order; Extra sorts between Direction and From.
	signed := func(extra string) string {
		var b strings.Builder
		b.WriteString(hookURL)
		for _, k := range []string{"AccountSid", "ApiVersion", "CallSid", "CallStatus", "CallbackSource", "Direction", "Extra", "From", "SequenceNumber", "Timestamp", "To"} {
			if k == "Extra" {
				b.WriteString(extra)
				continue
			}
			b.WriteString(k + p.Get(k))
		}
		return b.String()
	}
	if evs := parse(t, signedRequest(hookURL, body, hmacSHA1(testToken, signed("ExtraaExtrab")))); len(evs) != 1 {
		t.Fatalf("events = %d", len(evs))
	}
	for _, extra := range []string{"Extrab", "ExtrabExtraaExtrab", "ExtraaExtrabExtrab"} {
		_, _, err := twilio.New(twilio.Options{}).ParseWebhook(t.Context(), testConn(), signedRequest(hookURL, body, hmacSHA1(testToken, signed(extra))))
		wantCode(t, err, callbridge.EUNAUTHORIZED)
	}
}

func TestParseWebhookJSONBody(t *testing.T) {
	body := []byte(`{"AccountSid":"` + testSID + `","CallSid":"CA77","CallStatus":"completed","Direction":"outbound-api",` +
		`"From":"+14155550111","To":"+14155550100","CallDuration":42,"SequenceNumber":3,"Timestamp":"Tue, 12 Mar 2024 10:00:42 +0000","Nested":{"a":1}}`)
	u := hookURL + "?bodySHA256=" + sha256Hex(body)
	sig := hmacSHA1(testToken, u) // the URL alone; no parameters

	evs := parse(t, signedRequest(u, body, sig))
	if len(evs) != 1 {
		t.Fatalf("events = %d", len(evs))
	}
	ev := evs[0]
	if ev.Status != callbridge.StatusCompleted || ev.Duration != 42 || ev.Sequence != 3 || ev.CustomerNumber != "+14155550100" ||
		ev.Key != "status:CA77:completed" || !bytes.Equal(ev.Payload, body) {
		t.Fatalf("event = %+v", ev)
	}

	c := twilio.New(twilio.Options{})
	refused := []struct {
		name string
		req  *callbridge.WebhookRequest
	}{
		{"tampered body", signedRequest(u, bytes.Replace(body, []byte("42"), []byte("43"), 1), sig)},
		{"hash of other body", signedRequest(hookURL+"?bodySHA256="+sha256Hex([]byte("{}")), body, hmacSHA1(testToken, hookURL+"?bodySHA256="+sha256Hex([]byte("{}"))))},
		{"signature without the hash", signedRequest(u, body, hmacSHA1(testToken, hookURL))},
		{"wrong token", signedRequest(u, body, hmacSHA1("other", u))},
		{"hash dropped from URL", signedRequest(hookURL, body, sig)},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.ParseWebhook(t.Context(), testConn(), tt.req)
			if err == nil {
				t.Fatal("accepted")
			}
			if tt.name == "hash dropped from URL" {
				// parsed as a form, the JSON fails to verify or to parse
				if code := callbridge.ErrorCode(err); code != callbridge.EUNAUTHORIZED && code != callbridge.EINVALID {
					t.Fatalf("code = %s", code)
				}
				return
			}
			wantCode(t, err, callbridge.EUNAUTHORIZED)
		})
	}

	// A verified but malformed JSON body is invalid, not unauthorized.
	bad := []byte(`{"CallSid":`)
	bu := hookURL + "?bodySHA256=" + sha256Hex(bad)
	_, _, err := c.ParseWebhook(t.Context(), testConn(), signedRequest(bu, bad, hmacSHA1(testToken, bu)))
	wantCode(t, err, callbridge.EINVALID)
}

// The status mapping follows Call.Fold's semantics: on an inbound parent leg
// Twilio's application answers, so in-progress is not a conversation.
func TestParseWebhookStatusMapping(t *testing.T) {
	const (
		customer = "+14155550100"
		line     = "+14155550111"
		agent    = "sip:alice@example.sip.twilio.com"
	)
	type leg struct {
		name      string
		direction string
		parent    string
		from, to  string
		// expected
		dir                    callbridge.Direction
		wantCust, wantLine, ag string
		statuses               map[string]callbridge.Status
	}
	generic := map[string]callbridge.Status{
		"queued": callbridge.StatusRinging, "initiated": callbridge.StatusRinging, "ringing": callbridge.StatusRinging,
		"in-progress": callbridge.StatusAnswered, "completed": callbridge.StatusCompleted, "busy": callbridge.StatusBusy,
		"no-answer": callbridge.StatusMissed, "canceled": callbridge.StatusMissed, "failed": callbridge.StatusFailed,
	}
	inbound := map[string]callbridge.Status{}
	for k, v := range generic {
		inbound[k] = v
	}
	inbound["in-progress"] = callbridge.StatusRinging
	inbound["completed"] = callbridge.StatusEnded

	legs := []leg{
		{"inbound parent", "inbound", "", customer, line, callbridge.DirectionInbound, customer, line, "", inbound},
		{"outbound-api parent", "outbound-api", "", line, customer, callbridge.DirectionOutbound, customer, line, "", generic},
		{"outbound-dial child", "outbound-dial", "CAparent", customer, agent, callbridge.DirectionUnknown, "", "", agent, generic},
		{"outbound-dial child to a phone", "outbound-dial", "CAparent", line, "(415) 555-0199", callbridge.DirectionUnknown, "", "", "+14155550199", generic},
		{"child of an API call", "outbound-api", "CAparent", line, "client:bob", callbridge.DirectionUnknown, "", "", "client:bob", generic},
	}
	for _, l := range legs {
		for status, want := range l.statuses {
			t.Run(l.name+"/"+status, func(t *testing.T) {
				p := statusParams("CAleg", status, l.direction, l.from, l.to)
				if l.parent != "" {
					p.Set("ParentCallSid", l.parent)
				}
				if status == "completed" {
					p.Set("CallDuration", "61")
				}
				evs := parse(t, formRequest(p))
				if len(evs) != 1 {
					t.Fatalf("events = %d", len(evs))
				}
				ev := evs[0]
				wantCall, wantChild := "CAleg", false
				if l.parent != "" {
					wantCall, wantChild = l.parent, true
				}
				if ev.Type != callbridge.EventStatus || ev.Status != want || ev.Direction != l.dir ||
					ev.ProviderCallID != wantCall || ev.LegID != "CAleg" || ev.Child != wantChild ||
					ev.CustomerNumber != l.wantCust || ev.LineNumber != l.wantLine || ev.Agent != l.ag ||
					ev.Key != "status:CAleg:"+status || ev.Sequence != 2 ||
					!ev.OccurredAt.Equal(time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)) || !ev.ReceivedAt.Equal(received) {
					t.Fatalf("event = %+v", ev)
				}
				wantDur := 0
				if status == "completed" {
					wantDur = 61
				}
				if ev.Duration != wantDur {
					t.Fatalf("Duration = %d, want %d", ev.Duration, wantDur)
				}
				if ev.AccountID != 0 || ev.ConnectionID != 0 {
					t.Fatal("connector must leave AccountID and ConnectionID to the caller")
				}
			})
		}
	}
}

func TestParseWebhookUnknownStatus(t *testing.T) {
	p := statusParams("CA1", "some-new-status", "inbound", "+14155550100", "+14155550111")
	if evs := parse(t, formRequest(p)); len(evs) != 0 {
		t.Fatalf("events = %+v", evs)
	}
}

func TestParseWebhookUnknownDirection(t *testing.T) {
	p := statusParams("CA1", "in-progress", "trunking-originating", "+14155550100", "+14155550111")
	evs := parse(t, formRequest(p))
	if len(evs) != 1 || evs[0].Direction != callbridge.DirectionUnknown || evs[0].Status != callbridge.StatusAnswered ||
		evs[0].CustomerNumber != "" || evs[0].LineNumber != "" {
		t.Fatalf("events = %+v", evs)
	}
}

// The voice request (what Twilio asks the voice URL when a call arrives) and
// the "ringing" status callback of the same leg are the same event.
func TestVoiceRequestAndRingingCallbackShareKey(t *testing.T) {
	voice := url.Values{"AccountSid": {testSID}, "CallSid": {"CA1"}, "CallStatus": {"ringing"}, "Direction": {"inbound"},
		"From": {"+14155550100"}, "To": {"+14155550111"}, "ApiVersion": {"2010-04-01"}}
	status := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
	a, b := parse(t, formRequest(voice)), parse(t, formRequest(status))
	if len(a) != 1 || len(b) != 1 || a[0].Key != b[0].Key || a[0].Status != callbridge.StatusRinging {
		t.Fatalf("voice %+v status %+v", a, b)
	}
	if !a[0].OccurredAt.IsZero() {
		t.Fatalf("voice request has no Timestamp, OccurredAt = %v", a[0].OccurredAt)
	}
}

func TestParseWebhookNumbers(t *testing.T) {
	p := statusParams("CA1", "ringing", "inbound", "anonymous", "14155550111")
	ev := parse(t, formRequest(p))[0]
	if ev.CustomerNumber != "" || ev.LineNumber != "+14155550111" {
		t.Fatalf("customer %q line %q", ev.CustomerNumber, ev.LineNumber)
	}
}

func TestParseWebhookTimestamps(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		ts, tz string
		want   time.Time
	}{
		{"Tue, 12 Mar 2024 10:00:42 +0000", "", time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)},
		{"Tue, 12 Mar 2024 10:00:42 +0000", "America/New_York", time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)},
		{"Tue, 12 Mar 2024 05:00:42 -0500", "", time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)},
		{"Tue, 2 Mar 2024 10:00:42 +0100", "", time.Date(2024, 3, 2, 9, 0, 42, 0, time.UTC)},
		{"Tue, 12 Mar 2024 10:00:42 GMT", "America/New_York", time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)},
		{"Tue, 12 Mar 2024 10:00:42", "America/New_York", time.Date(2024, 3, 12, 10, 0, 42, 0, ny).UTC()},
		{"Tue, 12 Mar 2024 10:00:42 EDT", "America/New_York", time.Date(2024, 3, 12, 10, 0, 42, 0, ny).UTC()},
		{"2024-03-12 10:00:42", "America/New_York", time.Date(2024, 3, 12, 10, 0, 42, 0, ny).UTC()},
		{"2024-03-12 10:00:42", "Nowhere/Unknown", time.Date(2024, 3, 12, 10, 0, 42, 0, time.UTC)},
		{"2024-03-12T10:00:42.5Z", "", time.Date(2024, 3, 12, 10, 0, 42, 5e8, time.UTC)},
		{"yesterday", "", time.Time{}},
		{"", "", time.Time{}},
	}
	for _, tt := range tests {
		p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
		p.Set("Timestamp", tt.ts)
		conn := testConn()
		conn.TimeZone = tt.tz
		evs, _, err := twilio.New(twilio.Options{}).ParseWebhook(t.Context(), conn, formRequest(p))
		if err != nil {
			t.Fatal(err)
		}
		if got := evs[0].OccurredAt; !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("%q in %q: OccurredAt = %v, want %v", tt.ts, tt.tz, got, tt.want)
		}
	}
}

func TestParseWebhookLenientNumbers(t *testing.T) {
	p := statusParams("CA1", "completed", "outbound-api", "+14155550111", "+14155550100")
	p.Set("CallDuration", "-5")
	p.Set("SequenceNumber", "x")
	ev := parse(t, formRequest(p))[0]
	if ev.Duration != 0 || ev.Sequence != 0 {
		t.Fatalf("Duration %d Sequence %d", ev.Duration, ev.Sequence)
	}
}

// A call placed with Record=true reports the recording on its status callback.
func TestStatusCallbackWithRecording(t *testing.T) {
	p := statusParams("CA1", "completed", "outbound-api", "+14155550111", "+14155550100")
	p.Set("RecordingSid", "RE1")
	p.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+testSID+"/Recordings/RE1")
	p.Set("RecordingDuration", "30")
	ev := parse(t, formRequest(p))[0]
	if ev.Type != callbridge.EventStatus || ev.RecordingID != "RE1" || ev.RecordingDuration != 30 || ev.RecordingURL == "" {
		t.Fatalf("event = %+v", ev)
	}
}

func recordingParams(status string) url.Values {
	return url.Values{
		"AccountSid": {testSID}, "CallSid": {"CA1"}, "RecordingSid": {"RE1"},
		"RecordingUrl":    {"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Recordings/RE1"},
		"RecordingStatus": {status}, "RecordingDuration": {"37"}, "RecordingChannels": {"1"},
		"RecordingSource": {"DialVerb"}, "RecordingStartTime": {"Tue, 12 Mar 2024 10:00:05 +0000"}, "ErrorCode": {"0"},
	}
}

func TestParseWebhookRecording(t *testing.T) {
	p := recordingParams("completed")
	req := formRequest(p)
	evs := parse(t, req)
	if len(evs) != 1 {
		t.Fatalf("events = %d", len(evs))
	}
	ev := evs[0]
	if ev.Type != callbridge.EventRecording || ev.Key != "recording:RE1" || ev.ProviderCallID != "CA1" || ev.LegID != "CA1" ||
		ev.Child || ev.RecordingID != "RE1" || ev.RecordingURL != p.Get("RecordingUrl") || ev.RecordingDuration != 37 ||
		ev.Status != callbridge.StatusUnknown || !ev.OccurredAt.Equal(time.Date(2024, 3, 12, 10, 0, 5, 0, time.UTC)) ||
		!bytes.Equal(ev.Payload, req.Body) {
		t.Fatalf("event = %+v", ev)
	}

	// A recording of a <Dial> leg belongs to the logical call.
	p.Set("CallSid", "CAchild")
	p.Set("ParentCallSid", "CAparent")
	ev = parse(t, formRequest(p))[0]
	if ev.ProviderCallID != "CAparent" || ev.LegID != "CAchild" || !ev.Child {
		t.Fatalf("event = %+v", ev)
	}

	for _, status := range []string{"in-progress", "absent", "failed", "processing"} {
		if evs := parse(t, formRequest(recordingParams(status))); len(evs) != 0 {
			t.Errorf("%s: events = %+v", status, evs)
		}
	}
}

func TestParseWebhookPayloadIsACopy(t *testing.T) {
	p := statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111")
	req := formRequest(p)
	ev := parse(t, req)[0]
	want := bytes.Clone(req.Body)
	for i := range req.Body {
		req.Body[i] = 'x'
	}
	if !bytes.Equal(ev.Payload, want) {
		t.Fatal("Payload aliases the request body")
	}
}
