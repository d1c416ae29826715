package declarative_test

import (
	"net/url"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
)

func telzioRequest(body, contentType, event, auth string) *callbridge.WebhookRequest {
	h := header("Content-Type", contentType, "X-Telzio-Event-Type", event)
	if auth != "" {
		h.Set("Authorization", auth)
	}
	return &callbridge.WebhookRequest{URL: hookBase + "/events", Method: "POST", Header: h, Body: []byte(body), ReceivedAt: received}
}

func TestTelzioEvents(t *testing.T) {
	c := builtin(t, "telzio").Connector(declarative.Options{})
	cn := conn("telzio", map[string]string{"webhook_token": "tz-token"})
	cn.TimeZone = "America/Denver"

	// Telzio's documented example, JSON and form.
	js := `{"EventType":"call_created","call_id":"9309b4a2-d59f","direction":"outbound","from":"jonas1","from_cnam":"Jonas 1","to":"78791245","rate":0.0,"date":"2016-03-01T08:31:55.0000000"}`
	form := "EventType=call_created&call_id=9309b4a2-d59f&direction=outbound&from=jonas1&from_cnam=Jonas1&to=78791245&rate=0.0&date=2016-03-01T08%3A31%3A55.0000000"
	for _, r := range []*callbridge.WebhookRequest{
		telzioRequest(js, "application/json; charset=utf-8", "call_created", "Bearer tz-token"),
		telzioRequest(form, "application/x-www-form-urlencoded", "call_created", "Bearer tz-token"),
	} {
		evs, reply, err := c.ParseWebhook(t.Context(), cn, r)
		if err != nil {
			t.Fatal(err)
		}
		checkEvents(t, evs)
		ev := evs[0]
		if len(evs) != 1 || ev.ProviderCallID != "9309b4a2-d59f" || ev.Status != callbridge.StatusRinging || ev.Direction != callbridge.DirectionOutbound ||
			ev.Agent != "jonas1" || ev.CustomerNumber != "+78791245" || !ev.OccurredAt.Equal(time.Date(2016, 3, 1, 15, 31, 55, 0, time.UTC)) {
			t.Fatalf("event %+v", ev)
		}
		if string(reply.Body) != "OK" {
			t.Fatalf("reply %q", reply.Body)
		}
	}

	// Authentication: wrong or missing token refused; Basic when configured.
	for _, auth := range []string{"Bearer wrong", "", "Basic dXNlcjpwYXNz", "tz-token"} {
		_, _, err := c.ParseWebhook(t.Context(), cn, telzioRequest(js, "application/json", "call_created", auth))
		wantCode(t, err, callbridge.EUNAUTHORIZED)
	}
	basic := conn("telzio", map[string]string{"webhook_username": "user", "webhook_password": "pass"})
	if _, _, err := c.ParseWebhook(t.Context(), basic, telzioRequest(js, "application/json", "call_created", "Basic dXNlcjpwYXNz")); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.ParseWebhook(t.Context(), basic, telzioRequest(js, "application/json", "call_created", "Basic dXNlcjp4"))
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	// Neither configured: the webhook URL is the only credential.
	if _, _, err := c.ParseWebhook(t.Context(), conn("telzio", nil), telzioRequest(js, "application/json", "call_created", "")); err != nil {
		t.Fatal(err)
	}

	// The event type comes from the header, else the body; unknown types are
	// acknowledged without events.
	evs, _, err := c.ParseWebhook(t.Context(), cn, telzioRequest(js, "application/json", "", "Bearer tz-token"))
	if err != nil || len(evs) != 1 {
		t.Fatalf("body event type: %v %v", evs, err)
	}
	evs, _, err = c.ParseWebhook(t.Context(), cn, telzioRequest(`{"call_id":"x","EventType":"sms_received"}`, "application/json", "sms_received", "Bearer tz-token"))
	if err != nil || len(evs) != 0 {
		t.Fatalf("unknown event: %v %v", evs, err)
	}
	// An inbound call that ended after a conversation.
	end := url.Values{"EventType": {"call_ended"}, "call_id": {"c2"}, "direction": {"inbound"}, "from": {"+14155550100"},
		"to": {"+14155550111"}, "answered_by": {"201"}, "duration": {"37"}, "date": {"2016-03-01T08:40:00.0000000"}}
	evs, _, err = c.ParseWebhook(t.Context(), cn, telzioRequest(end.Encode(), "application/x-www-form-urlencoded", "call_ended", "Bearer tz-token"))
	if err != nil {
		t.Fatal(err)
	}
	if call := fold(t, evs); call.Status != callbridge.StatusCompleted || call.Duration != 37 || call.Agent != "201" || call.LineNumber != "+14155550111" {
		t.Fatalf("call %+v", call)
	}
}
