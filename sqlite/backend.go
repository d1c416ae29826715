package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"callbridge/store"
)

// backend implements store.Backend over database/sql and modernc.org/sqlite.
type backend struct {
	db   *sql.DB
	jobs *store.Jobs[*sql.Tx]
}

func (b *backend) Dialect() string { return store.DialectSQLite }

// Begin starts a transaction; the DSN's _txlock=immediate makes it BEGIN
// IMMEDIATE, so it holds the write lock from the start.
func (b *backend) Begin(ctx context.Context) (store.Tx, error) {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, mapError(err)
	}
	return &sqlTx{tx: tx, jobs: b.jobs}, nil
}

type sqlTx struct {
	tx   *sql.Tx
	jobs *store.Jobs[*sql.Tx]
}

func (t *sqlTx) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

func (t *sqlTx) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return sqlRows{rows}, nil
}

func (t *sqlTx) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return sqlRow{t.tx.QueryRowContext(ctx, query, args...)}
}

// InsertJob inserts with InsertTx on this transaction. It never touches the
// pool: with one connection, a non-transactional River call here would wait
// forever for the connection this transaction holds.
func (t *sqlTx) InsertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	skipped, err := t.jobs.InsertTx(ctx, t.tx, args, opts)
	return skipped, mapError(err)
}

func (t *sqlTx) CompleteJob(ctx context.Context, jobID int64) error {
	return store.CompleteJobTx[*riversqlite.Driver](ctx, t.tx, jobID)
}

func (t *sqlTx) Commit(context.Context) error { return mapError(t.tx.Commit()) }

func (t *sqlTx) Rollback(context.Context) error {
	if err := t.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Scan(dest ...any) error { return mapError(r.Rows.Scan(dest...)) }
func (r sqlRows) Err() error             { return mapError(r.Rows.Err()) }

type sqlRow struct{ *sql.Row }

func (r sqlRow) Scan(dest ...any) error { return mapError(r.Row.Scan(dest...)) }

// mapError wraps the store's sentinels around "no rows" and constraint
// violations.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNoRows, err)
	}
	var serr *sqlite.Error
	if !errors.As(err, &serr) || serr.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
		return err
	}
	switch code := serr.Code(); {
	case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY ||
		strings.Contains(serr.Error(), "UNIQUE constraint failed"):
		return fmt.Errorf("%w: %w", store.ErrUniqueViolation, err)
	case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY || strings.Contains(serr.Error(), "FOREIGN KEY constraint failed"):
		return fmt.Errorf("%w: %w", store.ErrForeignKeyViolation, err)
	}
	return err
}

// Reads implements store.Reader: each statement runs on the connection
// outside any transaction (SQLite's autocommit), without BEGIN IMMEDIATE's
// write lock.
func (b *backend) Reads() store.Tx { return dbReads{b.db} }

// dbReads is the store.Tx of Reads.
type dbReads struct{ db *sql.DB }

func (d dbReads) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, mapError(err)
	}
	n, err := res.RowsAffected()
	return n, mapError(err)
}

func (d dbReads) Query(ctx context.Context, query string, args ...any) (store.Rows, error) {
	rows, err := d.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return sqlRows{rows}, nil
}

func (d dbReads) QueryRow(ctx context.Context, query string, args ...any) store.Row {
	return sqlRow{d.db.QueryRowContext(ctx, query, args...)}
}

func (dbReads) InsertJob(context.Context, river.JobArgs, *river.InsertOpts) (bool, error) {
	return false, errNotInTx
}

func (dbReads) CompleteJob(context.Context, int64) error { return errNotInTx }
func (dbReads) Commit(context.Context) error             { return nil }
func (dbReads) Rollback(context.Context) error           { return nil }

// errNotInTx is what a job method of Reads returns: jobs are inserted and
// completed in transactions only.
var errNotInTx = errors.New("sqlite: a job statement outside a transaction")
