package twilio_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

const (
	customer = "+14155550100"
	line     = "+14155550111"
	agentSIP = "sip:alice@acme.sip.twilio.com"
	callSID  = "CA0123456789abcdef0123456789abcdef"
)

var t0 = time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)

func newSim() *twilio.Simulator {
	return &twilio.Simulator{AccountSID: testSID, AuthToken: testToken, WebhookURL: hookURL}
}

// events parses every request with the connector. Each request must verify.
func events(t *testing.T, reqs []*twilio.Request) []callbridge.CallEvent {
	t.Helper()
	c := twilio.New(twilio.Options{})
	var out []callbridge.CallEvent
	for i, r := range reqs {
		evs, reply, err := c.ParseWebhook(t.Context(), testConn(), r.WebhookRequest(r.At))
		if err != nil {
			t.Fatalf("request %d (%s %s %s): %v", i, r.Kind, r.CallSID, r.Status, err)
		}
		if reply == nil || reply.Status != http.StatusOK {
			t.Fatalf("request %d: reply %+v", i, reply)
		}
		out = append(out, evs...)
	}
	return out
}

// store keeps the first event of each key, as callbridge's store does.
func store(evs []callbridge.CallEvent) []callbridge.CallEvent {
	seen := map[string]bool{}
	var out []callbridge.CallEvent
	for _, e := range evs {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e)
		}
	}
	return out
}

// foldOrders folds evs in arrival order, reversed, and in shuffled orders
// with duplicates, and checks every order gives the same call.
func foldOrders(t *testing.T, evs []callbridge.CallEvent) *callbridge.Call {
	t.Helper()
	var first *callbridge.Call
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 12 {
		order := slices.Clone(evs)
		switch i {
		case 0:
		case 1:
			slices.Reverse(order)
		default:
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			order = append(order, order[:rng.IntN(len(order)+1)]...) // provider retries
		}
		c := &callbridge.Call{}
		c.Fold(store(order))
		if first == nil {
			first = c
			continue
		}
		if fmt.Sprintf("%+v", *c) != fmt.Sprintf("%+v", *first) {
			t.Fatalf("order %d folds to\n%+v\nwant\n%+v", i, *c, *first)
		}
	}
	return first
}

func TestSimulatorFold(t *testing.T) {
	tests := []struct {
		name      string
		spec      twilio.CallSpec
		status    callbridge.Status
		duration  int
		agent     string
		recording bool
		direction callbridge.Direction
	}{
		{"inbound dial answered", twilio.CallSpec{Answered: true, Duration: 42, DialLeg: true, Recording: true},
			callbridge.StatusCompleted, 42, agentSIP, true, callbridge.DirectionInbound},
		{"inbound dial no-answer", twilio.CallSpec{DialLeg: true, Recording: true},
			callbridge.StatusMissed, 0, agentSIP, false, callbridge.DirectionInbound},
		{"inbound dial busy", twilio.CallSpec{Busy: true, DialLeg: true},
			callbridge.StatusBusy, 0, agentSIP, false, callbridge.DirectionInbound},
		{"inbound dial failed", twilio.CallSpec{Failed: true, DialLeg: true},
			callbridge.StatusFailed, 0, agentSIP, false, callbridge.DirectionInbound},
		// Without a <Dial> leg only Twilio's application answered: no conversation.
		{"inbound app only", twilio.CallSpec{Answered: true, Duration: 30},
			callbridge.StatusMissed, 0, "", false, callbridge.DirectionInbound},
		{"inbound canceled", twilio.CallSpec{},
			callbridge.StatusMissed, 0, "", false, callbridge.DirectionInbound},
		{"inbound rejected busy", twilio.CallSpec{Busy: true},
			callbridge.StatusBusy, 0, "", false, callbridge.DirectionInbound},
		{"outbound answered", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Answered: true, Duration: 95, Recording: true},
			callbridge.StatusCompleted, 95, "", true, callbridge.DirectionOutbound},
		{"outbound no-answer", twilio.CallSpec{Direction: callbridge.DirectionOutbound},
			callbridge.StatusMissed, 0, "", false, callbridge.DirectionOutbound},
		{"outbound busy", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Busy: true},
			callbridge.StatusBusy, 0, "", false, callbridge.DirectionOutbound},
		{"outbound failed", twilio.CallSpec{Direction: callbridge.DirectionOutbound, Failed: true},
			callbridge.StatusFailed, 0, "", false, callbridge.DirectionOutbound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.CallSID, spec.Customer, spec.Line, spec.Agent, spec.Start = callSID, customer, line, agentSIP, t0
			reqs := newSim().Requests(spec)
			evs := events(t, reqs)
			for _, e := range evs {
				if e.ProviderCallID != callSID {
					t.Fatalf("event %s names call %s", e.Key, e.ProviderCallID)
				}
			}
			c := foldOrders(t, evs)
			if c.Status != tt.status || !c.Ended || c.Duration != tt.duration || c.Direction != tt.direction ||
				c.CustomerNumber != customer || c.LineNumber != line || c.Agent != tt.agent {
				t.Fatalf("call = %+v", *c)
			}
			if !c.StartedAt.Equal(t0) {
				t.Fatalf("StartedAt = %v, want %v", c.StartedAt, t0)
			}
			if got := c.RecordingURL != ""; got != tt.recording {
				t.Fatalf("RecordingURL = %q", c.RecordingURL)
			}
			if tt.recording && (c.RecordingURL != twilio.DefaultAPIBase+recPath+c.RecordingID || len(c.RecordingID) != 34) {
				t.Fatalf("recording %s %s", c.RecordingID, c.RecordingURL)
			}
			if tt.status == callbridge.StatusCompleted && (c.AnsweredAt.IsZero() || c.EndedAt.Sub(c.AnsweredAt) < time.Duration(tt.duration)*time.Second) {
				t.Fatalf("answered %v ended %v", c.AnsweredAt, c.EndedAt)
			}
		})
	}
}

// Until the last leg ends the call is live; with only some webhooks in, the
// fold says how far the call got.
func TestSimulatorPartialFold(t *testing.T) {
	spec := twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Agent: agentSIP, Answered: true, Duration: 10, DialLeg: true, Start: t0}
	reqs := newSim().Requests(spec)
	idx := func(child bool, status string) int {
		for i, r := range reqs {
			if r.Kind == "status" && r.Child == child && r.Status == status {
				return i
			}
		}
		t.Fatalf("no %v %s request", child, status)
		return -1
	}
	tests := []struct {
		upto   int
		status callbridge.Status
		ended  bool
	}{
		{idx(false, "in-progress"), callbridge.StatusRinging, false}, // the app answered
		{idx(true, "ringing"), callbridge.StatusRinging, false},
		{idx(true, "in-progress"), callbridge.StatusAnswered, false}, // the manager answered
		{idx(true, "completed"), callbridge.StatusCompleted, true},
	}
	for _, tt := range tests {
		c := foldOrders(t, events(t, reqs[:tt.upto+1]))
		if c.Status != tt.status || c.Ended != tt.ended {
			t.Errorf("after %s %s: status %s ended %v, want %s %v", reqs[tt.upto].CallSID, reqs[tt.upto].Status, c.Status, c.Ended, tt.status, tt.ended)
		}
	}
	// The child leg alone (parent callbacks lost) still ends the call.
	var child []*twilio.Request
	for _, r := range reqs {
		if r.Child {
			child = append(child, r)
		}
	}
	if c := foldOrders(t, events(t, child)); c.Status != callbridge.StatusCompleted || c.Agent != agentSIP || c.Duration != 10 {
		t.Errorf("child only: %+v", *c)
	}
}

func TestSimulatorRequests(t *testing.T) {
	sim := newSim()
	reqs := sim.Requests(twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Agent: agentSIP,
		Answered: true, Duration: 42, DialLeg: true, Recording: true, Start: t0})
	var kinds []string
	seq := map[string]int{}
	var childSID string
	for i, r := range reqs {
		kinds = append(kinds, r.Kind+":"+strconv.FormatBool(r.Child)+":"+r.Status)
		if i > 0 && r.At.Before(reqs[i-1].At) {
			t.Errorf("request %d sent before request %d", i, i-1)
		}
		if r.URL != hookURL || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" ||
			r.Header.Get("X-Twilio-Signature") != hmacSHA1(testToken, hookURL+concat(r.Form)) ||
			string(r.Body) != r.Form.Encode() || r.Form.Get("AccountSid") != testSID {
			t.Errorf("request %d: %+v", i, r)
		}
		if r.Kind != "status" {
			continue
		}
		f := r.Form
		if f.Get("CallbackSource") != "call-progress-events" {
			t.Errorf("request %d: CallbackSource %q", i, f.Get("CallbackSource"))
		}
		if ts, err := time.Parse(time.RFC1123Z, f.Get("Timestamp")); err != nil || !ts.Equal(r.At) {
			t.Errorf("request %d: Timestamp %q at %v", i, f.Get("Timestamp"), r.At)
		}
		if n, _ := strconv.Atoi(f.Get("SequenceNumber")); n != seq[r.CallSID] {
			t.Errorf("request %d: SequenceNumber %s, want %d", i, f.Get("SequenceNumber"), seq[r.CallSID])
		}
		seq[r.CallSID]++
		if f.Get("CallStatus") == "completed" && f.Get("CallDuration") == "" {
			t.Errorf("request %d: completed without CallDuration", i)
		}
		if r.Child {
			childSID = r.CallSID
			if f.Get("ParentCallSid") != callSID || f.Get("Direction") != "outbound-dial" || f.Get("To") != agentSIP {
				t.Errorf("child request %d: %v", i, f)
			}
		}
	}
	want := []string{
		"voice:false:ringing", "status:false:ringing", "status:false:in-progress", "status:true:initiated",
		"status:true:ringing", "status:true:in-progress", "status:true:completed", "status:false:completed", "recording:false:completed",
	}
	if !slices.Equal(kinds, want) {
		t.Fatalf("sequence\n%v\nwant\n%v", kinds, want)
	}
	if childSID == "" || childSID == callSID || len(childSID) != 34 {
		t.Fatalf("child SID %q", childSID)
	}
	// The same spec gives the same SIDs (child and recording are derived).
	again := sim.Requests(twilio.CallSpec{CallSID: callSID, Customer: customer, Line: line, Agent: agentSIP,
		Answered: true, Duration: 42, DialLeg: true, Recording: true, Start: t0})
	if string(again[len(again)-1].Body) != string(reqs[len(reqs)-1].Body) {
		t.Fatal("recording callback differs between runs")
	}
	// A default CallSID is fresh every time.
	a, b := sim.Requests(twilio.CallSpec{Customer: customer, Line: line}), sim.Requests(twilio.CallSpec{Customer: customer, Line: line})
	if a[0].CallSID == b[0].CallSID || len(a[0].CallSID) != 34 {
		t.Fatalf("default SIDs %s %s", a[0].CallSID, b[0].CallSID)
	}
}

// Send delivers to Target while the signature stays bound to WebhookURL, and
// the connector behind a real HTTP server accepts every request.
func TestSimulatorSend(t *testing.T) {
	c := twilio.New(twilio.Options{})
	var (
		mu   sync.Mutex
		evs  []callbridge.CallEvent
		path []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &callbridge.WebhookRequest{URL: hookURL, Method: r.Method, Header: r.Header, Body: body, ReceivedAt: time.Now()}
		got, reply, err := c.ParseWebhook(r.Context(), testConn(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		mu.Lock()
		evs = append(evs, got...)
		path = append(path, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", reply.ContentType)
		w.WriteHeader(reply.Status)
		w.Write(reply.Body)
	}))
	defer srv.Close()

	for _, target := range []string{srv.URL, srv.URL + "/", srv.URL + "/webhooks/conn-token"} {
		sim := newSim()
		sim.Target = target
		sim.HTTPClient = srv.Client()
		for _, r := range sim.Requests(twilio.CallSpec{Customer: customer, Line: line, Agent: agentSIP, Answered: true, Duration: 5, DialLeg: true}) {
			resp, err := sim.Send(t.Context(), r)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/xml; charset=utf-8" {
				t.Fatalf("target %s: %d %s", target, resp.StatusCode, body)
			}
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range path {
		if p != "/webhooks/conn-token" {
			t.Fatalf("delivered to path %q", p)
		}
	}
	if len(evs) == 0 {
		t.Fatal("no events")
	}

	// A simulator with the wrong token is refused by the same server.
	bad := newSim()
	bad.AuthToken = "wrong"
	bad.Target = srv.URL
	resp, err := bad.Send(t.Context(), bad.Requests(twilio.CallSpec{Customer: customer, Line: line})[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
}

// The simulator's recording callback points at RecordingBase, and the
// connector fetches it from RecordingServer.
func TestSimulatorRecordingRoundTrip(t *testing.T) {
	sim := newSim()
	srv := httptest.NewServer(sim.RecordingServer())
	defer srv.Close()
	sim.RecordingBase = srv.URL
	reqs := sim.Requests(twilio.CallSpec{Direction: callbridge.DirectionOutbound, Customer: customer, Line: line,
		Answered: true, Duration: 12, Recording: true, Start: t0})
	evs := events(t, reqs[len(reqs)-1:])
	if len(evs) != 1 || evs[0].Type != callbridge.EventRecording || evs[0].RecordingDuration != 12 {
		t.Fatalf("events %+v", evs)
	}
	c := twilio.New(twilio.Options{RecordingHosts: []string{srv.URL}})
	req, err := c.RecordingRequest(t.Context(), testConn(), evs[0].RecordingURL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(twilio.RecordingAudio(evs[0].RecordingID)) {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
	}
}
