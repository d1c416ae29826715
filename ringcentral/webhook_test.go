package ringcentral_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/ringcentral"
)

const (
	clientID     = "rc-client-id"
	clientSecret = "rc-client-secret-0123456789"
	jwtCred      = "eyJraWQiOiJ0ZXN0In0.eyJzdWIiOiIxIn0.c2ln"
	hookURL      = "https://cb.example.com/webhooks/conn-token"
	account      = "809646016"
)

var received = time.Date(2020, 6, 23, 1, 10, 0, 0, time.UTC)

func testConn() *callbridge.Connection {
	return &callbridge.Connection{ID: 7, AccountID: 3, Provider: "ringcentral", Token: "conn-token",
		Credentials: map[string]string{ringcentral.CredentialClientID: clientID, ringcentral.CredentialClientSecret: clientSecret,
			ringcentral.CredentialJWT: jwtCred}}
}

func verifyToken(t *testing.T) string {
	t.Helper()
	tok, err := ringcentral.VerificationToken(testConn())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func hookRequest(t *testing.T, body []byte, token string) *callbridge.WebhookRequest {
	t.Helper()
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	if token != "" {
		h.Set(ringcentral.VerificationTokenHeader, token)
	}
	return &callbridge.WebhookRequest{URL: hookURL, Method: http.MethodPost, Header: h, Body: body, ReceivedAt: received}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

// partyJSON is a party in RingCentral's notification format.
type partyJSON struct {
	AccountID   string         `json:"accountId"`
	ExtensionID string         `json:"extensionId,omitempty"`
	ID          string         `json:"id"`
	Direction   string         `json:"direction"`
	To          map[string]any `json:"to"`
	From        map[string]any `json:"from"`
	Status      map[string]any `json:"status"`
	Park        map[string]any `json:"park"`
	MissedCall  bool           `json:"missedCall"`
	StandAlone  bool           `json:"standAlone"`
	Muted       bool           `json:"muted"`
	Recordings  []any          `json:"recordings,omitempty"`
}

func notify(seq int, event string, at string, origin string, extra map[string]any, parties ...partyJSON) []byte {
	body := map[string]any{"sequence": seq, "sessionId": "429180487016", "telephonySessionId": "s-718107795d564867a6f635fd81e89940",
		"serverId": "10.13.22.27.TAM", "eventTime": at, "origin": map[string]any{"type": origin}, "parties": parties}
	for k, v := range extra {
		body[k] = v
	}
	data, _ := json.Marshal(map[string]any{"uuid": "4654793329359724763", "event": event, "timestamp": at,
		"subscriptionId": "2461434a-276a-4073-bd26-34089effbad5", "ownerId": account, "body": body})
	return data
}

func status(code, reason string) map[string]any {
	m := map[string]any{"code": code, "rcc": false}
	if reason != "" {
		m["reason"] = reason
	}
	return m
}

func parseOK(t *testing.T, body []byte) []callbridge.CallEvent {
	t.Helper()
	evs, reply, err := ringcentral.New(ringcentral.Options{}).ParseWebhook(t.Context(), testConn(), hookRequest(t, body, verifyToken(t)))
	if err != nil {
		t.Fatal(err)
	}
	if reply == nil || reply.Status != http.StatusOK || len(reply.Body) != 0 {
		t.Fatalf("reply %+v", reply)
	}
	return evs
}

const accountEvent = "/restapi/v1.0/account/" + account + "/telephony/sessions"

// A captured PSTN → RingCentral notification: the caller's party.
func TestParseCallerParty(t *testing.T) {
	body := notify(2, accountEvent, "2020-06-23T01:05:43.940Z", "Call", nil, partyJSON{
		AccountID: account, ID: "p-718107795d564867a6f635fd81e89940-1", Direction: "Outbound",
		To: map[string]any{"phoneNumber": "+18003151571"}, From: map[string]any{"phoneNumber": "+14083388064"},
		Status: status("Setup", ""), Park: map[string]any{},
	})
	evs := parseOK(t, body)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	e := evs[0]
	if e.Type != callbridge.EventStatus || e.ProviderCallID != "s-718107795d564867a6f635fd81e89940" ||
		e.LegID != "p-718107795d564867a6f635fd81e89940-1" || e.Child || e.Status != callbridge.StatusRinging ||
		e.Direction != callbridge.DirectionInbound || e.CustomerNumber != "+14083388064" || e.LineNumber != "+18003151571" ||
		e.Agent != "" || e.Sequence != 2 || !e.OccurredAt.Equal(time.Date(2020, 6, 23, 1, 5, 43, 940e6, time.UTC)) ||
		e.Key != "rc:s-718107795d564867a6f635fd81e89940:p-718107795d564867a6f635fd81e89940-1:setup" ||
		!bytes.Equal(e.Payload, body) || !e.ReceivedAt.Equal(received) || e.AccountID != 0 || e.ConnectionID != 0 {
		t.Fatalf("event %+v", e)
	}
}

// Every status of every party role maps as Fold expects.
func TestParseStatusMapping(t *testing.T) {
	const (
		customer = "+14083388064"
		line     = "+18003151571"
		ext      = "809646016"
	)
	type role struct {
		name   string
		party  partyJSON
		origin string
		// expected
		child              bool
		dir                callbridge.Direction
		cust, lineNo, agnt string // agent on shown statuses
	}
	roles := []role{
		{"inbound caller", partyJSON{Direction: "Outbound", To: map[string]any{"phoneNumber": line}, From: map[string]any{"phoneNumber": customer}},
			"Call", false, callbridge.DirectionInbound, customer, line, ""},
		{"inbound manager", partyJSON{ExtensionID: ext, Direction: "Inbound", To: map[string]any{"phoneNumber": line, "extensionId": ext}, From: map[string]any{"phoneNumber": customer}},
			"Call", true, callbridge.DirectionInbound, customer, line, ext},
		{"outbound manager", partyJSON{ExtensionID: ext, Direction: "Outbound", To: map[string]any{"phoneNumber": customer}, From: map[string]any{"phoneNumber": line, "extensionId": ext}},
			"Call", false, callbridge.DirectionOutbound, customer, line, ext},
		{"outbound customer", partyJSON{Direction: "Inbound", To: map[string]any{"phoneNumber": customer}, From: map[string]any{"phoneNumber": line, "extensionId": ext}},
			"Call", true, callbridge.DirectionOutbound, customer, line, ""},
		{"forwarded out", partyJSON{Direction: "Inbound", To: map[string]any{"phoneNumber": "+14155550199"}, From: map[string]any{"phoneNumber": customer}},
			"Call", true, callbridge.DirectionInbound, customer, "", "+14155550199"},
		{"ringout manager", partyJSON{ExtensionID: ext, Direction: "Inbound", To: map[string]any{"phoneNumber": "+14155550199", "extensionId": ext}, From: map[string]any{"phoneNumber": line}},
			"RingOut", false, callbridge.DirectionOutbound, "", "", ext},
		{"ringout customer", partyJSON{Direction: "Inbound", To: map[string]any{"phoneNumber": customer}, From: map[string]any{"phoneNumber": line}},
			"RingOut", true, callbridge.DirectionOutbound, customer, line, ""},
		{"internal caller", partyJSON{ExtensionID: "979428016", Direction: "Outbound", To: map[string]any{"phoneNumber": "11101", "extensionId": ext}, From: map[string]any{"phoneNumber": "+17203861294", "extensionId": "979428016"}},
			"Call", false, callbridge.DirectionInternal, "", "+17203861294", "979428016"},
		{"internal callee", partyJSON{ExtensionID: ext, Direction: "Inbound", To: map[string]any{"phoneNumber": "11101", "extensionId": ext}, From: map[string]any{"phoneNumber": "11104", "extensionId": "979428016"}},
			"Call", true, callbridge.DirectionInternal, "", "11101", ext},
	}
	type tc struct{ code, reason string }
	codes := []tc{{"Setup", ""}, {"Proceeding", ""}, {"Answered", ""}, {"Hold", ""}, {"Parked", ""}, {"VoiceMail", ""},
		{"Disconnected", ""}, {"Disconnected", "TargetBusy"}, {"Disconnected", "InvalidNumber"}, {"Disconnected", "NoAnswer"},
		{"Disconnected", "Cancelled"}, {"Disconnected", "BlindTransfer"}, {"Disconnected", "CallerInputRedirect"}, {"Gone", "AttendedTransfer"}}
	want := func(r role, c tc) (callbridge.Status, bool) {
		switch c.code {
		case "Setup", "Proceeding":
			return callbridge.StatusRinging, false
		case "Answered", "Hold", "Parked":
			if r.child || (r.name == "outbound manager") {
				return callbridge.StatusAnswered, true
			}
			return callbridge.StatusRinging, false
		case "VoiceMail":
			return callbridge.StatusMissed, true
		case "Gone":
			return callbridge.StatusUnknown, false
		}
		switch c.reason {
		case "TargetBusy":
			return callbridge.StatusBusy, false
		case "InvalidNumber":
			return callbridge.StatusFailed, false
		case "BlindTransfer", "CallerInputRedirect":
			return callbridge.StatusUnknown, false
		case "NoAnswer", "Cancelled":
			if r.name == "inbound caller" {
				return callbridge.StatusEnded, false
			}
			return callbridge.StatusMissed, true
		}
		return callbridge.StatusEnded, false
	}
	for _, r := range roles {
		for _, c := range codes {
			t.Run(r.name+"/"+c.code+"/"+c.reason, func(t *testing.T) {
				p := r.party
				p.AccountID, p.ID, p.Status = account, "p-1-2", status(c.code, c.reason)
				evs := parseOK(t, notify(5, accountEvent, "2020-06-23T01:06:00.001Z", r.origin, nil, p))
				if len(evs) != 1 {
					t.Fatalf("%d events", len(evs))
				}
				e := evs[0]
				st, shown := want(r, c)
				// Internal calls: the caller's Answered is call handling, not a conversation.
				if r.name == "internal caller" && (c.code == "Answered" || c.code == "Hold" || c.code == "Parked") {
					st, shown = callbridge.StatusRinging, false
				}
				if e.Status != st || e.Child != r.child || e.Direction != r.dir || e.CustomerNumber != r.cust || e.LineNumber != r.lineNo ||
					e.Key != "rc:s-718107795d564867a6f635fd81e89940:p-1-2:"+strings.ToLower(c.code) {
					t.Fatalf("event %+v, want status %s", e, st)
				}
				wantAgent := ""
				switch {
				case r.name == "outbound manager" || r.name == "ringout manager" || r.name == "internal caller":
					wantAgent = r.agnt
				case shown:
					wantAgent = r.agnt
				}
				if e.Agent != wantAgent {
					t.Fatalf("agent %q, want %q", e.Agent, wantAgent)
				}
			})
		}
	}
	// A callee with missedCall and no reason is missed; fax and unknown
	// codes give no event.
	p := roles[1].party
	p.AccountID, p.ID, p.Status, p.MissedCall = account, "p-1-3", status("Disconnected", ""), true
	if evs := parseOK(t, notify(6, accountEvent, "2020-06-23T01:06:00Z", "Call", nil, p)); evs[0].Status != callbridge.StatusMissed || evs[0].Agent != ext {
		t.Fatalf("missedCall: %+v", evs[0])
	}
	for _, code := range []string{"FaxReceive", "SomethingNew", ""} {
		p.Status = status(code, "")
		if evs := parseOK(t, notify(7, accountEvent, "2020-06-23T01:06:00Z", "Call", nil, p)); len(evs) != 0 {
			t.Fatalf("%s: %+v", code, evs)
		}
	}
}

func TestParseRecordingAndAIArtifacts(t *testing.T) {
	p := partyJSON{AccountID: account, ExtensionID: "809646016", ID: "p-9-3", Direction: "Inbound",
		To: map[string]any{"phoneNumber": "+18003151571", "extensionId": "809646016"}, From: map[string]any{"phoneNumber": "+14083388064"},
		Status: status("Disconnected", ""), Recordings: []any{map[string]any{"id": "1662272004", "active": false}}}
	body := notify(9, accountEvent, "2020-06-23T01:06:14.808Z", "Call",
		map[string]any{"aiNote": map[string]any{"summary": "Customer wants a quote"}, "transcript": []any{"hello"}}, p)
	plat := &ringcentral.Simulator{ClientID: clientID, ClientSecret: clientSecret, JWT: jwtCred}
	srv := httptest.NewServer(plat.Server())
	defer srv.Close()
	c := ringcentral.New(ringcentral.Options{APIBase: srv.URL, HTTPClient: srv.Client(), MediaHosts: []string{"media.devtest.ringcentral.com"}})
	evs, _, err := c.ParseWebhook(t.Context(), testConn(), hookRequest(t, body, verifyToken(t)))
	if err != nil {
		t.Fatal(err)
	}
	e := evs[0]
	if e.RecordingID != "1662272004" || e.RecordingURL != "https://media.devtest.ringcentral.com/restapi/v1.0/account/809646016/recording/1662272004/content" {
		t.Fatalf("recording %q %q", e.RecordingID, e.RecordingURL)
	}
	if !bytes.Contains(e.Payload, []byte(`"aiNote"`)) || !bytes.Contains(e.Payload, []byte(`"transcript"`)) {
		t.Fatal("payload lost the AI artifacts")
	}
	// The recording URL is one RecordingRequest accepts.
	if _, err := c.RecordingRequest(t.Context(), testConn(), e.RecordingURL); err != nil {
		t.Fatalf("own recording URL refused: %v", err)
	}
}

func TestParseAuthentication(t *testing.T) {
	body := notify(2, accountEvent, "2020-06-23T01:05:43.940Z", "Call", nil, partyJSON{AccountID: account, ID: "p-1",
		Direction: "Outbound", Status: status("Setup", ""), To: map[string]any{"phoneNumber": "+18003151571"}, From: map[string]any{"phoneNumber": "+14083388064"}})
	c := ringcentral.New(ringcentral.Options{})
	good := verifyToken(t)
	other := testConn()
	other.Credentials[ringcentral.CredentialClientSecret] = "another secret"
	otherTok, _ := ringcentral.VerificationToken(other)
	tests := []struct {
		name string
		conn *callbridge.Connection
		req  *callbridge.WebhookRequest
		code string
	}{
		{"missing token", testConn(), hookRequest(t, body, ""), callbridge.EUNAUTHORIZED},
		{"wrong token", testConn(), hookRequest(t, body, good+"x"), callbridge.EUNAUTHORIZED},
		{"token of another secret", testConn(), hookRequest(t, body, otherTok), callbridge.EUNAUTHORIZED},
		{"validation token does not replace it", testConn(), func() *callbridge.WebhookRequest {
			r := hookRequest(t, body, "")
			r.Header.Set(ringcentral.ValidationTokenHeader, good)
			return r
		}(), callbridge.EUNAUTHORIZED},
		{"no secret", &callbridge.Connection{ID: 7, Token: "conn-token"}, hookRequest(t, body, good), callbridge.EUNAUTHORIZED},
		{"malformed", testConn(), hookRequest(t, []byte(`{"body":`), good), callbridge.EINVALID},
		{"GET", testConn(), func() *callbridge.WebhookRequest {
			r := hookRequest(t, body, good)
			r.Method = http.MethodGet
			return r
		}(), callbridge.EINVALID},
		{"no session id", testConn(), hookRequest(t, []byte(`{"event":"`+accountEvent+`","body":{"parties":[]}}`), good), callbridge.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, reply, err := c.ParseWebhook(t.Context(), tt.conn, tt.req)
			wantCode(t, err, tt.code)
			if evs != nil || reply != nil {
				t.Fatal("events or reply with an error")
			}
		})
	}
	// Tokens differ between connections and are stable.
	conn2 := testConn()
	conn2.ID = 8
	t2, _ := ringcentral.VerificationToken(conn2)
	if t2 == good || len(good) != 32 || good != verifyToken(t) {
		t.Fatalf("tokens %q %q", good, t2)
	}
	// An explicit verification_token credential wins.
	explicit := testConn()
	explicit.Credentials[ringcentral.CredentialVerificationToken] = "my-token"
	if evs, _, err := c.ParseWebhook(t.Context(), explicit, hookRequest(t, body, "my-token")); err != nil || len(evs) != 1 {
		t.Fatalf("explicit token: %v", err)
	}
}

// The Validation-Token handshake is acknowledged without events, and
// EchoValidationToken puts the header on the response only when the handler
// says 200.
func TestValidationHandshake(t *testing.T) {
	c := ringcentral.New(ringcentral.Options{})
	req := &callbridge.WebhookRequest{URL: hookURL, Method: http.MethodPost, Header: http.Header{}, ReceivedAt: received}
	req.Header.Set(ringcentral.ValidationTokenHeader, "a8b2c3d4-validation")
	evs, reply, err := c.ParseWebhook(t.Context(), testConn(), req)
	if err != nil || len(evs) != 0 || reply.Status != http.StatusOK {
		t.Fatalf("handshake: %v %v %+v", err, evs, reply)
	}
	req.Header.Set(ringcentral.ValidationTokenHeader, "bad token\x01")
	_, _, err = c.ParseWebhook(t.Context(), testConn(), req)
	wantCode(t, err, callbridge.EINVALID)

	known := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	unknown := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	for _, tt := range []struct {
		name   string
		h      http.Handler
		token  string
		status int
		echo   string
	}{
		{"known", known, "tok-123", http.StatusOK, "tok-123"},
		{"unknown connection", unknown, "tok-123", http.StatusNotFound, "tok-123"},
		{"no token", known, "", http.StatusOK, ""},
		{"overlong token", known, strings.Repeat("x", 600), http.StatusOK, ""},
	} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/webhooks/x", nil)
		if tt.token != "" {
			r.Header.Set(ringcentral.ValidationTokenHeader, tt.token)
		}
		ringcentral.EchoValidationToken(tt.h).ServeHTTP(rec, r)
		if rec.Code != tt.status || rec.Header().Get(ringcentral.ValidationTokenHeader) != tt.echo {
			t.Errorf("%s: %d %q", tt.name, rec.Code, rec.Header().Get(ringcentral.ValidationTokenHeader))
		}
	}
}

func TestParseOtherEvents(t *testing.T) {
	for _, ev := range []string{"/restapi/v1.0/subscription/~?threshold=86400&interval=3600",
		"/restapi/v1.0/account/~/extension/~/presence", "/restapi/v1.0/glip/posts"} {
		body, _ := json.Marshal(map[string]any{"uuid": "1", "event": ev, "body": map[string]any{"expiresIn": 80000, "telephonySessionId": "s-1"}})
		if evs := parseOK(t, body); len(evs) != 0 {
			t.Fatalf("%s: %+v", ev, evs)
		}
	}
	// An extension-level telephony event is read like the account one.
	body := notify(3, "/restapi/v1.0/account/"+account+"/extension/62242421016/telephony/sessions", "2020-06-23T01:05:43.964Z", "Call", nil,
		partyJSON{AccountID: account, ExtensionID: "62242421016", ID: "p-2", Direction: "Inbound", Status: status("Setup", ""),
			To: map[string]any{"phoneNumber": "+18003151571", "name": "IVR Menu 1001", "extensionId": "62242421016"}, From: map[string]any{"phoneNumber": "+14083388064"}})
	if evs := parseOK(t, body); len(evs) != 1 || !evs[0].Child {
		t.Fatalf("%+v", evs)
	}
}
