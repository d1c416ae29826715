package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
)

// EnqueueSync implements callbridge.Queries. The job is unique by its args
// while available, pending, scheduled, retryable or running; a completed job
// does not block a new one.
//
// Most calls get many inputs while their job waits (the hold), so EnqueueSync
// first looks for that job with one indexed SELECT on River's unique key, and
// only when there is none asks River to insert one (River's unique insert,
// which costs several times more). The look-up sees committed jobs and the
// transaction's own; a job another transaction is inserting is still caught
// by River's unique index, which makes the insert wait and then skip. When the look-up finds
// nothing because River computes its keys differently from syncUniqueKey
// (a River upgrade), every call simply takes the slower insert.
func (q *queries) EnqueueSync(ctx context.Context, accountID, callID int64, at time.Time) error {
	return q.EnqueueSyncs(ctx, []callbridge.SyncRequest{{AccountID: accountID, CallID: callID, At: at}})
}

// syncUniqueStates are the states in which a sync job blocks another for the
// same call.
var syncUniqueStates = []rivertype.JobState{
	rivertype.JobStateAvailable,
	rivertype.JobStatePending,
	rivertype.JobStateRunning,
	rivertype.JobStateScheduled,
	rivertype.JobStateRetryable,
}

// syncUniqueKey is River's unique_key of SyncCallArgs{accountID, callID}
// inserted with UniqueOpts{ByArgs: true}: SHA-256 of the kind and the args
// as JSON with sorted keys (River's dbunique.UniqueKey, v0.47). A test
// checks it against the keys River stores.
func syncUniqueKey(accountID, callID int64) []byte {
	b := make([]byte, 0, 80)
	b = append(b, `&kind=sync_call&args={"account_id":`...)
	b = strconv.AppendInt(b, accountID, 10)
	b = append(b, `,"call_id":`...)
	b = strconv.AppendInt(b, callID, 10)
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return sum[:]
}

// syncPendingSQLite and syncPendingPostgres are the condition, besides the
// unique key, of a job that blocks another sync job of its call. They repeat
// the predicate of River's partial unique index (river_job_unique_idx) so
// that both databases look the key up in that index.
const (
	syncPendingSQLite = `unique_key IS NOT NULL
			AND unique_states IS NOT NULL
			AND CASE state
				WHEN 'available' THEN unique_states & (1 << 0)
				WHEN 'cancelled' THEN unique_states & (1 << 1)
				WHEN 'completed' THEN unique_states & (1 << 2)
				WHEN 'discarded' THEN unique_states & (1 << 3)
				WHEN 'pending'   THEN unique_states & (1 << 4)
				WHEN 'retryable' THEN unique_states & (1 << 5)
				WHEN 'running'   THEN unique_states & (1 << 6)
				WHEN 'scheduled' THEN unique_states & (1 << 7)
				ELSE 0
			END >= 1
			AND state IN ('available', 'pending', 'running', 'scheduled', 'retryable')`
	syncPendingPostgres = `unique_key IS NOT NULL
			AND unique_states IS NOT NULL
			AND river_job_state_in_bitmask(unique_states, state)
			AND state IN ('available', 'pending', 'running', 'scheduled', 'retryable')`
)

// CompleteJob implements callbridge.Queries. Completing a job that is already
// completed succeeds and changes nothing. It returns ENOTFOUND when the job
// does not exist and ECONFLICT when it is in another state (cancelled,
// discarded, …).
func (q *queries) CompleteJob(ctx context.Context, jobID int64) error {
	err := q.tx.CompleteJob(ctx, jobID)
	switch {
	case errors.Is(err, rivertype.ErrNotFound):
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Job not found.", Err: err}
	case errors.Is(err, ErrJobNotRunning):
		return &callbridge.Error{Code: callbridge.ECONFLICT, Message: "Job is no longer running.", Err: err}
	}
	if err != nil {
		return fmt.Errorf("complete job %d: %w", jobID, err)
	}
	return nil
}

// jobRef is the args type CompleteJobTx hands to river.JobCompleteTx, which
// only needs the job's id and state; the stored args decode into it and are
// ignored.
type jobRef struct{}

func (jobRef) Kind() string { return "callbridge_job_ref" }

// CompleteJobTx marks the running job jobID completed in tx with
// river.JobCompleteTx. TDriver is the River driver type of the worker's client
// (e.g. *riversqlite.Driver); ctx must be the worker's context. Backends call
// it from Tx.CompleteJob.
func CompleteJobTx[TDriver riverdriver.Driver[TTx], TTx any](ctx context.Context, tx TTx, jobID int64) error {
	// river.JobCompleteTx panics outside a worker; report that as an error.
	if _, err := river.ClientFromContextSafely[TTx](ctx); err != nil {
		return err
	}
	job := &river.Job[jobRef]{JobRow: &rivertype.JobRow{ID: jobID, State: rivertype.JobStateRunning}}
	done, err := river.JobCompleteTx[TDriver](ctx, tx, job)
	if err != nil {
		return err
	}
	// River leaves a job that is no longer running as it is and returns it.
	if done.State != rivertype.JobStateCompleted {
		return fmt.Errorf("%w: job %d is %s", ErrJobNotRunning, jobID, done.State)
	}
	return nil
}

// ErrJobNotRunning is returned (wrapped) by CompleteJobTx for a job that was
// neither running nor completed, e.g. cancelled from the River UI.
var ErrJobNotRunning = errors.New("store: job is not running")

// Job defaults.
const (
	// DefaultMaxWorkers is JobConfig.MaxWorkers when 0.
	DefaultMaxWorkers = 20
	// DefaultMaxAttempts is JobConfig.MaxAttempts when 0.
	DefaultMaxAttempts = 100
	// DefaultJobTimeout is JobConfig.JobTimeout when 0.
	DefaultJobTimeout = 2 * time.Minute
)

// JobConfig configures River job processing for a database. The zero value is
// an insert-only client: jobs are enqueued but not worked.
type JobConfig struct {
	// Workers are the registered workers. Nil makes the client insert-only and
	// Start a no-op. When set, River refuses to insert a job whose kind has no
	// worker, so register both sync_call and install.
	Workers *river.Workers
	// MaxWorkers is how many jobs this process works at once (default 20).
	MaxWorkers int
	// PeriodicJobs are enqueued by the elected leader.
	PeriodicJobs []*river.PeriodicJob
	// RetryPolicy decides when a failed job runs again (default
	// ExponentialRetryPolicy{}: 1 s doubling to at most 5 min, ±10% jitter).
	RetryPolicy river.ClientRetryPolicy
	// MaxAttempts is how many times a job runs before it is discarded
	// (default 100; snoozes do not count).
	MaxAttempts int
	// JobTimeout cancels a job's context after this long (default 2 min; -1
	// for no timeout).
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River's rescuer
	// (checking every 30 s) makes it retryable: the recovery time of jobs
	// whose replica died (PostgreSQL). Default JobTimeout + 1 min; it must
	// exceed JobTimeout.
	RescueAfter time.Duration
	// FetchPollInterval is how often idle workers poll for jobs (River's
	// default 1 s). Values under River's 100 ms fetch cooldown lower the
	// cooldown too.
	FetchPollInterval time.Duration
	// ErrorHandler is told about job errors and panics.
	ErrorHandler river.ErrorHandler
	// Middleware wraps job inserts and work (rivertype.Middleware).
	Middleware []rivertype.Middleware
	// Hooks are River hooks (rivertype.Hook), e.g. for metrics.
	Hooks []rivertype.Hook
	// ID names this client for leader election; random when empty.
	ID string
	// TestOnly disables River's jittered start-up delays; for tests only.
	TestOnly bool
}

// ExponentialRetryPolicy retries after Base·2^(attempt−1), at most Max, with
// ±10% random jitter. Zero fields use Base = 1 s and Max = 5 min.
type ExponentialRetryPolicy struct {
	Base time.Duration
	Max  time.Duration
}

// NextRetry implements river.ClientRetryPolicy.
func (p ExponentialRetryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	base := cmp.Or(max(p.Base, 0), time.Second)
	maxWait := cmp.Or(max(p.Max, 0), 5*time.Minute)
	attempt := max(job.Attempt, 1)
	wait := float64(base) * math.Pow(2, float64(min(attempt-1, 62)))
	wait = min(wait, float64(maxWait))
	wait *= 0.9 + 0.2*rand.Float64()
	return time.Now().UTC().Add(time.Duration(wait))
}

// RiverConfig returns the River client configuration for c. schema is River's
// Config.Schema ("" for SQLite and for PostgreSQL's search_path).
func (c JobConfig) RiverConfig(logger *slog.Logger, schema string) *river.Config {
	if logger == nil {
		logger = slog.Default()
	}
	cfg := &river.Config{
		ErrorHandler:      c.ErrorHandler,
		FetchPollInterval: c.FetchPollInterval,
		Hooks:             c.Hooks,
		ID:                c.ID,
		JobTimeout:        cmp.Or(c.JobTimeout, DefaultJobTimeout),
		Logger:            logger,
		MaxAttempts:       DefaultMaxAttempts,
		Middleware:        c.Middleware,
		PeriodicJobs:      c.PeriodicJobs,
		RetryPolicy:       c.RetryPolicy,
		Schema:            schema,
		TestOnly:          c.TestOnly,
		Workers:           c.Workers,
	}
	if c.MaxAttempts > 0 {
		cfg.MaxAttempts = c.MaxAttempts
	}
	if cfg.JobTimeout > 0 {
		cfg.RescueStuckJobsAfter = max(c.RescueAfter, cfg.JobTimeout+time.Second)
		if c.RescueAfter <= 0 {
			cfg.RescueStuckJobsAfter = cfg.JobTimeout + time.Minute
		}
	}
	if cfg.RetryPolicy == nil {
		cfg.RetryPolicy = ExponentialRetryPolicy{}
	}
	if c.FetchPollInterval > 0 && c.FetchPollInterval < river.FetchCooldownDefault {
		cfg.FetchCooldown = max(c.FetchPollInterval, river.FetchCooldownMin)
	}
	if c.Workers != nil {
		cfg.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cmp.Or(max(c.MaxWorkers, 0), DefaultMaxWorkers)},
		}
	}
	return cfg
}

// Jobs owns the River client of one database. Until Start it may be
// reconfigured (Configure); afterwards its client is fixed. It is safe for
// concurrent use.
type Jobs[TTx any] struct {
	driver riverdriver.Driver[TTx]
	logger *slog.Logger
	schema string

	mu      sync.Mutex
	client  *river.Client[TTx]
	hasWork bool
	started bool
	stopped bool
}

// NewJobs returns the job control for driver, with a client built from cfg.
func NewJobs[TTx any](driver riverdriver.Driver[TTx], logger *slog.Logger, schema string, cfg JobConfig) (*Jobs[TTx], error) {
	j := &Jobs[TTx]{driver: driver, logger: logger, schema: schema}
	if err := j.Configure(cfg); err != nil {
		return nil, err
	}
	return j, nil
}

// Configure replaces the client with one built from cfg. It fails once Start
// has been called. It exists because workers usually need the store, so they
// are built after it.
func (j *Jobs[TTx]) Configure(cfg JobConfig) error {
	client, err := river.NewClient(j.driver, cfg.RiverConfig(j.logger, j.schema))
	if err != nil {
		return fmt.Errorf("river client: %w", err)
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.started {
		return errors.New("jobs: cannot configure after Start")
	}
	j.client, j.hasWork = client, cfg.Workers != nil
	return nil
}

// Client returns the current River client.
func (j *Jobs[TTx]) Client() *river.Client[TTx] {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.client
}

// InsertTx inserts a job in tx with the current client and reports whether
// it was skipped as a duplicate.
func (j *Jobs[TTx]) InsertTx(ctx context.Context, tx TTx, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	res, err := j.Client().InsertTx(ctx, tx, args, opts)
	if err != nil {
		return false, err
	}
	return res.UniqueSkippedAsDuplicate, nil
}

// Start starts working jobs when workers are configured; otherwise it does
// nothing. The client runs until Stop, or until ctx is cancelled.
func (j *Jobs[TTx]) Start(ctx context.Context) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.started {
		return errors.New("jobs: already started")
	}
	j.started = true
	if !j.hasWork {
		return nil
	}
	return j.client.Start(ctx)
}

// Stop stops fetching jobs and waits for running ones to finish. When ctx ends
// first, the running jobs' contexts are cancelled and Stop waits up to 10 s
// more for them to return; it then returns ctx's error.
func (j *Jobs[TTx]) Stop(ctx context.Context) error {
	j.mu.Lock()
	run := j.started && j.hasWork && !j.stopped
	j.stopped = true
	client := j.client
	j.mu.Unlock()
	if !run {
		return nil
	}
	err := client.Stop(ctx)
	if err != nil && ctx.Err() != nil {
		hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if herr := client.StopAndCancel(hctx); herr != nil {
			j.logger.Warn("jobs: hard stop did not finish", "err", herr)
		}
	}
	return err
}
