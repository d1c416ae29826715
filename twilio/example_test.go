package twilio_test

import (
	"fmt"
	"net/url"

	"callbridge/twilio"
)

// The example request of Twilio's webhook security documentation.
func ExampleSign() {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	fmt.Println(twilio.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params))
	// Output: 0/KCTR6DLpKmkAf8muzZqo1nDgQ=
}

// A simulated inbound call forwarded to a manager who answers: the webhooks
// Twilio sends, in order.
func ExampleSimulator_Requests() {
	sim := &twilio.Simulator{AccountSID: "AC1", AuthToken: "secret", WebhookURL: "https://cb.example.com/webhooks/tok"}
	for _, r := range sim.Requests(twilio.CallSpec{
		CallSID: "CA1", Customer: "+14155550100", Line: "+14155550111", Agent: "client:alice",
		Answered: true, Duration: 30, DialLeg: true, Recording: true,
	}) {
		leg := "parent"
		if r.Child {
			leg = "child"
		}
		fmt.Println(r.Kind, leg, r.Status)
	}
	// Output:
	// voice parent ringing
	// status parent ringing
	// status parent in-progress
	// status child initiated
	// status child ringing
	// status child in-progress
	// status child completed
	// status parent completed
	// recording parent completed
}
