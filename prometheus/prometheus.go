// Package prometheus exposes callbridge's metrics with the Prometheus client.
// Metrics holds the collectors and hands out the hooks other packages call
// (kommo.Config.OnRequest, pipeline.SyncWorker.OnSynced) and the wrappers
// that count what passes through them (InstrumentIngester with IngestStore,
// InstrumentLimiter, WatchJobs).
package prometheus

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are callbridge's collectors, registered on their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	// EventsIngested counts webhook and widget inputs by provider and outcome
	// ("stored", "duplicate", "rejected").
	EventsIngested *prometheus.CounterVec
	// KommoRequests counts Kommo API requests by endpoint template and status
	// code (0 when no response was read).
	KommoRequests *prometheus.CounterVec
	// KommoDuration is the latency of Kommo API requests in seconds.
	KommoDuration *prometheus.HistogramVec
	// SyncLatency is the time from hang-up to the call's state being in Kommo,
	// in seconds.
	SyncLatency prometheus.Histogram
	// LimiterWait is how long requests waited for the Kommo rate limiter, in
	// seconds, by outcome ("sent", or "refused" when the limiter gave up:
	// deadline, shutdown, database down). See InstrumentLimiter.
	LimiterWait *prometheus.HistogramVec
	// LimiterPenalties counts 429 and 403 answers that paused every request
	// to Kommo.
	LimiterPenalties prometheus.Counter

	jobScrapeErrors prometheus.Counter
}

// New returns Metrics registered on a fresh registry that also carries the Go
// runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		EventsIngested: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbridge_events_ingested_total", Help: "Inputs received, by provider and outcome.",
		}, []string{"provider", "outcome"}),
		KommoRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "callbridge_kommo_requests_total", Help: "Kommo API requests by endpoint and HTTP status (0 = no response).",
		}, []string{"endpoint", "status"}),
		KommoDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "callbridge_kommo_request_seconds", Help: "Kommo API request latency.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"endpoint"}),
		SyncLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "callbridge_sync_latency_seconds", Help: "Hang-up to Kommo latency of logged calls.",
			Buckets: prometheus.ExponentialBuckets(0.25, 2, 12),
		}),
	}
	m.LimiterWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "callbridge_kommo_limiter_wait_seconds", Help: "Time requests waited for the Kommo rate limiter.",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 11),
	}, []string{"outcome"})
	m.LimiterPenalties = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "callbridge_kommo_limiter_penalties_total", Help: "Kommo 429/403 answers that paused every request.",
	})
	m.jobScrapeErrors = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "callbridge_jobs_scrape_errors_total", Help: "Scrapes whose job count query failed.",
	})
	m.Registry.MustRegister(m.EventsIngested, m.KommoRequests, m.KommoDuration, m.SyncLatency,
		m.LimiterWait, m.LimiterPenalties, m.jobScrapeErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ObserveKommoRequest is a kommo.Config.OnRequest hook.
func (m *Metrics) ObserveKommoRequest(endpoint string, status int, d time.Duration) {
	m.KommoRequests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.KommoDuration.WithLabelValues(endpoint).Observe(d.Seconds())
}

// ObserveSync records a call's hang-up → Kommo latency.
func (m *Metrics) ObserveSync(latency time.Duration) {
	m.SyncLatency.Observe(latency.Seconds())
}
