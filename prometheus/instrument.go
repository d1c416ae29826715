package prometheus

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
)

// Outcomes of EventsIngested.
const (
	// OutcomeStored: the event was new and is stored.
	OutcomeStored = "stored"
	// OutcomeDuplicate: the event was a provider's retry of one already
	// stored; nothing changed.
	OutcomeDuplicate = "duplicate"
	// OutcomeRejected: the input was refused for good (invalid, or the
	// account was disconnected).
	OutcomeRejected = "rejected"
	// OutcomeFailed: the input could not be stored this time (the database
	// failed); the provider retries.
	OutcomeFailed = "failed"
)

// ProviderWidget is the provider label of call results saved in the widget.
const ProviderWidget = "widget"

// Ingester is what InstrumentIngester wraps: package pipeline's Ingester, as
// package http uses it.
type Ingester interface {
	Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error
	SaveResult(ctx context.Context, acct *callbridge.Account, in callbridge.ResultInput) (*callbridge.Call, error)
}

// tally counts what one ingest stored; it travels in the context from
// instrumentedIngester to countingQueries.
type tally struct{ stored, duplicate atomic.Int64 }

type tallyKey struct{}

// IngestStore wraps the store an Ingester writes to, so that the Ingester
// wrapped by InstrumentIngester can tell stored events from duplicates. Only
// InTx changes, and only inside an instrumented Ingest or SaveResult: there
// the Queries it passes count InsertEvent's outcomes and offer the methods of
// callbridge.Queries alone (a type assertion to a wider interface fails).
// Give the result to pipeline.Ingester.Store only.
func (m *Metrics) IngestStore(s callbridge.Store) callbridge.Store { return countingStore{s} }

type countingStore struct{ callbridge.Store }

func (s countingStore) InTx(ctx context.Context, fn func(q callbridge.Queries) error) error {
	if ctx.Value(tallyKey{}) == nil {
		return s.Store.InTx(ctx, fn)
	}
	return s.Store.InTx(ctx, func(q callbridge.Queries) error { return fn(countingQueries{q}) })
}

type countingQueries struct{ callbridge.Queries }

func (q countingQueries) InsertEvent(ctx context.Context, ev *callbridge.CallEvent) (bool, error) {
	ok, err := q.Queries.InsertEvent(ctx, ev)
	if t, _ := ctx.Value(tallyKey{}).(*tally); t != nil && err == nil {
		if ok {
			t.stored.Add(1)
		} else {
			t.duplicate.Add(1)
		}
	}
	return ok, err
}

// InstrumentIngester counts every input in EventsIngested by provider (the
// connection's, or "widget" for call results) and outcome. With a store
// wrapped by IngestStore the committed events are split into "stored" and
// "duplicate"; without it they all count as "stored".
func (m *Metrics) InstrumentIngester(in Ingester) Ingester {
	return &instrumentedIngester{in: in, m: m}
}

type instrumentedIngester struct {
	in Ingester
	m  *Metrics
}

func (i *instrumentedIngester) Ingest(ctx context.Context, conn *callbridge.Connection, events []callbridge.CallEvent) error {
	t := &tally{}
	err := i.in.Ingest(context.WithValue(ctx, tallyKey{}, t), conn, events)
	i.count(conn.Provider, int64(len(events)), t, err)
	return err
}

func (i *instrumentedIngester) SaveResult(ctx context.Context, acct *callbridge.Account, r callbridge.ResultInput) (*callbridge.Call, error) {
	t := &tally{}
	call, err := i.in.SaveResult(context.WithValue(ctx, tallyKey{}, t), acct, r)
	i.count(ProviderWidget, 1, t, err)
	return call, err
}

func (i *instrumentedIngester) count(provider string, n int64, t *tally, err error) {
	if n == 0 {
		return
	}
	c := i.m.EventsIngested
	if err != nil {
		switch callbridge.ErrorCode(err) {
		case callbridge.EINVALID, callbridge.EGONE, callbridge.ENOTFOUND, callbridge.EFORBIDDEN:
			c.WithLabelValues(provider, OutcomeRejected).Add(float64(n))
		default:
			c.WithLabelValues(provider, OutcomeFailed).Add(float64(n))
		}
		return
	}
	stored, dup := t.stored.Load(), t.duplicate.Load()
	if stored+dup == 0 {
		stored = n // the store was not wrapped by IngestStore
	}
	if stored > 0 {
		c.WithLabelValues(provider, OutcomeStored).Add(float64(stored))
	}
	if dup > 0 {
		c.WithLabelValues(provider, OutcomeDuplicate).Add(float64(dup))
	}
}

// Limiter is what InstrumentLimiter wraps: a kommo.Limiter.
type Limiter interface {
	Wait(ctx context.Context, accountID int64) error
	Penalize(until time.Time)
}

// InstrumentLimiter records every Wait in LimiterWait (outcome "sent" or
// "refused") and every Penalize in LimiterPenalties.
func (m *Metrics) InstrumentLimiter(l Limiter) Limiter { return &instrumentedLimiter{l: l, m: m} }

type instrumentedLimiter struct {
	l Limiter
	m *Metrics
}

func (i *instrumentedLimiter) Wait(ctx context.Context, accountID int64) error {
	start := time.Now()
	err := i.l.Wait(ctx, accountID)
	outcome := "sent"
	if err != nil {
		outcome = "refused"
	}
	i.m.LimiterWait.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	return err
}

func (i *instrumentedLimiter) Penalize(until time.Time) {
	i.m.LimiterPenalties.Inc()
	i.l.Penalize(until)
}

// JobCounter counts River jobs by state (store.JobAdmin).
type JobCounter interface {
	CountJobs(ctx context.Context) (map[rivertype.JobState]int, error)
}

// jobStates are reported even when no job is in them, so that dashboards
// see zeros rather than gaps.
var jobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStateCancelled, rivertype.JobStateCompleted,
	rivertype.JobStateDiscarded, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// jobsScrapeTimeout bounds the count query of one scrape.
const jobsScrapeTimeout = 3 * time.Second

// WatchJobs reports callbridge_jobs{state}, the number of jobs in each state,
// counted by c at every scrape (3 s at most; a failed count is reported as
// callbridge_jobs_scrape_errors_total and no callbridge_jobs sample). Jobs
// live in the shared database, so every replica reports the same numbers:
// aggregate them with max, not sum. Call it once.
func (m *Metrics) WatchJobs(c JobCounter) {
	m.Registry.MustRegister(&jobsCollector{
		c:    c,
		desc: prometheus.NewDesc("callbridge_jobs", "River jobs by state (the whole database, not this replica).", []string{"state"}, nil),
		errs: m.jobScrapeErrors,
	})
}

type jobsCollector struct {
	c    JobCounter
	desc *prometheus.Desc
	errs prometheus.Counter
}

func (j *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- j.desc }

func (j *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), jobsScrapeTimeout)
	defer cancel()
	counts, err := j.c.CountJobs(ctx)
	if err != nil {
		j.errs.Inc()
		return
	}
	for _, s := range jobStates {
		ch <- prometheus.MustNewConstMetric(j.desc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
