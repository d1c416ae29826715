package declarative_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"callbridge"
	"callbridge/declarative"
)

// A small definition: one status callback whose form body carries the call
// id, the status and a duration.
func ExampleParse() {
	def, err := declarative.Parse(strings.NewReader(`<connector type="PhoneCalls" name="mypbx">
  <config><fields><field name="secret" label="Webhook secret" type="password"/></fields></config>
  <webhook_auth type="header" header="X-Secret" secret="$config.$fields.secret"/>
  <callbacks>
    <status_callback path="status">
      <map field="sourceuuid" path="uuid"/>
      <map field="direction" path="dir"/>
      <map field="callstatus" path="state">
        <value from="ring" to="ringing"/>
        <value from="up" to="answered"/>
        <value from="down" to="completed"/>
      </map>
      <map field="customer" path="from" direction="inbound"/>
      <map field="totalduration" path="talk"/>
    </status_callback>
  </callbacks>
</connector>`), "mypbx.xml")
	if err != nil {
		fmt.Println(err)
		return
	}
	conn := &callbridge.Connection{Token: "tok", Credentials: map[string]string{"secret": "s3cret"}}
	req := &callbridge.WebhookRequest{
		URL:    "https://cb.example.com/webhooks/tok/status",
		Method: "POST",
		Header: map[string][]string{"X-Secret": {"s3cret"}},
		Body:   []byte("uuid=42&dir=in&state=down&from=4155550100&talk=00:01:05"),
	}
	events, _, err := def.Connector(declarative.Options{}).ParseWebhook(context.Background(), conn, req)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range events {
		fmt.Println(e.Key, e.Status, e.Direction, e.CustomerNumber, e.Duration)
	}
	// Output: status:42:down completed inbound +14155550100 65
}

// The signature Plivo puts in X-Plivo-Signature-V3 for a POST webhook.
func ExampleSignPlivoV3() {
	params := url.Values{"CallUUID": {"u1"}, "CallStatus": {"completed"}}
	u := "https://cb.example.com/webhooks/tok/status"
	fmt.Println(declarative.PlivoV3Base("POST", u, params))
	sig := declarative.SignPlivoV3("auth-token", "POST", u, params, "05429567804466091622")
	fmt.Println(declarative.ValidPlivoV3("auth-token", "POST", u, params, "05429567804466091622", "other,"+sig))
	// Output:
	// https://cb.example.com/webhooks/tok/status?CallStatuscompletedCallUUIDu1
	// true
}

// An inbound Plivo call forwarded to a manager who answers: the webhooks
// Plivo sends, in order.
func ExampleSimulator_Requests() {
	sim, _ := declarative.NewSimulator("plivo", "https://cb.example.com/webhooks/tok")
	for _, r := range sim.Requests(declarative.CallSpec{
		CallID: "a-leg", Customer: "+14155550100", Line: "+14155550111", Agent: "+14155550122",
		Answered: true, Duration: 30, Recording: true, Start: time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC),
	}) {
		leg := "A"
		if r.Child {
			leg = "B"
		}
		fmt.Println(r.At.Format(time.TimeOnly), r.Kind, leg, r.Status)
	}
	// Output:
	// 10:00:00 incoming A ringing
	// 10:00:05 dial B answer
	// 10:00:35 dial B hangup
	// 10:00:35 dial-action B completed
	// 10:00:36 status A completed
	// 10:00:39 recording A completed
}
