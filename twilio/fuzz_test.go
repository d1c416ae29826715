package twilio_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

// FuzzParseWebhook feeds arbitrary bodies and URLs to ParseWebhook, signed
// correctly (to reach the parser) or not. It must never panic, and must
// return either events with a reply or an *callbridge.Error.
func FuzzParseWebhook(f *testing.F) {
	seeds := []string{
		statusParams("CA1", "ringing", "inbound", "+14155550100", "+14155550111").Encode(),
		statusParams("CA1", "completed", "outbound-api", "+14155550111", "+14155550100").Encode() + "&CallDuration=42",
		statusParams("CA2", "in-progress", "outbound-dial", "+1", "sip:a@b").Encode() + "&ParentCallSid=CA1",
		recordingParams("completed").Encode(),
		recordingParams("absent").Encode(),
		"AccountSid=" + testSID + "&CallSid=CA1&CallStatus=busy&Timestamp=Tue,+2+Mar+2024+10:00:42+GMT&SequenceNumber=-1",
		"AccountSid=" + testSID + "&CallSid=&CallStatus=",
		"%zz=1",
		"a=1;b=2",
		"",
		`{"AccountSid":"` + testSID + `","CallSid":"CA1","CallStatus":"ringing","Direction":"inbound"}`,
		`{"AccountSid":1,"CallSid":null}`,
		`{"CallSid":`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), "", true)
		f.Add([]byte(s), "?bodySHA256=", true)
		f.Add([]byte(s), "?x=1", false)
		f.Add([]byte(s), "?cb_flow=c2c", true)
		f.Add([]byte(s+"&DialCallSid=CA9&DialCallStatus=no-answer&DialCallDuration=3"), "?cb_step=dial&cb_cur=%2B14155550199&cb_agent=sip%3Aa%40b&cb_vm=1", true)
		f.Add([]byte(s), "?cb_step=record", true)
	}
	c := twilio.New(twilio.Options{})
	f.Fuzz(func(t *testing.T, body []byte, query string, sign bool) {
		u := hookURL + query
		var sig string
		if sign {
			if pu, err := url.Parse(u); err == nil && pu.Query().Get("bodySHA256") != "" {
				u = hookURL + "?bodySHA256=" + sha256Hex(body)
				sig = twilio.Sign(testToken, u, nil)
			} else if p, err := url.ParseQuery(string(body)); err == nil {
				sig = twilio.Sign(testToken, u, p)
			}
		} else {
			sig = "AAAAAAAAAAAAAAAAAAAAAAAAAAA="
		}
		h := http.Header{}
		h.Set(twilio.SignatureHeader, sig)
		req := &callbridge.WebhookRequest{URL: u, Method: http.MethodPost, Header: h, Body: body, ReceivedAt: received}
		evs, reply, err := c.ParseWebhook(t.Context(), testConn(), req)
		if err != nil {
			e, ok := errors.AsType[*callbridge.Error](err)
			if !ok {
				t.Fatalf("error %T %v is not *callbridge.Error", err, err)
			}
			if e.Code != callbridge.EUNAUTHORIZED && e.Code != callbridge.EINVALID {
				t.Fatalf("code %s", e.Code)
			}
			if evs != nil || reply != nil {
				t.Fatal("events or reply with an error")
			}
			return
		}
		if !sign {
			t.Fatal("accepted a forged signature")
		}
		if reply == nil || reply.Status != http.StatusOK {
			t.Fatalf("reply %+v", reply)
		}
		for _, ev := range evs {
			if ev.Key == "" || len(ev.Key) > 200 || ev.ProviderCallID == "" || len(ev.ProviderCallID) > 200 || ev.LegID == "" {
				t.Fatalf("event ids %+v", ev)
			}
			if ev.Type != callbridge.EventStatus && ev.Type != callbridge.EventRecording {
				t.Fatalf("type %q", ev.Type)
			}
			if ev.Type == callbridge.EventStatus && ev.Status == callbridge.StatusUnknown {
				t.Fatal("status event without status")
			}
			if !ev.OccurredAt.IsZero() && ev.OccurredAt.Location() != time.UTC {
				t.Fatalf("OccurredAt %v not UTC", ev.OccurredAt)
			}
			if ev.Duration < 0 || ev.RecordingDuration < 0 || ev.Sequence < 0 {
				t.Fatalf("negative numbers %+v", ev)
			}
		}
	})
}

// FuzzValidSignature checks the signature check on arbitrary inputs: Sign's
// output always validates, anything else never panics, and a changed
// signature never validates.
func FuzzValidSignature(f *testing.F) {
	f.Add("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", "CallSid", "CA1234567890ABCDE", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=")
	f.Add("t", "https://h:443/p", "a", "", "")
	f.Add("t", "http://[::1]:80/p?x", "", "", "x")
	f.Add("t", "https://h:/p", "k", "v", "====")
	f.Add("t", "::", "k", "v", "sig")
	f.Fuzz(func(t *testing.T, token, rawURL, k, v, sig string) {
		params := url.Values{k: {v}}
		good := twilio.Sign(token, rawURL, params)
		if token != "" && !twilio.ValidSignature(token, rawURL, params, good) {
			t.Fatal("own signature refused")
		}
		if twilio.ValidSignature(token, rawURL, params, good+"A") {
			t.Fatal("extended signature accepted")
		}
		if twilio.ValidSignature(token+"x", rawURL, params, good) && token != "" {
			// Another key producing the same MAC would be a SHA-1 HMAC collision.
			t.Fatal("other token accepted")
		}
		twilio.ValidSignature(token, rawURL, params, sig)
	})
}
