package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	"callbridge/kommo"
)

// Kommo is what the sync worker needs of Kommo (implemented by *kommo.Client).
type Kommo interface {
	AddCall(ctx context.Context, acct *callbridge.Account, in kommo.CallInput) (*kommo.CallCreated, error)
	AddNote(ctx context.Context, acct *callbridge.Account, entityType string, in kommo.NoteInput) (*kommo.Note, error)
	AddUnsortedSIP(ctx context.Context, acct *callbridge.Account, in kommo.UnsortedSIPInput) (*kommo.UnsortedCreated, error)
	ListUnsorted(ctx context.Context, acct *callbridge.Account, f kommo.UnsortedFilter) ([]kommo.Unsorted, error)
	SearchContacts(ctx context.Context, acct *callbridge.Account, phone string) ([]kommo.Contact, error)
	ListNotes(ctx context.Context, acct *callbridge.Account, entityType string, f kommo.NotesFilter) ([]kommo.Note, error)
	FindCallNote(ctx context.Context, acct *callbridge.Account, entityType string, entityID int64, uniq string) (*kommo.Note, error)
	GetNote(ctx context.Context, acct *callbridge.Account, entityType string, id int64) (*kommo.Note, error)
	UpdateNote(ctx context.Context, acct *callbridge.Account, entityType string, u kommo.NoteUpdate) error

	// Used by the call-handling rules (rules.go).
	InvalidateContacts(acct *callbridge.Account, phone string)
	GetLeads(ctx context.Context, acct *callbridge.Account, ids []int64) ([]kommo.Lead, error)
	AddContact(ctx context.Context, acct *callbridge.Account, in kommo.ContactInput) (int64, error)
	AddLead(ctx context.Context, acct *callbridge.Account, in kommo.LeadInput) (int64, error)
	GetUnsorted(ctx context.Context, acct *callbridge.Account, uid string) (*kommo.Unsorted, error)
	AcceptUnsorted(ctx context.Context, acct *callbridge.Account, uid string, userID, statusID int64) (*kommo.Unsorted, error)
	PatchNote(ctx context.Context, acct *callbridge.Account, entityType string, id int64, params map[string]any) error
	AddTask(ctx context.Context, acct *callbridge.Account, in kommo.TaskInput) (int64, error)
	ListTasks(ctx context.Context, acct *callbridge.Account, f kommo.TaskFilter) ([]kommo.Task, error)
	CompleteTask(ctx context.Context, acct *callbridge.Account, id int64, result string) error
	ListUsers(ctx context.Context, acct *callbridge.Account) ([]kommo.User, error)
}

// DefaultRecordingLinkTTL is how long a recording link in a Kommo note plays.
const DefaultRecordingLinkTTL = 365 * 24 * time.Hour

// maxLookupPages bounds the pages of notes or incoming leads read when looking
// for an uncertain write (250 items a page).
const maxLookupPages = 8

// SyncWorker brings one call's Kommo note up to date. It is the only writer to
// Kommo for a call: River runs at most one sync job per call at a time.
type SyncWorker struct {
	river.WorkerDefaults[callbridge.SyncCallArgs]

	Store callbridge.Store
	Kommo Kommo
	// PublicURL and RecordingKey build the signed recording links put in
	// notes; without them notes carry no recording link.
	PublicURL    string
	RecordingKey []byte
	// RecordingLinkTTL is how long a link plays; default DefaultRecordingLinkTTL.
	RecordingLinkTTL time.Duration
	// OnSynced, when set, is called after a call's version reached Kommo, with
	// the time since the call ended (or was created): the hang-up → Kommo latency.
	OnSynced func(call *callbridge.Call, latency time.Duration)
	// Connectors are the providers' connectors by name; the 18-hour rule
	// deletes recordings through those that are callbridge.RecordingDeleter.
	// Without them recordings are deleted from callbridge's store only.
	Connectors map[string]callbridge.Connector
	Now        func() time.Time
	Logger     *slog.Logger

	recovery recovery
	users    userNames
}

func (w *SyncWorker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

func (w *SyncWorker) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.Default()
}

// Work implements river.Worker.
func (w *SyncWorker) Work(ctx context.Context, job *river.Job[callbridge.SyncCallArgs]) error {
	acct, err := w.Store.FindAccount(ctx, job.Args.AccountID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	if !acct.Active() {
		w.log().Info("sync skipped: account disconnected", "account_id", acct.ID, "call_id", job.Args.CallID)
		return river.JobCancel(fmt.Errorf("account %d is disconnected", acct.ID))
	}
	call, err := w.Store.FindCall(ctx, acct.ID, job.Args.CallID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		return river.JobCancel(err)
	} else if err != nil {
		return err
	}
	r, err := w.newRun(ctx, acct, call, w.attemptStart(job))
	if err != nil {
		return err
	}
	if !call.Loggable() || (call.Synced() && r.rules.DoneRev >= r.rev0) {
		return w.finish(ctx, job.ID, r, nil)
	}
	rec, err := w.sync(ctx, r, settledAt(r.attemptedAt, call))
	if err != nil {
		return w.fail(ctx, acct, call, err)
	}
	rec, err = w.afterSync(ctx, r, rec)
	if err != nil {
		return w.fail(ctx, acct, call, err)
	}
	return w.finish(ctx, job.ID, r, rec)
}

// finish commits what was written and, if the call did not change meanwhile,
// marks its version synced and completes the job in the same transaction.
// Otherwise the job snoozes and runs again with the new inputs: an input that
// arrived while this job ran found the job "running" and could not enqueue.
// The same holds for the call's rules: an incoming lead accepted or a due
// time reached meanwhile (CallRules.Rev) makes the job run again.
func (w *SyncWorker) finish(ctx context.Context, jobID int64, r *run, rec *callbridge.KommoRecord) error {
	acct, loaded := r.acct, r.call
	now := w.now()
	again := false
	var synced *callbridge.Call
	err := w.Store.InTx(ctx, func(q callbridge.Queries) error {
		c, err := q.LockCallByID(ctx, acct.ID, loaded.ID)
		if err != nil {
			return err
		}
		if rec != nil {
			c.Kommo = *rec
		}
		var cr *callbridge.CallRules
		if rq, ok := q.(ruleQueries); ok && r.enabled {
			if cr, err = rq.FindCallRules(ctx, acct.ID, loaded.ID); err != nil {
				return err
			}
		}
		if c.Version != loaded.Version || (cr != nil && cr.Rev != r.rev0) {
			again = true
			return q.UpdateCall(ctx, c)
		}
		if cr != nil && cr.DoneRev != r.rev0 {
			cr.DoneRev = r.rev0
			if err := q.(ruleQueries).SaveCallRules(ctx, cr); err != nil {
				return err
			}
		}
		if c.Loggable() && c.Kommo.SyncedVersion < c.Version {
			synced = c
		}
		c.Kommo.SyncedVersion = c.Version
		c.Kommo.SyncedAt = now
		c.Kommo.LastError = ""
		if err := q.UpdateCall(ctx, c); err != nil {
			return err
		}
		return q.CompleteJob(ctx, jobID)
	})
	if err != nil {
		return err
	}
	if again {
		return river.JobSnooze(250 * time.Millisecond)
	}
	if synced != nil && w.OnSynced != nil {
		since := synced.EndedAt
		if since.IsZero() {
			since = synced.CreatedAt
		}
		w.OnSynced(synced, now.Sub(since))
	}
	return nil
}

// fail records the error on the call for operators and tells River what to do.
func (w *SyncWorker) fail(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, err error) error {
	kind := callbridge.ErrorKind(err)
	w.log().Warn("sync failed", "account_id", acct.ID, "call_id", call.ID, "call_uid", call.UID,
		"code", callbridge.ErrorCode(err), "kind", kind.String(), "error", err)
	msg := callbridge.ErrorCode(err) + ": " + callbridge.ErrorMessage(err)
	_ = w.Store.InTx(ctx, func(q callbridge.Queries) error {
		c, err := q.LockCallByID(ctx, acct.ID, call.ID)
		if err != nil {
			return err
		}
		c.Kommo.LastError = msg
		return q.UpdateCall(ctx, c)
	})
	switch kind {
	case callbridge.KindTransient:
		if d := callbridge.RetryAfter(err); d > 0 {
			return river.JobSnooze(d)
		}
		return err
	case callbridge.KindUncertain:
		return err // retried with backoff; the next attempt looks before writing
	}
	return river.JobCancel(err)
}

// sync performs the Kommo writes the call needs and returns the new record.
// It holds no transaction while it talks to Kommo.
//
// settled is when the outcome of the call's last create attempt was settled;
// the attempt's effect is looked for only by a scan started after it.
func (w *SyncWorker) sync(ctx context.Context, r *run, settled time.Time) (*callbridge.KommoRecord, error) {
	acct, call := r.acct, r.call
	// An incoming lead that was accepted or declined: follow it first.
	rec, err := w.followIncomingLead(ctx, r, call.Kommo)
	if err != nil {
		return nil, err
	}
	link := w.link(acct, call)
	if r.rules.RecordingDeletedAfter > 0 {
		link = ""
	}
	info, err := w.noteInfo(ctx, r, link)
	if err != nil {
		return nil, err
	}
	lines := callbridge.NoteLinesFor(call, info)
	switch rec.State {
	case callbridge.KommoWritten:
		// The manager chose another entity in the call-result window.
		moved, err := w.move(ctx, r, rec, lines, link)
		if err != nil {
			return nil, err
		}
		return w.update(ctx, acct, call, *moved, lines, link)
	case callbridge.KommoIntent:
		if wait := settled.Sub(w.now()); wait > 0 {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, wait, nil, "Waiting for an interrupted write to settle before looking for it.")
		}
		found, err := w.recovery.find(ctx, w.Kommo, acct, call, settled, w.now)
		if err != nil {
			return nil, err
		}
		if found != nil {
			w.log().Info("adopted a write whose outcome was uncertain", "account_id", acct.ID, "call_uid", call.UID,
				"entity_type", found.EntityType, "entity_id", found.EntityID, "note_id", found.NoteID)
			if err := w.saveRecord(ctx, acct, call, *found); err != nil {
				return nil, err
			}
			return w.update(ctx, acct, call, *found, lines, link)
		}
	}
	if call.CustomerNumber == "" && !call.Ended {
		// Only a result so far: the provider's webhooks, with the number,
		// have not arrived. Nothing to write yet (Kommo's call notes need
		// the number, even on an entity the manager chose); they will
		// enqueue the call.
		return &rec, nil
	}
	// A call Kommo could not place (KommoUnmatched) is tried again whenever
	// it changed: a contact may exist now.
	prior, priorAt := rec.State, rec.IntentAt
	attempt, err := w.markIntent(ctx, acct, call)
	if err != nil {
		return nil, err
	}
	created, err := w.create(ctx, r, lines, link)
	if err != nil {
		if callbridge.ErrorKind(err) == callbridge.KindTransient {
			// Nothing was applied: the call is as uncertain as before this
			// attempt (not at all, or about an earlier attempt).
			w.restoreIntent(ctx, acct, call, attempt, prior, priorAt)
		}
		return nil, err
	}
	created.Attempt = attempt
	if created.State == callbridge.KommoWritten && created.NoteID == 0 {
		// An incoming lead: Kommo made the call note itself from the metadata.
		// Keep the lead, then write our text into that note.
		if err := w.saveRecord(ctx, acct, call, *created); err != nil {
			return nil, err
		}
		return w.update(ctx, acct, call, *created, lines, link)
	}
	return created, nil
}

func noteType(d callbridge.Direction) string {
	if d == callbridge.DirectionOutbound {
		return "call_out"
	}
	return "call_in"
}

// create writes the call to Kommo for the first time, on the entity Kommo's
// rules or the manager choose, or on what the account's rules create: an
// incoming lead (default), a contact and a lead, or a lead for a known
// contact without an active one.
func (w *SyncWorker) create(ctx context.Context, r *run, lines []callbridge.NoteLine, link string) (*callbridge.KommoRecord, error) {
	acct, call, s := r.acct, r.call, r.s
	text := callbridge.RenderNote(lines)
	status := callbridge.KommoCallStatus(call)
	rec := &callbridge.KommoRecord{State: callbridge.KommoWritten, Text: text, CallStatus: status, Duration: call.Duration, Link: link}

	if call.Direction == callbridge.DirectionInternal && s.Rules.InternalCalls == callbridge.InternalIgnore {
		w.log().Info("call not logged: internal calls are ignored", "account_id", acct.ID, "call_uid", call.UID)
		return &callbridge.KommoRecord{State: callbridge.KommoUnmatched}, nil
	}

	// The manager chose the entity before the first write: log it there.
	if r := call.Result; r != nil && r.EntityType != "" && r.EntityID > 0 {
		n, err := w.Kommo.AddNote(ctx, acct, r.EntityType, kommo.NoteInput{
			EntityID: r.EntityID, NoteType: noteType(call.Direction),
			Params: kommo.NoteParams{Uniq: call.UID, Duration: call.Duration, Source: s.SourceName, Link: link,
				Phone: cmp.Or(call.CustomerNumber, "unknown"), CallResult: text, CallStatus: status},
		})
		if err != nil {
			return nil, err
		}
		rec.EntityType, rec.EntityID, rec.NoteID = r.EntityType, r.EntityID, n.ID
		return rec, nil
	}
	if !callbridge.IsPhoneNumber(call.CustomerNumber) {
		w.log().Info("call not logged: no customer phone number", "account_id", acct.ID, "call_uid", call.UID)
		return &callbridge.KommoRecord{State: callbridge.KommoUnmatched}, nil
	}
	// A lead the rules started creating in an earlier attempt, or a known
	// contact without an active lead: the call goes on that lead.
	if done, err := w.createOnRuleLead(ctx, r, rec); done || err != nil {
		return rec, err
	}
	dir := "inbound"
	if call.Direction == callbridge.DirectionOutbound {
		dir = "outbound"
	}
	created, err := w.Kommo.AddCall(ctx, acct, kommo.CallInput{
		Direction: dir, Phone: call.CustomerNumber, Duration: call.Duration, Source: s.SourceName,
		Uniq: call.UID, Link: link, CallResult: text, CallStatus: status, CreatedAt: call.StartedAt,
	})
	if err == nil {
		rec.EntityType, rec.EntityID, rec.NoteID = created.EntityType, created.EntityID, created.NoteID
		return rec, nil
	}
	if callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		return nil, err
	}
	// Kommo has no entity with this number.
	if done, err := w.createForNewNumber(ctx, r, rec); done || err != nil {
		return rec, err
	}
	if call.Direction == callbridge.DirectionOutbound || call.Direction == callbridge.DirectionInternal ||
		s.Rules.Protected(call.CustomerNumber) || r.declined() || s.Rules.Mode() == callbridge.UnknownLogOnly {
		w.log().Info("call not logged: no Kommo entity has the number", "account_id", acct.ID, "call_uid", call.UID)
		return &callbridge.KommoRecord{State: callbridge.KommoUnmatched}, nil
	}
	u, err := w.Kommo.AddUnsortedSIP(ctx, acct, kommo.UnsortedSIPInput{
		SourceUID: call.UID, SourceName: s.SourceName, PipelineID: s.UnsortedPipelineID, CreatedAt: call.StartedAt,
		Metadata: kommo.UnsortedMetadata{
			Uniq: call.UID, From: call.CustomerNumber, Phone: call.LineNumber, CalledAt: call.StartedAt,
			Duration: call.Duration, Link: link, ServiceCode: "callbridge", IsCallEventNeeded: true,
		},
		ContactName: call.CustomerNumber,
		LeadName:    call.CustomerNumber,
	})
	if err != nil {
		return nil, err
	}
	return &callbridge.KommoRecord{State: callbridge.KommoWritten, EntityType: "leads", EntityID: u.LeadID, UnsortedUID: u.UID}, nil
}

// update brings an existing note up to date, changing only our lines.
func (w *SyncWorker) update(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, rec callbridge.KommoRecord, lines []callbridge.NoteLine, link string) (*callbridge.KommoRecord, error) {
	text := callbridge.RenderNote(lines)
	status := callbridge.KommoCallStatus(call)
	if rec.NoteID != 0 && rec.Text == text && rec.Unconfirmed == "" && rec.CallStatus == status && rec.Duration == call.Duration && rec.Link == link {
		return &rec, nil
	}
	var note *kommo.Note
	if rec.NoteID == 0 {
		// A note Kommo made (an incoming lead's), whose id callbridge never
		// learnt. The list that finds it carries the note as GetNote would.
		n, err := w.findNote(ctx, acct, rec.EntityType, rec.EntityID, call.UID)
		if err != nil {
			return nil, err
		}
		if n == nil {
			w.log().Warn("call note not found on its entity; leaving it", "account_id", acct.ID, "call_uid", call.UID,
				"entity_type", rec.EntityType, "entity_id", rec.EntityID)
			return &rec, nil
		}
		rec.NoteID, note = n.ID, n
	} else {
		n, err := w.Kommo.GetNote(ctx, acct, rec.EntityType, rec.NoteID)
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			w.log().Info("call note was deleted in Kommo; not recreating it", "account_id", acct.ID, "call_uid", call.UID, "note_id", rec.NoteID)
			return &rec, nil
		} else if err != nil {
			return nil, err
		}
		note = n
	}
	merged := rec.Merge(note.Params.CallResult, lines)
	if rec.Sending(text) {
		// Saved before sending (with the note id an incoming lead's search
		// found): whatever becomes of the request, the next merge knows
		// these lines as ours.
		if err := w.saveRecord(ctx, acct, call, rec); err != nil {
			return nil, err
		}
	}
	if link == "" && note.Params.Link != "" && rec.Link != "" {
		// The recording was deleted (the 18-hour rule): the link goes too.
		// UpdateNote cannot send an empty value; a PATCH of the note can.
		params := map[string]any{"call_result": merged, "link": ""}
		if status != 0 {
			params["call_status"] = status
		}
		if err := w.Kommo.PatchNote(ctx, acct, rec.EntityType, rec.NoteID, params); err != nil {
			if callbridge.ErrorKind(err) == callbridge.KindUncertain {
				return nil, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Note update outcome unknown; retrying.", Err: err}
			}
			return nil, err
		}
		rec.Confirm(text, status, call.Duration, link)
		return &rec, nil
	}
	upd := kommo.NoteUpdate{ID: rec.NoteID, Params: kommo.NoteParams{
		Uniq: call.UID, CallResult: merged, CallStatus: status, Duration: call.Duration, Link: link,
		Phone: call.CustomerNumber, Source: note.Params.Source,
	}}
	if err := w.Kommo.UpdateNote(ctx, acct, rec.EntityType, upd); err != nil {
		if callbridge.ErrorKind(err) == callbridge.KindUncertain {
			// A PATCH is idempotent: retrying it is safe.
			return nil, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Note update outcome unknown; retrying.", Err: err}
		}
		return nil, err
	}
	rec.Confirm(text, status, call.Duration, link)
	return &rec, nil
}

// findNote returns the call note with params.uniq == uid on the entity, or
// nil (kommo.Client.FindCallNote: concurrent searches share requests).
func (w *SyncWorker) findNote(ctx context.Context, acct *callbridge.Account, entityType string, id int64, uid string) (*kommo.Note, error) {
	if id <= 0 || entityType == "" {
		return nil, nil // no entity: no note on it
	}
	return w.Kommo.FindCallNote(ctx, acct, entityType, id, uid)
}

// markIntent commits the write intent before a create and returns the attempt number.
func (w *SyncWorker) markIntent(ctx context.Context, acct *callbridge.Account, call *callbridge.Call) (int, error) {
	var attempt int
	err := w.Store.InTx(ctx, func(q callbridge.Queries) error {
		c, err := q.LockCallByID(ctx, acct.ID, call.ID)
		if err != nil {
			return err
		}
		c.Kommo.State = callbridge.KommoIntent
		c.Kommo.Attempt++
		c.Kommo.IntentAt = w.now()
		attempt = c.Kommo.Attempt
		return q.UpdateCall(ctx, c)
	})
	return attempt, err
}

// restoreIntent undoes markIntent after a create that certainly did not
// apply, putting back the state and intent time from before the attempt.
func (w *SyncWorker) restoreIntent(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, attempt int, state callbridge.KommoState, intentAt time.Time) {
	err := w.Store.InTx(ctx, func(q callbridge.Queries) error {
		c, err := q.LockCallByID(ctx, acct.ID, call.ID)
		if err != nil {
			return err
		}
		if c.Kommo.State != callbridge.KommoIntent || c.Kommo.Attempt != attempt {
			return nil
		}
		c.Kommo.State, c.Kommo.IntentAt = state, intentAt
		return q.UpdateCall(ctx, c)
	})
	if err != nil {
		w.log().Warn("could not restore the write intent", "call_id", call.ID, "error", err)
	}
}

// saveRecord commits a Kommo record (after a create or adoption) before
// further writes, so that a failure afterwards cannot lose it.
func (w *SyncWorker) saveRecord(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, rec callbridge.KommoRecord) error {
	return w.Store.InTx(ctx, func(q callbridge.Queries) error {
		c, err := q.LockCallByID(ctx, acct.ID, call.ID)
		if err != nil {
			return err
		}
		rec.SyncedVersion, rec.SyncedAt = c.Kommo.SyncedVersion, c.Kommo.SyncedAt
		c.Kommo = rec
		return q.UpdateCall(ctx, c)
	})
}

// link returns the signed recording link for the call, "" without a recording.
// Its expiry is fixed per call so that the link, and thus the note, does not
// change from one sync to the next.
func (w *SyncWorker) link(acct *callbridge.Account, call *callbridge.Call) string {
	if call.RecordingURL == "" || w.PublicURL == "" || len(w.RecordingKey) == 0 {
		return ""
	}
	ttl := w.RecordingLinkTTL
	if ttl <= 0 {
		ttl = DefaultRecordingLinkTTL
	}
	tok := callbridge.SignRecordingToken(w.RecordingKey, acct.ID, call.ID, call.CreatedAt.Add(ttl))
	return strings.TrimRight(w.PublicURL, "/") + "/rec/" + tok
}

// attemptStart is when River started this attempt of the job
// (job.AttemptedAt), read on the worker's clock.
func (w *SyncWorker) attemptStart(job *river.Job[callbridge.SyncCallArgs]) time.Time {
	now := w.now()
	if job == nil || job.AttemptedAt == nil {
		return now
	}
	return now.Add(-time.Since(*job.AttemptedAt))
}

// settledAt is when the outcome of the call's last create attempt was
// settled, for an attempt that started at start (by the worker's clock, the
// clock intents are dated by). River starts an attempt only after the
// previous one returned (or, when its process died, after River rescued the
// stuck job much later), so an intent committed before this attempt started
// was settled when it started. (River dates an attempt's error by the
// attempt's start, so errors cannot tell.) An intent from this very attempt
// cannot be settled yet: it gets settleTime.
func settledAt(start time.Time, call *callbridge.Call) time.Time {
	intent := call.Kommo.IntentAt
	if !start.IsZero() && intent.Before(start) {
		return start
	}
	return intent.Add(settleTime)
}
