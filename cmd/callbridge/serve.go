package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
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
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	// KommoLimiter overrides the in-process limiter (shared limiters, tests).
	KommoLimiter kommo.Limiter
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
			m.DB.Close()
		}
	}()
	m.Metrics = prometheus.New()

	limiter := m.KommoLimiter
	if limiter == nil {
		limiter = kommo.NewLimiter(m.Config.KommoRPS, 1)
	}
	m.Kommo = kommo.NewClient(kommo.Config{
		ClientID: m.Config.KommoClientID, ClientSecret: m.Config.KommoClientSecret,
		RedirectURI: m.Config.KommoRedirectURI, BaseURL: m.Config.KommoBaseURL,
		Limiter: limiter, BatchWait: m.Config.KommoBatchWait,
		Logger: m.Logger, OnRequest: m.Metrics.ObserveKommoRequest,
	}, m.DB)

	recordingKey := deriveKey(key, "callbridge recording links")
	m.Ingester = &pipeline.Ingester{Store: m.DB, Hold: m.Config.Hold, Logger: m.Logger}
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
	workers := river.NewWorkers()
	river.AddWorker(workers, m.Sync)
	river.AddWorker(workers, &pipeline.InstallWorker{Store: m.DB, Kommo: m.Kommo, Logger: m.Logger})
	river.AddWorker(workers, &pipeline.MaintainWorker{Store: m.DB, Ingester: m.Ingester, Connectors: connectors,
		PublicURL: m.Config.PublicURL, Logger: m.Logger})
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(pipeline.MaintainInterval),
		func() (river.JobArgs, *river.InsertOpts) { return callbridge.MaintainArgs{}, nil }, nil)}
	if err := m.DB.ConfigureJobs(store.JobConfig{Workers: workers, MaxWorkers: m.Config.Workers, PeriodicJobs: periodic,
		JobTimeout: m.Config.JobTimeout, RescueAfter: m.Config.RescueAfter}); err != nil {
		return err
	}
	router := &pipeline.Router{Store: m.DB, Kommo: m.Kommo, Logger: m.Logger}
	m.Realtime = cbhttp.NewRealtime(cbhttp.RealtimeConfig{Accounts: m.DB, Kommo: m.Kommo, Logger: m.Logger})
	m.Ingester.OnCommit = m.Realtime.OnCommit

	m.HTTP = &cbhttp.Server{
		Router: router.For, Kommo: m.Kommo, Realtime: m.Realtime,
		AllowedOrigins: splitList(m.Config.AllowedOrigins),
		Addr:           m.Config.Addr, PublicURL: m.Config.PublicURL,
		Store: m.DB, Connectors: connectors, Ingester: m.Ingester,
		ClientID: m.Config.KommoClientID, ClientSecret: m.Config.KommoClientSecret,
		RecordingKey: recordingKey, Ready: m.DB.Ping, Metrics: m.Metrics.Handler(),
		Logger: m.Logger,
	}
	// The workers live until Close drains them, not until ctx ends: River
	// stops its client when the start context is cancelled.
	if err := m.DB.Start(context.WithoutCancel(ctx)); err != nil {
		return err
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

// Close stops serving HTTP, drains the job workers and closes the database.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	if m.Realtime != nil {
		errs = append(errs, m.Realtime.Close())
	}
	if m.HTTP != nil {
		errs = append(errs, m.HTTP.Close(ctx))
	}
	if m.DB != nil {
		errs = append(errs, m.DB.Stop(ctx), m.DB.Close())
	}
	return errors.Join(errs...)
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
