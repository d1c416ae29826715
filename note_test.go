package callbridge_test

import (
	"strings"
	"testing"

	"callbridge"
)

func TestMergeNote(t *testing.T) {
	call := &callbridge.Call{Direction: callbridge.DirectionInbound, Status: callbridge.StatusCompleted, Duration: 65}
	first := callbridge.RenderNote(callbridge.NoteLines(call, "en", ""))
	if want := "Call: Incoming\nStatus: Answered\nDuration: 1m 05s\nRecording: (pending)"; first != want {
		t.Fatalf("first note:\n%s\nwant:\n%s", first, want)
	}
	call.Result = &callbridge.CallResult{Text: "Sent\nthe quote"}
	next := callbridge.NoteLines(call, "en", "https://cb.example/rec/x")

	t.Run("Untouched", func(t *testing.T) {
		got := callbridge.MergeNote(first, first, next)
		want := "Call: Incoming\nStatus: Answered\nDuration: 1m 05s\nRecording: https://cb.example/rec/x\nResult: Sent the quote"
		if got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("ManagerEditsSurvive", func(t *testing.T) {
		edited := "Call: Incoming\nStatus: Answered — VIP client\nDuration: 1m 05s\nCustomer asked for a discount\nRecording: (pending)"
		got := callbridge.MergeNote(edited, first, next)
		want := "Call: Incoming\nStatus: Answered — VIP client\nDuration: 1m 05s\nCustomer asked for a discount\nRecording: https://cb.example/rec/x\nResult: Sent the quote"
		if got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("DeletedLineStaysDeleted", func(t *testing.T) {
		edited := "Call: Incoming\nStatus: Answered\nRecording: (pending)"
		got := callbridge.MergeNote(edited, first, next)
		want := "Call: Incoming\nStatus: Answered\nRecording: https://cb.example/rec/x\nResult: Sent the quote"
		if got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("Idempotent", func(t *testing.T) {
		once := callbridge.MergeNote(first, first, next)
		if twice := callbridge.MergeNote(once, once, next); twice != once {
			t.Fatalf("second merge changed the note:\n%s\n---\n%s", once, twice)
		}
	})
	t.Run("UnconfirmedSendIsOurs", func(t *testing.T) {
		// A send of a result whose answer was lost may or may not show in
		// Kommo; either way the newer result replaces it, and a manager's
		// edit of the result line still survives.
		rec := callbridge.KommoRecord{Text: first}
		lost := "Call: Incoming\nStatus: Answered\nDuration: 1m 05s\nRecording: (pending)\nResult: Left a voicemail"
		if !rec.Sending(lost) || rec.Sending(lost) {
			t.Fatal("Sending must report a change once")
		}
		if rec.Unconfirmed != "Result: Left a voicemail" {
			t.Fatalf("unconfirmed %q", rec.Unconfirmed)
		}
		want := "Call: Incoming\nStatus: Answered\nDuration: 1m 05s\nRecording: https://cb.example/rec/x\nResult: Sent the quote"
		for _, current := range []string{lost, first} {
			if got := rec.Merge(current, next); got != want {
				t.Fatalf("current %q:\ngot:\n%s\nwant:\n%s", current, got, want)
			}
		}
		edited := strings.Replace(lost, "Left a voicemail", "Call back Monday", 1)
		if got := rec.Merge(edited, next); !strings.Contains(got, "Result: Call back Monday") || strings.Contains(got, "Sent the quote") {
			t.Fatalf("manager's result lost:\n%s", got)
		}
		rec.Confirm(want, rec.CallStatus, rec.Duration, rec.Link)
		if rec.Text != want || rec.Unconfirmed != "" || rec.Merge(want, next) != want {
			t.Fatalf("after Confirm: %+v", rec)
		}
	})
	t.Run("Localized", func(t *testing.T) {
		es := callbridge.RenderNote(callbridge.NoteLines(call, "es", ""))
		if want := "Llamada: Entrante\nEstado: Contestada\nDuración: 1m 05s\nResultado: Sent the quote\nGrabación: (pending)"; es != want {
			t.Fatalf("es:\n%s", es)
		}
	})
}

func FuzzMergeNote(f *testing.F) {
	f.Add("Status: Answered\nfoo", "Status: Answered", "Status", "Missed")
	f.Add("a: b\n\nStatus: x", "Status: y", "Result", "ok")
	f.Fuzz(func(t *testing.T, current, previous, label, value string) {
		if strings.Contains(label, "\n") || strings.Contains(value, "\n") || strings.Contains(label, ": ") {
			t.Skip()
		}
		next := []callbridge.NoteLine{{Label: label, Value: value}}
		out := callbridge.MergeNote(current, previous, next)
		// A line of current that callbridge did not write itself survives the merge.
		ours := map[string]bool{}
		for _, s := range strings.Split(previous, "\n") {
			ours[s] = true
		}
		kept := map[string]int{}
		for _, s := range strings.Split(out, "\n") {
			kept[s]++
		}
		for _, s := range strings.Split(current, "\n") {
			if current != "" && !ours[s] && kept[s] == 0 {
				t.Fatalf("manager line %q lost:\ncurrent=%q previous=%q out=%q", s, current, previous, out)
			}
		}
	})
}
