package declarative_test

import (
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

const ozoKey = "KK0123456789abcdef0123456789abcd"

func ozoCreds() map[string]string {
	return map[string]string{"api_key": ozoKey, "username": "acme_user", "campaign_name": "Inbound_Sales"}
}

// ozoPayload is a CloudAgent call summary with the keys of the public sample.
func ozoPayload(status, apikey string, edit func(map[string]any)) []byte {
	data := map[string]any{
		"monitorUCID": "9213456789012345", "UUI": "", "Did": "918044556677", "CampaignName": "Inbound_Sales", "Location": "Bangalore",
		"CallerID": "09876543210", "PhoneName": "", "Skill": "General", "StartTime": "2018-08-06 16:59:33", "EndTime": "2018-08-06 17:00:03",
		"TimeToAnswer": "00:00:07", "CallDuration": "00:00:30", "Duration": "00:00:23", "FallBackRule": "AgentDial", "DialedNumber": "09812345678",
		"Type": "inbound", "AgentID": "ravi", "AgentPhoneNumber": "09812345678", "AgentUniqueID": "1001", "AgentName": "Ravi",
		"Disposition": "Interested", "HangupBy": "AgentHangup", "Status": status,
		"AudioFile": "http://recordings.kookoo.in/acme_user/9213456789012345.mp3", "TransferType": "No Transfers", "TransferredTo": "",
		"Comments": "", "DialStatus": "answered", "Apikey": apikey, "AgentStatus": "answered", "CustomerStatus": "answered",
		"UserName": "acme_user", "ConfDuration": "00:00:00", "CampaignStatus": "ONLINE",
	}
	if edit != nil {
		edit(data)
	}
	b, _ := json.Marshal(data)
	return []byte(url.Values{"data": {string(b)}}.Encode())
}

func ozoRequest(body []byte) *callbridge.WebhookRequest {
	return &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST", Header: header("Content-Type", "application/x-www-form-urlencoded"), Body: body, ReceivedAt: received}
}

func TestOzonetelCallSummary(t *testing.T) {
	c := builtin(t, "ozonetel").Connector(declarative.Options{})
	cn := conn("ozonetel", ozoCreds())
	evs, reply, err := c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload("Answered", ozoKey, nil)))
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, evs)
	ev := evs[0]
	ist := time.FixedZone("IST", 5*3600+1800)
	if ev.ProviderCallID != "9213456789012345" || ev.Status != callbridge.StatusCompleted || ev.Direction != callbridge.DirectionInbound ||
		ev.CustomerNumber != "+919876543210" || ev.LineNumber != "+918044556677" || ev.Agent != "ravi" || ev.Duration != 23 ||
		!ev.OccurredAt.Equal(time.Date(2018, 8, 6, 17, 0, 3, 0, ist)) || ev.RecordingURL != "http://recordings.kookoo.in/acme_user/9213456789012345.mp3" {
		t.Fatalf("event %+v", ev)
	}
	call := fold(t, evs)
	if !call.StartedAt.Equal(time.Date(2018, 8, 6, 16, 59, 33, 0, ist)) || !call.AnsweredAt.IsZero() && call.AnsweredAt.Before(call.StartedAt) {
		t.Fatalf("call %+v", call)
	}
	if string(reply.Body) != "OK" {
		t.Fatalf("reply %q", reply.Body)
	}
	// The echoed API key is checked and never stored.
	for _, e := range evs {
		if strings.Contains(string(e.Payload), ozoKey) || strings.Contains(string(e.Payload), url.QueryEscape(ozoKey)) {
			t.Fatalf("payload keeps the API key: %s", e.Payload)
		}
		form, err := url.ParseQuery(string(e.Payload))
		if err != nil {
			t.Fatal(err)
		}
		var data map[string]any
		if err := json.Unmarshal([]byte(form.Get("data")), &data); err != nil || data["Apikey"] != "[redacted]" || data["monitorUCID"] != "9213456789012345" {
			t.Fatalf("redacted data %v: %v", data, err)
		}
	}
	for _, key := range []string{"KKwrong", ""} {
		_, _, err := c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload("Answered", key, nil)))
		wantCode(t, err, callbridge.EUNAUTHORIZED)
	}
	_, _, err = c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload("Answered", ozoKey, func(m map[string]any) { delete(m, "Apikey") })))
	wantCode(t, err, callbridge.EUNAUTHORIZED)

	// Outcomes.
	for _, tt := range []struct {
		status string
		edit   func(map[string]any)
		want   callbridge.Status
		dir    callbridge.Direction
	}{
		{"NotAnswered", func(m map[string]any) { m["AgentStatus"], m["DialStatus"] = "not_answered", "not_answered" }, callbridge.StatusMissed, callbridge.DirectionInbound},
		{"NotAnswered", func(m map[string]any) { m["Type"], m["CustomerStatus"] = "Manual", "Busy" }, callbridge.StatusBusy, callbridge.DirectionOutbound},
		{"NotAnswered", func(m map[string]any) { m["Type"], m["CustomerStatus"] = "Progressive", "InvalidNumber" }, callbridge.StatusFailed, callbridge.DirectionOutbound},
	} {
		evs, _, err := c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload(tt.status, ozoKey, tt.edit)))
		if err != nil {
			t.Fatal(err)
		}
		if call := fold(t, evs); call.Status != tt.want || call.Direction != tt.dir || call.Duration != 0 {
			t.Fatalf("%s: %+v", tt.status, call)
		}
	}

	// The plain-HTTP recording host is allowed, without credentials.
	req, err := c.RecordingRequest(t.Context(), cn, ev.RecordingURL)
	if err != nil {
		t.Fatal(err)
	}
	if req.URL.RawQuery != "" || req.Header.Get("Authorization") != "" {
		t.Fatalf("recording request %v %v", req.URL, req.Header)
	}
}

func TestOzonetelPlaceCall(t *testing.T) {
	var q url.Values
	resp := `{"status":"queued successfully","ucid":"9213456789012399"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q = r.URL.Query()
		if r.Method != "GET" || r.URL.Path != "/CAServices/AgentManualDial.php" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		io.WriteString(w, resp)
	}))
	defer srv.Close()
	creds := ozoCreds()
	creds["api_url"] = srv.URL
	p := builtin(t, "ozonetel").Connector(declarative.Options{HTTPClient: srv.Client()}).(callbridge.CallPlacer)
	req := callbridge.PlaceCallRequest{Agent: "ravi", Customer: "+919876543210", StatusURL: hookBase}
	placed, err := p.PlaceCall(t.Context(), conn("ozonetel", creds), req)
	if err != nil {
		t.Fatal(err)
	}
	if placed.ProviderCallID != "9213456789012399" || q.Get("api_key") != ozoKey || q.Get("username") != "acme_user" ||
		q.Get("agentID") != "ravi" || q.Get("customerNumber") != "919876543210" || q.Get("campaignName") != "Inbound_Sales" || q.Get("UCID") != "true" {
		t.Fatalf("placed %+v query %v", placed, q)
	}
	resp = `{"status":"Fail","message":"Agent is not available"}`
	_, err = p.PlaceCall(t.Context(), conn("ozonetel", creds), req)
	wantCode(t, err, callbridge.EINVALID)
	if !strings.Contains(callbridge.ErrorMessage(err), "Agent is not available") {
		t.Fatalf("message %q", callbridge.ErrorMessage(err))
	}
}

// The Ozonetel example in the shape of Vtiger's connector maps the same
// payload with Vtiger's field names and per-status responses.
func TestGoldenVtigerOzonetel(t *testing.T) {
	d := load(t, "examples/vtiger-ozonetel.xml")
	c := d.Connector(declarative.Options{})
	// The file has no country or zone of its own: the connection gives them.
	cn := conn(d.Name, map[string]string{"api_key": ozoKey, "base_url": "https://in1-ccaas-api.ozonetel.com", "country": "IN"})
	cn.TimeZone = "Asia/Kolkata"
	evs, _, err := c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload("Answered", ozoKey, nil)))
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, evs)
	if evs[0].ProviderCallID != "9213456789012345" || evs[0].Key != "status:9213456789012345:answered" {
		t.Fatalf("event %+v", evs[0])
	}
	call := fold(t, evs)
	ist := time.FixedZone("IST", 5*3600+1800)
	if call.Status != callbridge.StatusCompleted || call.Direction != callbridge.DirectionInbound || call.CustomerNumber != "+919876543210" ||
		call.Agent != "ravi" || call.Duration != 23 || call.RecordingURL == "" || call.ProviderCallID != "" ||
		!call.StartedAt.Equal(time.Date(2018, 8, 6, 16, 59, 33, 0, ist)) || !call.EndedAt.Equal(time.Date(2018, 8, 6, 17, 0, 3, 0, ist)) {
		t.Fatalf("call %+v", call)
	}
	// The example redacts the password field's value anyway.
	if strings.Contains(string(evs[0].Payload), ozoKey) {
		t.Fatal("payload keeps the API key")
	}
	evs, _, err = c.ParseWebhook(t.Context(), cn, ozoRequest(ozoPayload("NotAnswered", ozoKey, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if call := fold(t, evs); call.Status != callbridge.StatusMissed {
		t.Fatalf("not answered: %+v", call)
	}
	// Its answer_callback acknowledges and records nothing.
	evs, reply, err := c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + "/answer", Method: "POST", Header: header(), Body: []byte("a=1")})
	if err != nil || len(evs) != 0 || reply.Status != 200 {
		t.Fatalf("answer: %v %v %+v", evs, err, reply)
	}
}
