package ringcentral_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"callbridge"
	"callbridge/ringcentral"
)

// FuzzParseWebhook feeds arbitrary bodies with a right or wrong
// Verification-Token (and sometimes a Validation-Token). It must never
// panic, never accept a wrong token, and return either events with a 200
// reply or an *callbridge.Error.
func FuzzParseWebhook(f *testing.F) {
	sim := &ringcentral.Simulator{AccountID: account, WebhookURL: hookURL, VerificationToken: "seed"}
	for _, spec := range []ringcentral.CallSpec{
		{Answered: true, Duration: 5, Recording: true, ViaIVR: true},
		{Voicemail: true},
		{Direction: "outbound", RingOut: true, Busy: true},
	} {
		spec.Customer, spec.Line, spec.Agent, spec.Start = customer, line, agentExt, t0
		for _, n := range sim.Notifications(spec) {
			f.Add(n.Body, true, false)
		}
	}
	f.Add([]byte(`{"event":"/restapi/v1.0/account/1/telephony/sessions","body":{"telephonySessionId":"s","parties":[{"id":"p","status":{"code":"Disconnected","reason":"TargetBusy"},"extensionId":12,"recordings":[{"id":1}]}],"sequence":"x"}}`), true, false)
	f.Add([]byte(`{"event":"/restapi/v1.0/account/1/telephony/sessions","body":{"telephonySessionId":"s","sequence":-3,"parties":[{"id":"p","direction":"Outbound","status":{"code":"Answered"},"from":{"phoneNumber":"+1","extensionId":"1"},"to":{"phoneNumber":"anonymous"}}]}}`), true, false)
	f.Add([]byte(``), false, true)
	f.Add([]byte(`{"body":null}`), true, true)
	f.Add([]byte(`[]`), true, false)
	f.Add([]byte(`{"event":1}`), false, false)
	// A local platform answers the token requests of RecordingRequest.
	plat := &ringcentral.Simulator{ClientID: clientID, ClientSecret: clientSecret, JWT: jwtCred}
	srv := httptest.NewServer(plat.Server())
	defer srv.Close()
	c := ringcentral.New(ringcentral.Options{APIBase: srv.URL, HTTPClient: srv.Client()})
	conn := testConn()
	good, _ := ringcentral.VerificationToken(conn)
	f.Fuzz(func(t *testing.T, body []byte, right, validation bool) {
		h := http.Header{}
		if right {
			h.Set(ringcentral.VerificationTokenHeader, good)
		} else {
			h.Set(ringcentral.VerificationTokenHeader, "0123456789abcdef0123456789abcdef")
		}
		if validation {
			h.Set(ringcentral.ValidationTokenHeader, "handshake-1")
		}
		req := &callbridge.WebhookRequest{URL: hookURL, Method: http.MethodPost, Header: h, Body: body, ReceivedAt: received}
		evs, reply, err := c.ParseWebhook(t.Context(), conn, req)
		if err != nil {
			e, ok := errors.AsType[*callbridge.Error](err)
			if !ok || (e.Code != callbridge.EUNAUTHORIZED && e.Code != callbridge.EINVALID) {
				t.Fatalf("error %v", err)
			}
			if evs != nil || reply != nil {
				t.Fatal("events or reply with an error")
			}
			return
		}
		if reply == nil || reply.Status != http.StatusOK {
			t.Fatalf("reply %+v", reply)
		}
		if !right && len(evs) > 0 {
			t.Fatal("events with a wrong verification token")
		}
		for _, e := range evs {
			if e.Key == "" || len(e.Key) > 200 || e.ProviderCallID == "" || len(e.ProviderCallID) > 200 || e.LegID == "" {
				t.Fatalf("ids %+v", e)
			}
			if e.Sequence < 0 || e.Duration < 0 || (!e.OccurredAt.IsZero() && e.OccurredAt.Location() != time.UTC) {
				t.Fatalf("event %+v", e)
			}
			if e.RecordingURL != "" {
				if _, err := c.RecordingRequest(t.Context(), conn, e.RecordingURL); callbridge.ErrorCode(err) == callbridge.EFORBIDDEN {
					t.Fatalf("own recording URL %q refused", e.RecordingURL)
				}
			}
		}
	})
}
