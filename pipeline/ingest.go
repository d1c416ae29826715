// Package pipeline turns inputs into calls and calls into Kommo notes.
//
// Ingester is where every input becomes part of one call: it stores the
// events of a webhook or a call result, re-folds the call, and enqueues the
// call's sync job, all in one transaction (concurrent webhooks share one),
// before the input is acknowledged.
// It never talks to Kommo.
//
// SyncWorker is the only code that writes a call to Kommo. It implements the
// exactly-once protocol of DESIGN.md §1: a committed write intent before the
// first create, recovery of an uncertain create by looking in Kommo for the
// call's key, and in-place updates of the note that keep a manager's edits.
// It also applies the account's call-handling rules (rules.go,
// docs/rules.md), each side effect with the same protocol; RulesWorker wakes
// calls whose rules are due and records, through the Kommo webhook that Hooks
// registers, what managers did with incoming leads.
package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbridge"
)

// DefaultHold is how long after hang-up the first write to Kommo waits, so
// that a call result saved right after the call is part of that write.
const DefaultHold = 10 * time.Second

// Ingester records inputs. It is safe for concurrent use; it must not be
// copied after first use.
//
// Concurrent Ingest calls share transactions (group commit): while one
// transaction commits, the webhooks that arrive queue up and are committed
// together in the next, up to MaxBatch of them, so that a burst costs one
// commit (one fsync) per batch instead of one per webhook. Each Ingest still
// returns only after its events are durably committed, and returns its own
// outcome: when a batch fails, its webhooks are committed again one per
// transaction, so that one bad webhook cannot fail the others.
type Ingester struct {
	Store callbridge.Store
	// Hold delays the first write after a call becomes loggable; default
	// DefaultHold. Zero means the default; use a negative value for none.
	Hold   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	// OnCommit, when set, is called after a transaction that changed calls
	// has committed, once per changed call (e.g. to push a ringing call to
	// the manager's widget). It must not block. Webhooks committed in one
	// transaction that change the same call make one call with its final
	// state.
	OnCommit func(call *callbridge.Call)
	// MaxBatch is the most webhooks committed in one transaction; default
	// DefaultMaxBatch. 1 turns group commit off: every Ingest runs its own
	// transaction in the caller's goroutine, as SaveResult does.
	MaxBatch int
	// Committers is how many batches may be committed at once. The default,
	// 0, chooses from what the store does: DefaultCommitters while a
	// transaction is seen to run alongside another (PostgreSQL), one once
	// transactions are seen to wait for each other (SQLite, whose single
	// connection runs one at a time: there one committer makes the largest
	// batches). Until then it is DefaultCommitters.
	Committers int

	mu      sync.Mutex
	queue   []*ingestReq     // waiting for a committer
	busy    map[callRef]bool // calls of the batches being committed
	running int              // committer goroutines
	conc    concurrency      // what the store was seen to do (Committers 0)
	stats   struct{ webhooks, txs atomic.Int64 }
}

// IngestStats count what an Ingester did since it was made.
type IngestStats struct {
	// Webhooks is the number of Ingest calls committed (including those
	// whose events were all duplicates).
	Webhooks int64
	// Transactions is the number of transactions that committed them: with
	// group commit, Webhooks/Transactions is the mean batch size.
	Transactions int64
	// Committers is how many batches may be committed at once now (see
	// Ingester.Committers).
	Committers int
}

// Stats returns counts of the work done so far.
func (in *Ingester) Stats() IngestStats {
	in.mu.Lock()
	committers := in.committers()
	in.mu.Unlock()
	return IngestStats{Webhooks: in.stats.webhooks.Load(), Transactions: in.stats.txs.Load(), Committers: committers}
}

// Group commit defaults.
const (
	// DefaultMaxBatch is Ingester.MaxBatch when 0.
	DefaultMaxBatch = 64
	// DefaultCommitters is the number of committers Ingester.Committers 0
	// allows while the store runs transactions side by side.
	DefaultCommitters = 3
)

func (in *Ingester) now() time.Time {
	if in.Now != nil {
		return in.Now().UTC()
	}
	return time.Now().UTC()
}

func (in *Ingester) hold() time.Duration {
	switch {
	case in.Hold == 0:
		return DefaultHold
	case in.Hold < 0:
		return 0
	}
	return in.Hold
}

func (in *Ingester) log() *slog.Logger {
	if in.Logger != nil {
		return in.Logger
	}
	return slog.Default()
}

// Ingest stores the events of one webhook of conn. Events are grouped by call;
// each call is locked, its new events stored (duplicates are recognised by
// their key and change nothing), re-folded, and its sync job enqueued — all
// in one transaction, shared with concurrent Ingest calls (see Ingester).
// It returns when that transaction has committed, or with ctx's error when
// ctx ends first (the events may still be committed: a provider's retry is
// then a duplicate). It returns EINVALID for events without a type, a key or
// a call id.
func (in *Ingester) Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error {
	if len(events) == 0 {
		return nil
	}
	now := in.now()
	evs := make([]callbridge.CallEvent, 0, len(events))
	for _, e := range events {
		if e.Key == "" || e.ProviderCallID == "" || len(e.Key) > 200 || len(e.ProviderCallID) > 200 {
			return callbridge.Errorf(callbridge.EINVALID, "Event without a valid key or call id.")
		}
		if e.Type == "" {
			return callbridge.Errorf(callbridge.EINVALID, "Event type is required.")
		}
		if e.AISummary == "" && e.Transcript == "" && mayHoldAI(e.Payload) {
			// RingCentral's aiNote and transcript, read before the payload
			// is cut to its stored size.
			e.AISummary, e.Transcript = callbridge.ParseAIArtifacts(e.Payload)
		}
		e.AccountID, e.ConnectionID = conn.AccountID, conn.ID
		if e.ReceivedAt.IsZero() {
			e.ReceivedAt = now
		}
		evs = append(evs, e)
	}
	// Grouped by call, each call's events in the order given.
	slices.SortStableFunc(evs, func(a, b callbridge.CallEvent) int { return strings.Compare(a.ProviderCallID, b.ProviderCallID) })
	r := &ingestReq{ctx: ctx, conn: conn, events: evs, counted: make([]bool, len(evs))}
	for i, e := range evs {
		if i == 0 || e.ProviderCallID != evs[i-1].ProviderCallID {
			r.refs = append(r.refs, callRef{conn.AccountID, conn.ID, e.ProviderCallID})
		}
	}
	if in.MaxBatch == 1 {
		in.commitAlone(r)
		return r.err
	}
	return in.enqueue(r)
}

// SaveResult records a manager's call result for a call of acct, named by its
// UID or by (connection, provider call id). A call not seen yet is created, so
// a result saved before any webhook is kept. Returns ENOTFOUND when the call
// or connection is not the account's.
func (in *Ingester) SaveResult(ctx context.Context, acct *callbridge.Account, r callbridge.ResultInput) (*callbridge.Call, error) {
	now := in.now()
	if r.Key == "" || len(r.Key) > 193 { // "result:" + key ≤ 200 bytes
		return nil, callbridge.Errorf(callbridge.EINVALID, "Result without a valid key.")
	}
	var out *callbridge.Call
	err := in.Store.InTx(ctx, func(q callbridge.Queries) error {
		var call *callbridge.Call
		switch {
		case r.CallUID != "":
			c, err := q.FindCallByUID(ctx, acct.ID, r.CallUID)
			if err != nil {
				return err
			}
			if call, err = q.LockCallByID(ctx, acct.ID, c.ID); err != nil {
				return err
			}
		case r.ConnectionID != 0 && r.ProviderCallID != "" && len(r.ProviderCallID) <= 200:
			conn, err := q.FindConnection(ctx, acct.ID, r.ConnectionID)
			if err != nil {
				return err
			}
			// The id the widget placed a click-to-call with, when the
			// provider's webhooks name the call otherwise (Call.PlacedID).
			call, err = q.LockPlacedCall(ctx, acct.ID, conn.ID, r.ProviderCallID)
			if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
				call, err = q.LockCall(ctx, acct.ID, conn.ID, r.ProviderCallID)
			}
			if err != nil {
				return err
			}
		default:
			return callbridge.Errorf(callbridge.EINVALID, "Name the call by call_uid, or by connection_id and provider_call_id.")
		}
		res := r.Result
		if res.SavedAt.IsZero() {
			res.SavedAt = now
		}
		e := callbridge.CallEvent{
			AccountID: acct.ID, ConnectionID: call.ConnectionID, Type: callbridge.EventResult,
			Key: "result:" + r.Key, ProviderCallID: call.ProviderCallID, Result: &res,
			OccurredAt: res.SavedAt, ReceivedAt: now,
		}
		e.CallID = call.ID
		inserted, err := q.InsertEvent(ctx, &e)
		if err != nil {
			return err
		}
		if inserted { // else the same result was saved before: nothing new
			if err := in.refold(ctx, q, []*callbridge.Call{call}, now); err != nil {
				return err
			}
		}
		out = call
		return nil
	})
	if err != nil {
		return out, err
	}
	if in.OnCommit != nil {
		in.OnCommit(out)
	}
	return out, nil
}

// refold re-folds locked calls from all of their stored events, after new
// ones were inserted in this transaction: it reads the events of all of
// them in one statement, bumps each call's version and writes it, and
// enqueues the sync jobs of those that are loggable.
func (in *Ingester) refold(ctx context.Context, q callbridge.Queries, calls []*callbridge.Call, now time.Time) error {
	if len(calls) == 0 {
		return nil
	}
	ids := make([]int64, len(calls))
	for i, c := range calls {
		ids[i] = c.ID
	}
	events, err := q.ListFoldEvents(ctx, ids)
	if err != nil {
		return err
	}
	var syncs []callbridge.SyncRequest
	for _, call := range calls {
		call.Fold(events[call.ID])
		call.Version++
		call.UpdatedAt = now
		if err := q.UpdateCall(ctx, call); err != nil {
			return err
		}
		if call.Loggable() {
			syncs = append(syncs, callbridge.SyncRequest{AccountID: call.AccountID, CallID: call.ID, At: in.syncAt(call, now)})
		}
	}
	if len(syncs) == 0 {
		return nil
	}
	return q.EnqueueSyncs(ctx, syncs)
}

// syncAt is when the sync job should run: a hold after the call first became
// loggable for a call not yet in Kommo, at once (the zero time) for an
// update. "At once" is the zero time rather than now: River makes a job with
// any scheduled time wait for its scheduler (up to 5 s), and one without
// available at once.
func (in *Ingester) syncAt(call *callbridge.Call, now time.Time) time.Time {
	hold := in.hold()
	if call.Kommo.State == callbridge.KommoWritten || call.Kommo.State == callbridge.KommoUnmatched || hold <= 0 {
		return time.Time{}
	}
	return now.Add(hold)
}

// mayHoldAI reports whether a payload can carry AI artifacts (a cheap test
// before parsing it).
func mayHoldAI(payload []byte) bool {
	return len(payload) > 0 && (bytes.Contains(payload, []byte(`"aiNote"`)) || bytes.Contains(payload, []byte(`"ai_note"`)) ||
		bytes.Contains(payload, []byte(`"aiSummary"`)) || bytes.Contains(payload, []byte(`"transcript`)))
}
