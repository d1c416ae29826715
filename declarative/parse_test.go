package declarative_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
)

func TestBuiltinsParseCleanly(t *testing.T) {
	want := map[string][]string{
		"plivo":    {"place_call", "call_history", "check_credentials", "routing"},
		"exotel":   {"place_call", "call_history", "check_credentials", "routing"},
		"ozonetel": {"place_call"},
		"telzio":   nil,
	}
	defs := declarative.Builtins()
	if len(defs) != len(want) {
		t.Fatalf("built-ins %v, want %v", slices.Sorted(mapKeys(defs)), slices.Sorted(mapKeys(want)))
	}
	for name, caps := range want {
		d := defs[name]
		if d == nil {
			t.Fatalf("no built-in %s", name)
		}
		if len(d.Warnings) > 0 {
			t.Errorf("%s: warnings %v", name, d.Warnings)
		}
		if got := d.Capabilities(); !slices.Equal(got, caps) {
			t.Errorf("%s: capabilities %v, want %v", name, got, caps)
		}
		if d.Name != name || d.Type != "PhoneCalls" || d.Description == "" {
			t.Errorf("%s: name %q type %q description %q", name, d.Name, d.Type, d.Description)
		}
		src, ok := declarative.BuiltinSource(name)
		if !ok {
			t.Fatalf("no source for %s", name)
		}
		again, err := declarative.Parse(strings.NewReader(string(src)), name+".xml")
		if err != nil || again.Name != name {
			t.Fatalf("source of %s does not parse back: %v", name, err)
		}
		c := d.Connector(declarative.Options{})
		_, place := c.(callbridge.CallPlacer)
		_, hist := c.(callbridge.HistoryLister)
		_, check := c.(callbridge.CredentialChecker)
		if place != slices.Contains(caps, "place_call") || hist != slices.Contains(caps, "call_history") ||
			check != slices.Contains(caps, "check_credentials") {
			t.Errorf("%s: connector implements place=%v history=%v check=%v, want %v", name, place, hist, check, caps)
		}
		if c.Name() != name {
			t.Errorf("connector name %q", c.Name())
		}
	}
	if _, ok := declarative.BuiltinSource("nope"); ok {
		t.Fatal("source of an unknown built-in")
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestExamplesLoad(t *testing.T) {
	for _, f := range []string{"examples/vtiger-twilio.xml", "examples/vtiger-ozonetel.xml"} {
		d := load(t, f)
		for _, w := range d.Warnings {
			if w.Line == 0 {
				t.Errorf("%s: warning without a line: %v", f, w)
			}
		}
	}
}

// The reference's reconstruction of a Vtiger PhoneCalls connector, with the
// auth alternatives resolved to one and the ellipsis URL kept: a well-formed
// Vtiger file loads as it is, with warnings for what callbridge ignores.
const vtigerSkeleton = `<connector type="PhoneCalls" name="ozonetel">
  <config><fields><field name="api_key" label="API Key" type="password"/><field name="base_url" label="Base URL" type="url"/></fields></config>
  <provider url="$config.$fields.base_url"><auth type="query"/></provider>
  <outgoing_call method="POST" url="…|urlappend:{api_key:$config.$fields.api_key}">
    <parameters><param name="to">@to_number</param><param name="from">@from_number</param><param name="cb">@status_callback</param></parameters>
    <response><map field="sourceuuid" path="data.monitorUCID"/></response></outgoing_call>
  <callbacks><answer_callback/><status_callback><response status="completed|busy|no-answer|failed"><map/></response></status_callback></callbacks>
  <incoming_call><send_response content-type="text/xml"><![CDATA[<Response><Dial>@to_number</Dial></Response>]]></send_response></incoming_call>
</connector>`

func TestVtigerSkeletonLoadsAsIs(t *testing.T) {
	d := parseString(t, vtigerSkeleton)
	if d.Name != "ozonetel" || len(d.Warnings) == 0 {
		t.Fatalf("name %q warnings %v", d.Name, d.Warnings)
	}
	f, ok := d.Field("api_key")
	if !ok || !f.Secret() || f.Label != "API Key" {
		t.Fatalf("field %+v", f)
	}
	if got := d.WebhookPaths(); got["status_callback"] != "status" || got["answer_callback"] != "answer" || got["incoming_call"] != "incoming" {
		t.Fatalf("paths %v", got)
	}
	// Its incoming call section routes: @to_number is the manager to ring.
	c := d.Connector(declarative.Options{})
	req := &callbridge.WebhookRequest{URL: hookBase + "/incoming", Method: "POST", Header: header(), Body: []byte("x=1"), ReceivedAt: received,
		Route: func(_ context.Context, r callbridge.RouteRequest) callbridge.RouteTarget {
			return callbridge.RouteTarget{Agents: []string{"+14155550199"}}
		}}
	evs, reply, err := c.ParseWebhook(t.Context(), conn("ozonetel", nil), req)
	if err != nil || len(evs) != 0 {
		t.Fatalf("events %v err %v", evs, err)
	}
	if string(reply.Body) != "<Response><Dial>+14155550199</Dial></Response>" || reply.ContentType != "text/xml" {
		t.Fatalf("reply %q %q", reply.ContentType, reply.Body)
	}
}

func TestParseErrorsCarryLines(t *testing.T) {
	src := `<?xml version="1.0"?>
<connector type="PhoneCalls" name="bad">
  <config><fields>
    <field name="key" type="password"/>
    <field name="key" type="text"/>
  </fields></config>
  <webhook_auth type="sha512" secret="x"/>
  <callbacks>
    <status_callback>
      <map field="call_id" path="CallSid"/>
      <map field="status" path="Status"><value from="done" to="finished"/></map>
      <map field="customer" value="$config.$fields.nope"/>
      <map field="agent" path="a..b"/>
      <map field="line" value="@nobody"/>
    </status_callback>
  </callbacks>
</connector>`
	_, err := declarative.Parse(strings.NewReader(src), "bad.xml")
	wantCode(t, err, callbridge.EINVALID)
	pe, ok := errors.AsType[*declarative.ParseError](err)
	if !ok {
		t.Fatalf("%T is not a ParseError", err)
	}
	var lines []int
	for _, p := range pe.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{5, 7, 11, 12, 13, 14}; !slices.Equal(lines, want) {
		t.Fatalf("problem lines %v, want %v:\n%v", lines, want, err)
	}
	msg := callbridge.ErrorMessage(err)
	for _, s := range []string{"bad.xml: 6 problems", "line 5: field key is declared twice", `line 7: webhook_auth type "sha512"`,
		`line 11: status "finished"`, "line 12: $config.$fields.nope names no configuration field", "line 13:", "line 14: unknown placeholder @nobody"} {
		if !strings.Contains(msg, s) {
			t.Errorf("message lacks %q:\n%s", s, msg)
		}
	}
}

func TestParseMalformedXML(t *testing.T) {
	// Vtiger's documentation shows this snippet, which is not well-formed.
	src := "<connector type=\"PhoneCalls\" name=\"x\">\n<config>\n<fields>\n<field name=\"username\" label=\"User Name\" type=\"text\" >\n<field name=\"password\" label=\"Password\" type=\"password\" >\n<fields>\n<config>\n</connector>\n"
	_, err := declarative.Parse(strings.NewReader(src), "vtiger-doc.xml")
	wantCode(t, err, callbridge.EINVALID)
	pe, _ := errors.AsType[*declarative.ParseError](err)
	if pe == nil || len(pe.Problems) != 1 || pe.Problems[0].Line != 8 || !strings.Contains(pe.Problems[0].Message, "not well-formed") {
		t.Fatalf("problems %+v", pe)
	}
	for _, bad := range []string{"", "   ", "<a/>", "<connector/><connector/>", "<connector", "text"} {
		if _, err := declarative.Parse(strings.NewReader(bad), "x.xml"); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestParseWarnsAboutUnknownParts(t *testing.T) {
	d := parseString(t, `<connector name="w">
  <future_thing/>
  <callbacks>
    <status_callback colour="blue">
      <map field="call_id" path="id"/>
      <map field="customertype" value="Contacts"/>
      <map field="mood" path="m"/>
    </status_callback>
  </callbacks>
</connector>`)
	var got []string
	for _, w := range d.Warnings {
		got = append(got, w.String())
	}
	want := []string{`line 7: <map field="mood"> in <status_callback>: callbridge has no such field (ignored)`,
		"line 2: unknown element <future_thing> in <connector> (ignored)",
		"line 4: unknown attribute colour on <status_callback> (ignored)"}
	if !slices.Equal(got, want) {
		t.Fatalf("warnings\n%q\nwant\n%q", got, want)
	}
}

func TestParseNameFromFile(t *testing.T) {
	d, err := declarative.Parse(strings.NewReader(`<connector><callbacks><status_callback><map field="call_id" path="id"/></status_callback></callbacks></connector>`), "dir/My-PBX.xml")
	if err != nil || d.Name != "my-pbx" || d.Source != "dir/My-PBX.xml" {
		t.Fatalf("%v %+v", err, d)
	}
}

func TestLoadDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ok := `<connector name="%s"><callbacks><status_callback><map field="call_id" path="id"/></status_callback></callbacks></connector>`
	write("a.xml", strings.Replace(ok, "%s", "pbx-a", 1))
	write("b.XML", strings.Replace(ok, "%s", "pbx-b", 1))
	write("dup.xml", strings.Replace(ok, "%s", "pbx-a", 1))
	write("broken.xml", "<connector name=\"c\">\n<callbacks>\n")
	write("notes.txt", "not a definition")
	if err := os.Mkdir(filepath.Join(dir, "sub.xml"), 0o700); err != nil {
		t.Fatal(err)
	}
	defs, err := declarative.LoadDir(dir)
	wantCode(t, err, callbridge.EINVALID)
	if len(defs) != 2 || defs["pbx-a"] == nil || defs["pbx-b"] == nil || defs["pbx-a"].Source != "a.xml" {
		t.Fatalf("defs %v", defs)
	}
	msg := err.Error()
	if !strings.Contains(msg, "broken.xml") || !strings.Contains(msg, "line") || !strings.Contains(msg, `dup.xml: connector name "pbx-a" is also used by a.xml`) {
		t.Fatalf("error %v", err)
	}
	if _, err := declarative.LoadDir(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("missing directory loaded")
	}
	empty := t.TempDir()
	if defs, err := declarative.LoadDir(empty); err != nil || len(defs) != 0 {
		t.Fatalf("empty dir: %v %v", defs, err)
	}
}

// The annotated example of docs/connectors.md loads cleanly and works.
func TestFormatExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/connectors.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```xml\n")
	src, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no xml example in docs/connectors.md")
	}
	d := parseString(t, src)
	if len(d.Warnings) > 0 || d.Name != "acme-pbx" {
		t.Fatalf("%s: warnings %v", d.Name, d.Warnings)
	}
	body := []byte(`{"call_id":"c1","direction":"in","event":"call.hangup","talk_seconds":12,"caller":"07700900123","called":"02079460000","timestamp":"2024-03-12 10:00:12"}`)
	mac := hmac.New(sha256.New, []byte("whsec"))
	mac.Write(body)
	req := &callbridge.WebhookRequest{URL: hookBase + "/status", Method: "POST",
		Header: header("Content-Type", "application/json", "X-Acme-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil))), Body: body}
	evs, reply, err := d.Connector(declarative.Options{}).ParseWebhook(t.Context(), conn("acme-pbx", map[string]string{"api_key": "k", "webhook_secret": "whsec"}), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Status != callbridge.StatusCompleted || evs[0].CustomerNumber != "+447700900123" || evs[0].Duration != 12 ||
		evs[0].OccurredAt.Format(time.RFC3339) != "2024-03-12T10:00:12Z" || string(reply.Body) != `{"ok": true}` {
		t.Fatalf("events %+v reply %s", evs, reply.Body)
	}
	req.Header.Set("X-Acme-Signature", "sha256=00")
	_, _, err = d.Connector(declarative.Options{}).ParseWebhook(t.Context(), conn("acme-pbx", map[string]string{"api_key": "k", "webhook_secret": "whsec"}), req)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
}
