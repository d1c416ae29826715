package sqlite

// A cache of prepared statements per connection. database/sql prepares a
// statement for every Exec and Query on a *sql.Tx, and modernc.org/sqlite
// parses its SQL text from scratch each time: without this cache, parsing
// SQL was about a third of callbridge's CPU while it ingested webhooks.

import (
	"context"
	"database/sql/driver"
	"reflect"

	msqlite "modernc.org/sqlite"
)

// maxCachedStatements bounds the statements kept per connection; past it,
// new SQL texts are prepared and finalized as before.
const maxCachedStatements = 256

// cachingConnector opens modernc.org/sqlite connections that keep their
// prepared statements.
type cachingConnector struct{ dsn string }

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := (&msqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &cachingConn{Conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

func (c cachingConnector) Driver() driver.Driver { return &msqlite.Driver{} }

type cachedStmt struct {
	stmt driver.Stmt
	busy bool // an open Rows reads from it
}

// cachingConn is a modernc.org/sqlite connection whose ExecContext and
// QueryContext reuse a prepared statement per SQL text. database/sql never
// uses a driver connection from two goroutines at once, so it needs no lock.
type cachingConn struct {
	driver.Conn
	stmts map[string]*cachedStmt
}

func (c *cachingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *cachingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *cachingConn) Ping(ctx context.Context) error { return c.Conn.(driver.Pinger).Ping(ctx) }

func (c *cachingConn) ResetSession(ctx context.Context) error {
	return c.Conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *cachingConn) IsValid() bool { return c.Conn.(driver.Validator).IsValid() }

func (c *cachingConn) Close() error {
	for _, s := range c.stmts {
		s.stmt.Close()
	}
	c.stmts = nil
	return c.Conn.Close()
}

// get returns a prepared statement for query, marked busy, and release,
// which the caller calls when done with it.
func (c *cachingConn) get(ctx context.Context, query string) (driver.Stmt, func(), error) {
	if s, ok := c.stmts[query]; ok && !s.busy {
		s.busy = true
		return s.stmt, func() { s.busy = false }, nil
	}
	stmt, err := c.Conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := c.stmts[query]; !ok && len(c.stmts) < maxCachedStatements {
		s := &cachedStmt{stmt: stmt, busy: true}
		c.stmts[query] = s
		return stmt, func() { s.busy = false }, nil
	}
	// In use by an open Rows, or the cache is full: a statement of its own.
	return stmt, func() { stmt.Close() }, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	stmt, release, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	defer release()
	return stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stmt, release, err := c.get(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		release()
		return nil, err
	}
	return &releasingRows{rows: rows, release: release}, nil
}

// releasingRows releases its statement when closed. It forwards the column
// type interfaces modernc.org/sqlite's rows implement.
type releasingRows struct {
	rows    driver.Rows
	release func()
}

func (r *releasingRows) Columns() []string              { return r.rows.Columns() }
func (r *releasingRows) Next(dest []driver.Value) error { return r.rows.Next(dest) }

func (r *releasingRows) Close() error {
	err := r.rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *releasingRows) ColumnTypeDatabaseTypeName(i int) string {
	return r.rows.(driver.RowsColumnTypeDatabaseTypeName).ColumnTypeDatabaseTypeName(i)
}

func (r *releasingRows) ColumnTypeLength(i int) (int64, bool) {
	return r.rows.(driver.RowsColumnTypeLength).ColumnTypeLength(i)
}

func (r *releasingRows) ColumnTypeNullable(i int) (bool, bool) {
	return r.rows.(driver.RowsColumnTypeNullable).ColumnTypeNullable(i)
}

func (r *releasingRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	return r.rows.(driver.RowsColumnTypePrecisionScale).ColumnTypePrecisionScale(i)
}

func (r *releasingRows) ColumnTypeScanType(i int) reflect.Type {
	return r.rows.(driver.RowsColumnTypeScanType).ColumnTypeScanType(i)
}
