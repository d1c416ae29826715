package pipeline

// The fold cache: the events of recently changed calls, so that re-folding a
// call after a new event (Call.Fold needs all of its events) does not read
// the older ones back from the database.

import (
	"encoding/json"
	"slices"
	"sync"
	"time"

	"callbridge"
)

// foldCache maps a call id to the events the call was last folded from, at
// the version that fold produced. Events are only ever stored by an Ingester
// (Ingest, SaveResult), which bumps the call's Version in the same
// transaction (refold), and a version is produced by one committed
// transaction only, so (UID, Version) names one set of events: an entry
// whose version is the locked call's is exactly what the database holds. Entries are stored only after their transaction committed. Two
// generations of maps make an approximate LRU: when the current one is half
// full it becomes the old one, and the old one is dropped.
type foldCache struct {
	mu       sync.Mutex
	cur, old map[int64]foldEntry
}

type foldEntry struct {
	uid     string
	version int64
	events  []callbridge.CallEvent // foldView copies; never modified
}

// events returns a copy of the cached events of call when the cache holds
// the call at its current version. A call at version 0 has no events yet:
// none was ever committed for it.
func (c *foldCache) events(call *callbridge.Call) ([]callbridge.CallEvent, bool) {
	if call.Version == 0 {
		return nil, true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.cur[call.ID]
	if !ok {
		e, ok = c.old[call.ID]
	}
	if !ok || e.uid != call.UID || e.version != call.Version {
		return nil, false
	}
	return slices.Clone(e.events), true
}

// store records that call, at its current version, was folded from events.
// An entry at a later version (stored meanwhile by another committer) is
// kept. size is the capacity in calls; 0 stores nothing.
func (c *foldCache) store(size int, call *callbridge.Call, events []callbridge.CallEvent) {
	if size <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.cur[call.ID]; ok && e.uid == call.UID && e.version > call.Version {
		return
	}
	if c.cur == nil || len(c.cur) >= max(size/2, 1) {
		c.old, c.cur = c.cur, make(map[int64]foldEntry, max(size/2, 1))
	}
	delete(c.old, call.ID)
	c.cur[call.ID] = foldEntry{uid: call.UID, version: call.Version, events: events}
}

// foldCacheSize is the cache's capacity in calls.
func (in *Ingester) foldCacheSize() int {
	switch {
	case in.FoldCache == 0:
		return DefaultFoldCache
	case in.FoldCache < 0:
		return 0
	}
	return in.FoldCache
}

// foldView returns e as the store gives it back (ListCallEvents): times in
// UTC at microsecond precision, the result through its JSON form, without
// what Fold does not read (the payload and the AI artifacts, the bulk of an
// event), so that folding cached and stored events gives the same call.
func foldView(e callbridge.CallEvent) callbridge.CallEvent {
	e.Payload, e.AISummary, e.Transcript = nil, "", ""
	e.OccurredAt, e.ReceivedAt = storedTime(e.OccurredAt), storedTime(e.ReceivedAt)
	if e.Result != nil {
		var r callbridge.CallResult
		if b, err := json.Marshal(e.Result); err == nil && json.Unmarshal(b, &r) == nil {
			e.Result = &r
		} else {
			c := *e.Result
			e.Result = &c
		}
	}
	return e
}

// storedTime is t as the store keeps it: unix microseconds, read back in UTC.
func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}
