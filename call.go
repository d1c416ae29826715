package callbridge

import (
	"cmp"
	"slices"
	"time"
)

// Call is the aggregate of everything known about one logical call of one
// connection. Its derived fields are recomputed by Fold from the call's stored
// events, so the state does not depend on the order in which inputs arrived.
type Call struct {
	ID             int64
	UID            string // our call key; sent to Kommo as uniq / source_uid. Unique.
	AccountID      int64
	ConnectionID   int64
	ProviderCallID string
	// PlacedID is the id the provider's call-placing API answered for this
	// call when its webhooks name the call otherwise (Plivo answers a
	// request_uuid; its webhooks carry it as ALegRequestUUID): the id the
	// widget knows a click-to-call by until the first webhook arrives. ""
	// when no event carried one. Set by the first event that carries it
	// (CallEvent.PlacedID), not by Fold; a result saved against it reaches
	// this call.
	PlacedID string

	// Derived by Fold.
	Direction      Direction
	Status         Status // ringing, answered, completed, missed, busy or failed
	Ended          bool   // a terminal event was seen
	CustomerNumber string
	LineNumber     string
	Agent          string
	Duration       int // seconds of conversation; 0 unless answered
	StartedAt      time.Time
	AnsweredAt     time.Time
	EndedAt        time.Time
	RecordingID    string
	RecordingURL   string
	Result         *CallResult

	// Version increases by one every time an input changes the call. The sync
	// job records the version it brought Kommo up to in Kommo.SyncedVersion.
	Version int64

	Kommo KommoRecord

	CreatedAt time.Time
	UpdatedAt time.Time
}

// KommoState is where a call stands in the exactly-once protocol toward Kommo.
type KommoState string

// Kommo states.
const (
	// KommoNone: nothing was attempted.
	KommoNone KommoState = ""
	// KommoIntent: a create was attempted and its outcome is unknown. The next
	// attempt looks in Kommo for a note carrying the call's UID before writing.
	KommoIntent KommoState = "intent"
	// KommoWritten: Kommo holds the call; later changes patch the note.
	KommoWritten KommoState = "written"
	// KommoUnmatched: Kommo has no entity for the number and the account's rules
	// say not to create one (e.g. an outgoing call to an unknown number).
	KommoUnmatched KommoState = "unmatched"
)

// KommoRecord is what callbridge wrote to Kommo for a call.
type KommoRecord struct {
	State       KommoState
	Attempt     int       // create attempts so far
	IntentAt    time.Time // when the last create attempt started
	EntityType  string    // leads, contacts, companies or customers
	EntityID    int64
	NoteID      int64  // the call note (call_in / call_out)
	UnsortedUID string // incoming lead uid, for an unknown inbound number
	// Text is the note text (the call_result param) exactly as last written;
	// MergeNote uses it to tell our lines from a manager's edits.
	Text string
	// Unconfirmed holds the lines of note texts sent since Text was last
	// confirmed whose outcome callbridge did not learn (a dropped response, a
	// 5xx after the write, a process killed mid-request). Kommo may show any
	// of them, so KommoRecord.Merge counts them as ours too; "" once a write is
	// confirmed. It is saved before each note update is sent (see Sending).
	Unconfirmed string
	// Status, Duration and Link as last written, to skip no-op updates.
	CallStatus    int
	Duration      int
	Link          string
	SyncedVersion int64
	SyncedAt      time.Time
	LastError     string // last sync failure, for operators; "" after success
}

// Loggable reports whether the call should be written to Kommo: it has ended,
// or the manager already saved a result.
func (c *Call) Loggable() bool { return c.Ended || c.Result != nil }

// Answered reports whether a conversation took place.
func (c *Call) Answered() bool {
	return c.Status == StatusAnswered || c.Status == StatusCompleted
}

// Synced reports whether Kommo reflects the call's current version.
func (c *Call) Synced() bool { return c.Kommo.SyncedVersion >= c.Version }

// SortEvents puts events in the canonical order Fold uses: by provider time,
// then provider sequence, then type and key. The order depends only on the
// events' content, never on when they arrived.
func SortEvents(events []CallEvent) {
	slices.SortStableFunc(events, func(a, b CallEvent) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Sequence, b.Sequence); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
}

// Fold recomputes c's derived fields from all of its events. It is a pure
// function of the set of events: any arrival order, and any number of
// duplicates, gives the same Call. Status only moves forward: a late
// "ringing" after "completed" changes nothing, and answered wins over a
// missed leg of the same call.
func (c *Call) Fold(events []CallEvent) {
	evs := slices.Clone(events)
	SortEvents(evs)

	c.Direction, c.CustomerNumber, c.LineNumber, c.Agent = "", "", "", ""
	c.Status, c.Ended, c.Duration = StatusUnknown, false, 0
	c.StartedAt, c.AnsweredAt, c.EndedAt = time.Time{}, time.Time{}, time.Time{}
	c.RecordingID, c.RecordingURL, c.Result = "", "", nil

	var (
		childDir                 Direction
		childCustomer, childLine string
		parentAgent              string
		answered, parentEnded    bool
		busy, failed, missed     bool
		durParent, durChild      int
		childLegs                = map[string]bool{} // leg id -> terminal
		anyStatus                bool
		firstSeen                time.Time
	)
	setFirst := func(dst *string, v string) {
		if *dst == "" && v != "" {
			*dst = v
		}
	}
	when := func(e CallEvent) time.Time {
		if !e.OccurredAt.IsZero() {
			return e.OccurredAt
		}
		return e.ReceivedAt
	}
	for _, e := range evs {
		t := when(e)
		if !t.IsZero() && (firstSeen.IsZero() || t.Before(firstSeen)) {
			firstSeen = t
		}
		if e.Child {
			if childDir == "" {
				childDir = e.Direction
			}
			setFirst(&childCustomer, e.CustomerNumber)
			setFirst(&childLine, e.LineNumber)
			setFirst(&c.Agent, e.Agent)
		} else {
			if c.Direction == "" {
				c.Direction = e.Direction
			}
			setFirst(&c.CustomerNumber, e.CustomerNumber)
			setFirst(&c.LineNumber, e.LineNumber)
			setFirst(&parentAgent, e.Agent)
		}
		if e.RecordingURL != "" && c.RecordingURL == "" {
			c.RecordingID, c.RecordingURL = e.RecordingID, e.RecordingURL
		}
		switch e.Type {
		case EventResult:
			if e.Result != nil && (c.Result == nil || !e.Result.SavedAt.Before(c.Result.SavedAt)) {
				r := *e.Result
				c.Result = &r
			}
			continue
		case EventRecording:
			continue
		}
		if e.Status == StatusUnknown {
			continue
		}
		anyStatus = true
		if e.Child {
			durChild = max(durChild, e.Duration)
			if _, ok := childLegs[e.LegID]; !ok {
				childLegs[e.LegID] = false
			}
			if e.Status.Terminal() {
				childLegs[e.LegID] = true
			}
		} else {
			durParent = max(durParent, e.Duration)
			if e.Status.Terminal() {
				parentEnded = true
			}
		}
		switch e.Status {
		case StatusAnswered, StatusCompleted:
			answered = true
			if c.AnsweredAt.IsZero() || (!t.IsZero() && t.Before(c.AnsweredAt)) {
				c.AnsweredAt = t
			}
		case StatusBusy:
			busy = true
		case StatusFailed:
			failed = true
		case StatusMissed:
			missed = true
		}
		if e.Status.Terminal() && t.After(c.EndedAt) {
			c.EndedAt = t
		}
	}
	if c.Direction == "" {
		c.Direction = childDir
	}
	setFirst(&c.CustomerNumber, childCustomer)
	setFirst(&c.LineNumber, childLine)
	setFirst(&c.Agent, parentAgent)
	c.StartedAt = firstSeen

	allChildrenEnded := len(childLegs) > 0
	for _, ended := range childLegs {
		allChildrenEnded = allChildrenEnded && ended
	}
	c.Ended = parentEnded || allChildrenEnded
	switch {
	case !anyStatus:
		c.Status = StatusUnknown
	case c.Ended && answered:
		c.Status = StatusCompleted
	case c.Ended && busy:
		c.Status = StatusBusy
	case c.Ended && failed:
		c.Status = StatusFailed
	case c.Ended:
		_ = missed // "ended" with no other outcome counts as missed
		c.Status = StatusMissed
	case answered:
		c.Status = StatusAnswered
	default:
		c.Status = StatusRinging
	}
	if !c.Ended {
		c.EndedAt = time.Time{}
	}
	if answered {
		c.Duration = durChild
		if c.Duration == 0 {
			c.Duration = durParent
		}
		// Providers that report no duration (RingCentral's session events):
		// the time from answer to hang-up.
		if c.Duration == 0 && c.Ended && !c.AnsweredAt.IsZero() && c.EndedAt.After(c.AnsweredAt) {
			c.Duration = int(c.EndedAt.Sub(c.AnsweredAt).Round(time.Second) / time.Second)
		}
	}
}

// CallFilter selects calls for listings. Zero fields do not filter.
type CallFilter struct {
	AccountID int64
	Number    string // matches the customer number's last 10 digits
	UID       string
	Offset    int
	Limit     int // default 50, at most 1000
}
