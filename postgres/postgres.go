// Package postgres is callbridge's scale-out database: PostgreSQL through
// pgx v5, holding both callbridge's tables and River's job queue, shared by
// any number of stateless callbridge replicas.
//
// Open migrates under a PostgreSQL advisory lock, so replicas that start
// together migrate one at a time. Pool size and other connection settings
// come from the URL (e.g. pool_max_conns=20).
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"callbridge"
	"callbridge/secret"
	"callbridge/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// JobConfig configures River's job processing; see store.JobConfig.
type JobConfig = store.JobConfig

// Options configure Open. The zero value is valid.
type Options struct {
	// Logger receives River's and the migrations' logs (slog.Default() when
	// nil).
	Logger *slog.Logger
	// Now is the clock for created/updated times (time.Now when nil).
	Now func() time.Time
	// Jobs configures job processing. It may instead be given later with
	// ConfigureJobs, before Start.
	Jobs JobConfig
	// Schema, when set, holds callbridge's and River's tables: it is created
	// if missing, set as every connection's search_path and as River's
	// Config.Schema. Lowercase letters, digits and underscores, at most 40
	// characters. Empty uses the URL's search_path (normally "public").
	Schema string
}

// DB is callbridge's PostgreSQL database. It implements callbridge.Store
// through the embedded *store.DB and owns the River client.
type DB struct {
	*store.DB

	pool   *pgxpool.Pool
	jobs   *store.Jobs[pgx.Tx]
	schema string

	closeOnce sync.Once
	closeErr  error
}

var _ callbridge.Store = (*DB)(nil)

var schemaPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// Open connects to the database at url (a postgres:// URL or key=value DSN),
// applies callbridge's and River's migrations, and builds the River client
// from opts.Jobs. box seals secrets and must not be nil.
func Open(ctx context.Context, url string, box *secret.Box, opts Options) (*DB, error) {
	if box == nil {
		return nil, errors.New("postgres: a secret.Box is required")
	}
	if opts.Schema != "" && !schemaPattern.MatchString(opts.Schema) {
		return nil, fmt.Errorf("postgres: invalid schema name %q", opts.Schema)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.MaxConns < 2 {
		// Migrations hold one connection (the advisory lock) while using
		// another; River needs several.
		return nil, errors.New("postgres: pool_max_conns must be at least 2")
	}
	if opts.Schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = opts.Schema
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	db, err := open(ctx, pool, box, logger, opts)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return db, nil
}

func open(ctx context.Context, pool *pgxpool.Pool, box *secret.Box, logger *slog.Logger, opts Options) (*DB, error) {
	if err := pool.Ping(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, pool, opts.Schema, logger); err != nil {
		return nil, err
	}
	jobs, err := store.NewJobs(riverpgxv5.New(pool), logger, opts.Schema, opts.Jobs)
	if err != nil {
		return nil, err
	}
	db := &DB{pool: pool, jobs: jobs, schema: opts.Schema}
	db.DB = store.New(&backend{pool: pool, jobs: jobs}, box, opts.Now)
	return db, nil
}

// migrateLockKey is the advisory lock key that serialises migrations of
// schema across replicas.
func migrateLockKey(schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("callbridge.migrate:" + schema))
	return int64(h.Sum64())
}

// migrate creates the schema if needed and applies callbridge's goose
// migrations, then River's, holding a session advisory lock on one pooled
// connection throughout.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string, logger *slog.Logger) (err error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	key := migrateLockKey(schema)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.Exec(uctx, `SELECT pg_advisory_unlock($1)`, key); uerr != nil {
			// Drop the connection so that the session, and its lock, end.
			conn.Conn().Close(uctx)
			err = errors.Join(err, fmt.Errorf("migration unlock: %w", uerr))
		}
	}()

	if schema != "" {
		if _, err := conn.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}

	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	defer sqlDB.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, r := range res {
		logger.Info("postgres: applied migration", "version", r.Source.Version, "file", r.Source.Path)
	}

	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: logger, Schema: schema})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// ConfigureJobs replaces the job configuration given to Open. Call it before
// Start; typically the workers are built after the DB because they need it
// (see sqlite.DB.ConfigureJobs for the pattern).
func (db *DB) ConfigureJobs(cfg JobConfig) error { return db.jobs.Configure(cfg) }

// Start starts working jobs (when JobConfig.Workers is set). Jobs run until
// Stop or until ctx is cancelled.
func (db *DB) Start(ctx context.Context) error { return db.jobs.Start(ctx) }

// Stop stops fetching jobs, waits for running jobs to finish (bounded by ctx)
// and closes the pool.
func (db *DB) Stop(ctx context.Context) error {
	err := db.jobs.Stop(ctx)
	return errors.Join(err, db.Close())
}

// Close closes the pool. Jobs still running are stopped first (waiting at most
// 10 s). It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db.closeErr = db.jobs.Stop(ctx)
		db.pool.Close()
	})
	return db.closeErr
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// Schema returns the schema given in Options ("" for the search_path's).
func (db *DB) Schema() string { return db.schema }

// RiverClient returns the River client, e.g. for River UI
// (riverui.NewEndpoints). After ConfigureJobs it is a new client; take it
// after configuring.
func (db *DB) RiverClient() *river.Client[pgx.Tx] { return db.jobs.Client() }
