// Package store implements callbridge.Store once, in SQL that both SQLite and
// PostgreSQL accept, over a small Backend interface. Packages sqlite and
// postgres provide the backends, run the migrations and own River's client;
// this package owns every query.
//
// Conventions shared by both schemas:
//
//   - Placeholders are $1…$n. (modernc.org/sqlite binds "$n" to the n-th
//     argument, including repeated and out-of-order use; see package sqlite's
//     tests.)
//   - Times are BIGINT unix microseconds in UTC; NULL stands for the zero
//     time.
//   - Booleans are BOOLEAN on PostgreSQL and INTEGER 0/1 on SQLite; both
//     drivers bind and scan Go bools.
//   - JSON documents (settings, call results) are TEXT.
//   - Secrets (OAuth tokens, install codes, connection tokens and provider
//     credentials) are sealed with a secret.Box before they are written. A
//     secret that cannot be opened (wrong key) is an EINTERNAL error of kind
//     transient.
//
// Behaviour beyond callbridge.Queries' documentation:
//
//   - Methods that take an account id for a new row (SaveToken,
//     CreateConnection, FinishInstallCode) return ENOTFOUND when the account
//     does not exist; InsertEvent and LockCall return ENOTFOUND when the
//     connection is not the account's.
//   - ENOTFOUND, EINVALID and RotateToken's ECONFLICT come from checks that
//     leave the transaction usable. Any other error (a unique violation, a
//     database failure) aborts a PostgreSQL transaction: return it from the
//     InTx function.
//   - UpsertAccount stores an empty Status as active, rejects unknown ones,
//     and sets a.Settings to the stored settings.
//   - AcquireRefreshLease lets the current holder re-acquire (extend) its
//     lease; an empty owner is EINVALID.
//   - CreateInstallCode stores an empty Status as "pending"; FinishInstallCode
//     accepts "pending", "done" and "failed".
//   - CreateConnection generates a 32-byte base64url token when Token is empty
//     and stores an empty TimeZone as "UTC". The token is found by its SHA-256
//     and compared in constant time; a token already in use is ECONFLICT.
//   - InsertEvent requires Type, Key and ProviderCallID (Key and
//     ProviderCallID at most MaxEventKey bytes), sets a zero ReceivedAt to the
//     transaction's time and stores at most MaxPayload bytes of Payload.
//     CallID is not stored: an event belongs to the call with the same
//     (ConnectionID, ProviderCallID), so events may be inserted before or
//     after LockCall creates the call; ListCallEvents fills CallID in.
//   - UpdateCall sets UpdatedAt to the transaction's time.
//   - ListCalls orders by id, newest first; see CallFilter and
//     DefaultCallLimit.
//   - CompleteJob succeeds (changing nothing) for a job already completed,
//     returns ENOTFOUND for a job that does not exist, ECONFLICT for one in
//     another state (cancelled, discarded…), and an error when ctx is not a
//     River worker's. None of these abort the transaction.
//
// Times written by the store (CreatedAt, UpdatedAt) are the transaction's
// start time from the clock given to New, truncated to microseconds.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	"callbridge/secret"
)

// Dialects a Backend reports.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Errors a Backend returns, wrapped around the driver's own error, so that the
// store can map them to callbridge error codes without knowing the driver.
var (
	// ErrNoRows: Row.Scan found no row.
	ErrNoRows = errors.New("store: no rows")
	// ErrUniqueViolation: a statement violated a unique or primary key
	// constraint.
	ErrUniqueViolation = errors.New("store: unique violation")
	// ErrForeignKeyViolation: a statement referenced a row that does not exist.
	ErrForeignKeyViolation = errors.New("store: foreign key violation")
)

// Backend opens transactions on one database.
type Backend interface {
	// Begin starts a transaction. On SQLite it is BEGIN IMMEDIATE.
	Begin(ctx context.Context) (Tx, error)
	// Dialect is DialectSQLite or DialectPostgres.
	Dialect() string
}

// Reader is a Backend that can also run statements outside a transaction,
// each on its own (autocommit). The store's reads of a single statement use
// it: on PostgreSQL that is one round trip instead of three (BEGIN, the
// statement, COMMIT), and on SQLite it skips BEGIN IMMEDIATE, which takes
// the write lock. A Backend without it reads in transactions.
type Reader interface {
	// Reads returns a Tx whose statements run outside any transaction.
	// Its InsertJob and CompleteJob fail; Commit and Rollback do nothing.
	Reads() Tx
}

// Tx is one database transaction. Its methods are not safe for concurrent use.
// Errors for unique and foreign key violations wrap ErrUniqueViolation and
// ErrForeignKeyViolation.
type Tx interface {
	// Exec runs a statement and returns the number of rows it affected.
	Exec(ctx context.Context, sql string, args ...any) (rowsAffected int64, err error)
	// Query runs a statement that returns rows.
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// QueryRow runs a statement that returns at most one row; the Row's Scan
	// returns an error wrapping ErrNoRows when there is none.
	QueryRow(ctx context.Context, sql string, args ...any) Row
	// InsertJob inserts a River job in this transaction (Client.InsertTx). It
	// reports whether the insert was skipped as a duplicate of a unique job.
	InsertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (skipped bool, err error)
	// CompleteJob marks the running job jobID completed in this transaction
	// (store.CompleteJobTx). ctx must be a River worker's context. It returns
	// an error wrapping rivertype.ErrNotFound when the job does not exist and
	// ErrJobNotRunning when it is neither running nor completed.
	CompleteJob(ctx context.Context, jobID int64) error
	// Commit commits the transaction.
	Commit(ctx context.Context) error
	// Rollback aborts the transaction; it is safe to call after Commit.
	Rollback(ctx context.Context) error
}

// Rows is the result of Tx.Query.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// Row is the result of Tx.QueryRow.
type Row interface {
	Scan(dest ...any) error
}

// DB implements callbridge.Store over a Backend.
type DB struct {
	backend Backend
	box     *secret.Box
	now     func() time.Time
}

var _ callbridge.Store = (*DB)(nil)

// New returns a store over b that seals secrets with box, which must not be
// nil. now is the clock for created/updated times (time.Now when nil).
func New(b Backend, box *secret.Box, now func() time.Time) *DB {
	if now == nil {
		now = time.Now
	}
	return &DB{backend: b, box: box, now: now}
}

// Backend returns the backend, for tests and operator tools that need raw SQL.
func (db *DB) Backend() Backend { return db.backend }

// InTx implements callbridge.Store. fn's Queries must not be used after fn
// returns. A panic in fn rolls the transaction back and is re-raised.
func (db *DB) InTx(ctx context.Context, fn func(q callbridge.Queries) error) (err error) {
	tx, err := db.backend.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	q := &queries{db: db, tx: tx, now: db.now().UTC().Truncate(time.Microsecond)}
	committed := false
	defer func() {
		if committed {
			return
		}
		// Roll back even when ctx is already cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	if err := fn(q); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	committed = true
	return nil
}

// run runs fn in its own transaction and returns its result.
func run[T any](ctx context.Context, db *DB, fn func(q *queries) (T, error)) (T, error) {
	var v T
	err := db.InTx(ctx, func(cq callbridge.Queries) error {
		var err error
		v, err = fn(cq.(*queries))
		return err
	})
	return v, err
}

// read runs fn, which must only read, with one statement, outside a
// transaction when the backend is a Reader, and in one otherwise.
func read[T any](ctx context.Context, db *DB, fn func(q *queries) (T, error)) (T, error) {
	r, ok := db.backend.(Reader)
	if !ok {
		return run(ctx, db, fn)
	}
	return fn(&queries{db: db, tx: r.Reads(), now: db.now().UTC().Truncate(time.Microsecond)})
}

// run0 is run for functions with no result.
func run0(ctx context.Context, db *DB, fn func(q *queries) error) error {
	return db.InTx(ctx, func(cq callbridge.Queries) error { return fn(cq.(*queries)) })
}

// queries implements callbridge.Queries in one transaction.
type queries struct {
	db  *DB
	tx  Tx
	now time.Time // transaction start, UTC, microsecond precision
}

var _ callbridge.Queries = (*queries)(nil)

// dbError maps a backend error to a callbridge error: ErrNoRows to ENOTFOUND
// with the message "<what> not found.", unique violations to ECONFLICT,
// foreign key violations to ENOTFOUND. Other errors are wrapped as they are
// (callbridge.ErrorKind treats them as transient).
func dbError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.As(err, new(*callbridge.Error)):
		return err
	case errors.Is(err, ErrNoRows):
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Message: what + " not found.", Err: err}
	case errors.Is(err, ErrUniqueViolation):
		return &callbridge.Error{Code: callbridge.ECONFLICT, Message: what + " already exists.", Err: err}
	case errors.Is(err, ErrForeignKeyViolation):
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "A record referenced by the " + lower(what) + " does not exist.", Err: err}
	}
	return fmt.Errorf("%s: %w", lower(what), err)
}

func notFound(what string) error {
	return callbridge.Errorf(callbridge.ENOTFOUND, "%s not found.", what)
}

func lower(s string) string {
	if s != "" && s[0] >= 'A' && s[0] <= 'Z' {
		return string(s[0]+'a'-'A') + s[1:]
	}
	return s
}
