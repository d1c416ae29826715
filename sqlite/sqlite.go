// Package sqlite is callbridge's embedded database: a single SQLite file
// (modernc.org/sqlite, pure Go) holding both callbridge's tables and River's
// job queue.
//
// The database uses one connection (SetMaxOpenConns(1)), WAL, a 10 s busy
// timeout, foreign keys and BEGIN IMMEDIATE transactions. One connection
// means one process: run a single callbridge server per file. It also means a
// deadlock hazard: while a transaction is open, nothing on the same path may
// use the database outside it. Store.InTx hands fn a Queries bound to the
// transaction, and jobs are enqueued with River's InsertTx on it.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

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
}

// DB is callbridge's SQLite database. It implements callbridge.Store through
// the embedded *store.DB and owns the River client.
type DB struct {
	*store.DB

	sql    *sql.DB
	jobs   *store.Jobs[*sql.Tx]
	logger *slog.Logger

	closeOnce sync.Once
	closeErr  error
}

var _ callbridge.Store = (*DB)(nil)

// DSN returns the modernc.org/sqlite data source name Open uses for the file
// at path: WAL, a 10 s busy timeout, foreign keys, BEGIN IMMEDIATE. The path
// is used as is (not as a "file:" URI), so it must not contain '?'.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file at path, applies
// callbridge's and River's migrations, and builds the River client from
// opts.Jobs. box seals secrets and must not be nil.
func Open(ctx context.Context, path string, box *secret.Box, opts Options) (*DB, error) {
	if box == nil {
		return nil, errors.New("sqlite: a secret.Box is required")
	}
	if path == "" || strings.Contains(path, "?") || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: invalid database path %q (want a file path without '?')", path)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	// Statements are prepared once per connection (stmtcache.go).
	sqlDB := sql.OpenDB(cachingConnector{DSN(path)})
	sqlDB.SetMaxOpenConns(1)
	sqlDB.SetMaxIdleConns(1)
	sqlDB.SetConnMaxIdleTime(0)
	sqlDB.SetConnMaxLifetime(0)

	db, err := open(ctx, sqlDB, box, logger, opts)
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	return db, nil
}

func open(ctx context.Context, sqlDB *sql.DB, box *secret.Box, logger *slog.Logger, opts Options) (*DB, error) {
	if err := sqlDB.PingContext(ctx); err != nil {
		return nil, err
	}
	if err := migrate(ctx, sqlDB, logger); err != nil {
		return nil, err
	}
	if err := releaseOrphans(ctx, sqlDB, logger); err != nil {
		return nil, err
	}
	driver := riversqlite.New(sqlDB)
	jobs, err := store.NewJobs(driver, logger, "", opts.Jobs)
	if err != nil {
		return nil, err
	}
	db := &DB{sql: sqlDB, jobs: jobs, logger: logger}
	db.DB = store.New(&backend{db: sqlDB, jobs: jobs}, box, opts.Now)
	return db, nil
}

// migrate applies callbridge's goose migrations, then River's.
func migrate(ctx context.Context, sqlDB *sql.DB, logger *slog.Logger) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	for _, r := range res {
		logger.Info("sqlite: applied migration", "version", r.Source.Version, "file", r.Source.Path)
	}
	m, err := rivermigrate.New(riversqlite.New(sqlDB), &rivermigrate.Config{Logger: logger})
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// ConfigureJobs replaces the job configuration given to Open. Call it before
// Start; typically the workers are built after the DB because they need it:
//
//	db, _ := sqlite.Open(ctx, path, box, sqlite.Options{})
//	workers := river.NewWorkers()
//	river.AddWorker(workers, pipeline.NewSyncWorker(db, …))
//	river.AddWorker(workers, pipeline.NewInstallWorker(db, …))
//	_ = db.ConfigureJobs(sqlite.JobConfig{Workers: workers})
//	_ = db.Start(ctx)
func (db *DB) ConfigureJobs(cfg JobConfig) error { return db.jobs.Configure(cfg) }

// Start starts working jobs (when JobConfig.Workers is set). Jobs run until
// Stop or until ctx is cancelled.
func (db *DB) Start(ctx context.Context) error { return db.jobs.Start(ctx) }

// Stop stops fetching jobs, waits for running jobs to finish (bounded by ctx)
// and closes the database.
func (db *DB) Stop(ctx context.Context) error {
	err := db.jobs.Stop(ctx)
	return errors.Join(err, db.Close())
}

// Close closes the database. Jobs still running are stopped first (waiting at
// most 10 s). It is safe to call more than once.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := db.jobs.Stop(ctx)
		db.closeErr = errors.Join(err, db.sql.Close())
	})
	return db.closeErr
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.sql.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// RiverClient returns the River client, e.g. for River UI
// (riverui.NewEndpoints). After ConfigureJobs it is a new client; take it
// after configuring.
func (db *DB) RiverClient() *river.Client[*sql.Tx] { return db.jobs.Client() }

// releaseOrphans makes jobs left "running" by a previous process available
// again. A SQLite file has one process, so at open nothing can be running
// them: without this, River's rescuer would hold them for an hour after a
// crash, and a call's unique sync job would block its later inputs as long.
// The sync worker's write intent makes re-running an interrupted job safe.
func releaseOrphans(ctx context.Context, sqlDB *sql.DB, logger *slog.Logger) error {
	res, err := sqlDB.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
	if err != nil {
		return fmt.Errorf("release orphaned jobs: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		logger.Warn("released jobs a previous process left running (it stopped without draining them)", "jobs", n)
	}
	return nil
}
