package callbridge_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"callbridge"
)

func TestParseAIArtifacts(t *testing.T) {
	for name, tc := range map[string]struct {
		payload             string
		summary, transcript string
	}{
		"RingCentralNotification": {`{"event":"/x","body":{"aiNote":{"summary":"Wants a\nquote"},"transcript":[{"speaker":"Agent","text":"Hi"},{"speakerName":"Ann","content":"Hello  there"}]}}`,
			"Wants a quote", "Agent: Hi / Ann: Hello there"},
		"Strings":           {`{"aiNote":"Short call","transcript":"Agent: hi\nCustomer: bye"}`, "Short call", "Agent: hi Customer: bye"},
		"ListOfStrings":     {`{"transcript":["one","two"]}`, "", "one / two"},
		"Utterances":        {`{"transcript":{"utterances":[{"role":"agent","utterance":"yes"}]}}`, "", "agent: yes"},
		"NoSpeaker":         {`{"transcript":[{"text":"plain"}]}`, "", "plain"},
		"NoArtifacts":       {`{"CallSid":"CA1"}`, "", ""},
		"NotJSON":           {`CallSid=CA1&aiNote=x`, "", ""},
		"WrongShapes":       {`{"aiNote":42,"transcript":{"x":1}}`, "", ""},
		"ObjectWithoutText": {`{"aiNote":{"score":3}}`, "", ""},
	} {
		s, tr := callbridge.ParseAIArtifacts([]byte(tc.payload))
		if s != tc.summary || tr != tc.transcript {
			t.Errorf("%s: got (%q, %q), want (%q, %q)", name, s, tr, tc.summary, tc.transcript)
		}
	}
	long := `{"transcript":"` + strings.Repeat("é", callbridge.MaxTranscript) + `"}`
	if _, tr := callbridge.ParseAIArtifacts([]byte(long)); len(tr) > callbridge.MaxTranscript || !utf8.ValidString(tr) {
		t.Fatalf("long transcript: %d bytes, valid %v", len(tr), utf8.ValidString(tr))
	}
}

func FuzzParseAIArtifacts(f *testing.F) {
	f.Add([]byte(`{"body":{"aiNote":{"summary":"x"},"transcript":[{"speaker":"a","text":"b"}]}}`))
	f.Add([]byte(`{"aiNote":"s","transcript":["a","b"]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, tr := callbridge.ParseAIArtifacts(payload)
		if len(s) > callbridge.MaxAISummary || len(tr) > callbridge.MaxTranscript {
			t.Fatalf("too long: %d, %d", len(s), len(tr))
		}
		if strings.Contains(s, "\n") || strings.Contains(tr, "\n") {
			t.Fatalf("not one line: %q %q", s, tr)
		}
	})
}
