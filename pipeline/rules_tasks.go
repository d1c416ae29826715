package pipeline

import (
	"context"
	"slices"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// Tasks (rules 4 and 11): a callback task for a missed call, a recall task
// for a call that dropped after it was answered. Each is created once, linked
// as the rule says (TaskRule.LinkTo: the entity the call is on, or the
// contact), due a configured time after the call, and completed when a later
// call with the number is answered.
//
// Completion needs no coordination between the two calls' jobs: the missed
// call's job records its task before it looks for a later answered call, and
// the answered call's job looks for recorded tasks after the answered call
// was stored; whichever runs second sees the other.

func callbackSlot(cr *callbridge.CallRules) **callbridge.Effect { return &cr.CallbackTask }
func recallSlot(cr *callbridge.CallRules) **callbridge.Effect   { return &cr.RecallTask }

// tasks creates the call's callback or recall task when its rule applies.
func (w *SyncWorker) tasks(ctx context.Context, r *run, rec *callbridge.KommoRecord) error {
	call, s := r.call, r.s
	if !call.Ended || !callbridge.IsPhoneNumber(call.CustomerNumber) || s.Rules.Protected(call.CustomerNumber) || r.declined() {
		return nil
	}
	if rule := s.Rules.MissedCallTask; rule.Enabled && call.Direction == callbridge.DirectionInbound &&
		(call.Status == callbridge.StatusMissed || call.Status == callbridge.StatusBusy) {
		if err := w.ruleTask(ctx, r, rec, callbackSlot, rule, "callback"); err != nil {
			return err
		}
	}
	if rule := s.Rules.DroppedCallTask; rule.Enabled && call.Answered() {
		evs, err := r.eventsOf(ctx)
		if err != nil {
			return err
		}
		if callbridge.Dropped(evs) {
			if err := w.ruleTask(ctx, r, rec, recallSlot, rule, "recall"); err != nil {
				return err
			}
		}
	}
	return nil
}

// ruleTask creates one task of the call once and completes it when a later
// call with the number was answered.
func (w *SyncWorker) ruleTask(ctx context.Context, r *run, rec *callbridge.KommoRecord, slot effectSlot, rule callbridge.TaskRule, kind string) error {
	acct, call, s := r.acct, r.call, r.s
	cur := *slot(r.rules)
	if !cur.Settled() {
		// The plan, its target included, is made once: an attempt that
		// finds an intent writes (and looks for) what was planned then.
		var plan callbridge.Effect
		if cur == nil {
			back, err := w.answeredAfter(ctx, r)
			if err != nil {
				return err
			}
			if back != nil {
				return r.skip(ctx, slot, "called back by call "+back.UID)
			}
			typ, id, err := w.taskTarget(ctx, r, rec, rule)
			if err != nil {
				return err
			}
			plan = callbridge.Effect{TargetType: typ, TargetID: id, Due: anchor(call).Add(rule.Due()).Truncate(time.Second),
				Text: rule.TaskText(call.CustomerNumber, callbridge.RuleText(s.Language, kind, call.CustomerNumber))}
		}
		look := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
			return w.findTask(ctx, r, e, rule.Type())
		}
		do := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
			resp, err := w.assignee(ctx, r, e, rule)
			if err != nil {
				return nil, err
			}
			tid, err := w.Kommo.AddTask(ctx, acct, kommo.TaskInput{Text: e.Text, CompleteTill: e.Due, EntityID: e.TargetID,
				EntityType: e.TargetType, TaskTypeID: rule.Type(), ResponsibleUserID: resp})
			if err != nil {
				return nil, err
			}
			res := *e
			res.EntityType, res.EntityID = "tasks", tid
			return &res, nil
		}
		eff, err := r.effect(ctx, slot, plan, look, do)
		if err != nil {
			return err
		}
		cur = eff
	}
	if cur.State != callbridge.EffectDone || !cur.CompletedAt.IsZero() {
		return nil
	}
	back, err := w.answeredAfter(ctx, r)
	if err != nil || back == nil {
		return err
	}
	return w.completeTask(ctx, r, r.call.ID, slot, cur, back)
}

// taskTarget is the entity a rule's task is linked to ("", 0 for none while
// the call is not in Kommo). With LinkLead it is the entity the call is
// logged on. With LinkContact it is the contact behind that entity: a
// contact or company the call is on is kept; the contact of a lead the rules
// created, or of an accepted incoming lead, is in the call's rule state;
// otherwise the number's contacts are read (one request): the one that has
// the lead, else the oldest. A pending incoming lead keeps the task (Kommo
// shows its contact only once it is accepted). When no contact has the
// number, a lead's company (a company's number) takes the task; a lead with
// neither keeps it.
func (w *SyncWorker) taskTarget(ctx context.Context, r *run, rec *callbridge.KommoRecord, rule callbridge.TaskRule) (string, int64, error) {
	if rec.State != callbridge.KommoWritten || rec.EntityID == 0 {
		return "", 0, nil
	}
	typ, id := rec.EntityType, rec.EntityID
	if rule.Link() != callbridge.LinkContact || typ == "contacts" || typ == "companies" {
		return typ, id, nil
	}
	cr := r.rules
	if l := cr.Lead; typ == "leads" && l != nil && l.State == callbridge.EffectDone && l.EntityID == id && l.TargetID != 0 {
		return "contacts", l.TargetID, nil // a lead the rules created for this contact
	}
	if typ == "leads" && rec.UnsortedUID != "" {
		o := cr.IncomingLead
		switch {
		case o == nil || o.UID != rec.UnsortedUID || o.Action != callbridge.IncomingAccept:
			return typ, id, nil
		case len(o.ContactIDs) > 0:
			return "contacts", o.ContactIDs[0], nil
		case len(o.CompanyIDs) > 0:
			return "companies", o.CompanyIDs[0], nil
		}
		// Accepted, as a poll found: its contact has the number now.
	}
	// Fresh data: the contact may have been created or linked a moment ago.
	w.Kommo.InvalidateContacts(r.acct, r.call.CustomerNumber)
	contacts, err := w.Kommo.SearchContacts(ctx, r.acct, r.call.CustomerNumber)
	if err != nil {
		return "", 0, err
	}
	if len(contacts) == 0 {
		// A company's number: Kommo logged the call on the company's only
		// active lead; the task goes to the company.
		if typ == "leads" {
			leads, err := w.Kommo.GetLeads(ctx, r.acct, []int64{id})
			if err != nil {
				return "", 0, err
			}
			if len(leads) == 1 && leads[0].CompanyID != 0 {
				return "companies", leads[0].CompanyID, nil
			}
		}
		w.log().Info("rules: no contact has the number; the task goes on the entity the call is on", "account_id", r.acct.ID,
			"call_uid", r.call.UID, "entity_type", typ, "entity_id", id)
		return typ, id, nil
	}
	slices.SortFunc(contacts, byID)
	if typ == "leads" {
		for _, c := range contacts {
			if slices.Contains(c.LeadIDs, id) {
				return "contacts", c.ID, nil
			}
		}
	}
	return "contacts", contacts[0].ID, nil
}

// findTask looks for a task an uncertain attempt created: same type, text
// and deadline, on the planned entity.
func (w *SyncWorker) findTask(ctx context.Context, r *run, e *callbridge.Effect, taskType int64) (*callbridge.Effect, error) {
	f := kommo.TaskFilter{TaskTypeIDs: []int64{taskType}, Limit: 250}
	if e.TargetType != "" {
		f.EntityType, f.EntityIDs = e.TargetType, []int64{e.TargetID}
	}
	for page := 1; page <= maxLookupPages; page++ {
		f.Page = page
		tasks, err := w.Kommo.ListTasks(ctx, r.acct, f)
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			if t.Text == e.Text && t.CompleteTill.Unix() == e.Due.Unix() {
				found := *e
				found.EntityType, found.EntityID = "tasks", t.ID
				return &found, nil
			}
		}
		if len(tasks) < 250 {
			break
		}
	}
	return nil, nil
}

// assignee is the Kommo user a rule's task goes to: the entity's
// responsible manager or the called manager, as the rule says, each the
// other's fallback; 0 (the token's user) when neither is known.
func (w *SyncWorker) assignee(ctx context.Context, r *run, e *callbridge.Effect, rule callbridge.TaskRule) (int64, error) {
	called := r.calledManager()
	if rule.AssignTo == callbridge.AssignCalled && called != 0 {
		return called, nil
	}
	var responsible int64
	switch e.TargetType {
	case "leads":
		leads, err := w.Kommo.GetLeads(ctx, r.acct, []int64{e.TargetID})
		if err != nil {
			return 0, err
		}
		if len(leads) > 0 {
			responsible = leads[0].ResponsibleUserID
		}
	case "contacts":
		cs, err := w.Kommo.SearchContacts(ctx, r.acct, r.call.CustomerNumber)
		if err != nil {
			return 0, err
		}
		for _, c := range cs {
			if c.ID == e.TargetID {
				responsible = c.ResponsibleUserID
			}
		}
	}
	if responsible != 0 {
		return responsible, nil
	}
	return called, nil
}

// answeredAfter returns a call with the same number that was answered and
// started after this call ended, or nil.
func (w *SyncWorker) answeredAfter(ctx context.Context, r *run) (*callbridge.Call, error) {
	rq, ok := w.Store.(ruleQueries)
	if !ok {
		return nil, nil
	}
	calls, _, err := rq.ListCallRulesByNumber(ctx, r.acct.ID, r.call.CustomerNumber, numberCalls)
	if err != nil {
		return nil, err
	}
	for _, c := range calls {
		if c.ID != r.call.ID && c.Answered() && later(c, r.call) {
			return c, nil
		}
	}
	return nil, nil
}

// completeCallbacks completes the callback and recall tasks of earlier
// calls with this answered call's number, once per call.
func (w *SyncWorker) completeCallbacks(ctx context.Context, r *run) error {
	call, s := r.call, r.s
	if !(s.Rules.MissedCallTask.Enabled || s.Rules.DroppedCallTask.Enabled) || !call.Answered() ||
		!callbridge.IsPhoneNumber(call.CustomerNumber) || r.rules.CompleteTasks.Settled() {
		return nil
	}
	calls, rules, err := w.Store.(ruleQueries).ListCallRulesByNumber(ctx, r.acct.ID, call.CustomerNumber, numberCalls)
	if err != nil {
		return err
	}
	for i, c := range calls {
		if c.ID == call.ID || !later(call, c) {
			continue
		}
		for _, slot := range []effectSlot{callbackSlot, recallSlot} {
			if e := *slot(rules[i]); e != nil && e.State == callbridge.EffectDone && e.CompletedAt.IsZero() && e.EntityID != 0 {
				if err := w.completeTask(ctx, r, c.ID, slot, e, call); err != nil {
					return err
				}
			}
		}
	}
	return r.update(ctx, func(cr *callbridge.CallRules) {
		cr.CompleteTasks = &callbridge.Effect{State: callbridge.EffectDone, At: w.now()}
	})
}

// completeTask completes task e of call callID (a PATCH, idempotent) and
// records it on that call's rules.
func (w *SyncWorker) completeTask(ctx context.Context, r *run, callID int64, slot effectSlot, e *callbridge.Effect, by *callbridge.Call) error {
	err := w.Kommo.CompleteTask(ctx, r.acct, e.EntityID, callbridge.RuleText(r.s.Language, "calledback", by.CustomerNumber))
	switch {
	case err == nil, callbridge.ErrorCode(err) == callbridge.ENOTFOUND:
	case callbridge.ErrorKind(err) == callbridge.KindUncertain:
		return &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Task update outcome unknown; retrying.", Err: err}
	default:
		return err
	}
	now := w.now()
	mark := func(cr *callbridge.CallRules) {
		if t := *slot(cr); t != nil && t.CompletedAt.IsZero() {
			t.CompletedAt, t.CompletedBy = now, by.UID
		}
	}
	if callID == r.call.ID {
		return r.update(ctx, mark)
	}
	return w.Store.InTx(ctx, func(q callbridge.Queries) error {
		if _, err := q.LockCallByID(ctx, r.acct.ID, callID); err != nil {
			return err
		}
		rq := q.(ruleQueries)
		cr, err := rq.FindCallRules(ctx, r.acct.ID, callID)
		if err != nil {
			return err
		}
		mark(cr)
		return rq.SaveCallRules(ctx, cr)
	})
}
