package callbridge_test

import (
	"strings"
	"testing"
	"time"

	"callbridge"
)

func TestRuleSettingsDefaults(t *testing.T) {
	var r callbridge.RuleSettings
	if r.Mode() != callbridge.UnknownIncomingLead || r.Recordings.Retention() != 18*time.Hour ||
		r.MissedCallTask.Due() != 30*time.Minute || r.MissedCallTask.Type() != 1 || r.MissedCallTask.Link() != callbridge.LinkLead {
		t.Fatalf("defaults: mode %q retention %v due %v type %d link %q", r.Mode(), r.Recordings.Retention(), r.MissedCallTask.Due(),
			r.MissedCallTask.Type(), r.MissedCallTask.Link())
	}
	if got := (callbridge.TaskRule{LinkTo: callbridge.LinkContact}).Link(); got != callbridge.LinkContact {
		t.Fatalf("link %q", got)
	}
	r.Recordings.RetentionHours = 100000
	if r.Recordings.Retention() != callbridge.MaxRetentionHours*time.Hour {
		t.Fatalf("retention not capped: %v", r.Recordings.Retention())
	}
	task := callbridge.TaskRule{Text: " Call {number} now "}
	if got := task.TaskText("+15550001", "default"); got != "Call +15550001 now" {
		t.Fatalf("task text %q", got)
	}
	if got := (callbridge.TaskRule{}).TaskText("+1", "default"); got != "default" {
		t.Fatalf("fallback %q", got)
	}
}

func TestProtected(t *testing.T) {
	r := callbridge.RuleSettings{BlockedNumbers: []string{"+1 (415) 555-0100"}, OwnNumbers: []string{"+14155550000"}}
	for num, want := range map[string]bool{
		"+14155550100": true, "4155550100": true, "+14155550000": true, "+14155550101": false, "": false, "101": false,
	} {
		if got := r.Protected(num); got != want {
			t.Errorf("Protected(%q) = %v, want %v", num, got, want)
		}
	}
}

func TestDropped(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	ev := func(leg string, st callbridge.Status, sec int) callbridge.CallEvent {
		return callbridge.CallEvent{Type: callbridge.EventStatus, Key: leg + string(st), ProviderCallID: "CA1", LegID: leg,
			Status: st, OccurredAt: t0.Add(time.Duration(sec) * time.Second)}
	}
	for name, tc := range map[string]struct {
		evs  []callbridge.CallEvent
		want bool
	}{
		"answeredThenFailed":   {[]callbridge.CallEvent{ev("a", callbridge.StatusFailed, 30), ev("a", callbridge.StatusAnswered, 5)}, true},
		"completed":            {[]callbridge.CallEvent{ev("a", callbridge.StatusAnswered, 5), ev("a", callbridge.StatusCompleted, 30)}, false},
		"failedBeforeAnswer":   {[]callbridge.CallEvent{ev("a", callbridge.StatusFailed, 3), ev("a", callbridge.StatusAnswered, 5)}, false},
		"anotherLegFailed":     {[]callbridge.CallEvent{ev("a", callbridge.StatusAnswered, 5), ev("b", callbridge.StatusFailed, 30)}, false},
		"neverAnsweredFailure": {[]callbridge.CallEvent{ev("a", callbridge.StatusFailed, 3)}, false},
	} {
		if got := callbridge.Dropped(tc.evs); got != tc.want {
			t.Errorf("%s: Dropped = %v, want %v", name, got, tc.want)
		}
	}
}

func TestNoteLinesFor(t *testing.T) {
	call := &callbridge.Call{Direction: callbridge.DirectionOutbound, Status: callbridge.StatusCompleted, Duration: 125,
		Result: &callbridge.CallResult{Text: "Quote\nsent", Rating: 5}}
	info := callbridge.NoteInfo{Language: "pt", Line: "+14155550000", Number: "+14155550100", Manager: "Ana",
		Summary: "Wants 20 seats", Transcript: strings.Repeat("x", callbridge.MaxNoteTranscript+10)}
	got := callbridge.RenderNote(callbridge.NoteLinesFor(call, info))
	want := "Chamada: Realizada\nLinha: +14155550000\nNúmero: +14155550100\nGerente: Ana\nStatus: Atendida\nDuração: 2m 05s\n" +
		"Resultado: Quote sent\nQualidade: 5/5\nGravação: (pending)\nResumo IA: Wants 20 seats\nTranscrição: " +
		strings.Repeat("x", callbridge.MaxNoteTranscript-1) + "…"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	info = callbridge.NoteInfo{Link: "https://cb/rec/1", RecordingDeletedAfter: 18}
	if got := callbridge.RenderNote(callbridge.NoteLinesFor(call, info)); !strings.Contains(got, "Recording: deleted (no contact within 18 h)") {
		t.Fatalf("deleted recording: %q", got)
	}
	if got := callbridge.MovedNote("es", "leads", 12); got != "Llamada movida a la oportunidad #12" {
		t.Fatalf("moved: %q", got)
	}
}

func TestHookToken(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tok := callbridge.SignHookToken(key, 42)
	if id, err := callbridge.ParseHookToken(key, tok); err != nil || id != 42 {
		t.Fatalf("parse: %d %v", id, err)
	}
	if _, err := callbridge.ParseHookToken([]byte("another key 0123456789abcdef0123"), tok); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
		t.Fatalf("other key: %v", err)
	}
	if _, err := callbridge.ParseHookToken(nil, tok); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
		t.Fatalf("no key: %v", err)
	}
	forged := []byte(tok)
	forged[3] ^= 1
	if _, err := callbridge.ParseHookToken(key, string(forged)); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
		t.Fatalf("forged: %v", err)
	}
	if u := callbridge.HookURL("https://cb.example/", key, 42); u != "https://cb.example/kommo/hooks/"+tok {
		t.Fatalf("url %q", u)
	}
}

func FuzzParseHookToken(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(callbridge.SignHookToken(key, 7))
	f.Add("")
	f.Add("AQAAAAAAAAAH")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := callbridge.ParseHookToken(key, tok)
		if err == nil && callbridge.SignHookToken(key, id) != tok {
			t.Fatalf("accepted a token that is not the account's: %q (%d)", tok, id)
		}
	})
}
