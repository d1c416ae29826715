package ringcentral_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"callbridge"
	"callbridge/ringcentral"
)

const (
	customer   = "+14083388064"
	line       = "+18003151571"
	agentExt   = "809646016"
	agentPhone = "+14155550199"
	sessionID  = "s-a6abd24ca6774373a8120a3390d3cbe8"
)

var t0 = time.Date(2020, 6, 23, 1, 5, 43, 0, time.UTC)

// newSim returns a simulator whose notifications carry the test
// connection's verification token.
func newSim(t *testing.T) *ringcentral.Simulator {
	return &ringcentral.Simulator{ClientID: clientID, ClientSecret: clientSecret, JWT: jwtCred, AccountID: account,
		WebhookURL: hookURL, VerificationToken: verifyToken(t),
		Extensions: []callbridge.Extension{{ID: agentExt, Number: "101", Name: "Alice Manager"}}}
}

// events parses every notification; each must verify.
func events(t *testing.T, c *ringcentral.Connector, ns []*ringcentral.Notification) []callbridge.CallEvent {
	t.Helper()
	var out []callbridge.CallEvent
	for i, n := range ns {
		evs, reply, err := c.ParseWebhook(t.Context(), testConn(), n.WebhookRequest(n.At))
		if err != nil {
			t.Fatalf("notification %d (%s %s): %v", i, n.PartyID, n.Status, err)
		}
		if reply.Status != http.StatusOK {
			t.Fatalf("reply %+v", reply)
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

// foldOrders folds evs in arrival order, reversed and shuffled with
// duplicates, and checks every order gives the same call.
func foldOrders(t *testing.T, evs []callbridge.CallEvent) *callbridge.Call {
	t.Helper()
	var first *callbridge.Call
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 12 {
		order := slices.Clone(evs)
		switch i {
		case 0:
		case 1:
			slices.Reverse(order)
		default:
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			order = append(order, order[:rng.IntN(len(order)+1)]...)
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
		spec      ringcentral.CallSpec
		status    callbridge.Status
		direction callbridge.Direction
		agent     string
		recording bool
	}{
		{"inbound answered", ringcentral.CallSpec{Answered: true, Duration: 42, Recording: true},
			callbridge.StatusCompleted, callbridge.DirectionInbound, agentExt, true},
		{"inbound via IVR answered", ringcentral.CallSpec{ViaIVR: true, Answered: true, Duration: 30},
			callbridge.StatusCompleted, callbridge.DirectionInbound, agentExt, false},
		{"inbound missed", ringcentral.CallSpec{},
			callbridge.StatusMissed, callbridge.DirectionInbound, agentExt, false},
		{"inbound via IVR missed", ringcentral.CallSpec{ViaIVR: true},
			callbridge.StatusMissed, callbridge.DirectionInbound, agentExt, false},
		{"inbound voicemail", ringcentral.CallSpec{Voicemail: true, Duration: 15},
			callbridge.StatusMissed, callbridge.DirectionInbound, agentExt, false},
		{"inbound voicemail via IVR", ringcentral.CallSpec{ViaIVR: true, Voicemail: true, Duration: 15},
			callbridge.StatusMissed, callbridge.DirectionInbound, agentExt, false},
		{"inbound busy", ringcentral.CallSpec{Busy: true},
			callbridge.StatusBusy, callbridge.DirectionInbound, "", false},
		{"inbound failed", ringcentral.CallSpec{Failed: true},
			callbridge.StatusFailed, callbridge.DirectionInbound, "", false},
		{"outbound answered", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, Answered: true, Duration: 95, Recording: true},
			callbridge.StatusCompleted, callbridge.DirectionOutbound, agentExt, true},
		{"outbound no answer", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound},
			callbridge.StatusMissed, callbridge.DirectionOutbound, agentExt, false},
		{"outbound busy", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, Busy: true},
			callbridge.StatusBusy, callbridge.DirectionOutbound, agentExt, false},
		{"outbound failed", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, Failed: true},
			callbridge.StatusFailed, callbridge.DirectionOutbound, agentExt, false},
		{"ringout answered", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, RingOut: true, Answered: true, Duration: 60, Recording: true},
			callbridge.StatusCompleted, callbridge.DirectionOutbound, agentExt, true},
		{"ringout no answer", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, RingOut: true},
			callbridge.StatusMissed, callbridge.DirectionOutbound, agentExt, false},
		{"ringout busy", ringcentral.CallSpec{Direction: callbridge.DirectionOutbound, RingOut: true, Busy: true},
			callbridge.StatusBusy, callbridge.DirectionOutbound, agentExt, false},
	}
	c := ringcentral.New(ringcentral.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := tt.spec
			spec.SessionID, spec.Customer, spec.Line, spec.Agent, spec.AgentPhone, spec.Start = sessionID, customer, line, agentExt, agentPhone, t0
			ns := newSim(t).Notifications(spec)
			for i, n := range ns {
				if n.Sequence != int64(i+1) || (i > 0 && n.At.Before(ns[i-1].At)) {
					t.Fatalf("notification %d: sequence %d at %v", i, n.Sequence, n.At)
				}
			}
			evs := events(t, c, ns)
			for _, e := range evs {
				if e.ProviderCallID != sessionID {
					t.Fatalf("event %s names %s", e.Key, e.ProviderCallID)
				}
			}
			call := foldOrders(t, evs)
			if call.Status != tt.status || !call.Ended || call.Direction != tt.direction || call.CustomerNumber != customer ||
				call.Agent != tt.agent || (call.RecordingURL != "") != tt.recording {
				t.Fatalf("call %+v", *call)
			}
			if tt.direction == callbridge.DirectionInbound && call.LineNumber != line {
				t.Fatalf("line %q", call.LineNumber)
			}
			if !call.StartedAt.Equal(t0) {
				t.Fatalf("StartedAt %v", call.StartedAt)
			}
			if tt.status == callbridge.StatusCompleted && (call.AnsweredAt.IsZero() || !call.EndedAt.After(call.AnsweredAt)) {
				t.Fatalf("answered %v ended %v", call.AnsweredAt, call.EndedAt)
			}
		})
	}
}

// Until the last party leaves, the call is live; the IVR or voicemail
// picking up is no conversation.
func TestSimulatorPartialFold(t *testing.T) {
	c := ringcentral.New(ringcentral.Options{})
	for _, spec := range []ringcentral.CallSpec{
		{ViaIVR: true, Answered: true, Duration: 20},
		{Voicemail: true, Duration: 20},
	} {
		spec.SessionID, spec.Customer, spec.Line, spec.Agent, spec.Start = sessionID, customer, line, agentExt, t0
		ns := newSim(t).Notifications(spec)
		answeredAt := -1
		for i, n := range ns {
			if n.Status == "Answered" && answeredAt < 0 && n.PartyID[len(n.PartyID)-1] == '3' {
				answeredAt = i
			}
		}
		for i := range ns {
			call := foldOrders(t, events(t, c, ns[:i+1]))
			last := i == len(ns)-1
			switch {
			case last:
				if !call.Ended {
					t.Fatalf("not ended after the last notification: %+v", *call)
				}
			case spec.Answered && answeredAt >= 0 && i >= answeredAt:
				if call.Status != callbridge.StatusAnswered && call.Status != callbridge.StatusCompleted {
					t.Fatalf("after %d (%s %s): %s", i, ns[i].PartyID, ns[i].Status, call.Status)
				}
			default:
				if call.Answered() {
					t.Fatalf("after %d (%s %s): answered before the manager picked up", i, ns[i].PartyID, ns[i].Status)
				}
			}
		}
	}
}
