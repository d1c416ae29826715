package store

import (
	"context"
	"encoding/json"
	"fmt"

	"callbridge"
)

// Call lists (callbridge.CallListStore). They are not part of
// callbridge.Queries: *DB implements callbridge.CallListStore on its own,
// each method in its own transaction.

var _ callbridge.CallListStore = (*DB)(nil)

const callListColumns = `id, account_id, user_id, name, status, position, interval_s, entries, version, created_at, updated_at`

func scanCallList(r interface{ Scan(...any) error }) (*callbridge.CallList, error) {
	var l callbridge.CallList
	var entries string
	if err := r.Scan(&l.ID, &l.AccountID, &l.UserID, &l.Name, &l.Status, &l.Position, &l.Interval, &entries, &l.Version,
		tm(&l.CreatedAt), tm(&l.UpdatedAt)); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(entries), &l.Entries); err != nil {
		return nil, fmt.Errorf("call list %d entries: %w", l.ID, err)
	}
	return &l, nil
}

func encodeEntries(es []callbridge.CallListEntry) (string, error) {
	if es == nil {
		es = []callbridge.CallListEntry{}
	}
	b, err := json.Marshal(es)
	return string(b), err
}

// CreateCallList implements callbridge.CallListStore. The list must have been
// validated (callbridge.CallList.Validate); the store only checks ids, the
// status and the entry limit. It returns ENOTFOUND when the account does not
// exist.
func (db *DB) CreateCallList(ctx context.Context, l *callbridge.CallList) error {
	switch {
	case l.AccountID <= 0 || l.UserID <= 0:
		return invalid("A call list needs an account and a user.")
	case !l.Status.Open():
		return invalid("A new call list must be active or paused.")
	case len(l.Entries) > callbridge.MaxCallListEntries:
		return invalid("A call list holds at most %d numbers.", callbridge.MaxCallListEntries)
	}
	entries, err := encodeEntries(l.Entries)
	if err != nil {
		return err
	}
	return run0(ctx, db, func(q *queries) error {
		if err := q.accountExists(ctx, l.AccountID); err != nil {
			return err
		}
		if _, err := q.tx.Exec(ctx, `
			UPDATE call_lists SET status = $1, version = version + 1, updated_at = $2
			WHERE account_id = $3 AND user_id = $4 AND status IN ($5, $6)`,
			string(callbridge.CallListStopped), q.now.UnixMicro(), l.AccountID, l.UserID,
			string(callbridge.CallListActive), string(callbridge.CallListPaused)); err != nil {
			return dbError(err, "Call list")
		}
		err := q.tx.QueryRow(ctx, `
			INSERT INTO call_lists (account_id, user_id, name, status, position, interval_s, entries, version, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)
			RETURNING id`,
			l.AccountID, l.UserID, l.Name, string(l.Status), l.Position, l.Interval, entries, q.now.UnixMicro()).Scan(&l.ID)
		if err != nil {
			return dbError(err, "Call list")
		}
		l.Version, l.CreatedAt, l.UpdatedAt = 1, q.now, q.now
		return nil
	})
}

// FindCallList implements callbridge.CallListStore.
func (db *DB) FindCallList(ctx context.Context, accountID, id int64) (*callbridge.CallList, error) {
	return read(ctx, db, func(q *queries) (*callbridge.CallList, error) {
		l, err := scanCallList(q.tx.QueryRow(ctx, `SELECT `+callListColumns+` FROM call_lists WHERE id = $1 AND account_id = $2`, id, accountID))
		return l, dbError(err, "Call list")
	})
}

// OpenCallList implements callbridge.CallListStore. Should a user have more
// than one open list (it cannot happen through CreateCallList), the newest
// is returned.
func (db *DB) OpenCallList(ctx context.Context, accountID, userID int64) (*callbridge.CallList, error) {
	return run(ctx, db, func(q *queries) (*callbridge.CallList, error) {
		l, err := scanCallList(q.tx.QueryRow(ctx, `
			SELECT `+callListColumns+` FROM call_lists
			WHERE account_id = $1 AND user_id = $2 AND status IN ($3, $4)
			ORDER BY id DESC LIMIT 1`,
			accountID, userID, string(callbridge.CallListActive), string(callbridge.CallListPaused)))
		return l, dbError(err, "Call list")
	})
}

// UpdateCallList implements callbridge.CallListStore. It returns ENOTFOUND
// when the list is not the account's and ECONFLICT when it changed since
// l.Version was read.
func (db *DB) UpdateCallList(ctx context.Context, l *callbridge.CallList) error {
	switch l.Status {
	case callbridge.CallListActive, callbridge.CallListPaused, callbridge.CallListDone, callbridge.CallListStopped:
	default:
		return invalid("Unknown call list status %q.", l.Status)
	}
	if l.Position < 0 || l.Position > len(l.Entries) {
		return invalid("The call list position is out of range.")
	}
	entries, err := encodeEntries(l.Entries)
	if err != nil {
		return err
	}
	return run0(ctx, db, func(q *queries) error {
		n, err := q.tx.Exec(ctx, `
			UPDATE call_lists SET status = $1, position = $2, entries = $3, version = version + 1, updated_at = $4
			WHERE id = $5 AND account_id = $6 AND version = $7`,
			string(l.Status), l.Position, entries, q.now.UnixMicro(), l.ID, l.AccountID, l.Version)
		if err != nil {
			return dbError(err, "Call list")
		}
		if n == 0 {
			var one int
			if err := q.tx.QueryRow(ctx, `SELECT 1 FROM call_lists WHERE id = $1 AND account_id = $2`, l.ID, l.AccountID).Scan(&one); err != nil {
				return dbError(err, "Call list")
			}
			return callbridge.Errorf(callbridge.ECONFLICT, "The call list changed in another window; reload it.")
		}
		l.Version++
		l.UpdatedAt = q.now
		return nil
	})
}
