package declarative_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
)

const (
	plivoAuthID = "MAXXXXXXXXXXXXXXXXXX"
	plivoToken  = "plivo-test-auth-token"
	plivoNonce  = "05429567804466091622"
)

func plivoCreds() map[string]string {
	return map[string]string{"auth_id": plivoAuthID, "auth_token": plivoToken, "caller_id": "+14155550000"}
}

// plivoSig is the test's own rendering of Plivo's V3 signature: the caller
// writes out the signed string.
func plivoSig(token, signed, nonce string) string {
	mac := hmac.New(sha256.New, []byte(token))
	io.WriteString(mac, signed+"."+nonce)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// plivoRequest builds a signed Plivo POST; signed is the string Plivo signs.
func plivoRequest(rawURL string, p url.Values, signed string) *callbridge.WebhookRequest {
	h := header("Content-Type", "application/x-www-form-urlencoded",
		declarative.PlivoNonceHeader, plivoNonce,
		declarative.PlivoSignatureHeader, plivoSig(plivoToken, signed, plivoNonce))
	return &callbridge.WebhookRequest{URL: rawURL, Method: http.MethodPost, Header: h, Body: []byte(p.Encode()), ReceivedAt: received}
}

func TestPlivoSignatureConstruction(t *testing.T) {
	p := url.Values{"To": {"14155550111"}, "CallUUID": {"u1"}, "CallStatus": {"completed"}}
	tests := []struct {
		name, method, url string
		params            url.Values
		signed            string
	}{
		{"post", "POST", "https://h.example/status", p,
			"https://h.example/status?CallStatuscompletedCallUUIDu1To14155550111"},
		{"post with query", "POST", "https://h.example:8443/dial?cb_to=%2B1415&a=2&a=1", p,
			"https://h.example:8443/dial?a=1&a=2&cb_to=+1415.CallStatuscompletedCallUUIDu1To14155550111"},
		{"post no params", "POST", "https://h.example/x?b=1", nil, "https://h.example/x?b=1"},
		{"post nothing", "POST", "https://h.example/x", nil, "https://h.example/x"},
		{"get", "GET", "https://h.example/x?z=1&a=%20b", nil, "https://h.example/x?a= b&z=1"},
		{"repeated values", "POST", "https://h.example/x", url.Values{"k": {"b", "a"}}, "https://h.example/x?kakb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := declarative.PlivoV3Base(tt.method, tt.url, tt.params); got != tt.signed {
				t.Fatalf("base %q, want %q", got, tt.signed)
			}
			want := plivoSig(plivoToken, tt.signed, plivoNonce)
			if got := declarative.SignPlivoV3(plivoToken, tt.method, tt.url, tt.params, plivoNonce); got != want {
				t.Fatalf("signature %q, want %q", got, want)
			}
			if !declarative.ValidPlivoV3(plivoToken, tt.method, tt.url, tt.params, plivoNonce, "bogus,"+want) {
				t.Fatal("a list holding the signature is refused")
			}
			for _, bad := range []struct{ token, nonce, sig string }{
				{"other", plivoNonce, want}, {plivoToken, "1", want}, {plivoToken, plivoNonce, want + "x"},
				{plivoToken, "", want}, {"", plivoNonce, want}, {plivoToken, plivoNonce, ""},
			} {
				if declarative.ValidPlivoV3(bad.token, tt.method, tt.url, tt.params, bad.nonce, bad.sig) {
					t.Fatalf("accepted %+v", bad)
				}
			}
		})
	}
}

func TestPlivoWebhooks(t *testing.T) {
	c := builtin(t, "plivo").Connector(declarative.Options{})
	cn := conn("plivo", plivoCreds())

	// The application's hangup URL for an inbound call: the A leg ended.
	hang := url.Values{
		"CallUUID": {"a1b2c3d4-0000-4000-8000-000000000001"}, "From": {"14155550100"}, "To": {"14155550111"},
		"CallStatus": {"completed"}, "Direction": {"inbound"}, "Event": {"Hangup"}, "Duration": {"65"},
		"BillDuration": {"65"}, "HangupCause": {"NORMAL_CLEARING"}, "HangupCauseName": {"Normal Hangup"},
		"StartTime": {"2024-03-12 10:00:00"}, "AnswerTime": {"2024-03-12 10:00:01"}, "EndTime": {"2024-03-12 10:01:05"},
	}
	signed := hookBase + "/status?AnswerTime2024-03-12 10:00:01BillDuration65CallStatuscompletedCallUUIDa1b2c3d4-0000-4000-8000-000000000001" +
		"Directioninbound" + "Duration65EndTime2024-03-12 10:01:05EventHangupFrom14155550100HangupCauseNORMAL_CLEARINGHangupCauseNameNormal Hangup" +
		"StartTime2024-03-12 10:00:00To14155550111"
	evs, reply, err := c.ParseWebhook(t.Context(), cn, plivoRequest(hookBase+"/status", hang, signed))
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, evs)
	// The A leg's end, and its start (an inbound A leg's answer is Plivo's
	// application, not a conversation: no answered event).
	if len(evs) != 2 {
		t.Fatalf("events %+v", evs)
	}
	ev := evs[0]
	if ev.Status != callbridge.StatusEnded || ev.Direction != callbridge.DirectionInbound || ev.Child ||
		ev.ProviderCallID != "a1b2c3d4-0000-4000-8000-000000000001" || ev.CustomerNumber != "+14155550100" ||
		ev.LineNumber != "+14155550111" || ev.Duration != 65 || !ev.OccurredAt.Equal(time.Date(2024, 3, 12, 10, 1, 5, 0, time.UTC)) ||
		ev.Key != "status:a1b2c3d4-0000-4000-8000-000000000001:completed" || ev.Type != callbridge.EventStatus {
		t.Fatalf("event %+v", ev)
	}
	if evs[1].Status != callbridge.StatusRinging || !evs[1].OccurredAt.Equal(time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)) {
		t.Fatalf("start event %+v", evs[1])
	}
	if string(reply.Body) != "<Response/>" || reply.ContentType != "application/xml" {
		t.Fatalf("reply %+v", reply)
	}

	// A wrong signature, a missing nonce, another token: refused.
	bad := plivoRequest(hookBase+"/status", hang, signed)
	bad.Header.Set(declarative.PlivoSignatureHeader, plivoSig(plivoToken, signed+"x", plivoNonce))
	_, _, err = c.ParseWebhook(t.Context(), cn, bad)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	bad = plivoRequest(hookBase+"/status", hang, signed)
	bad.Header.Del(declarative.PlivoNonceHeader)
	_, _, err = c.ParseWebhook(t.Context(), cn, bad)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	_, _, err = c.ParseWebhook(t.Context(), conn("plivo", map[string]string{"auth_id": plivoAuthID, "auth_token": "other"}), plivoRequest(hookBase+"/status", hang, signed))
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	_, _, err = c.ParseWebhook(t.Context(), conn("plivo", nil), plivoRequest(hookBase+"/status", hang, signed))
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	// The URL is part of the signature: the same request to another path is refused.
	_, _, err = c.ParseWebhook(t.Context(), cn, plivoRequest(hookBase+"/recording", hang, signed))
	wantCode(t, err, callbridge.EUNAUTHORIZED)

	// A Dial callbackUrl event of a click-to-call B leg: the customer answered.
	q := "?cb_ext=%2B14155550122&cb_from=%2B14155550122&cb_to=%2B14155550100"
	dial := url.Values{"CallUUID": {"A-1"}, "DialAction": {"answer"}, "Event": {"DialAnswer"}, "DialALegUUID": {"A-1"},
		"DialBLegUUID": {"B-1"}, "DialBLegStatus": {"answer"}, "DialBLegFrom": {"14155550000"}, "DialBLegTo": {"14155550100"}, "DialBLegPosition": {"1"}}
	signed = hookBase + "/dial?cb_ext=+14155550122&cb_from=+14155550122&cb_to=+14155550100." +
		"CallUUIDA-1DialALegUUIDA-1DialActionanswerDialBLegFrom14155550000DialBLegPosition1DialBLegStatusanswer" +
		"DialBLegTo14155550100DialBLegUUIDB-1EventDialAnswer"
	evs, _, err = c.ParseWebhook(t.Context(), cn, plivoRequest(hookBase+"/dial"+q, dial, signed))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].ProviderCallID != "A-1" || evs[0].LegID != "B-1" || !evs[0].Child ||
		evs[0].Status != callbridge.StatusAnswered || evs[0].CustomerNumber != "+14155550100" || evs[0].Agent != "" {
		t.Fatalf("dial events %+v", evs)
	}

	// An unknown path is refused after authentication.
	signed = hookBase + "/nowhere?CallUUIDA-1"
	_, _, err = c.ParseWebhook(t.Context(), cn, plivoRequest(hookBase+"/nowhere", url.Values{"CallUUID": {"A-1"}}, signed))
	wantCode(t, err, callbridge.ENOTFOUND)
}

// signPlivo signs p for u with the package's own signer (the construction is
// checked independently in TestPlivoSignatureConstruction).
func signPlivo(u string, p url.Values, route callbridge.Router) *callbridge.WebhookRequest {
	h := header("Content-Type", "application/x-www-form-urlencoded", declarative.PlivoNonceHeader, plivoNonce,
		declarative.PlivoSignatureHeader, declarative.SignPlivoV3(plivoToken, "POST", u, p, plivoNonce))
	return &callbridge.WebhookRequest{URL: u, Method: "POST", Header: h, Body: []byte(p.Encode()), ReceivedAt: received, Route: route}
}

func TestPlivoRouting(t *testing.T) {
	c := builtin(t, "plivo").Connector(declarative.Options{})
	answer := url.Values{"CallUUID": {"A-9"}, "From": {"14155550100"}, "To": {"14155550111"}, "CallStatus": {"ringing"},
		"Direction": {"inbound"}, "Event": {"StartApp"}}
	var asked callbridge.RouteRequest
	route := func(_ context.Context, r callbridge.RouteRequest) callbridge.RouteTarget {
		asked = r
		return callbridge.RouteTarget{Agents: []string{"+14155550122", "sip:alice@phone.plivo.com", `"><Hangup/>`}, Reason: "responsible manager"}
	}
	evs, reply, err := c.ParseWebhook(t.Context(), conn("plivo", plivoCreds()), signPlivo(hookBase+"/incoming", answer, route))
	if err != nil {
		t.Fatal(err)
	}
	if asked != (callbridge.RouteRequest{ProviderCallID: "A-9", Customer: "+14155550100", Line: "+14155550111"}) {
		t.Fatalf("route request %+v", asked)
	}
	if len(evs) != 1 || evs[0].Status != callbridge.StatusRinging || evs[0].Direction != callbridge.DirectionInbound {
		t.Fatalf("events %+v", evs)
	}
	want := `<Response><Dial callerId="+14155550100" callbackUrl="` + hookBase + `/dial" callbackMethod="POST" action="` + hookBase +
		`/dial-action" method="POST" timeout="30"><Number>14155550122</Number><User>sip:alice@phone.plivo.com</User></Dial></Response>`
	if string(reply.Body) != want || reply.ContentType != "application/xml" {
		t.Fatalf("reply\n%s\nwant\n%s", reply.Body, want)
	}

	// Recording on, and a caller id that needs escaping.
	creds := plivoCreds()
	creds["record"] = "true"
	answer.Set("From", `1415<&>`)
	_, reply, err = c.ParseWebhook(t.Context(), conn("plivo", creds), signPlivo(hookBase+"/incoming", answer, route))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(reply.Body), `<Record action="`+hookBase+`/recording"`) || strings.Contains(string(reply.Body), "<&>") {
		t.Fatalf("reply %s", reply.Body)
	}

	// Nobody to route to: the configured forward number, else hang up.
	noone := func(context.Context, callbridge.RouteRequest) callbridge.RouteTarget { return callbridge.RouteTarget{} }
	creds = plivoCreds()
	creds["forward_to"] = "+14155550199"
	_, reply, _ = c.ParseWebhook(t.Context(), conn("plivo", creds), signPlivo(hookBase+"/incoming", answer, noone))
	if !strings.Contains(string(reply.Body), "<Number>14155550199</Number>") {
		t.Fatalf("forward reply %s", reply.Body)
	}
	_, reply, _ = c.ParseWebhook(t.Context(), conn("plivo", plivoCreds()), signPlivo(hookBase+"/incoming", answer, nil))
	if string(reply.Body) != `<Response><Hangup reason="busy"/></Response>` {
		t.Fatalf("no-route reply %s", reply.Body)
	}
}

func TestPlivoPlaceCall(t *testing.T) {
	var got struct {
		path, user, pass string
		body             map[string]string
	}
	status, respBody := http.StatusCreated, `{"api_id":"x","message":"call fired","request_uuid":"9834029e-58b6-11e1-8f5f-00215b7c6a5f"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.path = r.URL.Path
		got.user, got.pass, _ = r.BasicAuth()
		json.NewDecoder(r.Body).Decode(&got.body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, respBody)
	}))
	defer srv.Close()
	creds := plivoCreds()
	creds["api_url"] = srv.URL
	c := builtin(t, "plivo").Connector(declarative.Options{HTTPClient: srv.Client()})
	placer := c.(callbridge.CallPlacer)
	req := callbridge.PlaceCallRequest{Agent: "+14155550122", Customer: "+14155550100", StatusURL: hookBase}
	placed, err := placer.PlaceCall(t.Context(), conn("plivo", creds), req)
	if err != nil {
		t.Fatal(err)
	}
	if placed.ProviderCallID != "9834029e-58b6-11e1-8f5f-00215b7c6a5f" {
		t.Fatalf("placed %+v", placed)
	}
	cb := "?cb_ext=%2B14155550122&cb_from=%2B14155550122&cb_to=%2B14155550100"
	if got.path != "/v1/Account/"+plivoAuthID+"/Call/" || got.user != plivoAuthID || got.pass != plivoToken ||
		got.body["to"] != "+14155550122" || got.body["from"] != "+14155550000" ||
		got.body["answer_url"] != hookBase+"/answer"+cb || got.body["hangup_url"] != hookBase+"/status"+cb {
		t.Fatalf("request %+v", got)
	}

	// The simulator's click-to-call webhooks come back to the same URLs. The
	// A leg's events carry the request id the API answered (Plivo sends it
	// as ALegRequestUUID) as PlacedID: a result the widget saves against the
	// placed id reaches the call, whose id is the A leg's CallUUID.
	sim, _ := declarative.NewSimulator("plivo", hookBase)
	placedIDs := map[string]bool{}
	for _, r := range sim.Requests(callbridge_outbound()) {
		if r.Kind == "answer" && r.URL != got.body["answer_url"] {
			t.Fatalf("simulated answer URL %s, placed %s", r.URL, got.body["answer_url"])
		}
		form, _ := url.ParseQuery(string(r.Body))
		evs, _, err := c.ParseWebhook(t.Context(), conn("plivo", sim.Credentials), r.WebhookRequest(time.Now()))
		if err != nil {
			t.Fatalf("%s %s: %v", r.Kind, r.Status, err)
		}
		for _, ev := range evs {
			if want := form.Get("ALegRequestUUID"); (r.Kind == "status" || r.Kind == "answer") && ev.PlacedID != want {
				t.Fatalf("%s %s: PlacedID %q, want %q", r.Kind, r.Status, ev.PlacedID, want)
			}
			if ev.PlacedID != "" {
				placedIDs[ev.PlacedID] = true
				if ev.PlacedID == ev.ProviderCallID {
					t.Fatalf("PlacedID repeats the call id: %+v", ev)
				}
			}
		}
	}
	if len(placedIDs) != 1 {
		t.Fatalf("placed ids on the A leg's events: %v", placedIDs)
	}

	for _, tt := range []struct {
		status int
		body   string
		code   string
		kind   callbridge.Kind
	}{
		{401, `{"error":"authentication failed"}`, callbridge.EUNAUTHORIZED, callbridge.KindPermanent},
		{400, `{"api_id":"x","error":"invalid to number"}`, callbridge.EINVALID, callbridge.KindPermanent},
		{201, `{"api_id":"x","error":"from number is not verified"}`, callbridge.EINVALID, callbridge.KindPermanent},
		{429, `{}`, callbridge.ERATELIMIT, callbridge.KindTransient},
		{503, `oops`, callbridge.EUNAVAILABLE, callbridge.KindUncertain},
		{201, `{"api_id":"x"}`, callbridge.EUNAVAILABLE, callbridge.KindUncertain},
	} {
		status, respBody = tt.status, tt.body
		_, err := placer.PlaceCall(t.Context(), conn("plivo", creds), req)
		wantCode(t, err, tt.code)
		if k := callbridge.ErrorKind(err); k != tt.kind {
			t.Errorf("HTTP %d %s: kind %v, want %v", tt.status, tt.body, k, tt.kind)
		}
		if strings.Contains(err.Error(), plivoToken) {
			t.Fatal("the error shows the auth token")
		}
	}
	_, err = placer.PlaceCall(t.Context(), conn("plivo", map[string]string{"api_url": srv.URL}), req)
	wantCode(t, err, callbridge.EINVALID)
	_, err = placer.PlaceCall(t.Context(), conn("plivo", creds), callbridge.PlaceCallRequest{Agent: "+1415"})
	wantCode(t, err, callbridge.EINVALID)
}

func callbridge_outbound() declarative.CallSpec {
	return declarative.CallSpec{CallID: "A-77", Direction: callbridge.DirectionOutbound, Customer: "+14155550100",
		Line: "+14155550000", Agent: "+14155550122", Answered: true, Duration: 30}
}

func TestPlivoHistory(t *testing.T) {
	var queries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _, _ := r.BasicAuth(); u != plivoAuthID {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		queries = append(queries, r.URL.Query())
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("offset") == "0" {
			io.WriteString(w, `{"api_id":"1","meta":{"limit":20,"next":"/v1/Account/`+plivoAuthID+`/Call/?limit=20&offset=20","offset":0,"total_count":3},"objects":[
{"answer_time":"2024-03-12 10:00:01","bill_duration":65,"call_direction":"inbound","call_duration":65,"call_uuid":"A-1","end_time":"2024-03-12 10:01:05","from_number":"+14155550100","initiation_time":"2024-03-12 10:00:00","parent_call_uuid":null,"to_number":"14155550111","hangup_cause_name":"Normal Hangup","hangup_source":"Caller"},
{"answer_time":"2024-03-12 10:00:06","bill_duration":59,"call_direction":"outbound","call_duration":59,"call_uuid":"B-1","end_time":"2024-03-12 10:01:05","from_number":"14155550100","initiation_time":"2024-03-12 10:00:01","parent_call_uuid":"A-1","to_number":"14155550122","hangup_cause_name":"Normal Hangup","hangup_source":"Callee"}]}`)
			return
		}
		io.WriteString(w, `{"api_id":"2","meta":{"limit":20,"next":null,"offset":20,"total_count":3},"objects":[
{"answer_time":null,"bill_duration":0,"call_direction":"outbound","call_duration":0,"call_uuid":"C-1","end_time":"2024-03-12 11:00:30+05:30","from_number":"14155550000","initiation_time":"2024-03-12 11:00:00+05:30","parent_call_uuid":null,"to_number":"14155550100","hangup_cause_name":"Busy Line","hangup_source":"Callee"}]}`)
	}))
	defer srv.Close()
	creds := plivoCreds()
	creds["api_url"] = srv.URL
	c := builtin(t, "plivo").Connector(declarative.Options{HTTPClient: srv.Client()})
	since := time.Date(2024, 3, 12, 9, 0, 0, 0, time.UTC)
	cn := conn("plivo", creds)
	cn.TimeZone = "America/New_York"
	evs, err := c.(callbridge.HistoryLister).ListCallHistory(t.Context(), cn, since, since.Add(6*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, evs)
	if len(queries) != 2 || queries[0].Get("end_time__gte") != "2024-03-12 05:00:00" || queries[0].Get("offset") != "0" || queries[1].Get("offset") != "20" {
		t.Fatalf("queries %v", queries)
	}
	calls := byCall(evs)
	if len(calls) != 2 {
		t.Fatalf("calls %v", calls)
	}
	a := fold(t, calls["A-1"])
	if a.Status != callbridge.StatusCompleted || a.Direction != callbridge.DirectionInbound || a.CustomerNumber != "+14155550100" ||
		a.Agent != "+14155550122" || a.Duration != 59 || !a.StartedAt.Equal(time.Date(2024, 3, 12, 14, 0, 0, 0, time.UTC)) {
		t.Fatalf("call A %+v", a)
	}
	cc := fold(t, calls["C-1"])
	if cc.Status != callbridge.StatusBusy || cc.Direction != callbridge.DirectionOutbound || cc.CustomerNumber != "+14155550100" ||
		!cc.EndedAt.Equal(time.Date(2024, 3, 12, 5, 30, 30, 0, time.UTC)) {
		t.Fatalf("call C %+v", cc)
	}
	// The same calls reach callbridge by webhook under the same ids.
	sim, _ := declarative.NewSimulator("plivo", hookBase)
	hookEvs := simEvents(t, sim, builtin(t, "plivo"), declarative.CallSpec{CallID: "A-1", Customer: "+14155550100", Line: "+14155550111",
		Agent: "+14155550122", Answered: true, Duration: 59})
	for _, e := range hookEvs {
		if e.ProviderCallID != "A-1" {
			t.Fatalf("webhook event of call %s", e.ProviderCallID)
		}
	}

	_, err = c.(callbridge.HistoryLister).ListCallHistory(t.Context(), conn("plivo", map[string]string{"auth_id": "wrong", "auth_token": "x", "api_url": srv.URL}), since, since)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
}

func TestPlivoCheckCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != plivoAuthID || p != plivoToken || r.URL.Path != "/v1/Account/"+plivoAuthID+"/" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, `{"account_type":"standard"}`)
	}))
	defer srv.Close()
	c := builtin(t, "plivo").Connector(declarative.Options{HTTPClient: srv.Client()}).(callbridge.CredentialChecker)
	creds := plivoCreds()
	creds["api_url"] = srv.URL
	if err := c.CheckCredentials(t.Context(), conn("plivo", creds)); err != nil {
		t.Fatal(err)
	}
	creds["auth_token"] = "wrong"
	wantCode(t, c.CheckCredentials(t.Context(), conn("plivo", creds)), callbridge.EUNAUTHORIZED)
}

func TestPlivoRecordingRequest(t *testing.T) {
	c := builtin(t, "plivo").Connector(declarative.Options{})
	cn := conn("plivo", plivoCreds())
	good := "https://media.plivo.com/v1/Account/" + plivoAuthID + "/Recording/rec-1.mp3"
	req, err := c.RecordingRequest(t.Context(), cn, good)
	if err != nil {
		t.Fatal(err)
	}
	if u, p, ok := req.BasicAuth(); !ok || u != plivoAuthID || p != plivoToken || req.URL.String() != good || req.Method != "GET" {
		t.Fatalf("request %v %v", req.URL, req.Header)
	}
	for _, bad := range []string{
		"https://evil.example/v1/Account/x/Recording/r.mp3",
		"http://media.plivo.com/v1/Account/x/Recording/r.mp3",
		"https://user:pw@media.plivo.com/v1/Account/x/Recording/r.mp3",
		"https://media.plivo.com/other/r.mp3",
		"https://media.plivo.com/v1/Account/../../other",
		"https://media.plivo.com/v1/Account/x%2F..%2Fy",
		"https://media.plivo.com.evil.example/v1/Account/x",
		"https://media.plivo.com/v1/Account/x#frag",
		"//media.plivo.com/v1/Account/x", "mailto:x@y", "", "::",
	} {
		_, err := c.RecordingRequest(t.Context(), cn, bad)
		wantCode(t, err, callbridge.EFORBIDDEN)
	}
}
