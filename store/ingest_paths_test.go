package store_test

// Tests of the short paths ingest takes through the store: EnqueueSync's
// look-up of a pending job by River's unique key, LockCall of an existing
// call, and InsertEvent's connection check inside the INSERT. Their results
// are covered by storetest on both databases; these check what makes them
// short.

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
	"callbridge/store"
)

type backendStore interface {
	callbridge.Store
	Backend() store.Backend
}

var stores = []struct {
	name string
	open func(t *testing.T) backendStore
}{
	{"SQLite", func(t *testing.T) backendStore { return sqlitetest.Open(t, sqlite.Options{}) }},
	{"PostgreSQL", func(t *testing.T) backendStore { return postgrestest.Open(t, postgres.Options{}) }},
}

// TestSyncUniqueKey checks that the key EnqueueSync looks up is the one River
// stores. Were it not, every enqueue would still be correct (River's own
// unique insert decides), only slower.
func TestSyncUniqueKey(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			db := s.open(t)
			ctx := t.Context()
			acct := &callbridge.Account{KommoID: 77_000_001, Subdomain: "keys"}
			if err := db.UpsertAccount(ctx, acct); err != nil {
				t.Fatal(err)
			}
			conn := &callbridge.Connection{AccountID: acct.ID, Provider: "twilio", Credentials: map[string]string{}}
			if err := db.CreateConnection(ctx, conn); err != nil {
				t.Fatal(err)
			}
			call, err := db.LockCall(ctx, acct.ID, conn.ID, "CA-key")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.EnqueueSync(ctx, acct.ID, call.ID, time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			tx, err := db.Backend().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			var key []byte
			if err := tx.QueryRow(ctx, `SELECT unique_key FROM river_job WHERE kind = 'sync_call'`).Scan(&key); err != nil {
				t.Fatal(err)
			}
			if want := store.SyncUniqueKey(acct.ID, call.ID); !bytes.Equal(key, want) {
				t.Fatalf("River stored unique key %x, EnqueueSync looks up %x", key, want)
			}
		})
	}
}

// TestSyncPendingUsesUniqueIndex checks that the look-up is an index search,
// not a scan of river_job.
func TestSyncPendingUsesUniqueIndex(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			db := s.open(t)
			ctx := t.Context()
			tx, err := db.Backend().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			explain, stmt := "EXPLAIN QUERY PLAN ", store.SyncsPendingSQL(store.DialectSQLite, 2)
			args := []any{store.SyncUniqueKey(1, 2), store.SyncUniqueKey(1, 3)}
			if s.name == "PostgreSQL" {
				// A plan for a large table, as production has.
				if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
					t.Fatal(err)
				}
				explain, stmt = "EXPLAIN ", store.SyncsPendingSQL(store.DialectPostgres, 2)
				args = []any{[][]byte{store.SyncUniqueKey(1, 2), store.SyncUniqueKey(1, 3)}}
			}
			rows, err := tx.Query(ctx, explain+stmt, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan strings.Builder
			for rows.Next() {
				vals := make([]any, 4)
				ptrs := make([]any, 4)
				for i := range ptrs {
					ptrs[i] = &vals[i]
				}
				n := 4
				if s.name == "PostgreSQL" {
					n = 1
				}
				if err := rows.Scan(ptrs[:n]...); err != nil {
					t.Fatal(err)
				}
				for _, v := range vals[:n] {
					switch v := v.(type) {
					case string:
						plan.WriteString(v + " ")
					case []byte:
						plan.WriteString(string(v) + " ")
					}
				}
				plan.WriteString("\n")
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			t.Logf("plan:\n%s", plan.String())
			if !strings.Contains(plan.String(), "river_job_unique_idx") {
				t.Fatalf("the pending-job look-up does not use river_job_unique_idx:\n%s", plan.String())
			}
		})
	}
}

// TestInsertEventConnectionCheck checks InsertEvent's outcomes with the
// connection check folded into the INSERT: new, duplicate, and a connection
// of another account (ENOTFOUND, nothing stored, the transaction usable).
func TestInsertEventConnectionCheck(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			db := s.open(t)
			ctx := t.Context()
			accts, conns := twoAccounts(t, db, 77_000_010)
			ev := func(acct int64, conn int64, key string) *callbridge.CallEvent {
				return &callbridge.CallEvent{AccountID: acct, ConnectionID: conn, Type: callbridge.EventStatus, Key: key,
					ProviderCallID: "CA1", Status: callbridge.StatusRinging, Child: true, Duration: 3, Sequence: 2,
					OccurredAt: time.Now(), Payload: []byte("a=1\x00"), Result: &callbridge.CallResult{Text: "r"}}
			}
			err := db.InTx(ctx, func(q callbridge.Queries) error {
				if ok, err := q.InsertEvent(ctx, ev(accts[0].ID, conns[0].ID, "k1")); err != nil || !ok {
					t.Fatalf("new event: %v %v", ok, err)
				}
				if ok, err := q.InsertEvent(ctx, ev(accts[0].ID, conns[0].ID, "k1")); err != nil || ok {
					t.Fatalf("duplicate: %v %v", ok, err)
				}
				_, err := q.InsertEvent(ctx, ev(accts[0].ID, conns[1].ID, "k2"))
				if callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
					t.Fatalf("connection of another account: %v, want ENOTFOUND", err)
				}
				// The transaction is still usable.
				if ok, err := q.InsertEvent(ctx, ev(accts[1].ID, conns[1].ID, "k2")); err != nil || !ok {
					t.Fatalf("after the refusal: %v %v", ok, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			call, err := db.LockCall(ctx, accts[0].ID, conns[0].ID, "CA1")
			if err != nil {
				t.Fatal(err)
			}
			evs, err := db.ListCallEvents(ctx, call.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Key != "k1" || !evs[0].Child || evs[0].Duration != 3 || evs[0].Sequence != 2 ||
				string(evs[0].Payload) != "a=1\x00" || evs[0].Result == nil || evs[0].Result.Text != "r" {
				t.Fatalf("stored events: %+v", evs)
			}
			// LockCall of an existing call in another account's connection.
			if _, err := db.LockCall(ctx, accts[1].ID, conns[0].ID, "CA1"); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
				t.Fatalf("LockCall across accounts: %v, want ENOTFOUND", err)
			}
		})
	}
}

// twoAccounts creates two accounts, Kommo ids kommoID and kommoID+1, with a
// Twilio connection each.
func twoAccounts(t *testing.T, db callbridge.Store, kommoID int64) ([2]*callbridge.Account, [2]*callbridge.Connection) {
	t.Helper()
	var accts [2]*callbridge.Account
	var conns [2]*callbridge.Connection
	for i := range accts {
		accts[i] = &callbridge.Account{KommoID: kommoID + int64(i), Subdomain: "test"}
		if err := db.UpsertAccount(t.Context(), accts[i]); err != nil {
			t.Fatal(err)
		}
		conns[i] = &callbridge.Connection{AccountID: accts[i].ID, Provider: "twilio", Credentials: map[string]string{}}
		if err := db.CreateConnection(t.Context(), conns[i]); err != nil {
			t.Fatal(err)
		}
	}
	return accts, conns
}
