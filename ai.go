package callbridge

import (
	"encoding/json"
	"strings"
)

// Limits of the AI artifacts kept with an event (bytes).
const (
	MaxAISummary  = 8 << 10
	MaxTranscript = 64 << 10
)

// ParseAIArtifacts reads the AI artifacts a provider sent with a webhook:
// RingCentral's aiNote (a string, or an object with a summary, text, note or
// content) and transcript (a string, a list of strings, or a list of
// utterances {speaker|speakerName|name|role, text|content|utterance}, also
// under "utterances" or "segments" of an object). They are looked for at the
// top level of a JSON payload and under "body" (a RingCentral notification).
// The transcript is returned as "Speaker: text" utterances joined by " / ".
// Anything else, or a payload that is not JSON, gives empty strings.
func ParseAIArtifacts(payload []byte) (summary, transcript string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return "", ""
	}
	objects := []map[string]json.RawMessage{top}
	var body map[string]json.RawMessage
	if raw, ok := top["body"]; ok && json.Unmarshal(raw, &body) == nil {
		objects = append(objects, body)
	}
	for _, o := range objects {
		if summary == "" {
			summary = aiText(first(o, "aiNote", "ai_note", "aiSummary"))
		}
		if transcript == "" {
			transcript = transcriptText(first(o, "transcript", "transcription"))
		}
	}
	return clip(oneLine(summary), MaxAISummary), clip(transcript, MaxTranscript)
}

func first(o map[string]json.RawMessage, keys ...string) json.RawMessage {
	for _, k := range keys {
		if v, ok := o[k]; ok {
			return v
		}
	}
	return nil
}

// aiText reads a string, or the first text field of an object.
func aiText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(raw, &o) == nil {
		for _, k := range []string{"summary", "text", "note", "content"} {
			if v, ok := o[k]; ok && json.Unmarshal(v, &s) == nil && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

// transcriptText renders a transcript as one line of utterances.
func transcriptText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return oneLine(s)
	}
	var o map[string]json.RawMessage
	if json.Unmarshal(raw, &o) == nil {
		if v := first(o, "utterances", "segments"); v != nil {
			return transcriptText(v)
		}
		return oneLine(aiText(raw))
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return ""
	}
	var parts []string
	for _, it := range items {
		if json.Unmarshal(it, &s) == nil {
			if s = oneLine(s); s != "" {
				parts = append(parts, s)
			}
			continue
		}
		var u map[string]json.RawMessage
		if json.Unmarshal(it, &u) != nil {
			continue
		}
		var speaker, text string
		for _, k := range []string{"speaker", "speakerName", "name", "role"} {
			if v, ok := u[k]; ok && json.Unmarshal(v, &speaker) == nil && speaker != "" {
				break
			}
		}
		for _, k := range []string{"text", "content", "utterance", "sentence"} {
			if v, ok := u[k]; ok && json.Unmarshal(v, &text) == nil && text != "" {
				break
			}
		}
		speaker, text = oneLine(speaker), oneLine(text)
		switch {
		case text == "":
		case speaker != "":
			parts = append(parts, speaker+": "+text)
		default:
			parts = append(parts, text)
		}
	}
	return strings.Join(parts, " / ")
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
