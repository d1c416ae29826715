package declarative_test

import (
	"strings"
	"testing"

	"callbridge"
	"callbridge/declarative"
)

func TestReplay(t *testing.T) {
	// A captured Ozonetel summary, replayed without credentials: the section
	// is found by its content, the key is still redacted by its path.
	evs, err := declarative.Replay(builtin(t, "ozonetel"), nil, ozoPayload("Answered", ozoKey, nil), header("Content-Type", "application/x-www-form-urlencoded"))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].ProviderCallID != "9213456789012345" || evs[0].Status != callbridge.StatusCompleted || strings.Contains(string(evs[0].Payload), ozoKey) {
		t.Fatalf("events %+v", evs)
	}
	// A GET webhook: the query string goes in X-Callbridge-Query.
	evs, err = declarative.Replay(builtin(t, "exotel"), conn("exotel", exotelCreds()), nil,
		header("X-Callbridge-Query", "?CallSid=c9&CallFrom=09876543210&CallTo=08044556677&Direction=incoming"))
	if err != nil || len(evs) != 1 || evs[0].ProviderCallID != "c9" || evs[0].Status != callbridge.StatusRinging {
		t.Fatalf("exotel replay: %+v %v", evs, err)
	}
	// Signatures are not checked on replay.
	evs, err = declarative.Replay(builtin(t, "plivo"), nil, []byte("CallUUID=u1&CallStatus=completed&Direction=outbound&From=14155550000&To=14155550100&BillDuration=12"), nil)
	if err != nil || len(evs) != 1 || evs[0].Status != callbridge.StatusCompleted || evs[0].Duration != 12 {
		t.Fatalf("plivo replay: %+v %v", evs, err)
	}
	_, err = declarative.Replay(builtin(t, "ozonetel"), nil, []byte("nothing=here"), nil)
	wantCode(t, err, callbridge.EINVALID)
	_, err = declarative.Replay(nil, nil, nil, nil)
	wantCode(t, err, callbridge.EINVALID)
}

// Durations, times and zones as the format documents them.
func TestMappingValues(t *testing.T) {
	d := parseString(t, `<connector name="values" timezone="Asia/Tokyo">
  <callbacks>
    <status_callback path="">
      <map field="call_id" path="id"/>
      <map field="status" value="completed"/>
      <map field="duration" path="d"/>
      <map field="duration" path="ms" unit="ms"/>
      <map field="ended_at" path="t"/>
      <map field="ended_at" path="unix" layout="unix"/>
      <map field="ended_at" path="custom" layout="02/01/2006 15h04" zone="Europe/Paris"/>
      <map field="agent" path="ext" normalize="false"/>
    </status_callback>
  </callbacks>
</connector>`)
	c := d.Connector(declarative.Options{})
	tests := []struct {
		body     string
		tz       string
		duration int
		ended    string
		agent    string
	}{
		{"id=1&d=01:02:03", "", 3723, "", ""},
		{"id=1&d=02:03", "", 123, "", ""},
		{"id=1&d=1.6", "", 2, "", ""},
		{"id=1&d=-5", "", 0, "", ""},
		{"id=1&d=abc", "", 0, "", ""},
		{"id=1&ms=61500", "", 62, "", ""},
		{"id=1&t=2024-03-12 10:00:00", "", 0, "2024-03-12T01:00:00Z", ""},
		{"id=1&t=2024-03-12 10:00:00", "UTC", 0, "2024-03-12T10:00:00Z", ""},
		{"id=1&t=2024-03-12T10:00:00%2B05:30", "", 0, "2024-03-12T04:30:00Z", ""},
		{"id=1&t=Tue, 12 Mar 2024 10:00:42 %2B0000", "", 0, "2024-03-12T10:00:42Z", ""},
		{"id=1&t=1970-01-01 05:30:00", "", 0, "", ""},
		{"id=1&unix=1710237600", "", 0, "2024-03-12T10:00:00Z", ""},
		{"id=1&custom=12/03/2024 11h00", "", 0, "2024-03-12T10:00:00Z", ""},
		{"id=1&ext=%2B1 (415) 555", "", 0, "", "+1 (415) 555"},
	}
	for _, tt := range tests {
		cn := conn("values", nil)
		cn.TimeZone = tt.tz
		evs, _, err := c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase, Method: "POST", Header: header(), Body: []byte(tt.body)})
		if err != nil {
			t.Fatalf("%s: %v", tt.body, err)
		}
		ev := evs[0]
		ended := ""
		if !ev.OccurredAt.IsZero() {
			ended = ev.OccurredAt.Format("2006-01-02T15:04:05Z07:00")
		}
		if ev.Duration != tt.duration || ended != tt.ended || ev.Agent != tt.agent {
			t.Errorf("%s (tz %q): duration %d ended %q agent %q; want %d %q %q", tt.body, tt.tz, ev.Duration, ended, ev.Agent, tt.duration, tt.ended, tt.agent)
		}
	}
}

// Templates: references, filters, escaping and conditions.
func TestTemplates(t *testing.T) {
	d := parseString(t, `<connector name="tpl">
  <config><fields><field name="key" type="password"/><field name="base" type="url"/></fields></config>
  <callbacks>
    <status_callback path="" key="k:{$payload.id|upper}:@raw_status">
      <map field="call_id" path="items[1].id"/>
      <map field="status" path="st" default="ringing"/>
      <map field="customer" value="{$payload.num|digits}"/>
      <map field="agent" value="$header.X-Agent" when="$header.X-Agent and n>=2 and st!=busy"/>
      <send_response content-type="application/json" when="@status=answered">{"to": "$payload.name", "agents": {@agents|json}, "q": "{$query.x|urlencode}"}</send_response>
      <send_response content-type="text/plain">{$config.$fields.base|urlappend:{k:$config.$fields.key,to:$payload.name}}|not a filter</send_response>
    </status_callback>
  </callbacks>
</connector>`)
	c := d.Connector(declarative.Options{})
	cn := conn("tpl", map[string]string{"key": "s&cret", "base": "https://x.example"})
	run := func(body, query string, h ...string) ([]callbridge.CallEvent, string) {
		t.Helper()
		evs, reply, err := c.ParseWebhook(t.Context(), cn, &callbridge.WebhookRequest{URL: hookBase + query, Method: "POST", Header: header(h...), Body: []byte(body)})
		if err != nil {
			t.Fatal(err)
		}
		return evs, string(reply.Body)
	}
	body := `{"items":[{"id":"no"},{"id":"c1"}],"id":"ab","st":"answered","num":"+1 (415) 555-0100","name":"a\"b<c>","n":3}`
	evs, reply := run(body, "?x=a b", "X-Agent", "alice")
	if evs[0].ProviderCallID != "c1" || evs[0].Key != "k:AB:answered" || evs[0].CustomerNumber != "+14155550100" || evs[0].Agent != "alice" {
		t.Fatalf("event %+v", evs[0])
	}
	if reply != `{"to": "a\"b\u003cc\u003e", "agents": [], "q": "a+b"}` {
		t.Fatalf("json reply %s", reply)
	}
	evs, reply = run(`{"items":[{},{"id":"c2"}],"st":"busy","n":3,"name":"n m"}`, "", "X-Agent", "alice")
	if evs[0].Agent != "" || evs[0].Status != callbridge.StatusBusy {
		t.Fatalf("event %+v", evs[0])
	}
	// The plain-text reply: the whole-value urlappend filter.
	if reply != "https://x.example?k=s%26cret&to=n+m|not a filter" {
		t.Fatalf("text reply %s", reply)
	}
	// The default status applies when the payload has none.
	evs, _ = run(`{"items":[{},{"id":"c3"}]}`, "")
	if evs[0].Status != callbridge.StatusRinging {
		t.Fatalf("default status %+v", evs[0])
	}
	// A password field's value is redacted from the stored payload.
	evs, _ = run(`{"items":[{},{"id":"c4"}],"echo":"s&cret"}`, "")
	if strings.Contains(string(evs[0].Payload), "s&cret") || !strings.Contains(string(evs[0].Payload), "[redacted]") {
		t.Fatalf("payload %s", evs[0].Payload)
	}
}
