package store

// Statements over several calls at once, for the Ingester's group commit:
// a batch of webhooks locks, re-reads and enqueues its calls in one
// statement each instead of one per call.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/riverqueue/river"

	"callbridge"
)

// maxBatchIDs is the most ids one statement of this file binds; longer
// lists are split.
const maxBatchIDs = 500

// inList returns "($n, $n+1, …)" for len(vals) values appended to args, for
// SQLite, which has no arrays.
func inList[T any](args []any, vals []T) (string, []any) {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, v)
		b.WriteString("$" + strconv.Itoa(len(args)))
	}
	b.WriteByte(')')
	return b.String(), args
}

// oneOf is the condition "col is one of vals" with vals bound after args:
// "= ANY($n)" with one array on PostgreSQL, "IN ($n, …)" on SQLite.
func oneOf[T any](q *queries, col string, args []any, vals []T) (string, []any) {
	if q.db.backend.Dialect() == DialectPostgres {
		args = append(args, vals)
		return col + " = ANY($" + strconv.Itoa(len(args)) + ")", args
	}
	list, args := inList(args, vals)
	return col + " IN " + list, args
}

// LockCalls implements callbridge.Queries.
func (q *queries) LockCalls(ctx context.Context, accountID, connectionID int64, ids []string) (map[string]*callbridge.Call, error) {
	out := make(map[string]*callbridge.Call, len(ids))
	for chunk := range slices.Chunk(ids, maxBatchIDs) {
		cond, args := oneOf(q, "provider_call_id", []any{connectionID, accountID}, chunk)
		rows, err := q.tx.Query(ctx, `SELECT `+callColumns+` FROM calls
			WHERE connection_id = $1 AND account_id = $2 AND `+cond+`
			ORDER BY provider_call_id`+q.forUpdate(), args...)
		if err != nil {
			return nil, dbError(err, "Calls")
		}
		calls, err := collect(rows, "Calls", scanCall)
		if err != nil {
			return nil, err
		}
		for _, c := range calls {
			out[c.ProviderCallID] = c
		}
	}
	return out, nil
}

// foldColumns are eventColumns without what Call.Fold does not read.
const (
	foldColumnsPostgres = `e.id, e.account_id, e.connection_id, e.event_type, e.event_key, e.provider_call_id,
	e.leg_id, e.child, e.status, e.direction, e.customer_number, e.line_number, e.agent, e.duration,
	e.recording_id, e.recording_url, e.recording_duration, e.result, e.occurred_at, e.seq, e.received_at, NULL::bytea,
	'', ''`
	foldColumnsSQLite = `e.id, e.account_id, e.connection_id, e.event_type, e.event_key, e.provider_call_id,
	e.leg_id, e.child, e.status, e.direction, e.customer_number, e.line_number, e.agent, e.duration,
	e.recording_id, e.recording_url, e.recording_duration, e.result, e.occurred_at, e.seq, e.received_at, NULL,
	'', ''`
)

// ListFoldEvents implements callbridge.Queries. Unknown calls have no
// entry.
func (q *queries) ListFoldEvents(ctx context.Context, callIDs []int64) (map[int64][]callbridge.CallEvent, error) {
	cols := foldColumnsSQLite
	if q.db.backend.Dialect() == DialectPostgres {
		cols = foldColumnsPostgres
	}
	out := make(map[int64][]callbridge.CallEvent, len(callIDs))
	for chunk := range slices.Chunk(callIDs, maxBatchIDs) {
		cond, args := oneOf(q, "c.id", nil, chunk)
		rows, err := q.tx.Query(ctx, `
			SELECT `+cols+`, c.id
			FROM calls c
			JOIN events e ON e.connection_id = c.connection_id AND e.provider_call_id = c.provider_call_id
			WHERE `+cond+`
			ORDER BY c.id, e.id`, args...)
		if err != nil {
			return nil, dbError(err, "Events")
		}
		evs, err := collect(rows, "Events", scanEvent)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			out[e.CallID] = append(out[e.CallID], e)
		}
	}
	return out, nil
}

// EnqueueSyncs implements callbridge.Queries: one look-up of the pending
// jobs of all the calls (by River's unique key, see EnqueueSync), then an
// insert for each call that has none.
func (q *queries) EnqueueSyncs(ctx context.Context, syncs []callbridge.SyncRequest) error {
	keys := make([][]byte, len(syncs))
	for i, s := range syncs {
		keys[i] = syncUniqueKey(s.AccountID, s.CallID)
	}
	pending, err := q.syncsPending(ctx, keys)
	if err != nil {
		return fmt.Errorf("enqueue sync jobs: %w", err)
	}
	for i, s := range syncs {
		if pending[string(keys[i])] {
			continue // River would skip the insert as a duplicate
		}
		pending[string(keys[i])] = true // a call named twice is enqueued once
		opts := &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: syncUniqueStates}}
		if !s.At.IsZero() {
			opts.ScheduledAt = s.At
		}
		if _, err := q.tx.InsertJob(ctx, callbridge.SyncCallArgs{AccountID: s.AccountID, CallID: s.CallID}, opts); err != nil {
			return fmt.Errorf("enqueue sync of call %d: %w", s.CallID, err)
		}
	}
	return nil
}

// syncsPendingSQL is the look-up of n unique keys: bound as one bytea[] on
// PostgreSQL, as n values on SQLite.
func syncsPendingSQL(dialect string, n int) string {
	if dialect == DialectPostgres {
		return `SELECT unique_key FROM river_job WHERE unique_key = ANY($1) AND ` + syncPendingPostgres
	}
	list, _ := inList(nil, make([]struct{}, n))
	return `SELECT unique_key FROM river_job WHERE unique_key IN ` + list + ` AND ` + syncPendingSQLite
}

// syncsPending returns which of the unique keys have a sync job committed
// in one of syncUniqueStates.
func (q *queries) syncsPending(ctx context.Context, keys [][]byte) (map[string]bool, error) {
	pending := make(map[string]bool, len(keys))
	for chunk := range slices.Chunk(keys, maxBatchIDs) {
		args := []any{chunk}
		if q.db.backend.Dialect() != DialectPostgres {
			args = make([]any, len(chunk))
			for i, k := range chunk {
				args[i] = k
			}
		}
		rows, err := q.tx.Query(ctx, syncsPendingSQL(q.db.backend.Dialect(), len(chunk)), args...)
		if err != nil {
			return nil, err
		}
		found, err := collect(rows, "Jobs", func(r interface{ Scan(...any) error }) ([]byte, error) {
			var k []byte
			err := r.Scan(&k)
			return k, err
		})
		if err != nil {
			return nil, err
		}
		for _, k := range found {
			pending[string(k)] = true
		}
	}
	return pending, nil
}
