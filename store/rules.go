package store

import (
	"context"
	"encoding/json"
	"time"

	"callbridge"
)

// The rule state of calls (callbridge.CallRules), stored as JSON in the
// calls row beside the columns UpdateCall writes, so that the sync worker's
// record of the call note and the rules' record of their side effects never
// overwrite each other. Read and write it inside the transaction that locked
// the call (LockCall, LockCallByID) to keep read-modify-write safe.

// MaxDueCalls bounds ListDueCalls.
const MaxDueCalls = 1000

// rulesCol scans the nullable rules column.
type rulesCol struct{ r *callbridge.CallRules }

func (c rulesCol) Scan(src any) error {
	ids := callbridge.CallRules{AccountID: c.r.AccountID, CallID: c.r.CallID}
	var r callbridge.CallRules
	ok, err := scanJSON(src, &r, "call rules")
	if err != nil {
		return err
	}
	if !ok {
		*c.r = ids
		return nil
	}
	r.AccountID, r.CallID = ids.AccountID, ids.CallID
	*c.r = r
	return nil
}

// withExtra scans a row's leading columns with a scanner written for them
// and its trailing columns into extra.
type withExtra struct {
	r     interface{ Scan(...any) error }
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.r.Scan(append(dest, w.extra...)...) }

// FindCallRules returns the rule state of call callID of the account (empty
// when the rules never ran for it), with AccountID and CallID set. It returns
// ENOTFOUND when the call is not the account's.
func (q *queries) FindCallRules(ctx context.Context, accountID, callID int64) (*callbridge.CallRules, error) {
	var r callbridge.CallRules
	if err := q.tx.QueryRow(ctx, `SELECT rules FROM calls WHERE id = $1 AND account_id = $2`, callID, accountID).Scan(rulesCol{&r}); err != nil {
		return nil, dbError(err, "Call")
	}
	r.AccountID, r.CallID = accountID, callID
	return &r, nil
}

// SaveCallRules stores r for call r.CallID of r.AccountID, with r.DueAt as
// the call's due time. It returns ENOTFOUND when the call is not the
// account's.
func (q *queries) SaveCallRules(ctx context.Context, r *callbridge.CallRules) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	n, err := q.tx.Exec(ctx, `UPDATE calls SET rules = $3, rules_due_at = $4 WHERE id = $1 AND account_id = $2`,
		r.CallID, r.AccountID, string(b), usec(r.DueAt))
	if err != nil {
		return dbError(err, "Call")
	}
	if n == 0 {
		return notFound("Call")
	}
	return nil
}

// ListDueCalls returns the rule state of up to limit calls (at most
// MaxDueCalls) whose due time is at or before now, earliest first.
func (q *queries) ListDueCalls(ctx context.Context, now time.Time, limit int) ([]*callbridge.CallRules, error) {
	limit = min(max(limit, 1), MaxDueCalls)
	rows, err := q.tx.Query(ctx, `
		SELECT account_id, id, rules FROM calls
		WHERE rules_due_at IS NOT NULL AND rules_due_at <= $1
		ORDER BY rules_due_at LIMIT $2`, now.UnixMicro(), int64(limit))
	if err != nil {
		return nil, dbError(err, "Calls")
	}
	return collect(rows, "Calls", func(r interface{ Scan(...any) error }) (*callbridge.CallRules, error) {
		var cr callbridge.CallRules
		err := r.Scan(&cr.AccountID, &cr.CallID, rulesCol{&cr})
		return &cr, err
	})
}

// FindCallByUnsortedUID returns the account's call whose incoming lead has
// uid (Kommo.UnsortedUID); ENOTFOUND when there is none.
func (q *queries) FindCallByUnsortedUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error) {
	if uid == "" {
		return nil, notFound("Call")
	}
	c, err := scanCall(q.tx.QueryRow(ctx, `SELECT `+callColumns+` FROM calls
		WHERE account_id = $1 AND kommo_unsorted_uid = $2 ORDER BY id LIMIT 1`, accountID, uid))
	return c, dbError(err, "Call")
}

// ListCallRulesByNumber returns up to limit of the account's calls whose
// customer number has the same last 10 digits as number, newest first, each
// with its rule state.
func (q *queries) ListCallRulesByNumber(ctx context.Context, accountID int64, number string, limit int) ([]*callbridge.Call, []*callbridge.CallRules, error) {
	tail := callbridge.PhoneTail(number, 10)
	if tail == "" {
		return nil, nil, nil
	}
	limit = min(max(limit, 1), MaxCallLimit)
	rows, err := q.tx.Query(ctx, `SELECT `+callColumns+`, rules FROM calls
		WHERE account_id = $1 AND customer_tail = $2 ORDER BY id DESC LIMIT $3`, accountID, tail, int64(limit))
	if err != nil {
		return nil, nil, dbError(err, "Calls")
	}
	type pair struct {
		c *callbridge.Call
		r *callbridge.CallRules
	}
	pairs, err := collect(rows, "Calls", func(r interface{ Scan(...any) error }) (pair, error) {
		var cr callbridge.CallRules
		c, err := scanCall(withExtra{r, []any{rulesCol{&cr}}})
		if err != nil {
			return pair{}, err
		}
		cr.AccountID, cr.CallID = c.AccountID, c.ID
		return pair{c, &cr}, nil
	})
	if err != nil {
		return nil, nil, err
	}
	calls, rules := make([]*callbridge.Call, len(pairs)), make([]*callbridge.CallRules, len(pairs))
	for i, p := range pairs {
		calls[i], rules[i] = p.c, p.r
	}
	return calls, rules, nil
}

// ForgetRecording removes the recording of call callID from the store: the
// recording id and URL of its events and of its row, and the payloads of the
// events that carried one. It returns ENOTFOUND when the call is not the
// account's.
func (q *queries) ForgetRecording(ctx context.Context, accountID, callID int64) error {
	n, err := q.tx.Exec(ctx, `UPDATE calls SET recording_id = '', recording_url = '' WHERE id = $1 AND account_id = $2`, callID, accountID)
	if err != nil {
		return dbError(err, "Call")
	}
	if n == 0 {
		return notFound("Call")
	}
	if _, err := q.tx.Exec(ctx, `
		UPDATE events SET recording_id = '', recording_url = '', payload = $3
		WHERE recording_url <> '' AND account_id = $2
		  AND connection_id = (SELECT connection_id FROM calls WHERE id = $1)
		  AND provider_call_id = (SELECT provider_call_id FROM calls WHERE id = $1)`,
		callID, accountID, []byte{}); err != nil {
		return dbError(err, "Events")
	}
	return nil
}

// FindCallRules implements the same method of a transaction on *DB.
func (db *DB) FindCallRules(ctx context.Context, accountID, callID int64) (*callbridge.CallRules, error) {
	return read(ctx, db, func(q *queries) (*callbridge.CallRules, error) { return q.FindCallRules(ctx, accountID, callID) })
}

// SaveCallRules implements the same method of a transaction on *DB.
func (db *DB) SaveCallRules(ctx context.Context, r *callbridge.CallRules) error {
	return run0(ctx, db, func(q *queries) error { return q.SaveCallRules(ctx, r) })
}

// ListDueCalls implements the same method of a transaction on *DB.
func (db *DB) ListDueCalls(ctx context.Context, now time.Time, limit int) ([]*callbridge.CallRules, error) {
	return run(ctx, db, func(q *queries) ([]*callbridge.CallRules, error) { return q.ListDueCalls(ctx, now, limit) })
}

// FindCallByUnsortedUID implements the same method of a transaction on *DB.
func (db *DB) FindCallByUnsortedUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Call, error) { return q.FindCallByUnsortedUID(ctx, accountID, uid) })
}

// ListCallRulesByNumber implements the same method of a transaction on *DB.
func (db *DB) ListCallRulesByNumber(ctx context.Context, accountID int64, number string, limit int) ([]*callbridge.Call, []*callbridge.CallRules, error) {
	var rules []*callbridge.CallRules
	calls, err := run(ctx, db, func(q *queries) ([]*callbridge.Call, error) {
		c, r, err := q.ListCallRulesByNumber(ctx, accountID, number, limit)
		rules = r
		return c, err
	})
	return calls, rules, err
}

// ForgetRecording implements the same method of a transaction on *DB.
func (db *DB) ForgetRecording(ctx context.Context, accountID, callID int64) error {
	return run0(ctx, db, func(q *queries) error { return q.ForgetRecording(ctx, accountID, callID) })
}
