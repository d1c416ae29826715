package declarative_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/declarative"
)

const hookBase = "https://cb.example.com/webhooks/conn-token"

var received = time.Date(2024, 3, 12, 10, 5, 0, 0, time.UTC)

// builtin returns a built-in definition.
func builtin(t testing.TB, name string) *declarative.Definition {
	t.Helper()
	d, ok := declarative.Builtins()[name]
	if !ok {
		t.Fatalf("no built-in %q", name)
	}
	return d
}

// load parses a definition file of the package.
func load(t testing.TB, file string) *declarative.Definition {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	d, err := declarative.Parse(bytes.NewReader(b), file)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return d
}

// parseString parses an inline definition.
func parseString(t testing.TB, xml string) *declarative.Definition {
	t.Helper()
	d, err := declarative.Parse(strings.NewReader(xml), "inline.xml")
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return d
}

func conn(provider string, creds map[string]string) *callbridge.Connection {
	return &callbridge.Connection{ID: 7, AccountID: 3, Provider: provider, Token: "conn-token", Credentials: creds}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s", code)
	}
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok {
		t.Fatalf("err %T %v is not *callbridge.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%v), want %s", e.Code, err, code)
	}
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

// byCall groups events by ProviderCallID.
func byCall(evs []callbridge.CallEvent) map[string][]callbridge.CallEvent {
	out := map[string][]callbridge.CallEvent{}
	for _, e := range evs {
		out[e.ProviderCallID] = append(out[e.ProviderCallID], e)
	}
	return out
}

// fold folds evs in arrival order, reversed and shuffled with duplicates,
// and checks every order gives the same call.
func fold(t testing.TB, evs []callbridge.CallEvent) *callbridge.Call {
	t.Helper()
	var first *callbridge.Call
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 8 {
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

// checkEvents checks invariants every event must hold.
func checkEvents(t testing.TB, evs []callbridge.CallEvent) {
	t.Helper()
	for _, ev := range evs {
		if ev.Key == "" || len(ev.Key) > 200 || ev.ProviderCallID == "" || len(ev.ProviderCallID) > 200 || ev.LegID == "" {
			t.Fatalf("event ids %+v", ev)
		}
		switch ev.Type {
		case callbridge.EventStatus:
			if ev.Status == callbridge.StatusUnknown {
				t.Fatalf("status event without status: %+v", ev)
			}
		case callbridge.EventRecording:
			if ev.RecordingURL == "" {
				t.Fatalf("recording event without URL: %+v", ev)
			}
		default:
			t.Fatalf("type %q", ev.Type)
		}
		if !ev.OccurredAt.IsZero() && ev.OccurredAt.Location() != time.UTC {
			t.Fatalf("OccurredAt %v not UTC", ev.OccurredAt)
		}
		if ev.Duration < 0 || ev.RecordingDuration < 0 || ev.Sequence < 0 {
			t.Fatalf("negative numbers %+v", ev)
		}
		if len(ev.Payload) > 16<<10 {
			t.Fatalf("payload of %d bytes", len(ev.Payload))
		}
	}
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}
