package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"callbridge/store"
)

// backend implements store.Backend over a pgx pool.
type backend struct {
	pool *pgxpool.Pool
	jobs *store.Jobs[pgx.Tx]
}

func (b *backend) Dialect() string { return store.DialectPostgres }

// Begin starts a READ COMMITTED transaction (PostgreSQL's default), which is
// what LockCall's INSERT … ON CONFLICT DO NOTHING then SELECT … FOR UPDATE
// relies on: the SELECT sees the row a concurrent winner committed.
func (b *backend) Begin(ctx context.Context) (store.Tx, error) {
	tx, err := b.pool.Begin(ctx)
	if err != nil {
		return nil, mapError(err)
	}
	return &pgTx{tx: tx, jobs: b.jobs}, nil
}

type pgTx struct {
	tx   pgx.Tx
	jobs *store.Jobs[pgx.Tx]
}

func (t *pgTx) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return 0, mapError(err)
	}
	return tag.RowsAffected(), nil
}

func (t *pgTx) Query(ctx context.Context, sql string, args ...any) (store.Rows, error) {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return pgRows{rows}, nil
}

func (t *pgTx) QueryRow(ctx context.Context, sql string, args ...any) store.Row {
	return pgRow{t.tx.QueryRow(ctx, sql, args...)}
}

func (t *pgTx) InsertJob(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (bool, error) {
	skipped, err := t.jobs.InsertTx(ctx, t.tx, args, opts)
	return skipped, mapError(err)
}

func (t *pgTx) CompleteJob(ctx context.Context, jobID int64) error {
	return store.CompleteJobTx[*riverpgxv5.Driver](ctx, t.tx, jobID)
}

func (t *pgTx) Commit(ctx context.Context) error { return mapError(t.tx.Commit(ctx)) }

func (t *pgTx) Rollback(ctx context.Context) error {
	if err := t.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) {
		return err
	}
	return nil
}

type pgRows struct{ rows pgx.Rows }

func (r pgRows) Next() bool             { return r.rows.Next() }
func (r pgRows) Scan(dest ...any) error { return mapError(r.rows.Scan(dest...)) }
func (r pgRows) Err() error             { return mapError(r.rows.Err()) }
func (r pgRows) Close() error           { r.rows.Close(); return nil }

type pgRow struct{ row pgx.Row }

func (r pgRow) Scan(dest ...any) error { return mapError(r.row.Scan(dest...)) }

// SQLSTATE codes mapped to the store's sentinels.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// mapError wraps the store's sentinels around "no rows" and constraint
// violations.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %w", store.ErrNoRows, err)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case uniqueViolation:
			return fmt.Errorf("%w: %w", store.ErrUniqueViolation, err)
		case foreignKeyViolation:
			return fmt.Errorf("%w: %w", store.ErrForeignKeyViolation, err)
		}
	}
	return err
}

// Reads implements store.Reader: each statement runs on a pooled connection
// of its own, outside any transaction.
func (b *backend) Reads() store.Tx { return poolReads{b.pool} }

// poolReads is the store.Tx of Reads.
type poolReads struct{ pool *pgxpool.Pool }

func (p poolReads) Exec(ctx context.Context, sql string, args ...any) (int64, error) {
	tag, err := p.pool.Exec(ctx, sql, args...)
	if err != nil {
		return 0, mapError(err)
	}
	return tag.RowsAffected(), nil
}

func (p poolReads) Query(ctx context.Context, sql string, args ...any) (store.Rows, error) {
	rows, err := p.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapError(err)
	}
	return pgRows{rows}, nil
}

func (p poolReads) QueryRow(ctx context.Context, sql string, args ...any) store.Row {
	return pgRow{p.pool.QueryRow(ctx, sql, args...)}
}

func (poolReads) InsertJob(context.Context, river.JobArgs, *river.InsertOpts) (bool, error) {
	return false, errNotInTx
}

func (poolReads) CompleteJob(context.Context, int64) error { return errNotInTx }
func (poolReads) Commit(context.Context) error             { return nil }
func (poolReads) Rollback(context.Context) error           { return nil }

// errNotInTx is what a job method of Reads returns: jobs are inserted and
// completed in transactions only.
var errNotInTx = errors.New("postgres: a job statement outside a transaction")
