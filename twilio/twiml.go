package twilio

import (
	"encoding/xml"
	"strconv"
	"strings"
)

// twimlDoc builds a TwiML document. Every text and attribute value is
// XML-escaped.
type twimlDoc struct {
	b strings.Builder
}

func newTwiML() *twimlDoc {
	d := &twimlDoc{}
	d.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	return d
}

// open writes <name attr="v" …> (attrs are name, value pairs; empty values
// are left out).
func (d *twimlDoc) open(name string, attrs ...string) {
	d.b.WriteByte('<')
	d.b.WriteString(name)
	d.attrs(attrs)
	d.b.WriteByte('>')
}

// empty writes <name attr="v" …/>.
func (d *twimlDoc) empty(name string, attrs ...string) {
	d.b.WriteByte('<')
	d.b.WriteString(name)
	d.attrs(attrs)
	d.b.WriteString("/>")
}

// text writes <name attr="v" …>text</name>.
func (d *twimlDoc) text(name, text string, attrs ...string) {
	d.open(name, attrs...)
	xml.EscapeText(&d.b, []byte(text))
	d.close(name)
}

func (d *twimlDoc) close(name string) {
	d.b.WriteString("</")
	d.b.WriteString(name)
	d.b.WriteByte('>')
}

func (d *twimlDoc) attrs(kv []string) {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			continue
		}
		d.b.WriteByte(' ')
		d.b.WriteString(kv[i])
		d.b.WriteString(`="`)
		xml.EscapeText(&d.b, []byte(kv[i+1]))
		d.b.WriteByte('"')
	}
}

// bytes closes the document and returns it.
func (d *twimlDoc) bytes() []byte {
	d.b.WriteString("</Response>")
	return []byte(d.b.String())
}

// hangupTwiML ends the call.
var hangupTwiML = []byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>`)

// allCallEvents is the statusCallbackEvent list that subscribes to every
// call-progress event.
const allCallEvents = "initiated ringing answered completed"

// dialNoun writes the <Number>, <Sip> or <Client> noun that rings agent, with
// a status callback to statusURL for every call-progress event, so the leg
// <Dial> creates reports its own progress (ParentCallSid names the call).
// agent is a phone number, "sip:…" URI or "client:identity".
func (d *twimlDoc) dialNoun(agent, statusURL string) {
	attrs := []string{"statusCallbackEvent", allCallEvents, "statusCallback", statusURL, "statusCallbackMethod", "POST"}
	low := strings.ToLower(agent)
	switch {
	case strings.HasPrefix(low, "sip:") || strings.HasPrefix(low, "sips:"):
		d.text("Sip", agent, attrs...)
	case strings.HasPrefix(low, "client:"):
		d.text("Client", agent[len("client:"):], attrs...)
	default:
		d.text("Number", agent, attrs...)
	}
}

// seconds formats a duration in whole seconds for a TwiML attribute.
func secondsAttr(n int) string { return strconv.Itoa(n) }
