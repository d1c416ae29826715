package store

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"callbridge"
)

// Limits on stored events.
const (
	// MaxEventKey is the longest CallEvent.Key and ProviderCallID, in bytes.
	MaxEventKey = 200
	// MaxPayload is the most of CallEvent.Payload that is stored, in bytes;
	// longer payloads are truncated.
	MaxPayload = 16 << 10
)

const eventColumns = `e.id, e.account_id, e.connection_id, e.event_type, e.event_key, e.provider_call_id,
	e.leg_id, e.child, e.status, e.direction, e.customer_number, e.line_number, e.agent, e.duration,
	e.recording_id, e.recording_url, e.recording_duration, e.result, e.occurred_at, e.seq, e.received_at, e.payload,
	e.ai_summary, e.transcript`

// InsertEvent implements callbridge.Queries. It returns ENOTFOUND when the
// connection is not in ev.AccountID and EINVALID when Key or ProviderCallID is
// empty or longer than MaxEventKey. When ev.ReceivedAt is zero it is set to the
// transaction's time. ev.CallID is not stored: an event belongs to the call
// with its (ConnectionID, ProviderCallID), whichever is inserted first.
//
// A new event costs one statement: the connection check is part of the
// INSERT. Only when nothing was inserted (a duplicate, or a connection of
// another account) does a second statement tell the two apart.
func (q *queries) InsertEvent(ctx context.Context, ev *callbridge.CallEvent) (bool, error) {
	switch {
	case ev.Key == "" || len(ev.Key) > MaxEventKey:
		return false, invalid("Event key must be 1 to %d bytes.", MaxEventKey)
	case ev.ProviderCallID == "" || len(ev.ProviderCallID) > MaxEventKey:
		return false, invalid("Provider call id must be 1 to %d bytes.", MaxEventKey)
	case ev.Type == "":
		return false, invalid("Event type is required.")
	}
	if ev.ReceivedAt.IsZero() {
		ev.ReceivedAt = q.now
	}
	result, err := resultJSON(ev.Result)
	if err != nil {
		return false, err
	}
	payload := ev.Payload
	if len(payload) > MaxPayload {
		payload = payload[:MaxPayload]
	}
	if payload == nil {
		payload = []byte{}
	}
	summary, transcript := clip(ev.AISummary, callbridge.MaxAISummary), clip(ev.Transcript, callbridge.MaxTranscript)
	stmt := insertEventSQLite
	if q.db.backend.Dialect() == DialectPostgres {
		stmt = insertEventPostgres
	}
	var id int64
	err = q.tx.QueryRow(ctx, stmt,
		ev.AccountID, ev.ConnectionID, string(ev.Type), ev.Key, ev.ProviderCallID,
		ev.LegID, ev.Child, string(ev.Status), string(ev.Direction), ev.CustomerNumber, ev.LineNumber, ev.Agent, ev.Duration,
		ev.RecordingID, ev.RecordingURL, ev.RecordingDuration, result, usec(ev.OccurredAt), ev.Sequence, usec(ev.ReceivedAt), payload,
		summary, transcript,
	).Scan(&id)
	if errors.Is(err, ErrNoRows) {
		// A duplicate (ON CONFLICT DO NOTHING returned no row), unless the
		// connection is not the account's (the SELECT had no row).
		if err := q.connectionInAccount(ctx, ev.AccountID, ev.ConnectionID); err != nil {
			return false, err
		}
		return false, nil
	} else if err != nil {
		return false, dbError(err, "Event")
	}
	ev.ID = id
	return true, nil
}

// insertEventSQL is InsertEvent's statement: the event's values, selected
// only when the connection ($2) belongs to the account ($1). PostgreSQL
// cannot infer the parameters' types from an INSERT … SELECT, hence the
// casts; SQLite converts by the columns' affinity.
func insertEventSQL(casts [23]string) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO events (account_id, connection_id, event_type, event_key, provider_call_id,
			leg_id, child, status, direction, customer_number, line_number, agent, duration,
			recording_id, recording_url, recording_duration, result, occurred_at, seq, received_at, payload,
			ai_summary, transcript)
		SELECT `)
	for i, c := range casts {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1) + c)
	}
	b.WriteString(`
		WHERE EXISTS (SELECT 1 FROM connections WHERE id = $2 AND account_id = $1)
		ON CONFLICT (connection_id, event_key) DO NOTHING
		RETURNING id`)
	return b.String()
}

var (
	insertEventSQLite   = insertEventSQL([23]string{})
	insertEventPostgres = insertEventSQL([23]string{
		"::bigint", "::bigint", "::text", "::text", "::text",
		"::text", "::boolean", "::text", "::text", "::text", "::text", "::text", "::bigint",
		"::text", "::text", "::bigint", "::text", "::bigint", "::bigint", "::bigint", "::bytea",
		"::text", "::text",
	})
)

func scanEvent(r interface{ Scan(...any) error }) (callbridge.CallEvent, error) {
	var e callbridge.CallEvent
	err := r.Scan(&e.ID, &e.AccountID, &e.ConnectionID, &e.Type, &e.Key, &e.ProviderCallID,
		&e.LegID, &e.Child, &e.Status, &e.Direction, &e.CustomerNumber, &e.LineNumber, &e.Agent, &e.Duration,
		&e.RecordingID, &e.RecordingURL, &e.RecordingDuration, resultCol{&e.Result}, tm(&e.OccurredAt), &e.Sequence, tm(&e.ReceivedAt), &e.Payload,
		&e.AISummary, &e.Transcript, &e.CallID)
	return e, err
}

// ListCallEvents implements callbridge.Queries. It returns an empty list for
// an unknown call. Each event's CallID is set to callID.
func (q *queries) ListCallEvents(ctx context.Context, callID int64) ([]callbridge.CallEvent, error) {
	rows, err := q.tx.Query(ctx, `
		SELECT `+eventColumns+`, c.id
		FROM calls c
		JOIN events e ON e.connection_id = c.connection_id AND e.provider_call_id = c.provider_call_id
		WHERE c.id = $1
		ORDER BY e.id`, callID)
	if err != nil {
		return nil, dbError(err, "Events")
	}
	return collect(rows, "Events", scanEvent)
}

// clip cuts s to at most n bytes on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
