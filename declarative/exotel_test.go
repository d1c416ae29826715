package declarative_test

import (
	"context"
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

func exotelCreds() map[string]string {
	return map[string]string{"account_sid": "acme1", "api_key": "key1", "api_token": "tok1", "caller_id": "08044556677"}
}

func TestExotelStatusCallback(t *testing.T) {
	c := builtin(t, "exotel").Connector(declarative.Options{})
	cn := conn("exotel", exotelCreds())
	ist := time.FixedZone("IST", 5*3600+1800)

	// The terminal StatusCallback of Connect two numbers, as JSON.
	body := `{"CallSid":"b6cfaf5f5cef3ca0fc937749ef96d245","EventType":"terminal","DateCreated":"2024-03-12 15:30:00","DateUpdated":"2024-03-12 15:31:40",
"Status":"completed","To":"09876543210","From":"09812345678","PhoneNumberSid":"08044556677","StartTime":"2024-03-12 15:30:00",
"EndTime":"2024-03-12 15:31:38","ConversationDuration":81,"Direction":"outbound-api","CustomField":"",
"RecordingUrl":"https://recordings.exotel.com/exotelrecordings/acme1/b6cfaf5f5cef3ca0fc937749ef96d245.mp3",
"Legs":[{"OnCallDuration":98,"Status":"completed","AnsweredBy":"NA"},{"OnCallDuration":81,"Status":"completed","AnsweredBy":"NA"}]}`
	req := &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST", Header: header("Content-Type", "application/json"), Body: []byte(body), ReceivedAt: received}
	evs, reply, err := c.ParseWebhook(t.Context(), cn, req)
	if err != nil {
		t.Fatal(err)
	}
	checkEvents(t, evs)
	ev := evs[0]
	if ev.Status != callbridge.StatusCompleted || ev.Direction != callbridge.DirectionOutbound || ev.ProviderCallID != "b6cfaf5f5cef3ca0fc937749ef96d245" ||
		ev.CustomerNumber != "+919876543210" || ev.Agent != "+919812345678" || ev.LineNumber != "+918044556677" || ev.Duration != 81 ||
		!ev.OccurredAt.Equal(time.Date(2024, 3, 12, 15, 31, 38, 0, ist)) || !strings.HasSuffix(ev.RecordingURL, ".mp3") {
		t.Fatalf("event %+v", ev)
	}
	c2 := fold(t, evs)
	if !c2.StartedAt.Equal(time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)) || c2.Status != callbridge.StatusCompleted {
		t.Fatalf("call %+v", c2)
	}
	if string(reply.Body) != "OK" {
		t.Fatalf("reply %q", reply.Body)
	}

	// The basic form payload (no StatusCallbackEvents): naive time in the
	// connection's zone.
	form := url.Values{"CallSid": {"s2"}, "Status": {"no-answer"}, "RecordingUrl": {""}, "DateUpdated": {"2024-03-12 10:00:00"}}
	cn2 := conn("exotel", exotelCreds())
	cn2.TimeZone = "Europe/Madrid"
	evs, _, err = c.ParseWebhook(t.Context(), cn2, &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST",
		Header: header("Content-Type", "application/x-www-form-urlencoded"), Body: []byte(form.Encode()), ReceivedAt: received})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != callbridge.StatusMissed || evs[0].Direction != callbridge.DirectionOutbound ||
		!evs[0].OccurredAt.Equal(time.Date(2024, 3, 12, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("basic events %+v", evs)
	}

	// Malformed bodies.
	for _, b := range []string{`{"CallSid":`, `%zz`} {
		_, _, err := c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST", Header: header(), Body: []byte(b)})
		wantCode(t, err, callbridge.EINVALID)
	}
	_, _, err = c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST", Header: header(), Body: []byte("Status=completed")})
	wantCode(t, err, callbridge.EINVALID) // no CallSid
}

func TestExotelDialWhomAndPassthru(t *testing.T) {
	c := builtin(t, "exotel").Connector(declarative.Options{})
	creds := exotelCreds()
	creds["webhook_secret"] = "s3cret"
	cn := conn("exotel", creds)
	q := "CallSid=c3&CallFrom=09876543210&CallTo=08044556677&Direction=incoming&Created=2024-03-12+15%3A30%3A00&secret=s3cret"
	route := func(_ context.Context, r callbridge.RouteRequest) callbridge.RouteTarget {
		if r.Customer != "+919876543210" || r.Line != "+918044556677" || r.ProviderCallID != "c3" {
			t.Errorf("route request %+v", r)
		}
		return callbridge.RouteTarget{Agents: []string{"+919812345678", "sip:nope@x"}}
	}
	req := &callbridge.WebhookRequest{URL: hookBase + "/incoming?" + q, Method: "GET", Header: header("Exotel-Version", "1.0"), ReceivedAt: received, Route: route}
	evs, reply, err := c.ParseWebhook(t.Context(), cn, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != callbridge.StatusRinging || evs[0].Direction != callbridge.DirectionInbound {
		t.Fatalf("events %+v", evs)
	}
	var got struct {
		Destination struct{ Numbers []string } `json:"destination"`
		Outgoing    string                     `json:"outgoing_phone_number"`
		Record      bool                       `json:"record"`
	}
	if err := json.Unmarshal(reply.Body, &got); err != nil || reply.ContentType != "application/json" {
		t.Fatalf("reply %s: %v", reply.Body, err)
	}
	if len(got.Destination.Numbers) != 1 || got.Destination.Numbers[0] != "+919812345678" || got.Outgoing != "+918044556677" || !got.Record {
		t.Fatalf("reply %+v", got)
	}
	// Without the secret the request is refused.
	req.URL = hookBase + "/incoming?" + strings.Replace(q, "s3cret", "guess", 1)
	_, _, err = c.ParseWebhook(t.Context(), cn, req)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	// Nobody to route to: an empty destination list, valid JSON.
	req.URL, req.Route = hookBase+"/incoming?"+q, nil
	_, reply, _ = c.ParseWebhook(t.Context(), cn, req)
	if !json.Valid(reply.Body) || !strings.Contains(string(reply.Body), `"numbers": []`) {
		t.Fatalf("no-route reply %s", reply.Body)
	}

	// The Passthru after Connect: the agent answered.
	pq := q + "&DialCallStatus=completed&DialCallDuration=47&DialWhomNumber=09812345678&CallType=completed&StartTime=2024-03-12+15%3A30%3A00&EndTime=2024-03-12+15%3A30%3A47"
	evs, _, err = c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + "/passthru?" + pq, Method: "GET", Header: header(), ReceivedAt: received})
	if err != nil {
		t.Fatal(err)
	}
	call := fold(t, evs)
	if call.Status != callbridge.StatusCompleted || call.Agent != "+919812345678" || call.Duration != 47 || call.CustomerNumber != "+919876543210" {
		t.Fatalf("call %+v", call)
	}
	// A POST to a GET section is not handled.
	_, _, err = c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + "/passthru?" + pq, Method: "POST", Header: header()})
	wantCode(t, err, callbridge.ENOTFOUND)
}

func TestExotelPlaceCallAndHistory(t *testing.T) {
	var form url.Values
	var histQueries []url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, _ := r.BasicAuth(); u != "key1" || p != "tok1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/Accounts/acme1/Calls/connect.json":
			r.ParseForm()
			form = r.PostForm
			io.WriteString(w, `{"Call":{"Sid":"d5b9d1b7f2b61b4f0b0ef8a4a0d0b12c","Status":"in-progress"}}`)
		case "/v1/Accounts/acme1/Calls.json":
			histQueries = append(histQueries, r.URL.Query())
			if r.URL.Query().Get("After") == "" {
				io.WriteString(w, `{"Metadata":{"PageSize":1,"NextPageUri":"/v1/Accounts/acme1/Calls.json?After=abc&PageSize=1"},"Calls":[
{"Sid":"h1","ParentCallSid":null,"Direction":"inbound","From":"09876543210","To":"08044556677","Status":"completed","StartTime":"2024-03-12 15:30:00","EndTime":"2024-03-12 15:31:00","Duration":"60","RecordingUrl":null}]}`)
				return
			}
			io.WriteString(w, `{"Metadata":{"NextPageUri":null},"Calls":[
{"Sid":"h2","Direction":"outbound-api","From":"09812345678","To":"09876543210","PhoneNumberSid":"08044556677","Status":"busy","StartTime":"2024-03-12 16:00:00","EndTime":"2024-03-12 16:00:05","Duration":"0"},
{"Sid":"h3","Direction":"outbound-api","Status":"queued"}]}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	creds := exotelCreds()
	creds["api_url"] = srv.URL
	c := builtin(t, "exotel").Connector(declarative.Options{HTTPClient: srv.Client()})
	placed, err := c.(callbridge.CallPlacer).PlaceCall(t.Context(), conn("exotel", creds),
		callbridge.PlaceCallRequest{Agent: "+919812345678", Customer: "+919876543210", StatusURL: hookBase})
	if err != nil {
		t.Fatal(err)
	}
	if placed.ProviderCallID != "d5b9d1b7f2b61b4f0b0ef8a4a0d0b12c" || form.Get("From") != "+919812345678" || form.Get("To") != "+919876543210" ||
		form.Get("CallerId") != "08044556677" || !strings.HasPrefix(form.Get("StatusCallback"), hookBase+"/status?") ||
		form.Get("StatusCallbackEvents[0]") != "terminal" || form.Get("Record") != "true" {
		t.Fatalf("placed %+v form %v", placed, form)
	}
	since := time.Date(2024, 3, 12, 0, 0, 0, 0, time.UTC)
	evs, err := c.(callbridge.HistoryLister).ListCallHistory(t.Context(), conn("exotel", creds), since, since.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(histQueries) != 2 || histQueries[0].Get("DateCreated") != "gte:2024-03-12 05:30:00;lte:2024-03-13 05:30:00" || histQueries[1].Get("After") != "abc" {
		t.Fatalf("queries %v", histQueries)
	}
	calls := byCall(evs)
	if len(calls) != 2 {
		t.Fatalf("calls %v", calls)
	}
	if c1 := fold(t, calls["h1"]); c1.Status != callbridge.StatusCompleted || c1.Duration != 60 || c1.Direction != callbridge.DirectionInbound || c1.CustomerNumber != "+919876543210" {
		t.Fatalf("h1 %+v", c1)
	}
	if c2 := fold(t, calls["h2"]); c2.Status != callbridge.StatusBusy || c2.CustomerNumber != "+919876543210" || c2.Agent != "+919812345678" {
		t.Fatalf("h2 %+v", c2)
	}
}
