package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
)

// Operator job listing limits.
const (
	// DefaultJobLimit is the number of jobs JobAdmin lists when limit is 0.
	DefaultJobLimit = 100
	// MaxJobLimit is the most jobs JobAdmin lists at once.
	MaxJobLimit = 1000
)

// FailedJobStates are the states of jobs an operator may need to look at: the
// job gave up (discarded), was cancelled, or failed and waits for a retry.
var FailedJobStates = []rivertype.JobState{
	rivertype.JobStateDiscarded,
	rivertype.JobStateCancelled,
	rivertype.JobStateRetryable,
}

// JobAdmin lets operators see and retry River jobs (the operator pages, the
// jobs metric). It works on either database; build it with NewJobAdmin from
// the database's River client (sqlite.DB.RiverClient, postgres.DB.RiverClient)
// after ConfigureJobs. It is safe for concurrent use.
type JobAdmin struct {
	dialect string
	schema  string
	list    func(context.Context, *river.JobListParams) (*river.JobListResult, error)
	retry   func(context.Context, int64) (*rivertype.JobRow, error)
	count   func(context.Context, *riverdriver.JobCountByAllStatesParams) (map[rivertype.JobState]int, error)
}

// NewJobAdmin returns a JobAdmin over client. dialect is DialectSQLite or
// DialectPostgres; schema is River's schema ("" for SQLite and for
// PostgreSQL's search_path).
func NewJobAdmin[TTx any](client *river.Client[TTx], dialect, schema string) *JobAdmin {
	return &JobAdmin{
		dialect: dialect,
		schema:  schema,
		list:    client.JobList,
		retry:   client.JobRetry,
		count:   client.Driver().GetExecutor().JobCountByAllStates,
	}
}

// CountJobs returns how many jobs are in each state.
func (a *JobAdmin) CountJobs(ctx context.Context) (map[rivertype.JobState]int, error) {
	n, err := a.count(ctx, &riverdriver.JobCountByAllStatesParams{Schema: a.schema})
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	return n, nil
}

// ListJobs returns jobs in the given states (all states when none), the most
// recently created first, at most limit (default DefaultJobLimit, at most
// MaxJobLimit).
func (a *JobAdmin) ListJobs(ctx context.Context, states []rivertype.JobState, limit int) ([]*rivertype.JobRow, error) {
	p := river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(jobLimit(limit))
	if len(states) > 0 {
		p = p.States(states...)
	} else {
		p = p.States(allJobStates...)
	}
	return a.run(ctx, p)
}

// ListCallJobs returns the sync jobs of the call with id callID (their
// attempts are the call's writes to Kommo), newest first, at most limit.
func (a *JobAdmin) ListCallJobs(ctx context.Context, callID int64, limit int) ([]*rivertype.JobRow, error) {
	where := `(args->>'call_id')::bigint = @call_id`
	if a.dialect == DialectSQLite {
		where = `args ->> '$.call_id' = @call_id`
	}
	p := river.NewJobListParams().Kinds(callbridge.SyncCallArgs{}.Kind()).States(allJobStates...).
		Where(where, river.NamedArgs{"call_id": callID}).
		OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(jobLimit(limit))
	return a.run(ctx, p)
}

// RetryJob makes the job with id run again as soon as possible, whatever its
// state (a running job is left alone). It returns ENOTFOUND for an unknown id.
func (a *JobAdmin) RetryJob(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	job, err := a.retry(ctx, id)
	if err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			return nil, callbridge.Errorf(callbridge.ENOTFOUND, "Job not found.")
		}
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	return job, nil
}

func (a *JobAdmin) run(ctx context.Context, p *river.JobListParams) ([]*rivertype.JobRow, error) {
	res, err := a.list(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	return res.Jobs, nil
}

func jobLimit(limit int) int {
	if limit <= 0 {
		return DefaultJobLimit
	}
	return min(limit, MaxJobLimit)
}

// allJobStates lists every state explicitly, so that listings do not depend
// on River's default state filter.
var allJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}
