package pipeline

import (
	"cmp"
	"context"
	"slices"

	"callbridge"
	"callbridge/kommo"
)

// Rules that decide where a call is first written: a lead for a known
// contact without an active lead (rule 2), a contact and a lead for a new
// number (rules 1 and 5); and the move to the entity the manager chose in
// the call-result window (rule 7).

// createOnRuleLead places the call on a lead the rules create: it resumes a
// contact or lead an earlier attempt started, or, for a known contact
// without an active lead (rule 2), creates the lead. It reports whether it
// placed the call (filling rec).
func (w *SyncWorker) createOnRuleLead(ctx context.Context, r *run, rec *callbridge.KommoRecord) (bool, error) {
	if !r.enabled {
		return false, nil
	}
	acct, call, s, cr := r.acct, r.call, r.s, r.rules
	known := s.Rules.KnownContactLead
	switch {
	case cr.Contact != nil:
		// A new number's contact and lead (rules 1 and 5).
		return w.placeOnNewLead(ctx, r, rec, true, 0, s.Rules.NewLead)
	case cr.Lead != nil:
		// A known contact's lead (rule 2).
		return w.placeOnNewLead(ctx, r, rec, false, cr.Lead.TargetID,
			callbridge.LeadTarget{PipelineID: known.PipelineID, StatusID: known.StatusID})
	}
	if !known.Enabled || s.Rules.Protected(call.CustomerNumber) || r.declined() ||
		!(call.Direction == callbridge.DirectionInbound || (call.Direction == callbridge.DirectionOutbound && known.Outgoing)) {
		return false, nil
	}
	// Fresh data: a lead created a moment ago (say, for the previous call
	// from this number) must count.
	w.Kommo.InvalidateContacts(acct, call.CustomerNumber)
	contacts, err := w.Kommo.SearchContacts(ctx, acct, call.CustomerNumber)
	if err != nil || len(contacts) == 0 {
		return false, err
	}
	var leadIDs []int64
	for _, c := range contacts {
		leadIDs = append(leadIDs, c.LeadIDs...)
	}
	if len(leadIDs) > 0 {
		leads, err := w.Kommo.GetLeads(ctx, acct, leadIDs)
		if err != nil {
			return false, err
		}
		if slices.ContainsFunc(leads, kommo.Lead.Active) {
			return false, nil // Kommo's own rules place the call
		}
	}
	oldest := slices.MinFunc(contacts, byID)
	return w.placeOnNewLead(ctx, r, rec, false, oldest.ID, callbridge.LeadTarget{PipelineID: known.PipelineID, StatusID: known.StatusID})
}

// createForNewNumber places a call whose number Kommo does not know on a
// new contact and lead, when the rules say so: an inbound call with
// UnknownContactAndLead (rule 1), an outgoing one with OutgoingNewNumber
// (rule 5). It reports whether it placed the call.
func (w *SyncWorker) createForNewNumber(ctx context.Context, r *run, rec *callbridge.KommoRecord) (bool, error) {
	call, s := r.call, r.s
	if !r.enabled || s.Rules.Protected(call.CustomerNumber) || r.declined() {
		return false, nil
	}
	switch {
	case call.Direction == callbridge.DirectionInbound && s.Rules.Mode() == callbridge.UnknownContactAndLead,
		call.Direction == callbridge.DirectionOutbound && s.Rules.OutgoingNewNumber:
		return w.placeOnNewLead(ctx, r, rec, true, 0, s.Rules.NewLead)
	}
	return false, nil
}

// placeOnNewLead makes sure the contact (a new one when newContact) and
// its lead exist, then adds the call note to the lead (to the contact when
// Kommo refused the lead). It reports false when the contact could not be
// created, leaving the call to the default path.
func (w *SyncWorker) placeOnNewLead(ctx context.Context, r *run, rec *callbridge.KommoRecord, newContact bool, contactID int64, target callbridge.LeadTarget) (bool, error) {
	acct, call, s := r.acct, r.call, r.s
	if newContact {
		c, err := w.ensureContact(ctx, r)
		if err != nil {
			return true, err
		}
		if c.State != callbridge.EffectDone {
			return false, nil
		}
		contactID = c.EntityID
	}
	l, err := w.ensureLead(ctx, r, contactID, target)
	if err != nil {
		return true, err
	}
	entityType, entityID := "leads", l.EntityID
	if l.State != callbridge.EffectDone {
		entityType, entityID = "contacts", contactID
	}
	n, err := w.Kommo.AddNote(ctx, acct, entityType, kommo.NoteInput{
		EntityID: entityID, NoteType: noteType(call.Direction),
		Params: kommo.NoteParams{Uniq: call.UID, Duration: call.Duration, Source: s.SourceName, Link: rec.Link,
			Phone: call.CustomerNumber, CallResult: rec.Text, CallStatus: rec.CallStatus},
	})
	if err != nil {
		return true, err
	}
	rec.EntityType, rec.EntityID, rec.NoteID = entityType, entityID, n.ID
	return true, nil
}

func byID(a, b kommo.Contact) int { return cmp.Compare(a.ID, b.ID) }

// ensureContact creates the contact of a new number once. An uncertain
// attempt is looked for as any contact with the number.
func (w *SyncWorker) ensureContact(ctx context.Context, r *run) (*callbridge.Effect, error) {
	acct, number := r.acct, r.call.CustomerNumber
	slot := func(cr *callbridge.CallRules) **callbridge.Effect { return &cr.Contact }
	look := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		w.Kommo.InvalidateContacts(acct, number)
		cs, err := w.Kommo.SearchContacts(ctx, acct, number)
		if err != nil || len(cs) == 0 {
			return nil, err
		}
		found := *e
		found.EntityType = "contacts"
		found.EntityID = slices.MinFunc(cs, byID).ID
		return &found, nil
	}
	do := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		id, err := w.Kommo.AddContact(ctx, acct, kommo.ContactInput{Name: e.Text, Phone: number, ResponsibleUserID: r.calledManager()})
		if err != nil {
			return nil, err
		}
		res := *e
		res.EntityType, res.EntityID = "contacts", id
		return &res, nil
	}
	return r.effect(ctx, slot, callbridge.Effect{Text: number}, look, do)
}

// ensureLead creates a lead for contactID once, in target. An uncertain
// attempt is looked for as an active lead of that contact with the planned
// name.
func (w *SyncWorker) ensureLead(ctx context.Context, r *run, contactID int64, target callbridge.LeadTarget) (*callbridge.Effect, error) {
	acct, number := r.acct, r.call.CustomerNumber
	slot := func(cr *callbridge.CallRules) **callbridge.Effect { return &cr.Lead }
	look := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		w.Kommo.InvalidateContacts(acct, number)
		cs, err := w.Kommo.SearchContacts(ctx, acct, number)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(cs, func(c kommo.Contact) bool { return c.ID == e.TargetID })
		if i < 0 || len(cs[i].LeadIDs) == 0 {
			return nil, nil
		}
		leads, err := w.Kommo.GetLeads(ctx, acct, cs[i].LeadIDs)
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			if l.Name == e.Text && l.Active() {
				found := *e
				found.EntityType, found.EntityID = "leads", l.ID
				return &found, nil
			}
		}
		return nil, nil
	}
	do := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		id, err := w.Kommo.AddLead(ctx, acct, kommo.LeadInput{Name: e.Text, PipelineID: target.PipelineID, StatusID: target.StatusID,
			ResponsibleUserID: r.calledManager(), ContactIDs: []int64{e.TargetID}})
		w.Kommo.InvalidateContacts(acct, number) // the contact's leads changed
		if err != nil {
			return nil, err
		}
		res := *e
		res.EntityType, res.EntityID = "leads", id
		return &res, nil
	}
	plan := callbridge.Effect{TargetType: "contacts", TargetID: contactID, Text: callbridge.RuleText(r.s.Language, "lead", number)}
	return r.effect(ctx, slot, plan, look, do)
}

// move moves a written call to the entity the manager chose in the
// call-result window, once (rule 7, Kommo's call-result use case): the note
// is added to the chosen entity, with the manager's edits of the old note,
// and the old note stops presenting the call (its link is removed and its
// text says where the call went; Kommo's API cannot delete notes).
func (w *SyncWorker) move(ctx context.Context, r *run, rec callbridge.KommoRecord, lines []callbridge.NoteLine, link string) (*callbridge.KommoRecord, error) {
	acct, call, s := r.acct, r.call, r.s
	res := call.Result
	if !r.enabled || res == nil || res.EntityType == "" || res.EntityID <= 0 || rec.NoteID == 0 ||
		(rec.EntityType == res.EntityType && rec.EntityID == res.EntityID) {
		return w.clearMoved(ctx, r, &rec)
	}
	slot := func(cr *callbridge.CallRules) **callbridge.Effect { return &cr.Move }
	sameTarget := func(e *callbridge.Effect) bool { return e.TargetType == res.EntityType && e.TargetID == res.EntityID }
	if cur := r.rules.Move; cur != nil && !sameTarget(cur) {
		switch {
		case cur.State == callbridge.EffectIntent:
			// An uncertain move to an entity the manager chose before:
			// settle it first.
			if wait := r.settled(cur.IntentAt).Sub(w.now()); wait > 0 {
				return nil, callbridge.Transient(callbridge.EUNAVAILABLE, wait, nil, "Waiting for an interrupted write to settle before looking for it.")
			}
			n, err := w.findNote(ctx, acct, cur.TargetType, cur.TargetID, call.UID)
			if err != nil {
				return nil, err
			}
			if n != nil {
				done := *cur
				done.State, done.EntityType, done.EntityID, done.At = callbridge.EffectDone, "notes", n.ID, w.now()
				if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.Move = &done }); err != nil {
					return nil, err
				}
				moved, err := w.adoptMove(ctx, r, rec, &done)
				if err != nil {
					return nil, err
				}
				rec = *moved
			}
		case cur.State == callbridge.EffectDone && !cur.Cleared:
			if _, err := w.clearMoved(ctx, r, &rec); err != nil {
				return nil, err
			}
		}
		// A new choice: a new move from where the call is now.
		if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.Move = nil }); err != nil {
			return nil, err
		}
	}
	status := callbridge.KommoCallStatus(call)
	plan := callbridge.Effect{TargetType: res.EntityType, TargetID: res.EntityID, Text: callbridge.RenderNote(lines),
		FromType: rec.EntityType, FromID: rec.EntityID, FromNoteID: rec.NoteID}
	look := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		n, err := w.findNote(ctx, acct, e.TargetType, e.TargetID, call.UID)
		if err != nil || n == nil {
			return nil, err
		}
		found := *e
		found.EntityType, found.EntityID = "notes", n.ID
		return &found, nil
	}
	do := func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error) {
		current := ""
		old, err := w.Kommo.GetNote(ctx, acct, e.FromType, e.FromNoteID)
		switch {
		case err == nil:
			current = old.Params.CallResult
		case callbridge.ErrorCode(err) != callbridge.ENOTFOUND:
			return nil, err
		}
		n, err := w.Kommo.AddNote(ctx, acct, e.TargetType, kommo.NoteInput{
			EntityID: e.TargetID, NoteType: noteType(call.Direction),
			Params: kommo.NoteParams{Uniq: call.UID, Duration: call.Duration, Source: s.SourceName, Link: link,
				Phone: call.CustomerNumber, CallResult: rec.Merge(current, lines), CallStatus: status},
		})
		if err != nil {
			return nil, err
		}
		done := *e
		done.EntityType, done.EntityID = "notes", n.ID
		return &done, nil
	}
	eff, err := r.effect(ctx, slot, plan, look, do)
	if err != nil {
		return nil, err
	}
	if eff.State != callbridge.EffectDone {
		return &rec, nil // Kommo refused the chosen entity: the call stays
	}
	moved, err := w.adoptMove(ctx, r, rec, eff)
	if err != nil {
		return nil, err
	}
	w.log().Info("call moved to the entity the manager chose", "account_id", acct.ID, "call_uid", call.UID,
		"entity_type", moved.EntityType, "entity_id", moved.EntityID)
	return w.clearMoved(ctx, r, moved)
}

// adoptMove makes the moved note the call's note.
func (w *SyncWorker) adoptMove(ctx context.Context, r *run, rec callbridge.KommoRecord, eff *callbridge.Effect) (*callbridge.KommoRecord, error) {
	if rec.EntityType == eff.TargetType && rec.EntityID == eff.TargetID && rec.NoteID == eff.EntityID {
		return &rec, nil
	}
	next := callbridge.KommoRecord{State: callbridge.KommoWritten, Attempt: rec.Attempt, IntentAt: rec.IntentAt,
		EntityType: eff.TargetType, EntityID: eff.TargetID, NoteID: eff.EntityID, Text: eff.Text,
		CallStatus: callbridge.KommoCallStatus(r.call), Duration: r.call.Duration, Link: rec.Link}
	if err := w.saveRecord(ctx, r.acct, r.call, next); err != nil {
		return nil, err
	}
	r.call.Kommo = next
	return &next, nil
}

// clearMoved makes the note a finished move came from stop presenting the
// call: its uniq, text and link change (a PATCH, idempotent), once.
func (w *SyncWorker) clearMoved(ctx context.Context, r *run, rec *callbridge.KommoRecord) (*callbridge.KommoRecord, error) {
	e := r.rules.Move
	if !r.enabled || e == nil || e.State != callbridge.EffectDone || e.Cleared || e.FromNoteID == 0 {
		return rec, nil
	}
	err := w.Kommo.PatchNote(ctx, r.acct, e.FromType, e.FromNoteID, map[string]any{
		"uniq": r.call.UID + ":moved", "link": "",
		"call_result": callbridge.MovedNote(r.s.Language, e.TargetType, e.TargetID),
	})
	switch {
	case err == nil, callbridge.ErrorCode(err) == callbridge.ENOTFOUND:
	case callbridge.ErrorKind(err) == callbridge.KindUncertain:
		return nil, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Note update outcome unknown; retrying.", Err: err}
	default:
		return nil, err
	}
	if err := r.update(ctx, func(cr *callbridge.CallRules) {
		if cr.Move != nil {
			cr.Move.Cleared = true
		}
	}); err != nil {
		return nil, err
	}
	return rec, nil
}
