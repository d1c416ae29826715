package pipeline

import (
	"context"
	"sync"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// Recovery of uncertain creates. When a batched POST /api/v4/calls is
// dropped, every call in the batch (up to 50) is uncertain. Looking for each
// call separately (search the number, list notes on each entity) would cost
// several requests per call under Kommo's 7 requests per second. Instead one
// scan lists every call note of the account updated since a point in time,
// one entity type at a time, plus the pending incoming leads, and every
// uncertain call of the account is matched against it by its UID.
//
// A scan can answer for a write only if it started after the write's outcome
// was settled; scans are single-flight per account and reused while valid.

// settleTime bounds how long after a write started Kommo may still apply it
// (the client's request timeout plus margin), for writes whose attempt ended
// without a recorded error (a crash).
const settleTime = 30 * time.Second

// scanSlack widens a scan's window before the oldest intent it must cover.
const scanSlack = time.Minute

// maxScanPages bounds the pages (250 items) read per entity type.
const maxScanPages = 40

var callNoteEntityTypes = []string{"leads", "contacts", "companies", "customers"}

type scan struct {
	done    chan struct{}
	started time.Time
	since   time.Time
	notes   map[string]*callbridge.KommoRecord // by uniq
	err     error
}

type recovery struct {
	mu    sync.Mutex
	scans map[int64]*scan // latest scan per account
}

// find returns the record of the call's uncertain write if Kommo holds it,
// nil if it certainly does not. notBefore is when the write's outcome was
// settled: only a scan started after it can tell.
func (r *recovery) find(ctx context.Context, k Kommo, acct *callbridge.Account, call *callbridge.Call, notBefore time.Time, now func() time.Time) (*callbridge.KommoRecord, error) {
	// Kommo stamps a call note's updated_at with the created_at we send (the
	// call's start), which can be long before the write itself.
	since := call.Kommo.IntentAt
	for _, t := range []time.Time{call.StartedAt, call.CreatedAt} {
		if !t.IsZero() && t.Before(since) {
			since = t
		}
	}
	since = since.Add(-scanSlack)
	{
		r.mu.Lock()
		if r.scans == nil {
			r.scans = map[int64]*scan{}
		}
		s := r.scans[acct.ID]
		fresh := s != nil && !s.started.Before(notBefore) && !s.since.After(since)
		if !fresh {
			s = &scan{done: make(chan struct{}), started: now(), since: since}
			if old := r.scans[acct.ID]; old != nil && old.since.Before(since) {
				s.since = old.since // keep covering older intents still being recovered
			}
			r.scans[acct.ID] = s
			go s.run(context.WithoutCancel(ctx), k, acct)
		}
		r.mu.Unlock()

		select {
		case <-s.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s.err != nil {
			r.mu.Lock()
			if r.scans[acct.ID] == s {
				delete(r.scans, acct.ID) // do not reuse a failed scan
			}
			r.mu.Unlock()
			return nil, s.err
		}
		rec, ok := s.notes[call.UID]
		if !ok {
			return nil, nil
		}
		out := *rec
		out.Attempt, out.IntentAt = call.Kommo.Attempt, call.Kommo.IntentAt
		return &out, nil
	}
}

func (s *scan) run(ctx context.Context, k Kommo, acct *callbridge.Account) {
	defer close(s.done)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	s.notes = map[string]*callbridge.KommoRecord{}
	for _, typ := range callNoteEntityTypes {
		from := s.since
		seen := map[int64]bool{}
		for page := 1; page <= maxScanPages; page++ {
			notes, err := k.ListNotes(ctx, acct, typ, kommo.NotesFilter{
				NoteTypes: []string{"call_in", "call_out"}, UpdatedFrom: from, Page: page, Limit: 250,
			})
			if err != nil {
				s.err = err
				return
			}
			for i := range notes {
				n := &notes[i]
				if seen[n.ID] || n.Params.Uniq == "" {
					continue
				}
				seen[n.ID] = true
				s.notes[n.Params.Uniq] = &callbridge.KommoRecord{State: callbridge.KommoWritten,
					EntityType: typ, EntityID: n.EntityID, NoteID: n.ID, Text: n.Params.CallResult,
					CallStatus: n.Params.CallStatus, Duration: n.Params.Duration, Link: n.Params.Link}
			}
			if len(notes) < 250 {
				break
			}
		}
	}
	// An incoming lead created for an unknown number: its uid is the call's.
	for page := 1; page <= maxScanPages; page++ {
		items, err := k.ListUnsorted(ctx, acct, kommo.UnsortedFilter{Category: "sip", Page: page, Limit: 250})
		if err != nil {
			s.err = err
			return
		}
		for _, u := range items {
			uid := u.SourceUID
			if uid == "" {
				uid = u.Metadata.Uniq
			}
			if uid == "" || len(u.LeadIDs) == 0 {
				continue
			}
			if rec, ok := s.notes[uid]; ok {
				rec.UnsortedUID = u.UID
				continue
			}
			s.notes[uid] = &callbridge.KommoRecord{State: callbridge.KommoWritten, EntityType: "leads",
				EntityID: u.LeadIDs[0], UnsortedUID: u.UID}
		}
		if len(items) < 250 {
			break
		}
	}
}
