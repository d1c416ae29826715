package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
)

// RulesInterval is how often the leader runs RulesWorker: the precision of
// the rules' deadlines (a recording is deleted at most this long after its
// 18 hours).
const RulesInterval = time.Minute

// DefaultSweepBatch is RulesWorker.Batch when 0.
const DefaultSweepBatch = 500

// RulesWorker wakes the calls whose rules are due (callbridge.CallRules.DueAt:
// a poll of an incoming lead, a recording deadline): for each, in one
// transaction, it bumps CallRules.Rev, clears DueAt and enqueues the call's
// sync job, which does the rest and sets the next DueAt. Register it with
// RegisterRules. It also records what Kommo's account webhook says about
// incoming leads (ResolveIncomingLeads), which wakes their calls the same
// way.
type RulesWorker struct {
	river.WorkerDefaults[callbridge.RulesSweepArgs]

	// Store must keep rule state (*sqlite.DB, *postgres.DB), not be a
	// wrapper that hides the store's own methods.
	Store callbridge.Store
	// Batch is how many due calls are read at a time (default
	// DefaultSweepBatch).
	Batch  int
	Now    func() time.Time
	Logger *slog.Logger
}

// RegisterRules adds w to workers and returns its periodic job (every
// RulesInterval, run by the elected leader), for river.Config.PeriodicJobs.
func RegisterRules(workers *river.Workers, w *RulesWorker) *river.PeriodicJob {
	river.AddWorker(workers, w)
	return river.NewPeriodicJob(river.PeriodicInterval(RulesInterval),
		func() (river.JobArgs, *river.InsertOpts) { return callbridge.RulesSweepArgs{}, nil }, nil)
}

// Work implements river.Worker.
func (w *RulesWorker) Work(ctx context.Context, _ *river.Job[callbridge.RulesSweepArgs]) error {
	_, err := w.Sweep(ctx)
	return err
}

// Sweep wakes every call whose rules are due now and returns how many it
// woke. A store that keeps no rule state has none.
func (w *RulesWorker) Sweep(ctx context.Context) (int, error) {
	rq, ok := w.Store.(ruleQueries)
	if !ok {
		return 0, nil
	}
	now := w.now()
	batch := w.Batch
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	woke := 0
	for {
		due, err := rq.ListDueCalls(ctx, now, batch)
		if err != nil {
			return woke, err
		}
		for _, d := range due {
			err := w.Store.InTx(ctx, func(q callbridge.Queries) error {
				if _, err := q.LockCallByID(ctx, d.AccountID, d.CallID); err != nil {
					return err
				}
				rq := q.(ruleQueries)
				cr, err := rq.FindCallRules(ctx, d.AccountID, d.CallID)
				if err != nil {
					return err
				}
				if cr.DueAt.IsZero() || cr.DueAt.After(now) {
					return nil // changed meanwhile
				}
				cr.Rev++
				cr.DueAt = time.Time{}
				if err := rq.SaveCallRules(ctx, cr); err != nil {
					return err
				}
				woke++
				return q.EnqueueSync(ctx, d.AccountID, d.CallID, time.Time{})
			})
			if err != nil && callbridge.ErrorCode(err) != callbridge.ENOTFOUND {
				return woke, err
			}
		}
		if len(due) < batch {
			break
		}
	}
	if woke > 0 && w.Logger != nil {
		w.Logger.Debug("rules: woke due calls", "calls", woke)
	}
	return woke, nil
}

func (w *RulesWorker) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}
