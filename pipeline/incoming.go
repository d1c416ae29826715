package pipeline

import (
	"context"
	"slices"
	"time"

	"callbridge"
)

// Incoming leads (rule 1). A call from an unknown number becomes an incoming
// lead; a manager accepts or declines it in Kommo, or callbridge accepts it
// when the call was answered (RuleSettings.AcceptAnswered). callbridge learns
// the outcome from Kommo's account webhook (RulesWorker.ResolveIncomingLeads,
// behind the HTTP hook), with polling as the fallback while a recording
// waits for a contact, and the call follows it: an accepted lead is the
// call's entity from then on (its contact claims the recording); a declined
// one leaves the call unmatched, and it creates nothing again.

// ResolveIncomingLeads records what happened to incoming leads of acct
// (Kommo's unsorted[delete] webhook): for each outcome naming a call's
// incoming lead, the outcome is stored on the call's rules and its sync job
// is enqueued, in one transaction per call. Outcomes for unknown incoming
// leads are ignored; a second outcome for the same lead changes nothing. It
// returns EINTERNAL when the store keeps no rule state.
func (w *RulesWorker) ResolveIncomingLeads(ctx context.Context, acct *callbridge.Account, outcomes []callbridge.IncomingLeadOutcome) error {
	if _, ok := w.Store.(ruleQueries); !ok {
		return callbridge.Errorf(callbridge.EINTERNAL, "The store keeps no call rules.")
	}
	now := w.now()
	for _, o := range outcomes {
		if o.UID == "" || (o.Action != callbridge.IncomingAccept && o.Action != callbridge.IncomingDecline) {
			continue
		}
		if o.At.IsZero() {
			o.At = now
		}
		err := w.Store.InTx(ctx, func(q callbridge.Queries) error {
			rq, ok := q.(ruleQueries)
			if !ok {
				return callbridge.Errorf(callbridge.EINTERNAL, "The store keeps no call rules.")
			}
			found, err := rq.FindCallByUnsortedUID(ctx, acct.ID, o.UID)
			if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
				return nil
			} else if err != nil {
				return err
			}
			call, err := q.LockCallByID(ctx, acct.ID, found.ID)
			if err != nil {
				return err
			}
			cr, err := rq.FindCallRules(ctx, acct.ID, call.ID)
			if err != nil {
				return err
			}
			if cr.IncomingLead != nil && cr.IncomingLead.UID == o.UID {
				return nil // already known
			}
			oc := o
			cr.IncomingLead, cr.Applied = &oc, false
			cr.Rev++
			if err := rq.SaveCallRules(ctx, cr); err != nil {
				return err
			}
			return q.EnqueueSync(ctx, acct.ID, call.ID, time.Time{})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// followIncomingLead brings the call's Kommo record in line with what
// happened to its incoming lead: polled when a poll is due, then applied
// (and saved) when it changes the record.
func (w *SyncWorker) followIncomingLead(ctx context.Context, r *run, rec callbridge.KommoRecord) (callbridge.KommoRecord, error) {
	if !r.enabled || rec.State != callbridge.KommoWritten || rec.UnsortedUID == "" || rec.EntityType != "leads" {
		return rec, nil
	}
	cr := r.rules
	if cr.IncomingLead == nil && w.pollDue(r) {
		o, err := w.pollIncomingLead(ctx, r, rec)
		if err != nil {
			return rec, err
		}
		if o != nil {
			if err := r.update(ctx, func(cr *callbridge.CallRules) {
				if cr.IncomingLead == nil {
					cr.IncomingLead, cr.Applied = o, false
				}
			}); err != nil {
				return rec, err
			}
		}
	}
	o := r.rules.IncomingLead
	if o == nil || o.UID != rec.UnsortedUID || r.rules.Applied {
		return rec, nil
	}
	next := rec
	switch o.Action {
	case callbridge.IncomingAccept:
		if len(o.LeadIDs) > 0 && !slices.Contains(o.LeadIDs, rec.EntityID) {
			next.EntityID, next.NoteID = o.LeadIDs[0], rec.NoteID
		}
	case callbridge.IncomingDecline:
		if len(o.LeadIDs) == 0 || slices.Contains(o.LeadIDs, rec.EntityID) {
			// The lead, its contact and the call note are deleted.
			next = callbridge.KommoRecord{State: callbridge.KommoUnmatched, Attempt: rec.Attempt, IntentAt: rec.IntentAt,
				UnsortedUID: rec.UnsortedUID}
		}
	}
	if next != rec {
		if err := w.saveRecord(ctx, r.acct, r.call, next); err != nil {
			return rec, err
		}
		w.log().Info("call follows its incoming lead", "account_id", r.acct.ID, "call_uid", r.call.UID,
			"action", o.Action, "source", o.Source, "entity_id", next.EntityID)
	}
	if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.Applied = true }); err != nil {
		return rec, err
	}
	r.call.Kommo = next
	return next, nil
}

// pollIncomingLead asks Kommo whether the call's incoming lead is still
// pending: nil while it is; otherwise accepted when its lead still exists,
// declined when it was deleted.
func (w *SyncWorker) pollIncomingLead(ctx context.Context, r *run, rec callbridge.KommoRecord) (*callbridge.IncomingLeadOutcome, error) {
	u, err := w.Kommo.GetUnsorted(ctx, r.acct, rec.UnsortedUID)
	switch {
	case err == nil && u != nil && u.UID != "":
		return nil, nil // still pending
	case err != nil && callbridge.ErrorCode(err) != callbridge.ENOTFOUND:
		return nil, err
	}
	return w.incomingOutcome(ctx, r, rec, "poll")
}

// incomingOutcome tells an accepted incoming lead (its lead exists) from a
// declined one (its lead was deleted).
func (w *SyncWorker) incomingOutcome(ctx context.Context, r *run, rec callbridge.KommoRecord, source string) (*callbridge.IncomingLeadOutcome, error) {
	leads, err := w.Kommo.GetLeads(ctx, r.acct, []int64{rec.EntityID})
	if err != nil {
		return nil, err
	}
	o := &callbridge.IncomingLeadOutcome{UID: rec.UnsortedUID, Action: callbridge.IncomingDecline, Source: source, At: w.now()}
	if len(leads) > 0 {
		o.Action, o.LeadIDs = callbridge.IncomingAccept, []int64{leads[0].ID}
	}
	return o, nil
}

// autoAccept accepts the incoming lead of an answered call
// (RuleSettings.AcceptAnswered), once: the called manager becomes
// responsible and the lead moves to AcceptStatusID.
func (w *SyncWorker) autoAccept(ctx context.Context, r *run, rec *callbridge.KommoRecord) (*callbridge.KommoRecord, error) {
	s, call := r.s, r.call
	if !s.Rules.AcceptAnswered || !call.Answered() || rec.State != callbridge.KommoWritten || rec.UnsortedUID == "" ||
		rec.EntityType != "leads" || r.rules.IncomingLead != nil {
		return rec, nil
	}
	uid, leadID := rec.UnsortedUID, rec.EntityID
	var outcome *callbridge.IncomingLeadOutcome
	slot := func(cr *callbridge.CallRules) **callbridge.Effect { return &cr.Accept }
	plan := callbridge.Effect{TargetType: "leads", TargetID: leadID, Text: uid}
	eff, err := r.effect(ctx, slot, plan, nil, func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		u, err := w.Kommo.AcceptUnsorted(ctx, r.acct, uid, r.calledManager(), s.Rules.AcceptStatusID)
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			// Already processed: by an earlier attempt of ours, or by a
			// manager. Its lead tells which.
			o, err := w.incomingOutcome(ctx, r, *rec, "auto")
			if err != nil {
				return nil, err
			}
			outcome = o
			res := *e
			res.Note = "already " + o.Action + "ed"
			if o.Action == callbridge.IncomingAccept {
				res.EntityType, res.EntityID = "leads", o.LeadIDs[0]
			}
			return &res, nil
		} else if err != nil {
			return nil, err
		}
		outcome = &callbridge.IncomingLeadOutcome{UID: uid, Action: callbridge.IncomingAccept, LeadIDs: u.LeadIDs,
			ContactIDs: u.ContactIDs, UserID: r.calledManager(), Source: "auto", At: w.now()}
		if len(outcome.LeadIDs) == 0 {
			outcome.LeadIDs = []int64{leadID}
		}
		res := *e
		res.EntityType, res.EntityID = "leads", outcome.LeadIDs[0]
		return &res, nil
	})
	if err != nil || eff.State != callbridge.EffectDone {
		return rec, err
	}
	if outcome == nil {
		// Recorded by an earlier attempt that stopped before the outcome.
		outcome = &callbridge.IncomingLeadOutcome{UID: uid, Action: callbridge.IncomingAccept, LeadIDs: []int64{eff.EntityID}, Source: "auto", At: w.now()}
		if eff.EntityID == 0 {
			outcome.Action, outcome.LeadIDs = callbridge.IncomingDecline, nil
		}
	}
	if err := r.update(ctx, func(cr *callbridge.CallRules) {
		if cr.IncomingLead == nil {
			cr.IncomingLead, cr.Applied = outcome, false
		}
	}); err != nil {
		return rec, err
	}
	next, err := w.followIncomingLead(ctx, r, *rec)
	if err != nil {
		return rec, err
	}
	return &next, nil
}
