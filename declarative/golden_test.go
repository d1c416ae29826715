package declarative_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
	"callbridge/twilio"
)

const (
	twSID   = "AC0123456789abcdef0123456789abcdef"
	twToken = "0123456789abcdef0123456789abcdef"
)

// The Twilio example in Vtiger's shape maps Twilio's real webhooks (made and
// signed by twilio.Simulator) to the same calls as callbridge's code
// connector.
func TestGoldenVtigerTwilio(t *testing.T) {
	def := load(t, "examples/vtiger-twilio.xml")
	decl := def.Connector(declarative.Options{})
	code := twilio.New(twilio.Options{})
	sim := &twilio.Simulator{AccountSID: twSID, AuthToken: twToken, WebhookURL: hookBase}
	declConn := conn(def.Name, map[string]string{"account_sid": twSID, "auth_token": twToken})
	codeConn := conn("twilio", map[string]string{twilio.CredentialAccountSID: twSID, twilio.CredentialAuthToken: twToken})
	t0 := time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)
	specs := []struct {
		name   string
		spec   twilio.CallSpec
		status callbridge.Status
	}{
		{"inbound dial answered", twilio.CallSpec{Answered: true, Duration: 42, DialLeg: true, Recording: true}, callbridge.StatusCompleted},
		{"inbound dial no-answer", twilio.CallSpec{DialLeg: true}, callbridge.StatusMissed},
		{"inbound dial busy", twilio.CallSpec{Busy: true, DialLeg: true}, callbridge.StatusBusy},
		{"inbound dial failed", twilio.CallSpec{Failed: true, DialLeg: true}, callbridge.StatusFailed},
		{"inbound app only", twilio.CallSpec{Answered: true, Duration: 30}, callbridge.StatusMissed},
		{"inbound canceled", twilio.CallSpec{}, callbridge.StatusMissed},
		{"outbound answered", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Answered: true, Duration: 95, Recording: true}, callbridge.StatusCompleted},
		{"outbound no-answer", twilio.CallSpec{Direction: callbridge.DirectionOutbound}, callbridge.StatusMissed},
		{"outbound busy", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Busy: true}, callbridge.StatusBusy},
		{"outbound failed", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Failed: true}, callbridge.StatusFailed},
	}
	for i, tt := range specs {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.CallSID = fmt.Sprintf("CA%032d", i)
			spec.Customer, spec.Line, spec.Agent, spec.Start = "+14155550100", "+14155550111", "sip:alice@acme.sip.twilio.com", t0
			var declEvs, codeEvs []callbridge.CallEvent
			for _, r := range sim.Requests(spec) {
				req := r.WebhookRequest(r.At)
				evs, reply, err := decl.ParseWebhook(t.Context(), declConn, req)
				if err != nil {
					t.Fatalf("%s %s %s: %v", r.Kind, r.CallSID, r.Status, err)
				}
				if reply.Status != http.StatusOK || !strings.Contains(string(reply.Body), "<Response") {
					t.Fatalf("reply %+v", reply)
				}
				declEvs = append(declEvs, evs...)
				evs, _, err = code.ParseWebhook(t.Context(), codeConn, r.WebhookRequest(r.At))
				if err != nil {
					t.Fatal(err)
				}
				codeEvs = append(codeEvs, evs...)
			}
			checkEvents(t, declEvs)
			got, want := fold(t, declEvs), fold(t, codeEvs)
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", *want) {
				t.Fatalf("declarative folds to\n%+v\ncode connector to\n%+v", *got, *want)
			}
			if got.Status != tt.status {
				t.Fatalf("status %s, want %s", got.Status, tt.status)
			}
			// Same keys: a webhook seen by both connectors is one event.
			if len(store(declEvs)) != len(store(codeEvs)) {
				t.Fatalf("%d distinct events, code connector %d", len(store(declEvs)), len(store(codeEvs)))
			}
			for i := range store(declEvs) {
				if d, c := store(declEvs)[i], store(codeEvs)[i]; d.Key != c.Key || d.ProviderCallID != c.ProviderCallID || d.LegID != c.LegID || d.Child != c.Child {
					t.Fatalf("event %d: %s/%s/%s/%v vs %s/%s/%s/%v", i, d.Key, d.ProviderCallID, d.LegID, d.Child, c.Key, c.ProviderCallID, c.LegID, c.Child)
				}
			}
		})
	}

	// A forged signature is refused.
	r := sim.Requests(twilio.CallSpec{CallSID: "CA1", Customer: "+14155550100", Line: "+14155550111"})[1]
	req := r.WebhookRequest(received)
	req.Header.Set(twilio.SignatureHeader, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	_, _, err := decl.ParseWebhook(t.Context(), declConn, req)
	wantCode(t, err, callbridge.EUNAUTHORIZED)

	// The voice request routes to the managers with status callbacks on
	// their legs.
	voice := sim.Requests(twilio.CallSpec{CallSID: "CA2", Customer: "+14155550100", Line: "+14155550111"})[0]
	vreq := voice.WebhookRequest(received)
	vreq.Route = func(context.Context, callbridge.RouteRequest) callbridge.RouteTarget {
		return callbridge.RouteTarget{Agents: []string{"+14155550122", "sip:bob@acme.sip.twilio.com"}}
	}
	_, reply, err := decl.ParseWebhook(t.Context(), declConn, vreq)
	if err != nil {
		t.Fatal(err)
	}
	want := `<Dial callerId="+14155550100"><Number statusCallback="` + hookBase + `" statusCallbackEvent="initiated ringing answered completed">+14155550122</Number>` +
		`<Sip statusCallback="` + hookBase + `" statusCallbackEvent="initiated ringing answered completed">sip:bob@acme.sip.twilio.com</Sip></Dial>`
	if !strings.Contains(string(reply.Body), want) {
		t.Fatalf("reply %s", reply.Body)
	}
}

// Click-to-call with the Twilio example: the REST call rings the manager;
// Twilio's request to the answer URL gets TwiML dialling the customer, whose
// leg reports to the status callback.
func TestGoldenVtigerTwilioClickToCall(t *testing.T) {
	var form url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		form = r.PostForm
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"CA00000000000000000000000000000042","status":"queued"}`)
	}))
	defer srv.Close()
	src, err := os.ReadFile("examples/vtiger-twilio.xml")
	if err != nil {
		t.Fatal(err)
	}
	// Point the example at the test server.
	def := parseString(t, strings.ReplaceAll(string(src), "https://api.twilio.com", srv.URL))
	c := def.Connector(declarative.Options{HTTPClient: srv.Client()})
	cn := conn(def.Name, map[string]string{"account_sid": twSID, "auth_token": twToken, "phone_number": "+14155550111"})
	placed, err := c.(callbridge.CallPlacer).PlaceCall(t.Context(), cn, callbridge.PlaceCallRequest{Agent: "+14155550122", Customer: "+14155550100", StatusURL: hookBase})
	if err != nil {
		t.Fatal(err)
	}
	cb := "cb_ext=%2B14155550122&cb_from=%2B14155550122&cb_to=%2B14155550100"
	if placed.ProviderCallID != "CA00000000000000000000000000000042" || form.Get("To") != "+14155550122" || form.Get("From") != "+14155550111" ||
		form.Get("Url") != hookBase+"/answer?"+cb || form.Get("StatusCallback") != hookBase+"?"+cb {
		t.Fatalf("placed %+v form %v", placed, form)
	}
	p := url.Values{"AccountSid": {twSID}, "CallSid": {placed.ProviderCallID}, "CallStatus": {"in-progress"}, "Direction": {"outbound-api"},
		"From": {"+14155550111"}, "To": {"+14155550122"}}
	req := &callbridge.WebhookRequest{URL: form.Get("Url"), Method: "POST", Body: []byte(p.Encode()),
		Header: header("Content-Type", "application/x-www-form-urlencoded", twilio.SignatureHeader, twilio.Sign(twToken, form.Get("Url"), p))}
	_, reply, err := c.ParseWebhook(t.Context(), cn, req)
	if err != nil {
		t.Fatal(err)
	}
	want := `<Dial callerId="+14155550111"><Number statusCallback="` + hookBase + "?" + strings.ReplaceAll(cb, "&", "&amp;") +
		`" statusCallbackEvent="initiated ringing answered completed">+14155550100</Number></Dial>`
	if !strings.Contains(string(reply.Body), want) {
		t.Fatalf("answer reply\n%s\nwant\n%s", reply.Body, want)
	}
}

// The click-to-call's legs fold to the customer's outcome: the manager
// answering is not the conversation.
func TestGoldenVtigerTwilioClickToCallLegs(t *testing.T) {
	def := load(t, "examples/vtiger-twilio.xml")
	c := def.Connector(declarative.Options{})
	cn := conn(def.Name, map[string]string{"account_sid": twSID, "auth_token": twToken})
	cb := "?cb_ext=%2B14155550122&cb_from=%2B14155550122&cb_to=%2B14155550100"
	send := func(status string, child bool, dur string) []callbridge.CallEvent {
		p := url.Values{"AccountSid": {twSID}, "CallSid": {"CA-agent"}, "CallStatus": {status}, "Direction": {"outbound-api"},
			"From": {"+14155550111"}, "To": {"+14155550122"}, "CallbackSource": {"call-progress-events"}, "CallDuration": {dur}}
		if child {
			p.Set("CallSid", "CA-customer")
			p.Set("ParentCallSid", "CA-agent")
			p.Set("Direction", "outbound-dial")
			p.Set("To", "+14155550100")
		}
		u := hookBase + cb
		req := &callbridge.WebhookRequest{URL: u, Method: "POST", Body: []byte(p.Encode()),
			Header: header("Content-Type", "application/x-www-form-urlencoded", twilio.SignatureHeader, twilio.Sign(twToken, u, p))}
		evs, _, err := c.ParseWebhook(t.Context(), cn, req)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	var evs []callbridge.CallEvent
	evs = append(evs, send("ringing", false, "")...)
	evs = append(evs, send("in-progress", false, "")...)
	evs = append(evs, send("ringing", true, "")...)
	evs = append(evs, send("no-answer", true, "0")...)
	evs = append(evs, send("completed", false, "25")...)
	call := fold(t, evs)
	if call.Status != callbridge.StatusMissed || call.Direction != callbridge.DirectionOutbound || call.CustomerNumber != "+14155550100" ||
		call.Agent != "+14155550122" || call.Duration != 0 {
		t.Fatalf("unanswered click-to-call %+v", call)
	}
	evs = append(evs[:3], send("in-progress", true, "")...)
	evs = append(evs, send("completed", true, "18")...)
	evs = append(evs, send("completed", false, "25")...)
	if call := fold(t, evs); call.Status != callbridge.StatusCompleted || call.Duration != 18 {
		t.Fatalf("answered click-to-call %+v", call)
	}
}
