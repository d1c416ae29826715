package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	nethttp "net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	"callbridge/declarative"
	cbhttp "callbridge/http"
	"callbridge/kommo"
	"callbridge/pipeline"
	"callbridge/postgres"
	"callbridge/prometheus"
	"callbridge/ringcentral"
	"callbridge/secret"
	"callbridge/sqlite"
	"callbridge/store"
	"callbridge/twilio"
	"callbridge/zenvia"
)

// ServeCommand runs the server.
type ServeCommand struct{}

// Run parses flags and serves until ctx is cancelled.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("callbridge serve", flag.ContinueOnError)
	var cfg Config
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := NewMain(cfg)
	if err := m.Open(ctx); err != nil {
		return err
	}
	m.Logger.Info("callbridge serving", "url", m.HTTP.URL(), "public_url", m.Config.PublicURL,
		"db", m.dbKind(), "version", callbridge.Version)
	if m.Config.KommoClientID == "" {
		m.Logger.Warn("no Kommo integration configured (--kommo-client-id, --kommo-client-secret): webhooks are stored but nothing is written to Kommo until an account installs")
	}
	<-ctx.Done()
	m.draining.Store(true)
	if d := m.Config.DrainDelay; d > 0 {
		m.Logger.Info("draining: /readyz fails; still serving", "for", d)
		time.Sleep(d)
	}
	timeout := m.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	shutdown, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return m.Close(shutdown)
}

// database is what Main needs of sqlite.DB and postgres.DB.
type database interface {
	callbridge.Store
	ConfigureJobs(store.JobConfig) error
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	Close() error
	Ping(ctx context.Context) error
	SchemaVersion(ctx context.Context) (int64, error)
}

// Main is the assembled server: database, job workers, Kommo client, HTTP.
// It is wiring only; every behaviour lives in the packages it assembles.
type Main struct {
	Config Config
	Logger *slog.Logger

	DB       database
	Kommo    *kommo.Client
	Ingester *pipeline.Ingester
	Sync     *pipeline.SyncWorker
	HTTP     *cbhttp.Server
	Realtime *cbhttp.Realtime
	Metrics  *prometheus.Metrics

	// Extra connectors (tests, simulators) merged over the built-in ones.
	Connectors map[string]callbridge.Connector
	// KommoLimiter overrides the limiter (tests). By default it is the
	// shared PostgreSQL limiter with --db postgres://… (unless
	// --kommo-local-limit), the in-process one otherwise.
	KommoLimiter kommo.Limiter

	// Jobs lists and retries jobs for the operator pages and the jobs metric.
	Jobs *store.JobAdmin
	// RiverUI is River's UI, built when an operator token is set.
	RiverUI *cbhttp.RiverUI

	draining      atomic.Bool // Close has begun: /readyz answers 503
	schemaVersion int64       // the migration Open left the database at
	stopUI        context.CancelFunc
}

// NewMain returns an unopened Main for cfg.
func NewMain(cfg Config) *Main {
	return &Main{Config: cfg}
}

func (m *Main) dbKind() string {
	if m.Config.Postgres() {
		return "postgres"
	}
	return "sqlite:" + m.Config.DB
}

func newLogger(format, level string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// Open opens the database (running migrations), assembles the parts, starts
// the job workers and starts serving HTTP.
func (m *Main) Open(ctx context.Context) (err error) {
	if err := m.Config.finish(); err != nil {
		return err
	}
	if m.Logger == nil {
		m.Logger = newLogger(m.Config.LogFormat, m.Config.LogLevel)
	}
	key, err := secret.LoadKey(m.Config.SecretKey, m.Config.SecretKeyFile)
	if err != nil {
		return fmt.Errorf("secret key: %w", err)
	}
	box, err := secret.New(key)
	if err != nil {
		return err
	}
	if m.Config.Postgres() {
		m.DB, err = postgres.Open(ctx, m.Config.DB, box, postgres.Options{Logger: m.Logger, Schema: m.Config.DBSchema})
	} else {
		m.DB, err = sqlite.Open(ctx, m.Config.DB, box, sqlite.Options{Logger: m.Logger})
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if m.Realtime != nil {
				m.Realtime.Close()
			}
			m.DB.Close()
		}
	}()
	m.Metrics = prometheus.New()

	if m.schemaVersion, err = m.DB.SchemaVersion(ctx); err != nil {
		return err
	}

	limiter := m.KommoLimiter
	if pg, ok := m.DB.(*postgres.DB); limiter == nil && ok && !m.Config.KommoLocalLimit {
		limiter = postgres.NewLimiter(pg, postgres.LimiterOptions{RPS: m.Config.KommoRPS, Egress: m.Config.KommoEgress, Logger: m.Logger})
	} else if limiter == nil {
		limiter = kommo.NewLimiter(m.Config.KommoRPS, 1)
	}
	m.Kommo = kommo.NewClient(kommo.Config{
		ClientID: m.Config.KommoClientID, ClientSecret: m.Config.KommoClientSecret,
		RedirectURI: m.Config.KommoRedirectURI, BaseURL: m.Config.KommoBaseURL,
		Limiter: m.Metrics.InstrumentLimiter(limiter), BatchWait: m.Config.KommoBatchWait,
		Logger: m.Logger, OnRequest: m.Metrics.ObserveKommoRequest,
	}, m.DB)

	recordingKey := deriveKey(key, "callbridge recording links")
	m.Ingester = &pipeline.Ingester{Store: m.Metrics.IngestStore(m.DB), Hold: m.Config.Hold, Logger: m.Logger}
	if m.Config.Hold == 0 {
		m.Ingester.Hold = -1 // --hold 0 means no hold
	}
	m.Sync = &pipeline.SyncWorker{
		Store: m.DB, Kommo: m.Kommo, PublicURL: m.Config.PublicURL, RecordingKey: recordingKey,
		Logger: m.Logger, OnSynced: func(_ *callbridge.Call, d time.Duration) { m.Metrics.ObserveSync(d) },
	}
	connectors, err := m.connectors()
	if err != nil {
		return err
	}
	m.Sync.Connectors = connectors
	// Kommo's account webhook tells us when an incoming lead is accepted or
	// declined; its address carries a token signed with hookKey.
	hookKey := deriveKey(key, "callbridge kommo hooks")
	hooks := &pipeline.Hooks{Kommo: m.Kommo, PublicURL: m.Config.PublicURL, Key: hookKey, Logger: m.Logger}
	rules := &pipeline.RulesWorker{Store: m.DB, Logger: m.Logger}
	workers := river.NewWorkers()
	river.AddWorker(workers, m.Sync)
	river.AddWorker(workers, &pipeline.InstallWorker{Store: m.DB, Kommo: m.Kommo, Hooks: hooks, Logger: m.Logger})
	river.AddWorker(workers, &pipeline.MaintainWorker{Store: m.DB, Ingester: m.Ingester, Connectors: connectors,
		PublicURL: m.Config.PublicURL, Hooks: hooks, Logger: m.Logger})
	periodic := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(pipeline.MaintainInterval),
			func() (river.JobArgs, *river.InsertOpts) { return callbridge.MaintainArgs{}, nil }, nil),
		pipeline.RegisterRules(workers, rules),
	}
	if err := m.DB.ConfigureJobs(store.JobConfig{Workers: workers, MaxWorkers: m.Config.Workers, PeriodicJobs: periodic,
		JobTimeout: m.Config.JobTimeout, RescueAfter: m.Config.RescueAfter}); err != nil {
		return err
	}
	switch db := m.DB.(type) {
	case *postgres.DB:
		m.Jobs, m.RiverUI, err = jobTools(db.RiverClient(), store.DialectPostgres, db.Schema(), m.Config.OperatorToken != "", m.Logger)
	case *sqlite.DB:
		m.Jobs, m.RiverUI, err = jobTools(db.RiverClient(), store.DialectSQLite, "", m.Config.OperatorToken != "", m.Logger)
	}
	if err != nil {
		return err
	}
	if m.Jobs != nil {
		m.Metrics.WatchJobs(m.Jobs)
	}
	router := &pipeline.Router{Store: m.DB, Kommo: m.Kommo, Logger: m.Logger}
	// The widget's realtime channel. On PostgreSQL, replicas tell each other
	// of committed calls (LISTEN/NOTIFY) and share tickets, presence and the
	// once-per-call fallback decision through the database.
	rtCfg := cbhttp.RealtimeConfig{Accounts: m.DB, Kommo: m.Kommo, Logger: m.Logger,
		TicketKey: deriveKey(key, "callbridge realtime tickets")}
	if pg, ok := m.DB.(*postgres.DB); ok {
		bus, err := postgres.NewNotifier(ctx, pg, postgres.NotifierOptions{Logger: m.Logger})
		if err != nil {
			return fmt.Errorf("realtime notifications: %w", err)
		}
		rtCfg.Bus, rtCfg.Store = bus, pg
	}
	m.Realtime = cbhttp.NewRealtime(rtCfg)
	m.Ingester.OnCommit = m.Realtime.OnCommit

	m.HTTP = &cbhttp.Server{
		Router: router.For, Kommo: m.Kommo, Realtime: m.Realtime,
		AllowedOrigins: splitList(m.Config.AllowedOrigins),
		Addr:           m.Config.Addr, PublicURL: m.Config.PublicURL,
		Store: m.DB, Connectors: connectors, Ingester: m.Metrics.InstrumentIngester(m.Ingester),
		ClientID: m.Config.KommoClientID, ClientSecret: m.Config.KommoClientSecret,
		RecordingKey: recordingKey, Ready: m.ready, Metrics: m.Metrics.Handler(),
		OperatorToken: m.Config.OperatorToken, Logger: m.Logger,
		Mounts: map[string]nethttp.Handler{
			cbhttp.KommoHookPattern: &cbhttp.KommoHook{Accounts: m.DB, Leads: rules, Key: hookKey, Logger: m.Logger},
		},
	}
	if m.Jobs != nil {
		m.HTTP.Jobs = m.Jobs
	}
	if m.RiverUI != nil {
		m.HTTP.RiverUI = m.RiverUI
	}
	// The workers live until Close drains them, not until ctx ends: River
	// stops its client when the start context is cancelled.
	if err := m.DB.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	if m.RiverUI != nil {
		uiCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		m.stopUI = stop
		if err := m.RiverUI.Start(uiCtx); err != nil {
			stop()
			return fmt.Errorf("river ui: %w", err)
		}
	}
	if err := m.HTTP.Open(); err != nil {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = m.DB.Stop(stopCtx)
		return err
	}
	return nil
}

// connectors builds every provider connector: the code connectors, the
// built-in declarative ones, the operator's files, and Main.Connectors (which
// override by name).
func (m *Main) connectors() (map[string]callbridge.Connector, error) {
	hosts := splitList(m.Config.RecordingHosts)
	with := func(defaults ...string) []string {
		if len(hosts) == 0 {
			return nil // the connector's own defaults
		}
		return append(append([]string(nil), defaults...), hosts...)
	}
	cs := map[string]callbridge.Connector{
		"twilio":      twilio.New(twilio.Options{APIBase: m.Config.TwilioAPIBase, RecordingHosts: with(twilio.DefaultRecordingHost)}),
		"ringcentral": ringcentral.New(ringcentral.Options{MediaHosts: with(ringcentral.DefaultMediaHost)}),
		"zenvia":      zenvia.New(zenvia.Options{RecordingHosts: with(zenvia.DefaultRecordingHosts...)}),
	}
	opts := declarative.Options{RecordingHosts: hosts}
	for name, d := range declarative.Builtins() {
		if _, code := cs[name]; !code {
			cs[name] = d.Connector(opts)
		}
	}
	if m.Config.ConnectorsDir != "" {
		own, err := declarative.LoadDir(m.Config.ConnectorsDir)
		if err != nil {
			return nil, fmt.Errorf("connectors in %s: %w", m.Config.ConnectorsDir, err)
		}
		for name, d := range own {
			m.Logger.Info("loaded connector file", "provider", name, "source", d.Source)
			cs[name] = d.Connector(opts) // the operator's choice wins over a built-in
		}
	}
	for name, c := range m.Connectors {
		cs[name] = c
	}
	return cs, nil
}

// Close drains the server: /readyz turns 503 at once (a load balancer stops
// sending), HTTP stops accepting connections and waits for in-flight requests,
// the job workers finish their running jobs (both bounded by ctx; jobs still
// running then are cancelled and retried later by any replica), and the
// database is closed.
func (m *Main) Close(ctx context.Context) error {
	m.draining.Store(true)
	var errs []error
	if m.Realtime != nil {
		errs = append(errs, m.Realtime.Close())
	}
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Close(ctx))
	}
	if m.stopUI != nil {
		m.stopUI()
	}
	if m.DB != nil {
		// Running jobs get until 10 s before ctx's deadline; then they are
		// cancelled, which store.Jobs.Stop waits up to 10 s for. A job
		// cancelled mid-way is safe (the exactly-once protocol) and is
		// retried by a replica, so that is no failure of the shutdown.
		jobCtx := ctx
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) > 15*time.Second {
			var cancel context.CancelFunc
			jobCtx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
			defer cancel()
		}
		err := m.DB.Stop(jobCtx)
		if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			m.Logger.Warn("shutdown: jobs still running were cancelled; another replica will retry them")
			err = nil
		}
		errs = append(errs, err, m.DB.Close())
	}
	return errors.Join(errs...)
}

// ready reports whether this replica should receive traffic (/readyz): it is
// not shutting down, the database answers, and the database's schema is not
// older than the one this process migrated it to (a restored or replaced
// database). Replicas still migrating are not serving yet.
func (m *Main) ready(ctx context.Context) error {
	if m.draining.Load() {
		return errors.New("shutting down")
	}
	if err := m.DB.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	v, err := m.DB.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("database schema: %w", err)
	}
	if v < m.schemaVersion {
		return fmt.Errorf("database schema is at migration %d, this replica needs %d", v, m.schemaVersion)
	}
	return nil
}

// jobTools builds the operator's job admin and, when ui is set, River's UI
// over a database's River client.
func jobTools[TTx any](client *river.Client[TTx], dialect, schema string, ui bool, logger *slog.Logger) (*store.JobAdmin, *cbhttp.RiverUI, error) {
	admin := store.NewJobAdmin(client, dialect, schema)
	if !ui {
		return admin, nil, nil
	}
	u, err := cbhttp.NewRiverUI(client, logger)
	if err != nil {
		return nil, nil, fmt.Errorf("river ui: %w", err)
	}
	return admin, u, nil
}

// deriveKey derives a purpose-specific key from the master key.
func deriveKey(master []byte, purpose string) []byte {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// MigrateCommand applies migrations and exits.
type MigrateCommand struct{}

// Run opens the database, which applies callbridge's and River's migrations.
func (c *MigrateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("callbridge migrate", flag.ContinueOnError)
	var cfg Config
	cfg.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := cfg.finish(); err != nil {
		return err
	}
	logger := newLogger(cfg.LogFormat, cfg.LogLevel)
	key, err := secret.LoadKey(cfg.SecretKey, cfg.SecretKeyFile)
	if err != nil {
		return err
	}
	box, err := secret.New(key)
	if err != nil {
		return err
	}
	var db interface{ Close() error }
	if cfg.Postgres() {
		db, err = postgres.Open(ctx, cfg.DB, box, postgres.Options{Logger: logger, Schema: cfg.DBSchema})
	} else {
		db, err = sqlite.Open(ctx, cfg.DB, box, sqlite.Options{Logger: logger})
	}
	if err != nil {
		return err
	}
	logger.Info("migrations applied", "db", cfg.DB)
	return db.Close()
}

// version returns the build's version string.
func version() string { return "callbridge " + callbridge.Version }

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
