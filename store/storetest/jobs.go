package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
	"callbridge/store"
)

// JobsDB is a store whose River client can be configured and started, as
// *sqlite.DB and *postgres.DB are.
type JobsDB interface {
	callbridge.Store
	ConfigureJobs(cfg store.JobConfig) error
	Start(ctx context.Context) error
}

// RunJobs starts River on a database from open with workers that use the
// store, and checks that a scheduled unique sync job runs once; that
// CompleteJob inside InTx completes the job (it is not retried even though
// the worker then returns an error), is idempotent, and reports unknown
// (ENOTFOUND) and cancelled (ECONFLICT) jobs; that a completed job does not
// block a new one; and that a rolled-back CompleteJob leaves the job to be
// retried.
func RunJobs(t *testing.T, open func(t *testing.T) JobsDB) {
	s := open(t)
	ctx := t.Context()

	a := newAccount(t, s, 1)
	conn := newConnection(t, s, a.ID)
	c1 := must2[*callbridge.Call](t)(s.LockCall(ctx, a.ID, conn.ID, "CA1"))
	c2 := must2[*callbridge.Call](t)(s.LockCall(ctx, a.ID, conn.ID, "CA2"))

	// A cancelled job (as from the River UI), to be completed by mistake.
	c3 := must2[*callbridge.Call](t)(s.LockCall(ctx, a.ID, conn.ID, "CA3"))
	must(t, s.EnqueueSync(ctx, a.ID, c3.ID, time.Now().Add(time.Hour)))
	b := s.(interface{ Backend() store.Backend }).Backend()
	tx, err := b.Begin(ctx)
	must(t, err)
	_, err = tx.Exec(ctx, `UPDATE river_job SET state = 'cancelled', finalized_at = CURRENT_TIMESTAMP WHERE kind = 'sync_call'`)
	must(t, err)
	must(t, tx.Commit(ctx))
	cancelledID := rawCount(t, s, `SELECT id FROM river_job WHERE state = 'cancelled'`)

	var (
		mu       sync.Mutex
		runs     = map[int64][]int{} // call id -> attempt of each run
		problems []error
	)
	errAfterCommit := errors.New("error after the completion was committed")
	errRolledBack := errors.New("completion rolled back")
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[callbridge.SyncCallArgs]) error {
		mu.Lock()
		runs[job.Args.CallID] = append(runs[job.Args.CallID], job.Attempt)
		n := len(runs[job.Args.CallID])
		mu.Unlock()
		if job.Args.AccountID != a.ID {
			return river.JobCancel(errors.New("wrong account in args"))
		}
		if job.Args.CallID == c2.ID && n == 1 {
			// Complete, then roll back: the job must run again.
			err := s.InTx(ctx, func(q callbridge.Queries) error {
				if err := q.CompleteJob(ctx, job.ID); err != nil {
					return err
				}
				return errRolledBack
			})
			if !errors.Is(err, errRolledBack) {
				mu.Lock()
				problems = append(problems, err)
				mu.Unlock()
				return river.JobCancel(err)
			}
			return err
		}
		err := s.InTx(ctx, func(q callbridge.Queries) error {
			if err := q.CompleteJob(ctx, job.ID); err != nil {
				return err
			}
			// Completing again is harmless; an unknown job is not found.
			if err := q.CompleteJob(ctx, job.ID); err != nil {
				return fmt.Errorf("second CompleteJob: %v, want nil", err)
			}
			if err := q.CompleteJob(ctx, job.ID+1_000_000); callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
				return fmt.Errorf("CompleteJob of an unknown job: %v, want ENOTFOUND", err)
			}
			if err := q.CompleteJob(ctx, cancelledID); callbridge.ErrorCode(err) != callbridge.ECONFLICT {
				return fmt.Errorf("CompleteJob of a cancelled job: %v, want ECONFLICT", err)
			}
			return nil
		})
		if err != nil {
			mu.Lock()
			problems = append(problems, err)
			mu.Unlock()
			return river.JobCancel(err)
		}
		// River keeps the committed completion and ignores this error.
		return errAfterCommit
	}))
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, job *river.Job[callbridge.InstallArgs]) error { return nil }))

	must(t, s.ConfigureJobs(store.JobConfig{
		Workers:           workers,
		FetchPollInterval: 50 * time.Millisecond,
		RetryPolicy:       immediateRetry{},
		MaxAttempts:       5,
		TestOnly:          true,
	}))
	must(t, s.Start(ctx))

	// A burst of enqueues, the first scheduled a little later, is one job.
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Now().Add(300*time.Millisecond)))
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}))
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}))
	if n := syncJobs(t, s); n != 2 {
		t.Fatalf("%d sync jobs, want 2 (one cancelled)", n)
	}
	checkProblems := func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, err := range problems {
			t.Error(err)
		}
		if len(problems) > 0 {
			t.FailNow()
		}
	}
	waitFor(t, "the scheduled sync job completes", func() bool {
		checkProblems()
		return rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE kind = 'sync_call' AND state = 'completed'`) == 1
	})
	mu.Lock()
	if got := runs[c1.ID]; len(got) != 1 {
		t.Fatalf("call 1 synced %d times (%v), want once", len(got), got)
	}
	mu.Unlock()

	// Completed jobs do not block a new one; the rolled-back completion is
	// retried.
	must(t, s.EnqueueSync(ctx, a.ID, c1.ID, time.Time{}))
	must(t, s.EnqueueSync(ctx, a.ID, c2.ID, time.Time{}))
	waitFor(t, "all sync jobs complete", func() bool {
		checkProblems()
		return rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE kind = 'sync_call' AND state = 'completed'`) == 3
	})
	mu.Lock()
	defer mu.Unlock()
	if got := runs[c1.ID]; len(got) != 2 {
		t.Fatalf("call 1 ran %d times (%v), want 2", len(got), got)
	}
	if got := runs[c2.ID]; len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Fatalf("call 2 attempts=%v, want [1 2]: a rolled-back CompleteJob must leave the job to be retried", got)
	}
	if n := syncJobs(t, s); n != 4 {
		t.Fatalf("%d sync jobs, want 4 (one cancelled)", n)
	}
	if n := rawCount(t, s, `SELECT COUNT(*) FROM river_job WHERE state = 'cancelled'`); n != 1 {
		t.Fatalf("%d cancelled jobs, want 1: CompleteJob changed a cancelled job", n)
	}
}

// immediateRetry retries a failed job at once.
type immediateRetry struct{}

func (immediateRetry) NextRetry(*rivertype.JobRow) time.Time { return time.Now() }

// waitFor polls cond every 50 ms for up to 60 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
