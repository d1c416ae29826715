package store

import (
	"context"
	"errors"
	"strconv"

	"callbridge"
)

// ListCalls limits.
const (
	// DefaultCallLimit is CallFilter.Limit when it is 0.
	DefaultCallLimit = 50
	// MaxCallLimit is the largest CallFilter.Limit honoured.
	MaxCallLimit = 1000
)

const callColumns = `id, uid, account_id, connection_id, provider_call_id, placed_id,
	direction, status, ended, customer_number, line_number, agent, duration,
	started_at, answered_at, ended_at, recording_id, recording_url, result, version,
	kommo_state, kommo_attempt, kommo_intent_at, kommo_entity_type, kommo_entity_id, kommo_note_id,
	kommo_unsorted_uid, kommo_text, kommo_call_status, kommo_duration, kommo_link,
	kommo_synced_version, kommo_synced_at, kommo_last_error, kommo_unconfirmed, created_at, updated_at`

func scanCall(r interface{ Scan(...any) error }) (*callbridge.Call, error) {
	var c callbridge.Call
	k := &c.Kommo
	err := r.Scan(&c.ID, &c.UID, &c.AccountID, &c.ConnectionID, &c.ProviderCallID, &c.PlacedID,
		&c.Direction, &c.Status, &c.Ended, &c.CustomerNumber, &c.LineNumber, &c.Agent, &c.Duration,
		tm(&c.StartedAt), tm(&c.AnsweredAt), tm(&c.EndedAt), &c.RecordingID, &c.RecordingURL, resultCol{&c.Result}, &c.Version,
		&k.State, &k.Attempt, tm(&k.IntentAt), &k.EntityType, &k.EntityID, &k.NoteID,
		&k.UnsortedUID, &k.Text, &k.CallStatus, &k.Duration, &k.Link,
		&k.SyncedVersion, tm(&k.SyncedAt), &k.LastError, &k.Unconfirmed, tm(&c.CreatedAt), tm(&c.UpdatedAt))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// forUpdate is the row-locking suffix of a SELECT in the backend's dialect:
// "FOR UPDATE" on PostgreSQL, nothing on SQLite, whose write transactions
// (BEGIN IMMEDIATE) are already serial.
func (q *queries) forUpdate() string {
	if q.db.backend.Dialect() == DialectPostgres {
		return " FOR UPDATE"
	}
	return ""
}

// LockCall implements callbridge.Queries. It returns ENOTFOUND when the
// connection is not in the account. A call that exists already costs one
// statement (the locking SELECT); a new one three (that SELECT, the
// connection check and the INSERT … RETURNING).
func (q *queries) LockCall(ctx context.Context, accountID, connectionID int64, providerCallID string) (*callbridge.Call, error) {
	if providerCallID == "" || len(providerCallID) > MaxEventKey {
		return nil, invalid("Provider call id must be 1 to %d bytes.", MaxEventKey)
	}
	// A row with this account and connection proves the connection is the
	// account's: calls are only created after the check below.
	c, err := q.selectCallForUpdate(ctx, accountID, connectionID, providerCallID)
	if !errors.Is(err, ErrNoRows) {
		return c, dbError(err, "Call")
	}
	if err := q.connectionInAccount(ctx, accountID, connectionID); err != nil {
		return nil, err
	}
	// Concurrent inserts of the same call wait for each other on the unique
	// index; the losers do nothing (no row returned) and then lock the
	// winner's row. The winner's new row is locked by its insert.
	c, err = scanCall(q.tx.QueryRow(ctx, `
		INSERT INTO calls (uid, account_id, connection_id, provider_call_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5)
		ON CONFLICT (connection_id, provider_call_id) DO NOTHING
		RETURNING `+callColumns,
		newUID(), accountID, connectionID, providerCallID, q.now.UnixMicro()))
	if errors.Is(err, ErrNoRows) {
		c, err = q.selectCallForUpdate(ctx, accountID, connectionID, providerCallID)
	}
	return c, dbError(err, "Call")
}

// selectCallForUpdate reads and locks the call (connectionID,
// providerCallID) of accountID; the error wraps ErrNoRows when there is none.
// On PostgreSQL each statement of a READ COMMITTED transaction takes a new
// snapshot, so after LockCall's INSERT this sees a row a concurrent
// transaction committed meanwhile.
func (q *queries) selectCallForUpdate(ctx context.Context, accountID, connectionID int64, providerCallID string) (*callbridge.Call, error) {
	return scanCall(q.tx.QueryRow(ctx, `
		SELECT `+callColumns+` FROM calls
		WHERE connection_id = $1 AND provider_call_id = $2 AND account_id = $3`+q.forUpdate(),
		connectionID, providerCallID, accountID))
}

// LockPlacedCall implements callbridge.Queries.
func (q *queries) LockPlacedCall(ctx context.Context, accountID, connectionID int64, placedID string) (*callbridge.Call, error) {
	if placedID == "" {
		return nil, notFound("Call")
	}
	c, err := scanCall(q.tx.QueryRow(ctx, `
		SELECT `+callColumns+` FROM calls
		WHERE connection_id = $1 AND placed_id = $2 AND account_id = $3
		ORDER BY id LIMIT 1`+q.forUpdate(),
		connectionID, placedID, accountID))
	return c, dbError(err, "Call")
}

// MovePlacedEvents implements callbridge.Queries.
func (q *queries) MovePlacedEvents(ctx context.Context, accountID, connectionID int64, placedID, providerCallID string) (bool, error) {
	if placedID == "" || placedID == providerCallID {
		return false, nil
	}
	n, err := q.tx.Exec(ctx, `
		UPDATE events SET provider_call_id = $4
		WHERE connection_id = $1 AND provider_call_id = $2 AND account_id = $3`,
		connectionID, placedID, accountID, providerCallID)
	if err != nil {
		return false, dbError(err, "Events")
	}
	if _, err := q.tx.Exec(ctx, `
		DELETE FROM calls WHERE connection_id = $1 AND provider_call_id = $2 AND account_id = $3`,
		connectionID, placedID, accountID); err != nil {
		return false, dbError(err, "Call")
	}
	return n > 0, nil
}

// LockCallByID implements callbridge.Queries.
func (q *queries) LockCallByID(ctx context.Context, accountID, id int64) (*callbridge.Call, error) {
	c, err := scanCall(q.tx.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1 AND account_id = $2`+q.forUpdate(), id, accountID))
	return c, dbError(err, "Call")
}

// FindCall implements callbridge.Queries.
func (q *queries) FindCall(ctx context.Context, accountID, id int64) (*callbridge.Call, error) {
	c, err := scanCall(q.tx.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE id = $1 AND account_id = $2`, id, accountID))
	return c, dbError(err, "Call")
}

// FindCallByUID implements callbridge.Queries.
func (q *queries) FindCallByUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error) {
	c, err := scanCall(q.tx.QueryRow(ctx, `SELECT `+callColumns+` FROM calls WHERE uid = $1 AND account_id = $2`, uid, accountID))
	return c, dbError(err, "Call")
}

// ListCalls implements callbridge.Queries. Calls are ordered by id, newest
// first. Number matches calls whose customer number ends in the same last 10
// digits (all digits when shorter); a Number without digits matches nothing.
// Limit defaults to DefaultCallLimit and is capped at MaxCallLimit.
func (q *queries) ListCalls(ctx context.Context, f callbridge.CallFilter) ([]*callbridge.Call, error) {
	where, args := "1 = 1", []any{}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.AccountID != 0 {
		where += " AND account_id = " + arg(f.AccountID)
	}
	if f.Number != "" {
		where += " AND customer_tail = " + arg(callbridge.PhoneTail(f.Number, 10)) + " AND customer_tail <> ''"
	}
	if f.UID != "" {
		where += " AND uid = " + arg(f.UID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultCallLimit
	}
	limit = min(limit, MaxCallLimit)
	offset := max(f.Offset, 0)
	rows, err := q.tx.Query(ctx, `SELECT `+callColumns+` FROM calls WHERE `+where+
		` ORDER BY id DESC LIMIT `+arg(int64(limit))+` OFFSET `+arg(int64(offset)), args...)
	if err != nil {
		return nil, dbError(err, "Calls")
	}
	return collect(rows, "Calls", scanCall)
}

// UpdateCall implements callbridge.Queries. It sets c.UpdatedAt to the
// transaction's time and returns ENOTFOUND when the call is not in
// c.AccountID.
func (q *queries) UpdateCall(ctx context.Context, c *callbridge.Call) error {
	result, err := resultJSON(c.Result)
	if err != nil {
		return err
	}
	tail := ""
	if c.CustomerNumber != "" {
		tail = callbridge.PhoneTail(c.CustomerNumber, 10)
	}
	k := &c.Kommo
	n, err := q.tx.Exec(ctx, `
		UPDATE calls SET
			direction = $3, status = $4, ended = $5, customer_number = $6, customer_tail = $7,
			line_number = $8, agent = $9, duration = $10,
			started_at = $11, answered_at = $12, ended_at = $13,
			recording_id = $14, recording_url = $15, result = $16, version = $17,
			kommo_state = $18, kommo_attempt = $19, kommo_intent_at = $20,
			kommo_entity_type = $21, kommo_entity_id = $22, kommo_note_id = $23,
			kommo_unsorted_uid = $24, kommo_text = $25, kommo_call_status = $26,
			kommo_duration = $27, kommo_link = $28, kommo_synced_version = $29,
			kommo_synced_at = $30, kommo_last_error = $31, updated_at = $32, kommo_unconfirmed = $33,
			placed_id = $34
		WHERE id = $1 AND account_id = $2`,
		c.ID, c.AccountID,
		string(c.Direction), string(c.Status), c.Ended, c.CustomerNumber, tail,
		c.LineNumber, c.Agent, c.Duration,
		usec(c.StartedAt), usec(c.AnsweredAt), usec(c.EndedAt),
		c.RecordingID, c.RecordingURL, result, c.Version,
		string(k.State), k.Attempt, usec(k.IntentAt),
		k.EntityType, k.EntityID, k.NoteID,
		k.UnsortedUID, k.Text, k.CallStatus,
		k.Duration, k.Link, k.SyncedVersion,
		usec(k.SyncedAt), k.LastError, q.now.UnixMicro(), k.Unconfirmed, c.PlacedID)
	if err != nil {
		return dbError(err, "Call")
	}
	if n == 0 {
		return notFound("Call")
	}
	c.UpdatedAt = q.now
	return nil
}
