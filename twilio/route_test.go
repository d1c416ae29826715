package twilio_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

// twimlVerb is the test's own reading of a TwiML element.
type twimlVerb struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Nodes   []twimlVerb `xml:",any"`
	Text    string      `xml:",chardata"`
}

func (v twimlVerb) attr(name string) string {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func readTwiML(t *testing.T, body []byte) twimlVerb {
	t.Helper()
	var root twimlVerb
	if err := xml.Unmarshal(body, &root); err != nil || root.XMLName.Local != "Response" {
		t.Fatalf("not TwiML (%v): %s", err, body)
	}
	return root
}

// router records its requests and answers target.
type router struct {
	mu     sync.Mutex
	target callbridge.RouteTarget
	got    []callbridge.RouteRequest
}

func (r *router) route(_ context.Context, req callbridge.RouteRequest) callbridge.RouteTarget {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, req)
	return r.target
}

// deliver parses r with routing enabled and returns its events and reply.
func deliver(t *testing.T, c *twilio.Connector, rt *router, r *twilio.Request) ([]callbridge.CallEvent, *callbridge.WebhookReply) {
	t.Helper()
	req := r.WebhookRequest(r.At)
	if rt != nil {
		req.Route = rt.route
	}
	evs, reply, err := c.ParseWebhook(t.Context(), testConn(), req)
	if err != nil {
		t.Fatalf("%s %s %s at %s: %v", r.Kind, r.CallSID, r.Status, r.URL, err)
	}
	if reply == nil || reply.Status != http.StatusOK || !strings.HasPrefix(reply.ContentType, "text/xml") {
		t.Fatalf("reply %+v", reply)
	}
	return evs, reply
}

func voiceRequest(t *testing.T, sim *twilio.Simulator, spec twilio.CallSpec) *twilio.Request {
	t.Helper()
	for _, r := range sim.Requests(spec) {
		if r.Kind == "voice" {
			return r
		}
	}
	t.Fatal("no voice request")
	return nil
}

func TestRouteWithoutRouterAnswersEmpty(t *testing.T) {
	sim := newSim()
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Start: t0}
	_, reply := deliver(t, twilio.New(twilio.Options{}), nil, voiceRequest(t, sim, spec))
	if root := readTwiML(t, reply.Body); len(root.Nodes) != 0 {
		t.Fatalf("reply %s", reply.Body)
	}
}

// A routed call rings the agents one after the other, then the fallback,
// then takes a voicemail; every leg reports, and the call folds to an
// unanswered call with the voicemail as its recording.
func TestRouteHuntsThenVoicemail(t *testing.T) {
	sim := newSim()
	c := twilio.New(twilio.Options{DialTimeout: 15 * time.Second, VoicemailPrompt: "Please leave a message & we call back <soon>."})
	rt := &router{target: callbridge.RouteTarget{
		Agents:    []string{"+14155550199", agentSIP, "client:carol", "+14155550199", " "},
		Fallback:  "+14155550123",
		Voicemail: true,
		Reason:    "responsible manager",
	}}
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Answered: true, Duration: 200, Start: t0}
	var all []callbridge.CallEvent
	parentReqs := sim.Requests(spec) // the parent leg's own callbacks
	for _, r := range parentReqs {
		if r.Kind == "voice" {
			continue
		}
		evs, _ := deliver(t, c, nil, r)
		all = append(all, evs...)
	}

	evs, reply := deliver(t, c, rt, voiceRequest(t, sim, spec))
	all = append(all, evs...)
	if len(rt.got) != 1 || rt.got[0] != (callbridge.RouteRequest{ProviderCallID: callSID, Customer: customer, Line: line}) {
		t.Fatalf("route requests %+v", rt.got)
	}

	wantNouns := []struct{ verb, text string }{
		{"Number", "+14155550199"}, {"Sip", agentSIP}, {"Client", "carol"}, {"Number", "+14155550123"},
	}
	outcomes := []twilio.DialOutcome{{}, {Busy: true}, {Failed: true}, {}}
	at := t0.Add(2 * time.Second)
	for i, want := range wantNouns {
		root := readTwiML(t, reply.Body)
		if len(root.Nodes) != 1 || root.Nodes[0].XMLName.Local != "Dial" {
			t.Fatalf("step %d: %s", i, reply.Body)
		}
		dial := root.Nodes[0]
		if dial.attr("timeout") != "15" || dial.attr("method") != "POST" || dial.attr("record") != "" {
			t.Fatalf("step %d: dial %+v", i, dial.Attrs)
		}
		action, err := url.Parse(dial.attr("action"))
		if err != nil || !strings.HasPrefix(action.String(), hookURL+"?") {
			t.Fatalf("step %d: action %q", i, dial.attr("action"))
		}
		noun := dial.Nodes[0]
		if noun.XMLName.Local != want.verb || strings.TrimSpace(noun.Text) != want.text ||
			noun.attr("statusCallback") != hookURL || noun.attr("statusCallbackEvent") != "initiated ringing answered completed" ||
			noun.attr("statusCallbackMethod") != "POST" {
			t.Fatalf("step %d: noun %+v", i, noun)
		}
		reqs, err := sim.Follow(spec, reply.Body, outcomes[i], at)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) < 2 || reqs[len(reqs)-1].Kind != "action" {
			t.Fatalf("step %d: %d requests", i, len(reqs))
		}
		for j, r := range reqs {
			evs, rep := deliver(t, c, nil, r) // action requests need no Router
			all = append(all, evs...)
			if j == len(reqs)-1 {
				reply = rep
			}
		}
		at = reqs[len(reqs)-1].At.Add(time.Second)
	}
	// Nobody answered: the voicemail.
	root := readTwiML(t, reply.Body)
	if len(root.Nodes) != 2 || root.Nodes[0].XMLName.Local != "Say" || root.Nodes[0].Text != "Please leave a message & we call back <soon>." ||
		root.Nodes[1].XMLName.Local != "Record" || root.Nodes[1].attr("recordingStatusCallback") != hookURL {
		t.Fatalf("voicemail %s", reply.Body)
	}
	reqs, err := sim.Follow(spec, reply.Body, twilio.DialOutcome{Duration: 17}, at)
	if err != nil || len(reqs) != 2 {
		t.Fatalf("voicemail requests %d, %v", len(reqs), err)
	}
	for _, r := range reqs {
		evs, rep := deliver(t, c, nil, r)
		all = append(all, evs...)
		if r.Kind == "action" && !strings.Contains(string(rep.Body), "<Hangup/>") {
			t.Fatalf("after voicemail %s", rep.Body)
		}
	}
	// One agent was busy, which Fold ranks above a plain no-answer.
	call := foldOrders(t, all)
	if call.Status != callbridge.StatusBusy || !call.Ended || call.Agent != "+14155550199" || call.CustomerNumber != customer ||
		call.RecordingURL == "" || call.Duration != 0 {
		t.Fatalf("call %+v", *call)
	}
	// Every leg the <Dial>s created is a child of the call.
	legs := map[string]bool{}
	for _, e := range all {
		if e.ProviderCallID != callSID {
			t.Fatalf("event %s names %s", e.Key, e.ProviderCallID)
		}
		if e.Child {
			legs[e.LegID] = true
		}
	}
	if len(legs) != 4 {
		t.Fatalf("%d child legs", len(legs))
	}
}

func TestRouteAnsweredHangsUpAfterward(t *testing.T) {
	sim := newSim()
	c := twilio.New(twilio.Options{RecordRoutedCalls: true})
	rt := &router{target: callbridge.RouteTarget{Agents: []string{agentSIP, "+14155550199"}, Voicemail: true}}
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Answered: true, Duration: 60, Start: t0}
	var all []callbridge.CallEvent
	for _, r := range sim.Requests(spec) {
		evs, _ := deliver(t, c, nil, r)
		all = append(all, evs...)
	}
	_, reply := deliver(t, c, rt, voiceRequest(t, sim, spec))
	dial := readTwiML(t, reply.Body).Nodes[0]
	if dial.attr("record") != "record-from-answer-dual" || dial.attr("recordingStatusCallback") != hookURL {
		t.Fatalf("dial %+v", dial.Attrs)
	}
	reqs, err := sim.Follow(spec, reply.Body, twilio.DialOutcome{Answered: true, Duration: 42}, t0.Add(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var actionEvents []callbridge.CallEvent
	for _, r := range reqs {
		evs, rep := deliver(t, c, nil, r)
		if r.Kind == "action" {
			actionEvents = evs
			if !strings.Contains(string(rep.Body), "<Hangup/>") {
				t.Fatalf("after an answered dial: %s", rep.Body)
			}
		}
		all = append(all, evs...)
	}
	// The action request also reports the dial leg's outcome.
	if len(actionEvents) != 2 || !actionEvents[1].Child || actionEvents[1].Status != callbridge.StatusCompleted ||
		actionEvents[1].Agent != agentSIP || actionEvents[1].Duration != 42 || actionEvents[1].Key != "dial:"+reqs[0].CallSID+":completed" ||
		!actionEvents[1].OccurredAt.Equal(reqs[len(reqs)-1].At) {
		t.Fatalf("action events %+v", actionEvents)
	}
	call := foldOrders(t, all)
	if call.Status != callbridge.StatusCompleted || call.Duration != 42 || call.Agent != agentSIP {
		t.Fatalf("call %+v", *call)
	}
	// With only the action request (the leg's callbacks lost) the outcome is
	// still known.
	var lossy []callbridge.CallEvent
	for _, e := range all {
		if !e.Child || strings.HasPrefix(e.Key, "dial:") {
			lossy = append(lossy, e)
		}
	}
	if c := foldOrders(t, lossy); c.Status != callbridge.StatusCompleted || c.Duration != 42 {
		t.Fatalf("lossy call %+v", *c)
	}
}

func TestRouteTargets(t *testing.T) {
	sim := newSim()
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Start: t0}
	c := twilio.New(twilio.Options{})

	// Nobody to ring and no voicemail: the empty answer ends the call.
	_, reply := deliver(t, c, &router{}, voiceRequest(t, sim, spec))
	if len(readTwiML(t, reply.Body).Nodes) != 0 {
		t.Fatalf("empty target: %s", reply.Body)
	}
	// Voicemail only.
	_, reply = deliver(t, c, &router{target: callbridge.RouteTarget{Voicemail: true}}, voiceRequest(t, sim, spec))
	root := readTwiML(t, reply.Body)
	if len(root.Nodes) != 1 || root.Nodes[0].XMLName.Local != "Record" {
		t.Fatalf("voicemail only: %s", reply.Body)
	}
	// Agents with XML metacharacters are escaped, and the last agent's
	// no-answer without voicemail hangs up.
	odd := `sip:o"brien&co<x>@example.com`
	_, reply = deliver(t, c, &router{target: callbridge.RouteTarget{Agents: []string{odd}}}, voiceRequest(t, sim, spec))
	dial := readTwiML(t, reply.Body).Nodes[0]
	if strings.TrimSpace(dial.Nodes[0].Text) != odd {
		t.Fatalf("noun %q", dial.Nodes[0].Text)
	}
	reqs, err := sim.Follow(spec, reply.Body, twilio.DialOutcome{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	_, rep := deliver(t, c, nil, reqs[len(reqs)-1])
	if !strings.Contains(string(rep.Body), "<Hangup/>") {
		t.Fatalf("after the last agent: %s", rep.Body)
	}
	// Status callbacks of a routed call are answered with an empty document.
	_, rep = deliver(t, c, nil, reqs[0])
	if len(readTwiML(t, rep.Body).Nodes) != 0 {
		t.Fatalf("status callback reply %s", rep.Body)
	}
}

// The agents to ring travel in the action URL, which Twilio signs: a changed
// list is refused.
func TestRouteActionURLIsSigned(t *testing.T) {
	sim := newSim()
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Start: t0}
	c := twilio.New(twilio.Options{})
	_, reply := deliver(t, c, &router{target: callbridge.RouteTarget{Agents: []string{"+14155550199", "+14155550123"}}}, voiceRequest(t, sim, spec))
	reqs, err := sim.Follow(spec, reply.Body, twilio.DialOutcome{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	action := reqs[len(reqs)-1]
	forged := action.WebhookRequest(t0)
	forged.URL = strings.Replace(forged.URL, "%2B14155550123", "%2B19005550000", 1)
	if forged.URL == action.URL {
		t.Fatalf("action URL %s", action.URL)
	}
	_, _, err = c.ParseWebhook(t.Context(), testConn(), forged)
	wantCode(t, err, callbridge.EUNAUTHORIZED)
}
