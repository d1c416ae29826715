package declarative

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"callbridge"
)

// Event fields a <map> can set. Aliases are Vtiger's PhoneCalls field names
// (sourceuuid, callstatus, customernumber, user, starttime, endtime,
// totalduration, billduration, recordingurl) and common spellings.
var fieldAliases = map[string]string{
	"call_id": "call_id", "sourceuuid": "call_id", "callid": "call_id", "call_uuid": "call_id",
	"leg_id": "leg_id", "leg": "leg_id",
	"parent_id": "parent_id", "parent_call_id": "parent_id", "parent": "parent_id",
	"child":     "child",
	"placed_id": "placed_id", "request_id": "placed_id", "request_uuid": "placed_id",
	"direction": "direction",
	"status":    "status", "callstatus": "status", "call_status": "status",
	"customer": "customer", "customernumber": "customer", "customer_number": "customer",
	"line": "line", "line_number": "line", "did": "line",
	"agent": "agent", "user": "agent", "extension": "agent",
	"duration": "duration", "totalduration": "duration", "billduration": "duration", "talk_duration": "duration",
	"time": "time", "occurred_at": "time", "event_time": "time", "timestamp": "time",
	"started_at": "started_at", "starttime": "started_at", "start_time": "started_at",
	"answered_at": "answered_at", "answertime": "answered_at", "answer_time": "answered_at",
	"ended_at": "ended_at", "endtime": "ended_at", "end_time": "ended_at",
	"recording_url": "recording_url", "recordingurl": "recording_url",
	"recording_id":       "recording_id",
	"recording_duration": "recording_duration",
	"sequence":           "sequence",
	// outgoing_call and check_credentials responses
	"error": "error",
}

// vtigerOnly are Vtiger field names callbridge does not use; maps to them are
// accepted and ignored.
var vtigerOnly = map[string]bool{"customertype": true, "gateway": true, "customer_type": true, "notes": true}

// fieldMap is one <map>.
type fieldMap struct {
	field     string
	path      path
	hasPath   bool
	value     *tmpl
	def       *tmpl
	dirs      []callbridge.Direction
	statuses  []string // raw or callbridge statuses this map applies to
	when      conds
	values    []valueMap
	unit      string
	layout    string
	zone      *time.Location
	normalize bool
	line      int
}

// valueMap is one <value from="a|b" to="x"/> translation.
type valueMap struct {
	from []string // lowercased; "*" matches anything
	to   string
	dirs []callbridge.Direction
	when conds
}

// mapping is the event mapping of a callback section or of a call history
// item.
type mapping struct {
	maps []*fieldMap
	key  *tmpl
	typ  callbridge.EventType
}

// hasCallID reports whether the mapping can produce a call id.
func (m *mapping) hasCallID() bool {
	for _, f := range m.maps {
		if f.field == "call_id" {
			return true
		}
	}
	return false
}

// raw returns a map's value before translation: the payload path or the
// value template, trimmed, else the default.
func (f *fieldMap) raw(e *env) string {
	var s string
	if f.hasPath {
		s, _ = e.doc.lookupString(f.path)
	} else if f.value != nil {
		s = f.value.render(e, escNone)
	}
	s = strings.TrimSpace(s)
	if s == "" && f.def != nil {
		s = strings.TrimSpace(f.def.render(e, escNone))
	}
	return s
}

// applies reports whether the map's conditions hold.
func (f *fieldMap) applies(e *env, dir callbridge.Direction, rawStatus string, status callbridge.Status) bool {
	if len(f.dirs) > 0 && !containsDir(f.dirs, dir) {
		return false
	}
	if len(f.statuses) > 0 && !oneOf(rawStatus, f.statuses) && !oneOf(string(status), f.statuses) {
		return false
	}
	return f.when.holds(e)
}

// translate applies the first matching <value>; ok is false when none does.
func (f *fieldMap) translate(raw string, e *env, dir callbridge.Direction) (string, bool) {
	low := strings.ToLower(raw)
	for _, v := range f.values {
		if len(v.dirs) > 0 && !containsDir(v.dirs, dir) {
			continue
		}
		match := false
		for _, from := range v.from {
			if from == "*" || from == low {
				match = true
				break
			}
		}
		if match && v.when.holds(e) {
			return v.to, true
		}
	}
	return raw, false
}

func containsDir(list []callbridge.Direction, d callbridge.Direction) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

// statusSynonyms reads provider and Vtiger status words.
var statusSynonyms = map[string]callbridge.Status{
	"ringing": callbridge.StatusRinging, "queued": callbridge.StatusRinging, "initiated": callbridge.StatusRinging,
	"ring": callbridge.StatusRinging, "early": callbridge.StatusRinging, "dialing": callbridge.StatusRinging,
	"calling": callbridge.StatusRinging, "created": callbridge.StatusRinging, "new": callbridge.StatusRinging,
	"answered": callbridge.StatusAnswered, "in-progress": callbridge.StatusAnswered, "in_progress": callbridge.StatusAnswered,
	"inprogress": callbridge.StatusAnswered, "connected": callbridge.StatusAnswered, "active": callbridge.StatusAnswered,
	"answer": callbridge.StatusAnswered,
	"ended":  callbridge.StatusEnded, "hangup": callbridge.StatusEnded, "terminal": callbridge.StatusEnded,
	"completed": callbridge.StatusCompleted, "complete": callbridge.StatusCompleted,
	"missed": callbridge.StatusMissed, "no-answer": callbridge.StatusMissed, "no_answer": callbridge.StatusMissed,
	"noanswer": callbridge.StatusMissed, "no-response": callbridge.StatusMissed, "noresponse": callbridge.StatusMissed,
	"not_answered": callbridge.StatusMissed, "notanswered": callbridge.StatusMissed, "unanswered": callbridge.StatusMissed,
	"cancel": callbridge.StatusMissed, "canceled": callbridge.StatusMissed, "cancelled": callbridge.StatusMissed,
	"timeout": callbridge.StatusMissed,
	"busy":    callbridge.StatusBusy, "user_busy": callbridge.StatusBusy, "rejected": callbridge.StatusBusy,
	"failed": callbridge.StatusFailed, "failure": callbridge.StatusFailed, "error": callbridge.StatusFailed,
}

// statusWord reads a status; "ignore" and "" are reported by ok=false with
// ignore set for "ignore".
func statusWord(s string) (st callbridge.Status, ignore, ok bool) {
	low := strings.ToLower(strings.TrimSpace(s))
	if low == "ignore" || low == "none" {
		return callbridge.StatusUnknown, true, false
	}
	st, ok = statusSynonyms[low]
	return st, false, ok
}

// directionWord reads a direction.
func directionWord(s string) (callbridge.Direction, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "inbound", "incoming", "in", "inbound-api", "received":
		return callbridge.DirectionInbound, true
	case "outbound", "outgoing", "out", "outbound-api", "outbound-dial", "manual", "progressive",
		"preview", "predictive", "click2call", "clicktocall":
		return callbridge.DirectionOutbound, true
	case "internal", "local", "extension":
		return callbridge.DirectionInternal, true
	case "unknown", "none":
		return callbridge.DirectionUnknown, true
	}
	return callbridge.DirectionUnknown, false
}

// result is what a mapping yields for one payload.
type result struct {
	fields    map[string]string
	dir       callbridge.Direction
	rawStatus string
	status    callbridge.Status
	ignore    bool
	times     map[string]time.Time
	durations map[string]int
}

// evaluate runs the mapping's maps in three passes: direction, then the
// status, then everything else (later maps win when they yield a value).
func (m *mapping) evaluate(e *env) *result {
	r := &result{fields: map[string]string{}, times: map[string]time.Time{}, durations: map[string]int{}}
	// Pass 1: direction.
	for _, f := range m.maps {
		if f.field != "direction" || !f.when.holds(e) {
			continue
		}
		raw := f.raw(e)
		if raw == "" {
			continue
		}
		if s, ok := f.translate(raw, e, r.dir); ok {
			raw = s
		}
		if d, ok := directionWord(raw); ok {
			r.dir = d
		}
	}
	e.set("direction", string(r.dir))
	// Pass 2: the status the payload states.
	var statusMap *fieldMap
	for _, f := range m.maps {
		if f.field != "status" || len(f.statuses) > 0 || len(f.dirs) > 0 && !containsDir(f.dirs, r.dir) || !f.when.holds(e) {
			continue
		}
		if raw := f.raw(e); raw != "" {
			r.rawStatus, statusMap = raw, f
		}
	}
	if statusMap != nil {
		r.status, r.ignore = statusMap.status(r.rawStatus, e, r.dir)
	}
	e.set("raw_status", r.rawStatus)
	e.set("status", string(r.status))
	// Pass 3: the other fields, and status overrides.
	for _, f := range m.maps {
		if f.field == "direction" || f == statusMap {
			continue
		}
		if f.field == "status" && len(f.statuses) == 0 {
			continue // a status source, read in pass 2
		}
		if !f.applies(e, r.dir, r.rawStatus, r.status) {
			continue
		}
		raw := f.raw(e)
		if raw == "" {
			continue
		}
		if f.field == "status" {
			r.status, r.ignore = f.status(raw, e, r.dir)
			e.set("status", string(r.status))
			continue
		}
		if s, ok := f.translate(raw, e, r.dir); ok {
			raw = s
		}
		switch f.field {
		case "time", "started_at", "answered_at", "ended_at":
			loc := e.loc
			if f.zone != nil {
				loc = f.zone
			}
			if t := parseTime(raw, f.layout, loc); !t.IsZero() {
				r.times[f.field] = t
			}
		case "duration", "recording_duration":
			r.durations[f.field] = parseDuration(raw, f.unit)
		case "customer", "line", "agent":
			if f.normalize {
				raw = normalizeParty(f.field, raw, e.country)
			}
			if raw != "" {
				r.fields[f.field] = raw
			}
		default:
			r.fields[f.field] = raw
		}
	}
	return r
}

// normalizeParty normalises a number with the connection's country. An
// agent named by a user name ("jonas1", "alice.smith") is kept as it is:
// NormalizePhone would read its digits as an extension.
func normalizeParty(field, raw, country string) string {
	if field == "agent" {
		low := strings.ToLower(raw)
		hasLetter := strings.IndexFunc(low, func(r rune) bool { return 'a' <= r && r <= 'z' }) >= 0
		if hasLetter && !strings.HasPrefix(low, "sip:") && !strings.HasPrefix(low, "client:") &&
			!strings.HasPrefix(low, "tel:") && !strings.Contains(low, "@") {
			return strings.TrimSpace(raw)
		}
	}
	return callbridge.NormalizePhone(raw, country)
}

// status translates a raw status through the map's values, then the synonyms.
func (f *fieldMap) status(raw string, e *env, dir callbridge.Direction) (callbridge.Status, bool) {
	if s, ok := f.translate(raw, e, dir); ok {
		raw = s
	}
	st, ignore, ok := statusWord(raw)
	if !ok {
		return callbridge.StatusUnknown, ignore
	}
	return st, false
}

// build turns a result into events. base carries ReceivedAt and Payload. It
// returns no events (and no error) when the payload is not about a call
// state: no status and no recording, an ignored status, or a mapping without
// a call id.
func (m *mapping) build(r *result, e *env, base callbridge.CallEvent, keyPrefix string) ([]callbridge.CallEvent, error) {
	callID := r.fields["call_id"]
	if callID == "" {
		if !m.hasCallID() {
			return nil, nil
		}
		return nil, callbridge.Errorf(callbridge.EINVALID, "The payload has no call id.")
	}
	legID := r.fields["leg_id"]
	if legID == "" {
		legID = callID
	}
	parent := r.fields["parent_id"]
	placed := r.fields["placed_id"]
	for _, id := range []string{callID, legID, parent, placed} {
		if err := checkID(id); err != nil {
			return nil, err
		}
	}
	ev := base
	ev.ProviderCallID, ev.LegID = callID, legID
	if parent != "" && parent != callID {
		ev.ProviderCallID, ev.Child = parent, true
	}
	if placed != ev.ProviderCallID {
		ev.PlacedID = placed
	}
	if b, err := strconv.ParseBool(strings.TrimSpace(r.fields["child"])); err == nil && b {
		ev.Child = true
	}
	ev.Direction = r.dir
	ev.CustomerNumber, ev.LineNumber, ev.Agent = bound(r.fields["customer"]), bound(r.fields["line"]), bound(r.fields["agent"])
	ev.Duration = r.durations["duration"]
	ev.RecordingDuration = r.durations["recording_duration"]
	ev.RecordingURL = bound(r.fields["recording_url"])
	ev.RecordingID = bound(r.fields["recording_id"])
	if ev.RecordingURL == "" {
		ev.RecordingID = ""
	} else if ev.RecordingID == "" {
		sum := sha256.Sum256([]byte(ev.RecordingURL))
		ev.RecordingID = hex.EncodeToString(sum[:8])
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(r.fields["sequence"]), 10, 64); err == nil && n > 0 {
		ev.Sequence = n
	}

	typ := m.typ
	if r.ignore {
		return nil, nil
	}
	if typ == callbridge.EventStatus && r.status == callbridge.StatusUnknown {
		if r.rawStatus != "" || ev.RecordingURL == "" {
			return nil, nil // a status callbridge does not track
		}
		typ = callbridge.EventRecording
	}
	if typ == callbridge.EventRecording {
		if ev.RecordingURL == "" {
			return nil, nil
		}
		ev.Status = callbridge.StatusUnknown
	} else {
		ev.Status = r.status
	}
	ev.Type = typ
	ev.OccurredAt = occurredAt(r, ev.Status)

	e.set("call_id", ev.ProviderCallID)
	e.set("leg_id", ev.LegID)
	e.set("recording_id", ev.RecordingID)
	var key string
	if m.key != nil {
		key = m.key.render(e, escNone)
	}
	if key == "" {
		switch {
		case typ == callbridge.EventRecording:
			key = "recording:" + ev.RecordingID
		default:
			s := strings.ToLower(r.rawStatus)
			if s == "" {
				s = string(ev.Status)
			}
			key = keyPrefix + ":" + ev.LegID + ":" + s
		}
	}
	ev.Key = boundKey(key)
	out := []callbridge.CallEvent{ev}

	// A terminal event that knows when the call started (or was answered)
	// also states those earlier facts, so a provider that reports a call
	// once, at its end, still gives the call its start time.
	if ev.Type == callbridge.EventStatus && ev.Status.Terminal() {
		if t := r.times["started_at"]; !t.IsZero() && t.Before(ev.OccurredAt) {
			s := ev
			s.Status, s.OccurredAt, s.Duration = callbridge.StatusRinging, t, 0
			s.RecordingURL, s.RecordingID, s.RecordingDuration = "", "", 0
			s.Key = boundKey(key + "#started")
			out = append(out, s)
		}
		if t := r.times["answered_at"]; !t.IsZero() && ev.Status == callbridge.StatusCompleted && t.Before(ev.OccurredAt) {
			a := ev
			a.Status, a.OccurredAt, a.Duration = callbridge.StatusAnswered, t, 0
			a.RecordingURL, a.RecordingID, a.RecordingDuration = "", "", 0
			a.Key = boundKey(key + "#answered")
			out = append(out, a)
		}
	}
	return out, nil
}

// occurredAt picks the event's time: time, else the time that fits the
// status, else any time the payload gave.
func occurredAt(r *result, st callbridge.Status) time.Time {
	if t := r.times["time"]; !t.IsZero() {
		return t
	}
	order := []string{"started_at", "answered_at", "ended_at"}
	switch {
	case st.Terminal():
		order = []string{"ended_at", "answered_at", "started_at"}
	case st == callbridge.StatusAnswered:
		order = []string{"answered_at", "started_at", "ended_at"}
	}
	for _, k := range order {
		if t := r.times[k]; !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// checkID refuses over-long ids and ids with control characters.
func checkID(id string) error {
	if len(id) > maxIDLen {
		return callbridge.Errorf(callbridge.EINVALID, "A call id in the payload is too long.")
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f {
			return callbridge.Errorf(callbridge.EINVALID, "A call id in the payload has control characters.")
		}
	}
	if !utf8.ValidString(id) {
		return callbridge.Errorf(callbridge.EINVALID, "A call id in the payload is not valid UTF-8.")
	}
	return nil
}

// bound truncates free-text event fields to 500 bytes on a rune boundary.
func bound(s string) string {
	const max = 500
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i]
		}
	}
	return ""
}

// boundKey keeps keys within callbridge's 200 bytes: a longer key becomes
// its first 120 bytes and a hash of the whole.
func boundKey(k string) string {
	if len(k) <= maxKeyLen {
		return k
	}
	sum := sha256.Sum256([]byte(k))
	head := bound(k)
	if len(head) > 120 {
		head = head[:120]
		for len(head) > 0 && !utf8.ValidString(head) {
			head = head[:len(head)-1]
		}
	}
	return head + "~" + hex.EncodeToString(sum[:16])
}
