package twilio_test

import (
	"context"
	"fmt"
	"net/http"

	"callbridge"
	"callbridge/twilio"
)

// Smart forwarding: the voice request of an incoming call is answered with a
// <Dial> to the responsible manager; its action URL carries who rings next.
func ExampleConnector_ParseWebhook_routing() {
	sim := &twilio.Simulator{AccountSID: "AC1", AuthToken: "secret", WebhookURL: "https://cb.example.com/webhooks/tok"}
	conn := &callbridge.Connection{Credentials: map[string]string{
		twilio.CredentialAccountSID: "AC1", twilio.CredentialAuthToken: "secret"}}
	voice := sim.Requests(twilio.CallSpec{CallSID: "CA1", Customer: "+14155550100", Line: "+14155550111"})[0]

	req := voice.WebhookRequest(voice.At)
	req.Route = func(ctx context.Context, r callbridge.RouteRequest) callbridge.RouteTarget {
		return callbridge.RouteTarget{Agents: []string{"sip:alice@acme.sip.twilio.com"}, Fallback: "+14155550199", Voicemail: true}
	}
	_, reply, err := twilio.New(twilio.Options{}).ParseWebhook(context.Background(), conn, req)
	if err != nil {
		panic(err)
	}
	fmt.Println(reply.Status == http.StatusOK)
	fmt.Println(string(reply.Body))
	// Output:
	// true
	// <?xml version="1.0" encoding="UTF-8"?><Response><Dial timeout="20" action="https://cb.example.com/webhooks/tok?cb_agent=%2B14155550199&amp;cb_cur=sip%3Aalice%40acme.sip.twilio.com&amp;cb_step=dial&amp;cb_vm=1" method="POST"><Sip statusCallbackEvent="initiated ringing answered completed" statusCallback="https://cb.example.com/webhooks/tok" statusCallbackMethod="POST">sip:alice@acme.sip.twilio.com</Sip></Dial></Response>
}
