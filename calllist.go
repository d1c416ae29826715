package callbridge

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Call lists. A manager selects contacts or leads in a Kommo list and lets
// the widget dial them one by one, with a pause between calls. The list and
// its position live in callbridge's database, so a page reload (or another
// browser tab) resumes where the manager was.

// Limits of a call list.
const (
	// MaxCallListEntries is the most numbers one call list holds.
	MaxCallListEntries = 500
	// MaxCallListName is the longest list name, in characters.
	MaxCallListName = 100
	// MaxCallListInterval is the longest pause between two calls, in seconds.
	MaxCallListInterval = 600
	// DefaultCallListInterval is the pause between two calls when none is
	// given, in seconds.
	DefaultCallListInterval = 10
)

// CallListStatus is where a call list stands.
type CallListStatus string

// Call list statuses. Active and paused lists are open; a user has at most
// one open list.
const (
	CallListActive  CallListStatus = "active"  // dialing, one entry after another
	CallListPaused  CallListStatus = "paused"  // the manager paused it
	CallListDone    CallListStatus = "done"    // every entry was dialed or skipped
	CallListStopped CallListStatus = "stopped" // the manager stopped it, or replaced it with a new list
)

// Open reports whether the list can still dial.
func (s CallListStatus) Open() bool { return s == CallListActive || s == CallListPaused }

// CallListEntryState is what happened to one number of a list.
type CallListEntryState string

// Entry states.
const (
	EntryPending CallListEntryState = "pending" // not dialed yet
	EntryDialed  CallListEntryState = "dialed"  // the call was placed
	EntrySkipped CallListEntryState = "skipped" // the manager skipped it
	EntryFailed  CallListEntryState = "failed"  // the call could not be placed (Error says why)
)

// CallListEntry is one number of a call list.
type CallListEntry struct {
	Phone      string             `json:"phone"` // E.164 when it could be read as a phone number
	Name       string             `json:"name,omitempty"`
	EntityType string             `json:"entity_type,omitempty"` // leads, contacts, companies or customers
	EntityID   int64              `json:"entity_id,omitempty"`
	State      CallListEntryState `json:"state"`
	// ConnectionID and ProviderCallID name the call placed for the entry.
	ConnectionID   int64     `json:"connection_id,omitempty"`
	ProviderCallID string    `json:"provider_call_id,omitempty"`
	Error          string    `json:"error,omitempty"`
	At             time.Time `json:"at,omitzero"` // when the state last changed
}

// CallList is a manager's list of numbers to dial one by one. Position is the
// index of the next entry to dial; it only moves forward.
type CallList struct {
	ID        int64
	AccountID int64
	UserID    int64 // the Kommo user who owns the list
	Name      string
	Status    CallListStatus
	Position  int
	// Interval is the pause between the end of one call and the next dial,
	// in seconds (0 to MaxCallListInterval).
	Interval int
	Entries  []CallListEntry
	// Version increases with every stored change; updates compare it so that
	// two browser tabs cannot dial the same entry twice.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Current returns the entry at Position, or nil when the list is exhausted.
func (l *CallList) Current() *CallListEntry {
	if l.Position < 0 || l.Position >= len(l.Entries) {
		return nil
	}
	return &l.Entries[l.Position]
}

// Done reports how many entries were dialed, skipped or failed.
func (l *CallList) Done() int {
	n := 0
	for _, e := range l.Entries {
		if e.State != EntryPending {
			n++
		}
	}
	return n
}

// Finish records the outcome of the current entry and moves Position to the
// next one; the list becomes done after its last entry. It returns EINVALID
// when the list is not open or has no current entry.
func (l *CallList) Finish(state CallListEntryState, at time.Time, errMsg string) error {
	if !l.Status.Open() {
		return Errorf(EINVALID, "The call list is %s.", l.Status)
	}
	e := l.Current()
	if e == nil {
		return Errorf(EINVALID, "The call list has no number left to dial.")
	}
	e.State, e.At, e.Error = state, at.UTC(), errMsg
	l.Position++
	if l.Position >= len(l.Entries) {
		l.Status = CallListDone
	}
	return nil
}

// Validate checks a new list: 1 to MaxCallListEntries entries with a phone
// number, a name of at most MaxCallListName characters, an interval within
// limits and known entity types. It fills in defaults (pending entries,
// active status).
func (l *CallList) Validate() error {
	l.Name = strings.TrimSpace(l.Name)
	switch {
	case !utf8.ValidString(l.Name) || utf8.RuneCountInString(l.Name) > MaxCallListName:
		return Errorf(EINVALID, "The call list name must be at most %d characters.", MaxCallListName)
	case len(l.Entries) == 0:
		return Errorf(EINVALID, "The call list has no phone numbers.")
	case len(l.Entries) > MaxCallListEntries:
		return Errorf(EINVALID, "A call list holds at most %d numbers (got %d).", MaxCallListEntries, len(l.Entries))
	case l.Interval < 0 || l.Interval > MaxCallListInterval:
		return Errorf(EINVALID, "The interval must be between 0 and %d seconds.", MaxCallListInterval)
	}
	for i := range l.Entries {
		e := &l.Entries[i]
		e.Phone = strings.TrimSpace(e.Phone)
		if e.Phone == "" || len(e.Phone) > 64 {
			return Errorf(EINVALID, "Entry %d has no valid phone number.", i+1)
		}
		if utf8.RuneCountInString(e.Name) > 200 || !utf8.ValidString(e.Name) {
			return Errorf(EINVALID, "Entry %d has a name longer than 200 characters.", i+1)
		}
		if e.EntityType != "" && !ValidEntityType(e.EntityType) {
			return Errorf(EINVALID, "Entry %d has an unknown entity type %q.", i+1, e.EntityType)
		}
		if e.EntityID < 0 {
			return Errorf(EINVALID, "Entry %d has an invalid entity id.", i+1)
		}
		e.State, e.ConnectionID, e.ProviderCallID, e.Error, e.At = EntryPending, 0, "", "", time.Time{}
	}
	if l.Status == "" {
		l.Status = CallListActive
	}
	l.Position = 0
	return nil
}

// CallListStore stores call lists. Every method is scoped by account; a list
// of another account is ENOTFOUND.
type CallListStore interface {
	// CreateCallList stores l as the user's open list; the user's previous
	// open list, if any, becomes stopped in the same transaction. It sets
	// l.ID, Version (1), CreatedAt and UpdatedAt.
	CreateCallList(ctx context.Context, l *CallList) error
	// FindCallList returns the list with id in the account.
	FindCallList(ctx context.Context, accountID, id int64) (*CallList, error)
	// OpenCallList returns the user's open (active or paused) list, or
	// ENOTFOUND.
	OpenCallList(ctx context.Context, accountID, userID int64) (*CallList, error)
	// UpdateCallList stores l's status, position and entries if the stored
	// version is still l.Version (ECONFLICT otherwise), then increments
	// l.Version and sets UpdatedAt.
	UpdateCallList(ctx context.Context, l *CallList) error
}
