package declarative_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
)

// simEvents runs every request of a simulated call through the definition's
// connector; each must verify.
func simEvents(t testing.TB, sim *declarative.Simulator, def *declarative.Definition, spec declarative.CallSpec) []callbridge.CallEvent {
	t.Helper()
	c := def.Connector(declarative.Options{})
	cn := conn(sim.Provider, sim.Credentials)
	var out []callbridge.CallEvent
	for i, r := range sim.Requests(spec) {
		evs, reply, err := c.ParseWebhook(t.Context(), cn, r.WebhookRequest(r.At))
		if err != nil {
			t.Fatalf("request %d (%s %s %s): %v", i, r.Kind, r.Method, r.URL, err)
		}
		if reply == nil || reply.Status != http.StatusOK {
			t.Fatalf("request %d: reply %+v", i, reply)
		}
		out = append(out, evs...)
	}
	checkEvents(t, out)
	return out
}

// simNumbers returns numbers in the provider's country.
func simNumbers(provider string) (customer, line, agent string) {
	switch provider {
	case "exotel", "ozonetel":
		return "+919876543210", "+918044556677", "+919812345678"
	}
	return "+14155550100", "+14155550111", "+14155550122"
}

func TestSimulatorsFold(t *testing.T) {
	t0 := time.Date(2024, 3, 12, 10, 0, 0, 0, time.UTC)
	outcomes := []struct {
		name   string
		set    func(*declarative.CallSpec)
		status callbridge.Status
	}{
		{"answered", func(s *declarative.CallSpec) { s.Answered, s.Recording = true, true }, callbridge.StatusCompleted},
		{"missed", func(s *declarative.CallSpec) { s.Recording = true }, callbridge.StatusMissed},
		{"busy", func(s *declarative.CallSpec) { s.Busy = true }, callbridge.StatusBusy},
		{"failed", func(s *declarative.CallSpec) { s.Failed = true }, callbridge.StatusFailed},
	}
	for _, provider := range declarative.SimulatedProviders() {
		def := builtin(t, provider)
		for _, dir := range []callbridge.Direction{callbridge.DirectionInbound, callbridge.DirectionOutbound} {
			for _, o := range outcomes {
				t.Run(fmt.Sprintf("%s/%s/%s", provider, dir, o.name), func(t *testing.T) {
					sim, err := declarative.NewSimulator(provider, hookBase)
					if err != nil {
						t.Fatal(err)
					}
					customer, line, agent := simNumbers(provider)
					spec := declarative.CallSpec{Direction: dir, Customer: customer, Line: line, Agent: agent, Duration: 42, Start: t0}
					o.set(&spec)
					evs := simEvents(t, sim, def, spec)
					calls := byCall(evs)
					if len(calls) != 1 {
						t.Fatalf("events of %d calls: %v", len(calls), calls)
					}
					c := fold(t, evs)
					if c.Status != o.status || !c.Ended || c.Direction != dir {
						t.Fatalf("call %s ended=%v %s, want %s", c.Status, c.Ended, c.Direction, o.status)
					}
					if c.CustomerNumber != customer || !c.StartedAt.Equal(t0) {
						t.Fatalf("customer %q started %v", c.CustomerNumber, c.StartedAt)
					}
					if provider == "exotel" && dir == callbridge.DirectionInbound && o.status == callbridge.StatusCompleted {
						// Exotel's Passthru counts the ringing in DialCallDuration.
						if c.Duration != 47 {
							t.Fatalf("duration %d", c.Duration)
						}
					} else if o.status == callbridge.StatusCompleted && c.Duration != 42 || o.status != callbridge.StatusCompleted && c.Duration != 0 {
						t.Fatalf("duration %d", c.Duration)
					}
					if (c.RecordingURL != "") != (o.status == callbridge.StatusCompleted) {
						t.Fatalf("recording %q", c.RecordingURL)
					}
					if dir == callbridge.DirectionInbound && c.LineNumber != line {
						t.Fatalf("line %q", c.LineNumber)
					}
					if c.Agent == "" && !(provider == "telzio" && dir == callbridge.DirectionInbound && o.status != callbridge.StatusCompleted) {
						t.Fatalf("no agent: %+v", c)
					}
				})
			}
		}
	}
}

func TestSimulatorRecordings(t *testing.T) {
	for _, provider := range declarative.SimulatedProviders() {
		t.Run(provider, func(t *testing.T) {
			sim, _ := declarative.NewSimulator(provider, hookBase)
			srv := httptest.NewServer(sim.RecordingServer())
			defer srv.Close()
			sim.RecordingBase = srv.URL
			customer, line, agent := simNumbers(provider)
			evs := simEvents(t, sim, builtin(t, provider), declarative.CallSpec{CallID: "", Customer: customer, Line: line, Agent: agent,
				Answered: true, Duration: 20, Recording: true})
			c := fold(t, evs)
			if c.RecordingURL == "" {
				t.Fatal("no recording")
			}
			cc := builtin(t, provider).Connector(declarative.Options{RecordingHosts: []string{srv.URL}, HTTPClient: srv.Client()})
			req, err := cc.RecordingRequest(t.Context(), conn(provider, sim.Credentials), c.RecordingURL)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Range", "bytes=100-199")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			id := c.RecordingURL[strings.LastIndexByte(c.RecordingURL, '/')+1 : len(c.RecordingURL)-len(".mp3")]
			if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, declarative.RecordingAudio(id)[100:200]) ||
				resp.Header.Get("Accept-Ranges") != "bytes" {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(body))
			}
			// Without the provider's credentials the server refuses (Ozonetel's are public).
			plain, _ := http.NewRequest("GET", c.RecordingURL, nil)
			resp, err = srv.Client().Do(plain)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := http.StatusUnauthorized; provider != "ozonetel" && resp.StatusCode != want {
				t.Fatalf("unauthenticated fetch: %d", resp.StatusCode)
			}
			resp, _ = srv.Client().Get(srv.URL + "/nowhere")
			resp.Body.Close()
			if provider == "ozonetel" && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("unknown path: %d", resp.StatusCode)
			}
		})
	}
}

func TestSimulatorSend(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r)
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	sim, _ := declarative.NewSimulator("exotel", hookBase)
	sim.Target = srv.URL
	reqs := sim.Requests(declarative.CallSpec{CallID: "s1", Customer: "+919876543210", Line: "+918044556677", Agent: "+919812345678", Answered: true, Duration: 5})
	for _, r := range reqs {
		resp, err := sim.Send(t.Context(), r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if len(got) != 2 || got[0].Method != "GET" || got[0].URL.Path != "/webhooks/conn-token/incoming" || got[0].URL.Query().Get("CallSid") != "s1" ||
		got[1].URL.Path != "/webhooks/conn-token/passthru" {
		t.Fatalf("delivered %v", got)
	}
	sim, _ = declarative.NewSimulator("telzio", hookBase)
	sim.Target = srv.URL + "/elsewhere"
	r := sim.Requests(declarative.CallSpec{CallID: "t1", Customer: "+14155550100", Line: "+14155550111"})[0]
	resp, err := sim.Send(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if last := got[len(got)-1]; last.URL.Path != "/elsewhere" || last.Header.Get("X-Telzio-Event-Type") != "call_created" || !strings.Contains(bodies[len(bodies)-1], `"call_id":"t1"`) {
		t.Fatalf("telzio delivery %v %v", last.URL, last.Header)
	}
	if _, err := declarative.NewSimulator("twilio", hookBase); err == nil {
		t.Fatal("simulator for twilio")
	}
	if (&declarative.Simulator{Provider: "nope"}).Requests(declarative.CallSpec{}) != nil {
		t.Fatal("requests for an unknown provider")
	}
}

// Requests carry deterministic leg and recording ids, and a random call id
// by default.
func TestSimulatorIDs(t *testing.T) {
	sim, _ := declarative.NewSimulator("plivo", hookBase)
	spec := declarative.CallSpec{Customer: "+14155550100", Line: "+14155550111", Agent: "+14155550122", Answered: true, Duration: 3}
	a, b := sim.Requests(spec), sim.Requests(spec)
	if a[0].CallID == b[0].CallID {
		t.Fatal("two calls share an id")
	}
	spec.CallID = "fixed"
	a, b = sim.Requests(spec), sim.Requests(spec)
	for i := range a {
		if a[i].URL != b[i].URL || !bytes.Equal(a[i].Body, b[i].Body) || a[i].Header.Get(declarative.PlivoSignatureHeader) != b[i].Header.Get(declarative.PlivoSignatureHeader) {
			t.Fatalf("request %d differs between runs", i)
		}
	}
}
