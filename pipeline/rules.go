package pipeline

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// The account's call-handling rules (callbridge.RuleSettings, docs/rules.md)
// run inside the call's sync job, which River runs at most once at a time per
// call: the job is the only writer of the call's rule state, as it is of the
// call note.
//
// Every side effect follows the note's exactly-once protocol (effect): the
// intent is committed on the call's rule state before the write; a write
// that certainly did not apply restores the previous state; an attempt that
// finds an intent from an earlier attempt looks in Kommo for the write's
// effect (a contact with the number, the lead on that contact, the task on
// that entity with that text and deadline, the note on the chosen entity)
// before writing again. No transaction is held across a Kommo request.

// ruleQueries is what the rules need of the store besides callbridge.Queries.
// *store.DB and its transactions implement it; a store without it runs no
// rules (only the call note is written).
type ruleQueries interface {
	FindCallRules(ctx context.Context, accountID, callID int64) (*callbridge.CallRules, error)
	SaveCallRules(ctx context.Context, r *callbridge.CallRules) error
	ListDueCalls(ctx context.Context, now time.Time, limit int) ([]*callbridge.CallRules, error)
	FindCallByUnsortedUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error)
	ListCallRulesByNumber(ctx context.Context, accountID int64, number string, limit int) ([]*callbridge.Call, []*callbridge.CallRules, error)
	ForgetRecording(ctx context.Context, accountID, callID int64) error
}

// pollLadder is when, after the call, the incoming lead of a call whose
// recording waits for a contact is polled (the fallback when Kommo's
// account webhook does not arrive); the retention deadline is a last poll.
// An unmatched call's number is looked up again at the same times.
var pollLadder = []time.Duration{15 * time.Minute, time.Hour, 4 * time.Hour, 12 * time.Hour}

// numberCalls bounds the calls with the same number that are looked at for
// callback tasks.
const numberCalls = 50

// run is one sync job's view of a call and its rules.
type run struct {
	w     *SyncWorker
	acct  *callbridge.Account
	s     callbridge.Settings // with defaults
	call  *callbridge.Call
	rules *callbridge.CallRules // as last read or written by this job
	rev0  int64                 // rules.Rev when the job started
	// attemptedAt is when this job attempt started, by the worker's clock:
	// an intent committed before it belongs to an attempt that has
	// returned.
	attemptedAt time.Time
	enabled     bool // the store keeps rule state
	events      []callbridge.CallEvent
	loaded      bool
}

func (w *SyncWorker) newRun(ctx context.Context, acct *callbridge.Account, call *callbridge.Call, attemptedAt time.Time) (*run, error) {
	r := &run{w: w, acct: acct, s: acct.Settings.WithDefaults(), call: call,
		rules: &callbridge.CallRules{AccountID: acct.ID, CallID: call.ID}, attemptedAt: attemptedAt}
	if rq, ok := w.Store.(ruleQueries); ok {
		cr, err := rq.FindCallRules(ctx, acct.ID, call.ID)
		if err != nil {
			return nil, err
		}
		r.rules, r.rev0, r.enabled = cr, cr.Rev, true
	}
	return r, nil
}

// update changes the call's rule state in a transaction that locks the
// call, re-reading it first: another input (Kommo's webhook, another call's
// job completing a task) may have changed other fields meanwhile.
func (r *run) update(ctx context.Context, fn func(cr *callbridge.CallRules)) error {
	if !r.enabled {
		fn(r.rules)
		return nil
	}
	var out *callbridge.CallRules
	err := r.w.Store.InTx(ctx, func(q callbridge.Queries) error {
		if _, err := q.LockCallByID(ctx, r.acct.ID, r.call.ID); err != nil {
			return err
		}
		rq := q.(ruleQueries)
		cr, err := rq.FindCallRules(ctx, r.acct.ID, r.call.ID)
		if err != nil {
			return err
		}
		fn(cr)
		out = cr
		return rq.SaveCallRules(ctx, cr)
	})
	if err == nil {
		r.rules = out
	}
	return err
}

// eventsOf returns the call's stored events (read once per job).
func (r *run) eventsOf(ctx context.Context) ([]callbridge.CallEvent, error) {
	if r.loaded {
		return r.events, nil
	}
	evs, err := r.w.Store.ListCallEvents(ctx, r.call.ID)
	if err != nil {
		return nil, err
	}
	r.events, r.loaded = evs, true
	return evs, nil
}

// declined reports whether the call's incoming lead was declined: the call
// then never creates anything again.
func (r *run) declined() bool {
	return r.rules.IncomingLead != nil && r.rules.IncomingLead.Action == callbridge.IncomingDecline
}

// settled is when the outcome of a write whose intent was committed at
// intentAt is settled (see settledAt).
func (r *run) settled(intentAt time.Time) time.Time {
	if !r.attemptedAt.IsZero() && intentAt.Before(r.attemptedAt) {
		return r.attemptedAt
	}
	return intentAt.Add(settleTime)
}

// calledManager is the Kommo user who took or placed the call: through the
// extension mapping, else the user who saved its result; 0 if unknown.
func (r *run) calledManager() int64 {
	if id := r.s.UserForAgent(r.call.Agent); id != 0 {
		return id
	}
	if r.call.Result != nil {
		return r.call.Result.UserID
	}
	return 0
}

type effectSlot func(cr *callbridge.CallRules) **callbridge.Effect

// lookFunc looks in Kommo for the effect of an uncertain attempt; nil, nil
// when Kommo certainly does not hold it.
type lookFunc func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error)

// doFunc performs the write planned in e and returns what to record.
type doFunc func(ctx context.Context, e *callbridge.Effect) (*callbridge.Effect, error)

// effect performs one side effect exactly once. plan is recorded as the
// intent when nothing is pending (its Text, Due and Target are what look
// compares). A permanent failure is recorded as skipped, with the reason,
// and is not an error: the rule gives up, the call note does not. Transient
// and uncertain failures are returned for the job to retry.
func (r *run) effect(ctx context.Context, slot effectSlot, plan callbridge.Effect, look lookFunc, do doFunc) (*callbridge.Effect, error) {
	w := r.w
	cur := *slot(r.rules)
	if cur.Settled() {
		return cur, nil
	}
	var prev *callbridge.Effect
	if cur != nil {
		c := *cur
		prev = &c
		if wait := r.settled(cur.IntentAt).Sub(w.now()); wait > 0 {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, wait, nil, "Waiting for an interrupted write to settle before looking for it.")
		}
		if look != nil {
			found, err := look(ctx, cur)
			if err != nil {
				return nil, err
			}
			if found != nil {
				done := *found
				done.State, done.Attempt, done.IntentAt, done.At = callbridge.EffectDone, cur.Attempt, cur.IntentAt, w.now()
				if err := r.update(ctx, func(cr *callbridge.CallRules) { *slot(cr) = &done }); err != nil {
					return nil, err
				}
				return &done, nil
			}
		}
		plan = *cur // write what was planned then
	}
	intent := plan
	intent.State, intent.IntentAt = callbridge.EffectIntent, w.now()
	intent.Attempt = 1
	if prev != nil {
		intent.Attempt = prev.Attempt + 1
	}
	if err := r.update(ctx, func(cr *callbridge.CallRules) { *slot(cr) = &intent }); err != nil {
		return nil, err
	}
	res, err := do(ctx, &intent)
	switch {
	case err == nil:
	case callbridge.ErrorKind(err) == callbridge.KindTransient:
		// Nothing was applied: back to where the effect stood.
		if rerr := r.update(ctx, func(cr *callbridge.CallRules) { *slot(cr) = prev }); rerr != nil {
			w.log().Warn("rules: could not restore an intent", "call_id", r.call.ID, "error", rerr)
		}
		return nil, err
	case callbridge.ErrorKind(err) == callbridge.KindPermanent:
		w.log().Warn("rules: Kommo refused a rule's write; the rule gives up", "account_id", r.acct.ID, "call_uid", r.call.UID,
			"code", callbridge.ErrorCode(err), "error", err)
		res = &intent
		res.State, res.Note = callbridge.EffectSkipped, callbridge.ErrorMessage(err)
	default:
		return nil, err // uncertain: the next attempt looks first
	}
	done := *res
	if done.State != callbridge.EffectSkipped {
		done.State = callbridge.EffectDone
	}
	done.Attempt, done.IntentAt, done.At = intent.Attempt, intent.IntentAt, w.now()
	if err := r.update(ctx, func(cr *callbridge.CallRules) { *slot(cr) = &done }); err != nil {
		return nil, err
	}
	return &done, nil
}

// skip records that a rule decided not to act.
func (r *run) skip(ctx context.Context, slot effectSlot, why string) error {
	return r.update(ctx, func(cr *callbridge.CallRules) {
		if !(*slot(cr)).Settled() {
			*slot(cr) = &callbridge.Effect{State: callbridge.EffectSkipped, At: r.w.now(), Note: why}
		}
	})
}

// noteInfo is what the note shows besides the call: line, manager, the
// number used (rule 3), AI artifacts, a deleted recording.
func (w *SyncWorker) noteInfo(ctx context.Context, r *run, link string) (callbridge.NoteInfo, error) {
	call, s := r.call, r.s
	info := callbridge.NoteInfo{Language: s.Language, Link: link, Line: call.LineNumber,
		RecordingDeletedAfter: r.rules.RecordingDeletedAfter}
	info.Manager = w.managerName(ctx, r)
	evs, err := r.eventsOf(ctx)
	if err != nil {
		return info, err
	}
	for _, e := range evs {
		if e.AISummary != "" {
			info.Summary = e.AISummary
		}
		if e.Transcript != "" {
			info.Transcript = e.Transcript
		}
	}
	if s.Rules.ShowContactNumber && callbridge.IsPhoneNumber(call.CustomerNumber) {
		if !r.rules.NumberChecked {
			cs, err := w.Kommo.SearchContacts(ctx, r.acct, call.CustomerNumber)
			if err != nil {
				return info, err
			}
			show := slices.ContainsFunc(cs, func(c kommo.Contact) bool { return len(c.Phones) > 1 })
			if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.NumberChecked, cr.ShowNumber = true, show }); err != nil {
				return info, err
			}
		}
		if r.rules.ShowNumber {
			info.Number = call.CustomerNumber
		}
	}
	return info, nil
}

// managerName names the manager of the call: the mapped Kommo user's name
// (from the account's user list, cached), else the provider's agent.
func (w *SyncWorker) managerName(ctx context.Context, r *run) string {
	if id := r.calledManager(); id != 0 {
		if name := w.users.name(ctx, w.Kommo, r.acct, id, w.now()); name != "" {
			return name
		}
		return "#" + strconv.FormatInt(id, 10)
	}
	return r.call.Agent
}

// userNames caches accounts' Kommo user names for the note's manager line.
// Concurrent jobs of one account share one read of the user list.
type userNames struct {
	mu sync.Mutex
	m  map[int64]*userList
}

type userList struct {
	ready   chan struct{} // closed once names is set
	names   map[int64]string
	expires time.Time
}

// userNamesTTL is how long an account's user list is trusted; a failed
// read (a non-administrator's token) is not retried for as long.
const userNamesTTL = time.Hour

func (u *userNames) name(ctx context.Context, k Kommo, acct *callbridge.Account, id int64, now time.Time) string {
	u.mu.Lock()
	if u.m == nil {
		u.m = map[int64]*userList{}
	}
	l, ok := u.m[acct.ID]
	fetch := !ok || (l.expires.Before(now) && isClosed(l.ready))
	if fetch {
		if len(u.m) > 10000 {
			clear(u.m)
		}
		l = &userList{ready: make(chan struct{}), expires: now.Add(userNamesTTL)}
		u.m[acct.ID] = l
	}
	u.mu.Unlock()
	if fetch {
		names := map[int64]string{}
		if users, err := k.ListUsers(ctx, acct); err == nil {
			for _, x := range users {
				names[x.ID] = x.Name
			}
		}
		l.names = names
		close(l.ready)
	}
	select {
	case <-l.ready:
		return l.names[id]
	case <-ctx.Done():
		return ""
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// afterSync runs the rules that act once the call is in Kommo: the
// automatic accept of its incoming lead, the callback and recall tasks, the
// completion of earlier calls' callback tasks, and the 18-hour rule; then it
// sets when the call must be looked at again.
func (w *SyncWorker) afterSync(ctx context.Context, r *run, rec *callbridge.KommoRecord) (*callbridge.KommoRecord, error) {
	if !r.enabled || rec == nil {
		return rec, nil
	}
	if *rec != r.call.Kommo {
		// Keep what was written before acting on it.
		if err := w.saveRecord(ctx, r.acct, r.call, *rec); err != nil {
			return nil, err
		}
		r.call.Kommo = *rec
	}
	rec, err := w.autoAccept(ctx, r, rec)
	if err != nil {
		return nil, err
	}
	if err := w.tasks(ctx, r, rec); err != nil {
		return nil, err
	}
	if err := w.completeCallbacks(ctx, r); err != nil {
		return nil, err
	}
	if rec, err = w.retain(ctx, r, rec); err != nil {
		return nil, err
	}
	due := w.nextDue(r, rec)
	if !due.Equal(r.rules.DueAt) {
		if err := r.update(ctx, func(cr *callbridge.CallRules) { cr.DueAt = due }); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// anchor is when the call ended (else started, else was created): the
// origin of the rules' deadlines.
func anchor(c *callbridge.Call) time.Time {
	switch {
	case !c.EndedAt.IsZero():
		return c.EndedAt
	case !c.StartedAt.IsZero():
		return c.StartedAt
	}
	return c.CreatedAt
}

// nextDue is when the call's rules must run again: the next poll or the
// recording deadline of a recording no contact claimed yet; zero for never.
func (w *SyncWorker) nextDue(r *run, rec *callbridge.KommoRecord) time.Time {
	cr := r.rules
	if cr.RecordingDeadline.IsZero() || cr.RecordingDeletedAfter > 0 || hasContact(rec, cr) || r.call.RecordingURL == "" {
		return time.Time{}
	}
	due := cr.RecordingDeadline
	if cr.Polls < len(pollLadder) {
		if p := anchor(r.call).Add(pollLadder[cr.Polls]); p.Before(due) {
			due = p
		}
	}
	return due
}

// pollDue reports whether a look at Kommo is due for a call whose recording
// waits for a contact: the next step of the poll ladder, or the deadline.
func (w *SyncWorker) pollDue(r *run) bool {
	cr := r.rules
	if cr.RecordingDeadline.IsZero() || cr.RecordingDeletedAfter > 0 {
		return false
	}
	now := w.now()
	if !now.Before(cr.RecordingDeadline) {
		return true
	}
	return cr.Polls < len(pollLadder) && !now.Before(anchor(r.call).Add(pollLadder[cr.Polls]))
}

// hasContact reports whether the call, as Kommo holds it, has a contact:
// it is written on an entity that is not an incoming lead still pending
// (or declined). An accepted incoming lead has one.
func hasContact(rec *callbridge.KommoRecord, cr *callbridge.CallRules) bool {
	if rec.State != callbridge.KommoWritten {
		return false
	}
	if rec.UnsortedUID != "" && rec.EntityType == "leads" {
		o := cr.IncomingLead
		return o != nil && o.UID == rec.UnsortedUID && o.Action == callbridge.IncomingAccept
	}
	return true
}

// later reports whether a started after b ended (b's creation time when
// the provider gave none).
func later(a, b *callbridge.Call) bool {
	end := b.EndedAt
	if end.IsZero() {
		end = b.StartedAt
	}
	start := a.StartedAt
	if start.IsZero() || end.IsZero() {
		return a.CreatedAt.After(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.ID > b.ID)
	}
	return start.After(end)
}
