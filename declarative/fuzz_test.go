package declarative_test

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"callbridge"
	"callbridge/declarative"
)

// isCBError fails unless err is a *callbridge.Error with one of codes.
func isCBError(t *testing.T, err error, codes ...string) {
	t.Helper()
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok {
		t.Fatalf("error %T %v is not *callbridge.Error", err, err)
	}
	for _, c := range codes {
		if e.Code == c {
			return
		}
	}
	t.Fatalf("code %s (%v), want one of %v", e.Code, err, codes)
}

// FuzzParse feeds arbitrary files to Parse: no panic, and either a
// definition or an EINVALID *callbridge.Error with problems that have lines.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"plivo", "exotel", "ozonetel", "telzio"} {
		src, _ := declarative.BuiltinSource(name)
		f.Add(string(src))
	}
	f.Add(vtigerSkeleton)
	f.Add(`<connector><callbacks><status_callback when="a and !b and c>1 and d=x|y"><map field="call_id" value="{@call_id|default:{$payload.x|upper}}"/></status_callback></callbacks></connector>`)
	f.Add(`<connector name="x"><config><field name="a" type="url" default="::"/></config><provider url="$config.$fields.a|urlappend:{"/></connector>`)
	f.Add(`<connector><![CDATA[x]]><a><b><c><d/></c></b></a></connector>`)
	f.Add("<connector>\n<field name=\"u\" >\n</connector>")
	f.Add(`<connector name="x"><callbacks><status_callback><map field="status" path="s"><value from="a" to="nope"/></map></status_callback></callbacks></connector>`)
	f.Fuzz(func(t *testing.T, src string) {
		d, err := declarative.Parse(strings.NewReader(src), "fuzz.xml")
		if err != nil {
			isCBError(t, err, callbridge.EINVALID)
			pe, ok := errors.AsType[*declarative.ParseError](err)
			if !ok || len(pe.Problems) == 0 {
				t.Fatalf("error without problems: %v", err)
			}
			return
		}
		// A definition that loads can be turned into a connector and used.
		c := d.Connector(declarative.Options{})
		req := &callbridge.WebhookRequest{URL: hookBase + "/status?a=1", Method: "POST", Header: header("Content-Type", "application/json"), Body: []byte(`{"id":"1","status":"completed"}`)}
		_, _, err = c.ParseWebhook(t.Context(), conn(d.Name, map[string]string{"a": "b"}), req)
		if err != nil {
			isCBError(t, err, callbridge.EINVALID, callbridge.EUNAUTHORIZED, callbridge.ENOTFOUND)
		}
		_, _ = declarative.Replay(d, nil, []byte("a=1"), nil)
	})
}

// FuzzPathAndTemplate drives the path resolver and the template engine
// through a definition: any path, any value template, any body.
func FuzzPathAndTemplate(f *testing.F) {
	f.Add("data.monitorUCID", "{$payload.data.x|digits}", `data=%7B%22monitorUCID%22%3A%22u1%22%7D`)
	f.Add("Legs[1].Status", "$payload.Legs.0.Status", `{"Legs":[{"Status":"a"},{"Status":"b"}]}`)
	f.Add("a.b.c.d.e", "@call_id|urlappend:{a:$payload.a.b}", `{"a":{"b":"{\"c\":{\"d\":{\"e\":\"deep\"}}}"}}`)
	f.Add("$header.X-Id", "{@agents|json}", `x=1`)
	f.Add("$query.id", "@status_callback|urlencode", ``)
	f.Add("k.with.dots", "x", `{"k.with.dots":"v"}`)
	f.Add("0.1", "{$payload.0|each:<n>%s</n>}", `[["a","b"]]`)
	f.Fuzz(func(t *testing.T, p, tmpl, body string) {
		var attr strings.Builder
		xml.EscapeText(&attr, []byte(p))
		var val strings.Builder
		xml.EscapeText(&val, []byte(tmpl))
		src := `<connector name="fz"><callbacks><status_callback path="status">` +
			`<map field="call_id" path="` + attr.String() + `"/>` +
			`<map field="leg_id" value="` + val.String() + `"/>` +
			`<map field="status" value="completed"/>` +
			`<send_response content-type="application/xml">` + val.String() + `</send_response>` +
			`</status_callback></callbacks></connector>`
		d, err := declarative.Parse(strings.NewReader(src), "fz.xml")
		if err != nil {
			isCBError(t, err, callbridge.EINVALID)
			return
		}
		req := &callbridge.WebhookRequest{URL: hookBase + "/status?id=q1", Method: "POST", Header: header("X-Id", "h1"), Body: []byte(body)}
		evs, reply, err := d.Connector(declarative.Options{}).ParseWebhook(t.Context(), conn("fz", nil), req)
		if err != nil {
			isCBError(t, err, callbridge.EINVALID)
			return
		}
		if reply == nil {
			t.Fatal("no reply")
		}
		for _, ev := range evs {
			if ev.ProviderCallID == "" || len(ev.ProviderCallID) > 200 || len(ev.Key) > 200 || ev.Key == "" {
				t.Fatalf("event ids %+v", ev)
			}
		}
	})
}

// FuzzWebhooks feeds every built-in arbitrary bodies, queries and paths,
// correctly authenticated (to reach the mapping) or not.
func FuzzWebhooks(f *testing.F) {
	seeds := map[string][]string{
		"plivo": {"CallUUID=u1&CallStatus=completed&Direction=inbound&From=14155550100&To=14155550111&Duration=5",
			"DialAction=hangup&DialALegUUID=a&DialBLegUUID=b&DialBLegDuration=x&DialBLegHangupCause=USER_BUSY",
			"CallUUID=u1&RecordUrl=https%3A%2F%2Fmedia.plivo.com%2Fv1%2FAccount%2Fx%2Fr.mp3&RecordingID=r"},
		"exotel": {`{"CallSid":"s","Status":"completed","Legs":[{"OnCallDuration":"x"}],"StartTime":"2024-13-45 99:99:99"}`,
			"CallSid=s&DialCallStatus=busy&CallType=client-hangup&DialCallDuration=-4"},
		"ozonetel": {string(ozoPayload("Answered", ozoKey, nil)), "data=%7B%22monitorUCID%22%3A1%7D", "data=%5B%5D"},
		"telzio":   {`{"EventType":"call_ended","call_id":"c","duration":"NaN","date":"0000-00-00T00:00:00.0000000"}`, "EventType=call_created&call_id="},
	}
	paths := []string{"", "status", "incoming", "dial", "dial-action", "recording", "answer", "passthru", "events", "x/y"}
	for provider, bodies := range seeds {
		for _, b := range bodies {
			for i, p := range paths {
				f.Add(provider, p, "", b, i%2 == 0)
			}
		}
	}
	f.Add("exotel", "incoming", "CallSid=c&CallFrom=0987&secret=", "", true)
	defs := declarative.Builtins()
	creds := map[string]map[string]string{
		"plivo": plivoCreds(), "exotel": exotelCreds(), "ozonetel": ozoCreds(),
		"telzio": {"webhook_token": "tok"},
	}
	f.Fuzz(func(t *testing.T, provider, path, query, body string, sign bool) {
		d := defs[provider]
		if d == nil {
			return
		}
		u := hookBase + "/" + path
		if query != "" {
			u += "?" + query
		}
		h := http.Header{}
		method := "POST"
		if provider == "exotel" && body == "" {
			method = "GET"
		}
		if sign {
			switch provider {
			case "plivo":
				p, _ := url.ParseQuery(body)
				h.Set(declarative.PlivoNonceHeader, "123")
				h.Set(declarative.PlivoSignatureHeader, declarative.SignPlivoV3(plivoToken, method, u, p, "123"))
			case "telzio":
				h.Set("Authorization", "Bearer tok")
			}
		}
		req := &callbridge.WebhookRequest{URL: u, Method: method, Header: h, Body: []byte(body), ReceivedAt: received,
			Route: func(ctx context.Context, r callbridge.RouteRequest) callbridge.RouteTarget {
				return callbridge.RouteTarget{Agents: []string{r.Customer, "sip:a@b"}, Fallback: r.Line}
			}}
		evs, reply, err := d.Connector(declarative.Options{}).ParseWebhook(t.Context(), conn(provider, creds[provider]), req)
		if err != nil {
			isCBError(t, err, callbridge.EINVALID, callbridge.EUNAUTHORIZED, callbridge.ENOTFOUND)
			if evs != nil || reply != nil {
				t.Fatal("events or reply with an error")
			}
			return
		}
		if reply == nil || reply.Status < 200 || reply.Status > 599 {
			t.Fatalf("reply %+v", reply)
		}
		checkEvents(t, evs)
		for _, ev := range evs {
			if provider == "ozonetel" && strings.Contains(string(ev.Payload), ozoKey) {
				t.Fatal("payload keeps the API key")
			}
		}
	})
}
