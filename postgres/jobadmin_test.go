package postgres_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"callbridge"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/store"
)

// TestOperatorQueries covers, on PostgreSQL, what the operator pages and
// readiness check read beyond callbridge.Queries: jobs by state and by call
// (River's args as JSONB), retrying a job, calls by provider call id, and the
// schema version.
func TestOperatorQueries(t *testing.T) {
	db := postgrestest.Open(t, postgres.Options{})
	ctx := t.Context()

	// Sync jobs for calls 41 and 42 (insert-only client: nothing works them).
	err := db.InTx(ctx, func(q callbridge.Queries) error {
		for _, id := range []int64{41, 42} {
			if err := q.EnqueueSync(ctx, 1, id, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	admin := store.NewJobAdmin(db.RiverClient(), store.DialectPostgres, db.Schema())
	jobs, err := admin.ListCallJobs(ctx, 42, 10)
	if err != nil {
		t.Fatal(err)
	}
	var args callbridge.SyncCallArgs
	if len(jobs) != 1 || jobs[0].Kind != "sync_call" || json.Unmarshal(jobs[0].EncodedArgs, &args) != nil || args.CallID != 42 {
		t.Fatalf("jobs of call 42 = %d jobs (args %+v)", len(jobs), args)
	}
	counts, err := admin.CountJobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[rivertype.JobStateAvailable] != 2 {
		t.Fatalf("counts = %v, want 2 available", counts)
	}
	all, err := admin.ListJobs(ctx, []rivertype.JobState{rivertype.JobStateAvailable}, 10)
	if err != nil || len(all) != 2 || all[0].ID < all[1].ID {
		t.Fatalf("available jobs = %v, %v; want both, newest first", all, err)
	}
	if failed, err := admin.ListJobs(ctx, store.FailedJobStates, 10); err != nil || len(failed) != 0 {
		t.Fatalf("failed jobs = %v, %v; want none", failed, err)
	}
	if _, err := admin.RetryJob(ctx, 1<<40); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
		t.Fatalf("RetryJob of an unknown job = %v, want ENOTFOUND", err)
	}
	if _, err := admin.RetryJob(ctx, jobs[0].ID); err != nil {
		t.Fatalf("RetryJob = %v", err)
	}

	// Calls by provider call id, across accounts.
	var callIDs []int64
	for _, kommoID := range []int64{61000001, 61000002} {
		a := &callbridge.Account{KommoID: kommoID}
		if err := db.UpsertAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		conn := &callbridge.Connection{AccountID: a.ID, Provider: "twilio", Credentials: map[string]string{}}
		if err := db.CreateConnection(ctx, conn); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, func(q callbridge.Queries) error {
			c, err := q.LockCall(ctx, a.ID, conn.ID, "CA-shared")
			if err != nil {
				return err
			}
			callIDs = append(callIDs, c.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	found, err := db.FindCallsByProviderCallID(ctx, "CA-shared", 0)
	if err != nil || len(found) != 2 || found[0].ID != callIDs[1] {
		t.Fatalf("FindCallsByProviderCallID = %v, %v; want both accounts' calls, newest first", found, err)
	}
	if found, err := db.FindCallsByProviderCallID(ctx, "CA-none", 0); err != nil || len(found) != 0 {
		t.Fatalf("FindCallsByProviderCallID(unknown) = %v, %v", found, err)
	}

	v, err := db.SchemaVersion(context.Background())
	if err != nil || v < 3 {
		t.Fatalf("SchemaVersion = %d, %v; want at least 3 (the rate-limit migration)", v, err)
	}
}
