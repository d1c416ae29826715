// Package pipeline turns inputs into calls and calls into Kommo notes.
//
// Ingester is where every input becomes part of one call: it stores the
// events of a webhook or a call result, re-folds the call, and enqueues the
// call's sync job, all in one transaction, before the input is acknowledged.
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
	"time"

	"callbridge"
)

// DefaultHold is how long after hang-up the first write to Kommo waits, so
// that a call result saved right after the call is part of that write.
const DefaultHold = 10 * time.Second

// Ingester records inputs. It is safe for concurrent use.
type Ingester struct {
	Store callbridge.Store
	// Hold delays the first write after a call becomes loggable; default
	// DefaultHold. Zero means the default; use a negative value for none.
	Hold   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
	// OnCommit, when set, is called after a transaction that changed calls
	// has committed, once per changed call (e.g. to push a ringing call to
	// the manager's widget). It must not block.
	OnCommit func(call *callbridge.Call)
}

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

// Ingest stores the events of one webhook of conn. Events are grouped by call;
// each call is locked, its new events stored (duplicates are recognised by
// their key and change nothing), re-folded, and its sync job enqueued — all
// in one transaction. It returns EINVALID for events without a key or call id.
func (in *Ingester) Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error {
	if len(events) == 0 {
		return nil
	}
	now := in.now()
	byCall := map[string][]callbridge.CallEvent{}
	for _, e := range events {
		if e.Key == "" || e.ProviderCallID == "" || len(e.Key) > 200 || len(e.ProviderCallID) > 200 {
			return callbridge.Errorf(callbridge.EINVALID, "Event without a valid key or call id.")
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
		byCall[e.ProviderCallID] = append(byCall[e.ProviderCallID], e)
	}
	// Lock calls in a fixed order so that two webhooks naming the same calls
	// cannot deadlock on PostgreSQL.
	ids := make([]string, 0, len(byCall))
	for id := range byCall {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var changed []*callbridge.Call
	err := in.Store.InTx(ctx, func(q callbridge.Queries) error {
		changed = changed[:0]
		for _, id := range ids {
			call, err := q.LockCall(ctx, conn.AccountID, conn.ID, id)
			if err != nil {
				return err
			}
			ok, err := in.apply(ctx, q, call, byCall[id], now)
			if err != nil {
				return err
			}
			if ok {
				changed = append(changed, call)
			}
		}
		return nil
	})
	if err == nil && in.OnCommit != nil {
		for _, c := range changed {
			in.OnCommit(c)
		}
	}
	return err
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
			if call, err = q.LockCall(ctx, acct.ID, conn.ID, r.ProviderCallID); err != nil {
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
		if _, err := in.apply(ctx, q, call, []callbridge.CallEvent{e}, now); err != nil {
			return err
		}
		out = call
		return nil
	})
	if err == nil && in.OnCommit != nil {
		in.OnCommit(out)
	}
	return out, err
}

// apply stores events of one locked call and, when any was new, re-folds the
// call, bumps its version and enqueues its sync job. It reports whether the
// call changed.
func (in *Ingester) apply(ctx context.Context, q callbridge.Queries, call *callbridge.Call, events []callbridge.CallEvent, now time.Time) (bool, error) {
	changed := false
	for i := range events {
		events[i].CallID = call.ID
		inserted, err := q.InsertEvent(ctx, &events[i])
		if err != nil {
			return false, err
		}
		changed = changed || inserted
	}
	if !changed {
		return false, nil // a provider retry: nothing new
	}
	all, err := q.ListCallEvents(ctx, call.ID)
	if err != nil {
		return false, err
	}
	call.Fold(all)
	call.Version++
	call.UpdatedAt = now
	if err := q.UpdateCall(ctx, call); err != nil {
		return false, err
	}
	if !call.Loggable() {
		return true, nil
	}
	return true, q.EnqueueSync(ctx, call.AccountID, call.ID, in.syncAt(call, now))
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
