package store_test

import (
	"fmt"
	"testing"
	"time"

	"callbridge"
)

// TestBatchStatements checks the statements of a group commit against their
// one-call counterparts on both databases: LockCalls returns exactly the
// existing calls of the connection and account, ListFoldEvents returns what
// ListCallEvents does less what Fold does not read, and EnqueueSyncs enqueues
// one job per call, none for a call whose job is pending.
func TestBatchStatements(t *testing.T) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			db := s.open(t)
			ctx := t.Context()
			accts, conns := twoAccounts(t, db, 77_000_020)
			var calls []*callbridge.Call
			for i := range 3 {
				id := fmt.Sprintf("CA%d", i)
				c, err := db.LockCall(ctx, accts[0].ID, conns[0].ID, id)
				if err != nil {
					t.Fatal(err)
				}
				calls = append(calls, c)
				for j := range i + 1 {
					e := &callbridge.CallEvent{AccountID: accts[0].ID, ConnectionID: conns[0].ID, Type: callbridge.EventStatus,
						Key: fmt.Sprintf("%s:%d", id, j), ProviderCallID: id, Status: callbridge.StatusRinging, Duration: j,
						OccurredAt: time.Now(), Payload: []byte("CallSid=" + id), AISummary: "summary", Transcript: "text"}
					if ok, err := db.InsertEvent(ctx, e); err != nil || !ok {
						t.Fatalf("insert: %v %v", ok, err)
					}
				}
			}
			err := db.InTx(ctx, func(q callbridge.Queries) error {
				got, err := q.LockCalls(ctx, accts[0].ID, conns[0].ID, []string{"CA2", "CA0", "missing", "CA1"})
				if err != nil {
					return err
				}
				if len(got) != 3 || got["CA0"].ID != calls[0].ID || got["CA1"].ID != calls[1].ID || got["CA2"].ID != calls[2].ID {
					t.Errorf("LockCalls: %v", got)
				}
				// Another account's view of the connection finds nothing.
				if other, err := q.LockCalls(ctx, accts[1].ID, conns[0].ID, []string{"CA0"}); err != nil || len(other) != 0 {
					t.Errorf("LockCalls across accounts: %v, %v", other, err)
				}
				folds, err := q.ListFoldEvents(ctx, []int64{calls[2].ID, calls[0].ID, 999_999})
				if err != nil {
					return err
				}
				if len(folds) != 2 {
					t.Errorf("ListFoldEvents: %d calls, want 2", len(folds))
				}
				for _, c := range []*callbridge.Call{calls[0], calls[2]} {
					full, err := q.ListCallEvents(ctx, c.ID)
					if err != nil {
						return err
					}
					got := folds[c.ID]
					if len(got) != len(full) {
						t.Fatalf("call %s: %d fold events, %d events", c.ProviderCallID, len(got), len(full))
					}
					for i := range full {
						want := full[i]
						want.Payload, want.AISummary, want.Transcript = nil, "", ""
						if fmt.Sprint(got[i]) != fmt.Sprint(want) {
							t.Errorf("call %s event %d:\n got %+v\nwant %+v", c.ProviderCallID, i, got[i], want)
						}
					}
				}
				// CA0's job is pending; CA1 is named twice.
				if err := q.EnqueueSync(ctx, accts[0].ID, calls[0].ID, time.Now().Add(time.Hour)); err != nil {
					return err
				}
				return q.EnqueueSyncs(ctx, []callbridge.SyncRequest{
					{AccountID: accts[0].ID, CallID: calls[0].ID},
					{AccountID: accts[0].ID, CallID: calls[1].ID, At: time.Now().Add(time.Hour)},
					{AccountID: accts[0].ID, CallID: calls[1].ID},
					{AccountID: accts[0].ID, CallID: calls[2].ID},
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			var jobs int
			tx, err := db.Backend().Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(ctx)
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_call'`).Scan(&jobs); err != nil {
				t.Fatal(err)
			}
			if jobs != 3 {
				t.Fatalf("%d sync jobs, want 3 (one per call)", jobs)
			}
		})
	}
}
