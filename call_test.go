package callbridge_test

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"callbridge"
)

var t0 = time.Date(2026, 3, 12, 10, 0, 0, 0, time.UTC)

func ev(key string, child bool, st callbridge.Status, sec int, dur int) callbridge.CallEvent {
	leg := "CA-parent"
	if child {
		leg = "CA-child"
	}
	return callbridge.CallEvent{
		Type: callbridge.EventStatus, Key: key, ProviderCallID: "CA-parent", LegID: leg, Child: child,
		Status: st, Direction: callbridge.DirectionInbound, CustomerNumber: "+14155550100",
		LineNumber: "+14155550111", Duration: dur, OccurredAt: t0.Add(time.Duration(sec) * time.Second),
	}
}

func fold(evs []callbridge.CallEvent) callbridge.Call {
	var c callbridge.Call
	c.Fold(evs)
	return c
}

func TestFold(t *testing.T) {
	rec := callbridge.CallEvent{Type: callbridge.EventRecording, Key: "rec:RE1", ProviderCallID: "CA-parent",
		RecordingID: "RE1", RecordingURL: "https://api.twilio.com/rec/RE1", OccurredAt: t0.Add(50 * time.Second)}
	res := callbridge.CallEvent{Type: callbridge.EventResult, Key: "result:1", ProviderCallID: "CA-parent",
		Result: &callbridge.CallResult{Text: "Wants a quote", CallStatus: 4, SavedAt: t0.Add(60 * time.Second)}}

	tests := []struct {
		name     string
		events   []callbridge.CallEvent
		status   callbridge.Status
		ended    bool
		duration int
	}{
		{"RingingOnly", []callbridge.CallEvent{ev("p:ringing", false, callbridge.StatusRinging, 0, 0)}, callbridge.StatusRinging, false, 0},
		{"AnsweredByAgent", []callbridge.CallEvent{
			ev("p:ringing", false, callbridge.StatusRinging, 0, 0),
			ev("c:ringing", true, callbridge.StatusRinging, 1, 0),
			ev("c:in-progress", true, callbridge.StatusAnswered, 5, 0),
		}, callbridge.StatusAnswered, false, 0},
		{"Completed", []callbridge.CallEvent{
			ev("p:ringing", false, callbridge.StatusRinging, 0, 0),
			ev("c:in-progress", true, callbridge.StatusAnswered, 5, 0),
			ev("c:completed", true, callbridge.StatusCompleted, 45, 40),
			ev("p:completed", false, callbridge.StatusEnded, 46, 46),
			rec, res,
		}, callbridge.StatusCompleted, true, 40},
		{"MissedWhenChildNoAnswer", []callbridge.CallEvent{
			ev("p:ringing", false, callbridge.StatusRinging, 0, 0),
			ev("c:no-answer", true, callbridge.StatusMissed, 30, 0),
			ev("p:completed", false, callbridge.StatusEnded, 31, 31),
		}, callbridge.StatusMissed, true, 0},
		{"BusyChild", []callbridge.CallEvent{
			ev("c:busy", true, callbridge.StatusBusy, 3, 0),
			ev("p:completed", false, callbridge.StatusEnded, 4, 4),
		}, callbridge.StatusBusy, true, 0},
		{"ParentEndedOnlyIsMissed", []callbridge.CallEvent{ev("p:completed", false, callbridge.StatusEnded, 10, 10)}, callbridge.StatusMissed, true, 0},
		{"LateRingingChangesNothing", []callbridge.CallEvent{
			ev("c:completed", true, callbridge.StatusCompleted, 45, 40),
			ev("p:completed", false, callbridge.StatusEnded, 46, 46),
			ev("p:ringing", false, callbridge.StatusRinging, 90, 0),
		}, callbridge.StatusCompleted, true, 40},
		{"ResultOnly", []callbridge.CallEvent{res}, callbridge.StatusUnknown, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fold(tt.events)
			if want.Status != tt.status || want.Ended != tt.ended || want.Duration != tt.duration {
				t.Fatalf("status=%q ended=%v duration=%d, want %q %v %d", want.Status, want.Ended, want.Duration, tt.status, tt.ended, tt.duration)
			}
			// Any arrival order, with duplicates, folds to the same call.
			rng := rand.New(rand.NewPCG(1, uint64(len(tt.events))))
			for i := 0; i < 50; i++ {
				evs := append([]callbridge.CallEvent(nil), tt.events...)
				evs = append(evs, evs[rng.IntN(len(evs))])
				rng.Shuffle(len(evs), func(a, b int) { evs[a], evs[b] = evs[b], evs[a] })
				if got := fold(evs); !reflect.DeepEqual(got, want) {
					t.Fatalf("order %d folded differently:\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}

	t.Run("FieldsMerge", func(t *testing.T) {
		c := fold([]callbridge.CallEvent{
			ev("c:completed", true, callbridge.StatusCompleted, 45, 40),
			ev("p:completed", false, callbridge.StatusEnded, 46, 46),
			rec, res,
		})
		if c.RecordingURL != rec.RecordingURL || c.Result == nil || c.Result.Text != "Wants a quote" {
			t.Fatalf("recording=%q result=%+v", c.RecordingURL, c.Result)
		}
		if c.CustomerNumber != "+14155550100" || c.Direction != callbridge.DirectionInbound {
			t.Fatalf("customer=%q direction=%q", c.CustomerNumber, c.Direction)
		}
		if !c.Loggable() || !c.EndedAt.Equal(t0.Add(46*time.Second)) {
			t.Fatalf("loggable=%v endedAt=%v", c.Loggable(), c.EndedAt)
		}
	})
	t.Run("DurationFromTimesWhenNotReported", func(t *testing.T) {
		c := fold([]callbridge.CallEvent{
			ev("c:answered", true, callbridge.StatusAnswered, 10, 0),
			ev("c:completed", true, callbridge.StatusCompleted, 75, 0),
			ev("p:completed", false, callbridge.StatusEnded, 75, 0),
		})
		if c.Duration != 65 {
			t.Fatalf("duration=%d, want 65", c.Duration)
		}
	})
	t.Run("LatestResultWins", func(t *testing.T) {
		later := res
		later.Key = "result:2"
		later.Result = &callbridge.CallResult{Text: "Call back Monday", SavedAt: t0.Add(2 * time.Minute)}
		if c := fold([]callbridge.CallEvent{later, res}); c.Result.Text != "Call back Monday" {
			t.Fatalf("result=%q", c.Result.Text)
		}
	})
}

func TestNormalizePhone(t *testing.T) {
	for _, tt := range []struct{ raw, country, want string }{
		{"+1 (415) 555-0100", "US", "+14155550100"},
		{"4155550100", "US", "+14155550100"},
		{"14155550100", "US", "+14155550100"},
		{"0044 20 7946 0958", "US", "+442079460958"},
		{"011 98765 4321", "BR", "+551198765432" + "1"},
		{"101", "US", "101"},
		{"anonymous", "US", ""},
		{"sip:alice@example.com", "US", "sip:alice@example.com"},
		{"", "US", ""},
	} {
		if got := callbridge.NormalizePhone(tt.raw, tt.country); got != tt.want {
			t.Errorf("NormalizePhone(%q, %q)=%q, want %q", tt.raw, tt.country, got, tt.want)
		}
	}
	if got := callbridge.PhoneTail("+14155550100", 10); got != "4155550100" {
		t.Errorf("PhoneTail=%q", got)
	}
}
