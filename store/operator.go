package store

import (
	"context"
	"errors"

	"callbridge"
)

// The methods below serve operators (the operator pages, readiness checks);
// they are not part of callbridge.Queries because no request of an account
// may use them: they read across accounts.

// FindCallsByProviderCallID returns the calls of any account whose provider
// call id (e.g. Twilio's CallSid) is id, newest first, at most limit (default
// DefaultCallLimit, at most MaxCallLimit). An empty id matches nothing.
func (db *DB) FindCallsByProviderCallID(ctx context.Context, id string, limit int) ([]*callbridge.Call, error) {
	if id == "" || len(id) > MaxEventKey {
		return nil, nil
	}
	if limit <= 0 {
		limit = DefaultCallLimit
	}
	limit = min(limit, MaxCallLimit)
	return run(ctx, db, func(q *queries) ([]*callbridge.Call, error) {
		rows, err := q.tx.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE provider_call_id = $1 ORDER BY id DESC LIMIT $2`,
			id, int64(limit))
		if err != nil {
			return nil, dbError(err, "Calls")
		}
		return collect(rows, "Calls", scanCall)
	})
}

// SchemaVersion returns the newest migration of callbridge's schema applied
// to the database (goose's version table), 0 when none is.
func (db *DB) SchemaVersion(ctx context.Context) (int64, error) {
	return run(ctx, db, func(q *queries) (int64, error) {
		var v *int64
		err := q.tx.QueryRow(ctx, `SELECT MAX(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v)
		if errors.Is(err, ErrNoRows) || (err == nil && v == nil) {
			return 0, nil
		}
		if err != nil {
			return 0, dbError(err, "Schema version")
		}
		return *v, nil
	})
}
