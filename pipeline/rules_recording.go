package pipeline

import (
	"context"
	"time"

	"callbridge"
)

// The 18-hour rule (rule 6, Kommo's call-logging guide): a recording is
// linked to the call when the call has a contact, or when one appears within
// the retention time (RecordingRule, default 18 h after the call): its
// incoming lead is accepted, or a contact with the number is created by hand
// (an unmatched call is then logged on it, with the recording). Otherwise,
// at the deadline, the recording is deleted, from the provider when its
// connector is a callbridge.RecordingDeleter and from callbridge's store,
// and the note (on an incoming lead still pending) says so and loses its
// link. Until the deadline the call's rules are due at each step of
// pollLadder: the incoming lead is polled, an unmatched number looked up
// again.

func deletionSlot(cr *callbridge.CallRules) **callbridge.Effect { return &cr.RecordingDeletion }

// retain applies the 18-hour rule to the call's recording.
func (w *SyncWorker) retain(ctx context.Context, r *run, rec *callbridge.KommoRecord) (*callbridge.KommoRecord, error) {
	call, rule := r.call, r.s.Rules.Recordings
	cr := r.rules
	if cr.RecordingDeletedAfter > 0 {
		return rec, nil
	}
	if cr.RecordingDeletion == nil {
		// (An interrupted deletion goes on below even though the store may
		// have forgotten the recording already.)
		if call.RecordingURL == "" {
			return rec, nil
		}
		if hasContact(rec, cr) {
			if !cr.RecordingDeadline.IsZero() {
				// Claimed: the recording stays.
				return rec, r.update(ctx, func(cr *callbridge.CallRules) { cr.RecordingDeadline = time.Time{} })
			}
			return rec, nil
		}
		if rule.KeepUnlinked {
			return rec, nil
		}
		now := w.now()
		deadline, polls := cr.RecordingDeadline, cr.Polls
		if deadline.IsZero() {
			deadline = anchor(call).Add(rule.Retention())
		}
		// This run looked at Kommo (the incoming lead was polled, the number
		// looked up by the create): count the poll steps it covered.
		for polls < len(pollLadder) && !now.Before(anchor(call).Add(pollLadder[polls])) {
			polls++
		}
		if !deadline.Equal(cr.RecordingDeadline) || polls != cr.Polls {
			if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.RecordingDeadline, cr.Polls = deadline, polls }); err != nil {
				return nil, err
			}
		}
		if now.Before(deadline) {
			return rec, nil
		}
	}
	hours := int(rule.Retention() / time.Hour)
	eff, err := r.effect(ctx, deletionSlot, callbridge.Effect{Text: call.RecordingID}, nil,
		func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
			res := *e
			res.Note = "deleted from callbridge's store"
			conn, err := w.Store.FindConnection(ctx, r.acct.ID, call.ConnectionID)
			if err != nil {
				return nil, err
			}
			if d, ok := w.Connectors[conn.Provider].(callbridge.RecordingDeleter); ok && call.RecordingURL != "" {
				err := d.DeleteRecording(ctx, conn, call.RecordingID, call.RecordingURL)
				switch callbridge.ErrorCode(err) {
				case "", callbridge.ENOTFOUND:
					res.Note = "deleted from the provider and callbridge's store"
				case callbridge.EFORBIDDEN:
					res.Note = "the provider does not allow deleting it; deleted from callbridge's store"
				default:
					return nil, err
				}
			}
			if err := r.w.Store.(ruleQueries).ForgetRecording(ctx, r.acct.ID, call.ID); err != nil {
				return nil, err
			}
			return &res, nil
		})
	if err != nil {
		return nil, err
	}
	if eff.State != callbridge.EffectDone {
		return rec, nil
	}
	if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.RecordingDeletedAfter, cr.DueAt = hours, time.Time{} }); err != nil {
		return nil, err
	}
	w.log().Info("recording deleted: no contact claimed it in time", "account_id", r.acct.ID, "call_uid", call.UID,
		"retention_hours", hours, "how", eff.Note)
	call.RecordingID, call.RecordingURL = "", ""
	if rec.State != callbridge.KommoWritten {
		return rec, nil
	}
	info, err := w.noteInfo(ctx, r, "")
	if err != nil {
		return nil, err
	}
	return w.update(ctx, r.acct, call, *rec, callbridge.NoteLinesFor(call, info), "")
}
