package callbridge

import (
	"fmt"
	"strings"
	"unicode/utf8"
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

	// Lines added by NoteLinesFor.
	Line, Number, Manager, Quality, Summary, Transcript string
	// RecordingDeleted is the Recording value after the 18-hour rule
	// deleted the recording; Moved is the text left on a note whose call
	// moved to another entity ("%s" is the entity, e.g. "lead #12").
	RecordingDeleted, Moved string
	// Entity names for Moved, by entity type.
	Entities map[string]string
	// CallbackTask and RecallTask are the texts of the rules' tasks and
	// NewLead the name of a lead they create ("%s" is the number).
	CallbackTask, RecallTask, NewLead string
	// CalledBack is the result of a callback task completed by a later
	// answered call.
	CalledBack string
}

var labels = map[string]noteLabels{
	"en": {
		Direction: "Call", Status: "Status", Duration: "Duration", Result: "Result", Recording: "Recording",
		Inbound: "Incoming", Outbound: "Outgoing", Internal: "Internal",
		Statuses: map[Status]string{StatusRinging: "Ringing", StatusAnswered: "In progress", StatusCompleted: "Answered",
			StatusMissed: "Missed", StatusBusy: "Busy", StatusFailed: "Failed"},
		Line: "Line", Number: "Number", Manager: "Manager", Quality: "Quality", Summary: "AI summary", Transcript: "Transcript",
		RecordingDeleted: "deleted (no contact within %d h)", Moved: "Call moved to %s",
		Entities:     map[string]string{"leads": "lead", "contacts": "contact", "companies": "company", "customers": "customer"},
		CallbackTask: "Call back %s (missed call)", RecallTask: "Call %s again (the call dropped)", NewLead: "Call from %s",
		CalledBack: "Called back: %s answered",
	},
	"es": {
		Direction: "Llamada", Status: "Estado", Duration: "Duración", Result: "Resultado", Recording: "Grabación",
		Inbound: "Entrante", Outbound: "Saliente", Internal: "Interna",
		Statuses: map[Status]string{StatusRinging: "Sonando", StatusAnswered: "En curso", StatusCompleted: "Contestada",
			StatusMissed: "Perdida", StatusBusy: "Ocupado", StatusFailed: "Fallida"},
		Line: "Línea", Number: "Número", Manager: "Gerente", Quality: "Calidad", Summary: "Resumen IA", Transcript: "Transcripción",
		RecordingDeleted: "eliminada (sin contacto en %d h)", Moved: "Llamada movida a %s",
		Entities:     map[string]string{"leads": "la oportunidad", "contacts": "el contacto", "companies": "la empresa", "customers": "el cliente"},
		CallbackTask: "Devolver la llamada a %s (llamada perdida)", RecallTask: "Volver a llamar a %s (la llamada se cortó)", NewLead: "Llamada de %s",
		CalledBack: "Llamada devuelta: %s contestó",
	},
	"pt": {
		Direction: "Chamada", Status: "Status", Duration: "Duração", Result: "Resultado", Recording: "Gravação",
		Inbound: "Recebida", Outbound: "Realizada", Internal: "Interna",
		Statuses: map[Status]string{StatusRinging: "Tocando", StatusAnswered: "Em andamento", StatusCompleted: "Atendida",
			StatusMissed: "Perdida", StatusBusy: "Ocupado", StatusFailed: "Falhou"},
		Line: "Linha", Number: "Número", Manager: "Gerente", Quality: "Qualidade", Summary: "Resumo IA", Transcript: "Transcrição",
		RecordingDeleted: "excluída (sem contato em %d h)", Moved: "Chamada movida para %s",
		Entities:     map[string]string{"leads": "o lead", "contacts": "o contato", "companies": "a empresa", "customers": "o cliente"},
		CallbackTask: "Retornar a ligação de %s (chamada perdida)", RecallTask: "Ligar de novo para %s (a chamada caiu)", NewLead: "Chamada de %s",
		CalledBack: "Ligação retornada: %s atendeu",
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
	return NoteLinesFor(c, NoteInfo{Language: lang, Link: link})
}

// NoteInfo is what the note shows besides the Call itself. Zero fields
// leave their lines out.
type NoteInfo struct {
	// Language is en (default), es or pt.
	Language string
	// Link is the recording link, "" when there is none (yet).
	Link string
	// Line is the account's own number the call used; Number is the
	// customer's number, shown when the contact has several (rule 3).
	Line, Number string
	// Manager names the manager who took or placed the call.
	Manager string
	// Summary and Transcript are the provider's AI artifacts, each on one
	// line; Transcript is cut at MaxNoteTranscript characters.
	Summary, Transcript string
	// RecordingDeletedAfter is set when the recording was deleted because no
	// contact appeared within that many hours (the 18-hour rule).
	RecordingDeletedAfter int
}

// MaxNoteTranscript bounds the transcript shown in a note, in characters.
const MaxNoteTranscript = 3000

// NoteLinesFor returns the lines callbridge owns in the call's note: call
// direction, line, number, manager, status, duration, result, quality
// rating, recording, AI summary and transcript, each when known. A line
// whose information is still to come reads Pending ("Recording: (pending)")
// and is substituted by a later update.
func NoteLinesFor(c *Call, info NoteInfo) []NoteLine {
	l := labelsFor(info.Language)
	var lines []NoteLine
	switch c.Direction {
	case DirectionInbound:
		lines = append(lines, NoteLine{l.Direction, l.Inbound})
	case DirectionOutbound:
		lines = append(lines, NoteLine{l.Direction, l.Outbound})
	case DirectionInternal:
		lines = append(lines, NoteLine{l.Direction, l.Internal})
	}
	if v := oneLine(info.Line); v != "" {
		lines = append(lines, NoteLine{l.Line, v})
	}
	if v := oneLine(info.Number); v != "" {
		lines = append(lines, NoteLine{l.Number, v})
	}
	if v := oneLine(info.Manager); v != "" {
		lines = append(lines, NoteLine{l.Manager, v})
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
	if c.Result != nil && c.Result.Rating >= 1 && c.Result.Rating <= 5 {
		lines = append(lines, NoteLine{l.Quality, fmt.Sprintf("%d/5", c.Result.Rating)})
	}
	switch {
	case info.RecordingDeletedAfter > 0:
		lines = append(lines, NoteLine{l.Recording, fmt.Sprintf(l.RecordingDeleted, info.RecordingDeletedAfter)})
	case info.Link != "":
		lines = append(lines, NoteLine{l.Recording, info.Link})
	case c.Answered():
		lines = append(lines, NoteLine{l.Recording, Pending})
	}
	if v := oneLine(info.Summary); v != "" {
		lines = append(lines, NoteLine{l.Summary, v})
	}
	if v := oneLine(info.Transcript); v != "" {
		lines = append(lines, NoteLine{l.Transcript, truncateRunes(v, MaxNoteTranscript)})
	}
	return lines
}

// MovedNote is the text left on a call's note after the call moved to
// another entity: "Call moved to lead #12".
func MovedNote(lang, entityType string, entityID int64) string {
	l := labelsFor(lang)
	name := l.Entities[entityType]
	if name == "" {
		name = entityType
	}
	return fmt.Sprintf(l.Moved, fmt.Sprintf("%s #%d", name, entityID))
}

// RuleText returns the localised text of a task or lead the rules create:
// kind is "callback", "recall" or "lead" (number is the customer's number),
// or "calledback", the result of a completed callback task (number is the
// customer's number).
func RuleText(lang, kind, number string) string {
	l := labelsFor(lang)
	switch kind {
	case "callback":
		return fmt.Sprintf(l.CallbackTask, number)
	case "recall":
		return fmt.Sprintf(l.RecallTask, number)
	case "calledback":
		return fmt.Sprintf(l.CalledBack, number)
	}
	return fmt.Sprintf(l.NewLead, number)
}

// truncateRunes cuts s to at most n characters, marking the cut with "…".
func truncateRunes(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n-1 {
			return s[:i] + "…"
		}
		count++
	}
	return s
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
	return mergeNote(current, previous, "", next)
}

// Merge is MergeNote for the record's note: its Unconfirmed lines count as
// callbridge's too where the note shows them. A label only an unconfirmed
// send carried is not taken as deleted by the manager when the note lacks
// it (the send may not have applied): next's line for it is appended.
func (r *KommoRecord) Merge(current string, next []NoteLine) string {
	return mergeNote(current, r.Text, r.Unconfirmed, next)
}

func mergeNote(current, previous, unconfirmed string, next []NoteLine) string {
	if current == "" && previous == "" {
		return RenderNote(next)
	}
	wrote := map[string]bool{} // labels callbridge certainly wrote
	ours := map[string]bool{}  // exact lines callbridge wrote or may have
	for _, s := range strings.Split(previous, "\n") {
		if l, _, ok := splitLine(s); ok {
			wrote[l], ours[s] = true, true
		}
	}
	for _, s := range strings.Split(unconfirmed, "\n") {
		if _, _, ok := splitLine(s); ok {
			ours[s] = true
		}
	}
	want := map[string]string{}
	for _, ln := range next {
		want[ln.Label] = ln.Value
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range strings.Split(current, "\n") {
		l, _, ok := splitLine(s)
		if ok && ours[s] && !seen[l] {
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
		if !wrote[ln.Label] && !seen[ln.Label] {
			out = append(out, ln.Label+": "+ln.Value)
		}
	}
	return strings.Join(out, "\n")
}

// Sending adds the lines of text, about to be sent to the note, to
// r.Unconfirmed (each line once) and reports whether it changed: then the
// record must be saved before the request goes out, so that neither a lost
// response nor a killed process can make callbridge mistake its own lines
// for a manager's.
func (r *KommoRecord) Sending(text string) bool {
	have := map[string]bool{}
	for _, s := range strings.Split(r.Text, "\n") {
		have[s] = true
	}
	for _, s := range strings.Split(r.Unconfirmed, "\n") {
		have[s] = true
	}
	changed := false
	for _, s := range strings.Split(text, "\n") {
		if have[s] || s == "" {
			continue
		}
		have[s] = true
		if r.Unconfirmed != "" {
			r.Unconfirmed += "\n"
		}
		r.Unconfirmed += s
		changed = true
	}
	return changed
}

// Confirm records that the note was written with text (it becomes Text: no
// send is unconfirmed any more), call status, duration and link.
func (r *KommoRecord) Confirm(text string, callStatus, duration int, link string) {
	r.Text, r.Unconfirmed = text, ""
	r.CallStatus, r.Duration, r.Link = callStatus, duration, link
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
