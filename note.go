package callbridge

import (
	"fmt"
	"strings"
)

// The call note. Kommo shows a call's call_result text in the call note;
// callbridge writes it as labelled lines ("Status: Completed") and later
// updates only the lines it owns, by substitution: a line whose value a
// manager edited, or that a manager deleted, is left as the manager made it,
// and every line the manager added is kept.

// NoteLine is one labelled line of the note text.
type NoteLine struct {
	Label string
	Value string
}

// Pending is the placeholder value of a line whose information has not
// arrived yet; a later update substitutes it.
const Pending = "(pending)"

type noteLabels struct {
	Direction, Status, Duration, Result, Recording string
	Inbound, Outbound, Internal                    string
	Statuses                                       map[Status]string
}

var labels = map[string]noteLabels{
	"en": {
		Direction: "Call", Status: "Status", Duration: "Duration", Result: "Result", Recording: "Recording",
		Inbound: "Incoming", Outbound: "Outgoing", Internal: "Internal",
		Statuses: map[Status]string{StatusRinging: "Ringing", StatusAnswered: "In progress", StatusCompleted: "Answered",
			StatusMissed: "Missed", StatusBusy: "Busy", StatusFailed: "Failed"},
	},
	"es": {
		Direction: "Llamada", Status: "Estado", Duration: "Duración", Result: "Resultado", Recording: "Grabación",
		Inbound: "Entrante", Outbound: "Saliente", Internal: "Interna",
		Statuses: map[Status]string{StatusRinging: "Sonando", StatusAnswered: "En curso", StatusCompleted: "Contestada",
			StatusMissed: "Perdida", StatusBusy: "Ocupado", StatusFailed: "Fallida"},
	},
	"pt": {
		Direction: "Chamada", Status: "Status", Duration: "Duração", Result: "Resultado", Recording: "Gravação",
		Inbound: "Recebida", Outbound: "Realizada", Internal: "Interna",
		Statuses: map[Status]string{StatusRinging: "Tocando", StatusAnswered: "Em andamento", StatusCompleted: "Atendida",
			StatusMissed: "Perdida", StatusBusy: "Ocupado", StatusFailed: "Falhou"},
	},
}

func labelsFor(lang string) noteLabels {
	if l, ok := labels[lang]; ok {
		return l
	}
	return labels["en"]
}

// FormatDuration renders seconds as "1m 05s" ("45s" under a minute, "1h 02m 03s" over an hour).
func FormatDuration(sec int) string {
	if sec < 60 {
		return fmt.Sprintf("%ds", max(sec, 0))
	}
	if sec < 3600 {
		return fmt.Sprintf("%dm %02ds", sec/60, sec%60)
	}
	return fmt.Sprintf("%dh %02dm %02ds", sec/3600, sec%3600/60, sec%60)
}

// NoteLines returns the lines callbridge owns in the call's note, in the
// account's language (en, es or pt; others fall back to en). link is the
// recording link to show, "" if there is none yet.
func NoteLines(c *Call, lang, link string) []NoteLine {
	l := labelsFor(lang)
	var lines []NoteLine
	switch c.Direction {
	case DirectionInbound:
		lines = append(lines, NoteLine{l.Direction, l.Inbound})
	case DirectionOutbound:
		lines = append(lines, NoteLine{l.Direction, l.Outbound})
	case DirectionInternal:
		lines = append(lines, NoteLine{l.Direction, l.Internal})
	}
	if s, ok := l.Statuses[c.Status]; ok {
		lines = append(lines, NoteLine{l.Status, s})
	}
	if c.Answered() {
		lines = append(lines, NoteLine{l.Duration, FormatDuration(c.Duration)})
	}
	if c.Result != nil && strings.TrimSpace(c.Result.Text) != "" {
		lines = append(lines, NoteLine{l.Result, oneLine(c.Result.Text)})
	}
	switch {
	case link != "":
		lines = append(lines, NoteLine{l.Recording, link})
	case c.Answered():
		lines = append(lines, NoteLine{l.Recording, Pending})
	}
	return lines
}

// oneLine folds text onto one line so that it stays one labelled line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// RenderNote joins lines as "Label: Value" lines.
func RenderNote(lines []NoteLine) string {
	var b strings.Builder
	for i, ln := range lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(ln.Label)
		b.WriteString(": ")
		b.WriteString(ln.Value)
	}
	return b.String()
}

func splitLine(s string) (label, value string, ok bool) {
	label, value, ok = strings.Cut(s, ": ")
	if !ok || label == "" || strings.ContainsAny(label, "\t") {
		return "", "", false
	}
	return label, value, true
}

// MergeNote returns the note text to write when the note currently reads
// current, callbridge last wrote previous, and now owns the lines next. A line
// of current whose label and value are exactly as previously written is
// replaced by next's value for that label (or dropped when next no longer has
// it); any other line of current — a manager's edit or addition — is kept as
// it is. Lines of next whose label callbridge never wrote before are appended;
// a line callbridge wrote that the manager deleted stays deleted.
func MergeNote(current, previous string, next []NoteLine) string {
	if current == "" && previous == "" {
		return RenderNote(next)
	}
	prev := map[string]string{}
	for _, s := range strings.Split(previous, "\n") {
		if l, v, ok := splitLine(s); ok {
			prev[l] = v
		}
	}
	want := map[string]string{}
	for _, ln := range next {
		want[ln.Label] = ln.Value
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range strings.Split(current, "\n") {
		l, v, ok := splitLine(s)
		if pv, ours := prev[l]; ok && ours && pv == v && !seen[l] {
			seen[l] = true
			if nv, keep := want[l]; keep {
				out = append(out, l+": "+nv)
			}
			continue
		}
		if ok {
			seen[l] = true
		}
		out = append(out, s)
	}
	for _, ln := range next {
		if _, wrote := prev[ln.Label]; !wrote && !seen[ln.Label] {
			out = append(out, ln.Label+": "+ln.Value)
		}
	}
	return strings.Join(out, "\n")
}

// KommoCallStatus returns the call_status (1–7) Kommo should show: the
// manager's choice when there is one, otherwise derived from the outcome.
func KommoCallStatus(c *Call) int {
	if c.Result != nil && c.Result.CallStatus >= 1 && c.Result.CallStatus <= 7 {
		return c.Result.CallStatus
	}
	switch c.Status {
	case StatusCompleted, StatusAnswered:
		return KommoCallConversation
	case StatusBusy:
		return KommoCallBusy
	case StatusMissed, StatusFailed:
		return KommoCallNotReached
	}
	return 0
}
