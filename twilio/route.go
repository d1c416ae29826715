package twilio

import (
	"context"
	"net/url"
	"slices"
	"strings"

	"callbridge"
)

// Query parameters callbridge adds to the callback URLs it hands Twilio.
// Twilio signs the full URL it calls, query included, so they cannot be
// forged without the auth token.
const (
	// queryFlow marks the callbacks of a call placed by PlaceCall
	// (value flowClickToCall): its parent leg rings the manager and its
	// <Dial> leg rings the customer, the reverse of an ordinary call.
	queryFlow = "cb_flow"
	// queryStep marks a TwiML action request of a routed incoming call:
	// stepDial after a <Dial>, stepRecord after the voicemail <Record>.
	queryStep = "cb_step"
	// queryCurrent names the agent the finished <Dial> rang.
	queryCurrent = "cb_cur"
	// queryAgent lists the agents still to ring, in order (repeated).
	queryAgent = "cb_agent"
	// queryVoicemail is "1" when the caller may leave a voicemail once
	// nobody answered.
	queryVoicemail = "cb_vm"
)

// Values of queryFlow and queryStep.
const (
	flowClickToCall = "c2c"
	stepDial        = "dial"
	stepRecord      = "record"
)

// maxRouteAgents bounds how many agents one routed call rings in turn; it
// keeps the action URLs short.
const maxRouteAgents = 10

// maxAgentLen bounds one agent identity carried in a callback URL.
const maxAgentLen = 256

// voicemailMaxLength is the longest voicemail, in seconds.
const voicemailMaxLength = 300

// callbackURL splits the URL Twilio called into the webhook URL without
// callbridge's own query parameters (the base for new callbacks) and those
// parameters.
func callbackURL(rawURL string) (base string, q url.Values) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL, url.Values{}
	}
	all := u.Query()
	q = url.Values{}
	for _, k := range []string{queryFlow, queryStep, queryCurrent, queryAgent, queryVoicemail} {
		if v, ok := all[k]; ok {
			q[k] = v
			all.Del(k)
		}
	}
	if len(q) == 0 {
		return rawURL, q
	}
	u.RawQuery = all.Encode()
	return u.String(), q
}

// withQuery returns base with the parameters of q added.
func withQuery(base string, q url.Values) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	all := u.Query()
	for k, vs := range q {
		for _, v := range vs {
			all.Add(k, v)
		}
	}
	u.RawQuery = all.Encode()
	return u.String()
}

// reply is the answer to a verified webhook. Twilio ignores the body of
// status and recording callbacks. The voice request of a new inbound call and
// the action requests of its <Dial> and <Record> expect TwiML that decides
// what happens next.
func (c *Connector) reply(ctx context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest, p url.Values) *callbridge.WebhookReply {
	base, q := callbackURL(req.URL)
	switch {
	case q.Get(queryStep) != "":
		return twimlReply(c.continueRoute(base, q, p))
	case q.Get(queryFlow) != "":
		return twimlReply(emptyTwiML)
	case isVoiceRequest(p):
		return c.route(ctx, conn, req, base, p)
	}
	return twimlReply(emptyTwiML)
}

// route answers the voice request of a new inbound call.
//
// Without a Router (routing not configured) the answer is an empty
// <Response/>, which ends the call. Otherwise the Router names the agents
// (the contact's responsible manager first) and the answer rings them one at
// a time: a <Dial> with Options.DialTimeout whose noun (<Number>, <Sip> for
// "sip:" URIs, <Client> for "client:" identities) has a status callback to
// the webhook URL for every call-progress event, so the child leg reports
// ringing, answered and completed with ParentCallSid. The <Dial>'s action
// URL carries the agents still to try; when the leg was not answered the
// action request gets the next <Dial>, then the Fallback, then a <Record>
// voicemail when RouteTarget.Voicemail is set, else <Hangup/>.
func (c *Connector) route(ctx context.Context, _ *callbridge.Connection, req *callbridge.WebhookRequest, base string, p url.Values) *callbridge.WebhookReply {
	if req.Route == nil {
		return twimlReply(emptyTwiML)
	}
	target := req.Route(ctx, callbridge.RouteRequest{
		ProviderCallID: strings.TrimSpace(p.Get("CallSid")),
		Customer:       callbridge.NormalizePhone(p.Get("From"), "US"),
		Line:           callbridge.NormalizePhone(p.Get("To"), "US"),
	})
	agents := routeAgents(target)
	if len(agents) == 0 && !target.Voicemail {
		return twimlReply(emptyTwiML)
	}
	return twimlReply(c.nextStep(base, agents, target.Voicemail))
}

// routeAgents returns the agents of t in the order they ring: Agents, then
// Fallback, without blanks, duplicates or over-long identities, at most
// maxRouteAgents.
func routeAgents(t callbridge.RouteTarget) []string {
	var out []string
	for _, a := range append(slices.Clone(t.Agents), t.Fallback) {
		a = strings.TrimSpace(a)
		if a == "" || len(a) > maxAgentLen || slices.Contains(out, a) || len(out) == maxRouteAgents {
			continue
		}
		out = append(out, a)
	}
	return out
}

// continueRoute answers an action request of a routed call.
func (c *Connector) continueRoute(base string, q, p url.Values) []byte {
	if q.Get(queryStep) != stepDial {
		return hangupTwiML // after the voicemail <Record>
	}
	switch strings.ToLower(strings.TrimSpace(p.Get("DialCallStatus"))) {
	case "completed", "answered":
		return hangupTwiML // a manager talked to the caller
	case "canceled":
		return hangupTwiML // the caller hung up
	}
	var rest []string
	for _, a := range q[queryAgent] {
		if a = strings.TrimSpace(a); a != "" && len(a) <= maxAgentLen && len(rest) < maxRouteAgents {
			rest = append(rest, a)
		}
	}
	vm := q.Get(queryVoicemail) == "1"
	if len(rest) == 0 && !vm {
		return hangupTwiML
	}
	return c.nextStep(base, rest, vm)
}

// nextStep returns the TwiML that rings agents[0] (its action URL carries
// the rest) or, with no agent left, records a voicemail.
func (c *Connector) nextStep(base string, agents []string, voicemail bool) []byte {
	d := newTwiML()
	if len(agents) == 0 {
		if c.voicemailPrompt != "" {
			d.text("Say", c.voicemailPrompt)
		}
		d.empty("Record",
			"action", withQuery(base, url.Values{queryStep: {stepRecord}}), "method", "POST",
			"maxLength", secondsAttr(voicemailMaxLength), "playBeep", "true",
			"recordingStatusCallback", base, "recordingStatusCallbackMethod", "POST",
			"recordingStatusCallbackEvent", "completed")
		return d.bytes()
	}
	q := url.Values{queryStep: {stepDial}, queryCurrent: {agents[0]}}
	if len(agents) > 1 {
		q[queryAgent] = agents[1:]
	}
	if voicemail {
		q.Set(queryVoicemail, "1")
	}
	attrs := []string{"timeout", secondsAttr(int(c.dialTimeout.Seconds())),
		"action", withQuery(base, q), "method", "POST"}
	if c.recordRouted {
		attrs = append(attrs, "record", "record-from-answer-dual",
			"recordingStatusCallback", base, "recordingStatusCallbackMethod", "POST",
			"recordingStatusCallbackEvent", "completed")
	}
	d.open("Dial", attrs...)
	d.dialNoun(agents[0], base)
	d.close("Dial")
	return d.bytes()
}
