package prometheus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
	"callbridge/pipeline"
	"callbridge/prometheus"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

func TestInstrumentIngester(t *testing.T) {
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	acct := &callbridge.Account{KommoID: 51000001, Subdomain: "metrics"}
	if err := db.UpsertAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	conn := &callbridge.Connection{AccountID: acct.ID, Provider: "twilio", Credentials: map[string]string{}}
	if err := db.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	m := prometheus.New()
	in := m.InstrumentIngester(&pipeline.Ingester{Store: m.IngestStore(db), Hold: -1})
	ev := func(key string) callbridge.CallEvent {
		return callbridge.CallEvent{Type: callbridge.EventStatus, Key: key, ProviderCallID: "CA1", Status: callbridge.StatusRinging,
			Direction: callbridge.DirectionInbound, CustomerNumber: "+14155550100"}
	}
	count := func(provider, outcome string) float64 {
		return value(t, m.EventsIngested.WithLabelValues(provider, outcome))
	}

	// Two new events, then a provider retry of one of them with a new one.
	if err := in.Ingest(ctx, conn, []callbridge.CallEvent{ev("a"), ev("b")}); err != nil {
		t.Fatal(err)
	}
	if err := in.Ingest(ctx, conn, []callbridge.CallEvent{ev("b"), ev("c")}); err != nil {
		t.Fatal(err)
	}
	if got, want := count("twilio", prometheus.OutcomeStored), 3.0; got != want {
		t.Errorf("stored = %v, want %v", got, want)
	}
	if got, want := count("twilio", prometheus.OutcomeDuplicate), 1.0; got != want {
		t.Errorf("duplicate = %v, want %v", got, want)
	}
	// An event without a key is refused for good.
	if err := in.Ingest(ctx, conn, []callbridge.CallEvent{ev("")}); callbridge.ErrorCode(err) != callbridge.EINVALID {
		t.Fatalf("Ingest without a key = %v, want EINVALID", err)
	}
	if got := count("twilio", prometheus.OutcomeRejected); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
	// A call result from the widget, and one for a call of nobody.
	_, err := in.SaveResult(ctx, acct, callbridge.ResultInput{Key: "r1", ConnectionID: conn.ID, ProviderCallID: "CA1",
		Result: callbridge.CallResult{Text: "ok", CallStatus: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.SaveResult(ctx, acct, callbridge.ResultInput{Key: "r2", CallUID: "cb-nosuchcall"}); err == nil {
		t.Fatal("SaveResult for an unknown call succeeded")
	}
	if got := count(prometheus.ProviderWidget, prometheus.OutcomeStored); got != 1 {
		t.Errorf("widget stored = %v, want 1", got)
	}
	if got := count(prometheus.ProviderWidget, prometheus.OutcomeRejected); got != 1 {
		t.Errorf("widget rejected = %v, want 1", got)
	}
}

type fakeLimiter struct {
	err       error
	penalized time.Time
}

func (f *fakeLimiter) Wait(ctx context.Context, accountID int64) error { return f.err }
func (f *fakeLimiter) Penalize(until time.Time)                        { f.penalized = until }

func TestInstrumentLimiter(t *testing.T) {
	m := prometheus.New()
	f := &fakeLimiter{}
	l := m.InstrumentLimiter(f)
	_ = l.Wait(t.Context(), 1)
	_ = l.Wait(t.Context(), 1)
	f.err = errors.New("deadline")
	if err := l.Wait(t.Context(), 1); err == nil {
		t.Fatal("the wrapper swallowed the limiter's error")
	}
	until := time.Now().Add(time.Second)
	l.Penalize(until)
	if !f.penalized.Equal(until) {
		t.Fatal("Penalize was not passed on")
	}
	if got := value(t, m.LimiterPenalties); got != 1 {
		t.Errorf("penalties = %v, want 1", got)
	}
	for outcome, want := range map[string]uint64{"sent": 2, "refused": 1} {
		var d dto.Metric
		if err := m.LimiterWait.WithLabelValues(outcome).(prom.Histogram).Write(&d); err != nil {
			t.Fatal(err)
		}
		if got := d.GetHistogram().GetSampleCount(); got != want {
			t.Errorf("%s waits observed: %d, want %d", outcome, got, want)
		}
	}
}

// value reads a counter's or gauge's value.
func value(t *testing.T, c prom.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return d.GetCounter().GetValue()
	}
	return d.GetGauge().GetValue()
}

// gather returns the samples of the named metric family as "label=value"
// strings mapped to their values.
func gather(t *testing.T, m *prometheus.Metrics, name string) map[string]float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			var labels []string
			for _, l := range s.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := s.GetGauge().GetValue() + s.GetCounter().GetValue()
			out[strings.Join(labels, ",")] = v
		}
	}
	return out
}

type fakeCounter struct {
	counts map[rivertype.JobState]int
	err    error
}

func (f *fakeCounter) CountJobs(context.Context) (map[rivertype.JobState]int, error) {
	return f.counts, f.err
}

func TestWatchJobs(t *testing.T) {
	m := prometheus.New()
	f := &fakeCounter{counts: map[rivertype.JobState]int{rivertype.JobStateAvailable: 3, rivertype.JobStateDiscarded: 1}}
	m.WatchJobs(f)
	got := gather(t, m, "callbridge_jobs")
	want := map[string]float64{"state=available": 3, "state=cancelled": 0, "state=completed": 0, "state=discarded": 1,
		"state=pending": 0, "state=retryable": 0, "state=running": 0, "state=scheduled": 0}
	if len(got) != len(want) {
		t.Fatalf("callbridge_jobs = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("callbridge_jobs{%s} = %v, want %v", k, got[k], v)
		}
	}
	f.err = errors.New("database down")
	if got := gather(t, m, "callbridge_jobs"); len(got) != 0 {
		t.Fatalf("a failed count reported %v, want no samples", got)
	}
	if got := gather(t, m, "callbridge_jobs_scrape_errors_total"); got[""] < 1 {
		t.Fatalf("scrape errors = %v, want at least 1", got)
	}
}
