package store

import (
	"context"
	"time"
)

// The methods below keep the widget's realtime channel consistent across
// replicas (http.RealtimeStore): presence records (which Kommo user holds a
// widget connection on which replica, until when) and one-time claims (a
// realtime ticket's nonce, a call's fallback notification). They are not
// part of callbridge.Queries: they hold no account data and read across
// accounts. Times are the caller's (each replica's clock), stored as unix
// microseconds; a record whose expiry is not after the caller's now counts
// as absent.

// Realtime limits.
const (
	// MaxRealtimeKey is the longest claim key, replica name, in bytes.
	MaxRealtimeKey = 200
)

// ClaimRealtime records key until the time until and reports whether this
// call made the claim: false when an unexpired claim of key exists (one
// whose expiry is after now). An expired claim is taken over. Keys are 1 to
// MaxRealtimeKey bytes (EINVALID otherwise).
func (db *DB) ClaimRealtime(ctx context.Context, key string, now, until time.Time) (bool, error) {
	if key == "" || len(key) > MaxRealtimeKey {
		return false, invalid("A realtime claim key must be 1 to %d bytes.", MaxRealtimeKey)
	}
	return run(ctx, db, func(q *queries) (bool, error) {
		n, err := q.tx.Exec(ctx, `
			INSERT INTO realtime_claims (key, expires_at) VALUES ($1, $2)
			ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
			WHERE realtime_claims.expires_at <= $3`,
			key, until.UnixMicro(), now.UnixMicro())
		if err != nil {
			return false, dbError(err, "Realtime claim")
		}
		return n == 1, nil
	})
}

// PutRealtimePresence records, in one transaction, that the replica holds
// connections of the users in present (account id → Kommo user ids) until
// the time until, and no longer holds any of the users in absent.
func (db *DB) PutRealtimePresence(ctx context.Context, replica string, present, absent map[int64][]int64, until time.Time) error {
	if replica == "" || len(replica) > MaxRealtimeKey {
		return invalid("A replica name must be 1 to %d bytes.", MaxRealtimeKey)
	}
	return run0(ctx, db, func(q *queries) error {
		if err := q.deletePresence(ctx, replica, absent); err != nil {
			return err
		}
		return q.upsertPresence(ctx, replica, present, until)
	})
}

// ReplaceRealtimePresence makes present (account id → Kommo user ids) the
// replica's whole presence, until the time until, in one transaction: other
// records of the replica are deleted. An empty present removes the
// replica's every record (e.g. when it shuts down).
func (db *DB) ReplaceRealtimePresence(ctx context.Context, replica string, present map[int64][]int64, until time.Time) error {
	if replica == "" || len(replica) > MaxRealtimeKey {
		return invalid("A replica name must be 1 to %d bytes.", MaxRealtimeKey)
	}
	return run0(ctx, db, func(q *queries) error {
		if _, err := q.tx.Exec(ctx, `DELETE FROM realtime_presence WHERE replica = $1`, replica); err != nil {
			return dbError(err, "Realtime presence")
		}
		return q.upsertPresence(ctx, replica, present, until)
	})
}

// TouchRealtimePresence extends every presence record of the replica until
// the time until (expired ones included) and returns how many there are.
func (db *DB) TouchRealtimePresence(ctx context.Context, replica string, until time.Time) (int64, error) {
	return run(ctx, db, func(q *queries) (int64, error) {
		n, err := q.tx.Exec(ctx, `UPDATE realtime_presence SET expires_at = $2 WHERE replica = $1`, replica, until.UnixMicro())
		return n, dbError(err, "Realtime presence")
	})
}

// RealtimePresent reports whether any replica holds an unexpired presence
// record (expiry after now) of the Kommo user in the account.
func (db *DB) RealtimePresent(ctx context.Context, accountID, userID int64, now time.Time) (bool, error) {
	return read(ctx, db, func(q *queries) (bool, error) {
		var n int64
		err := q.tx.QueryRow(ctx, `
			SELECT COUNT(*) FROM realtime_presence
			WHERE account_id = $1 AND user_id = $2 AND expires_at > $3`,
			accountID, userID, now.UnixMicro()).Scan(&n)
		if err != nil {
			return false, dbError(err, "Realtime presence")
		}
		return n > 0, nil
	})
}

// PurgeRealtime deletes the presence records and claims that expired at or
// before now, and returns how many rows it deleted.
func (db *DB) PurgeRealtime(ctx context.Context, now time.Time) (int64, error) {
	return run(ctx, db, func(q *queries) (int64, error) {
		a, err := q.tx.Exec(ctx, `DELETE FROM realtime_presence WHERE expires_at <= $1`, now.UnixMicro())
		if err != nil {
			return 0, dbError(err, "Realtime presence")
		}
		b, err := q.tx.Exec(ctx, `DELETE FROM realtime_claims WHERE expires_at <= $1`, now.UnixMicro())
		if err != nil {
			return 0, dbError(err, "Realtime claim")
		}
		return a + b, nil
	})
}

func (q *queries) upsertPresence(ctx context.Context, replica string, users map[int64][]int64, until time.Time) error {
	for acct, ids := range users {
		for _, u := range ids {
			if _, err := q.tx.Exec(ctx, `
				INSERT INTO realtime_presence (account_id, user_id, replica, expires_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (account_id, user_id, replica) DO UPDATE SET expires_at = excluded.expires_at`,
				acct, u, replica, until.UnixMicro()); err != nil {
				return dbError(err, "Realtime presence")
			}
		}
	}
	return nil
}

func (q *queries) deletePresence(ctx context.Context, replica string, users map[int64][]int64) error {
	for acct, ids := range users {
		for _, u := range ids {
			if _, err := q.tx.Exec(ctx, `DELETE FROM realtime_presence WHERE account_id = $1 AND user_id = $2 AND replica = $3`,
				acct, u, replica); err != nil {
				return dbError(err, "Realtime presence")
			}
		}
	}
	return nil
}
