package store

import (
	"context"
	"time"

	"callbridge"
)

// The methods below implement callbridge.Queries on *DB: each runs the
// method of the same name in its own transaction, or, for a read of one
// statement, outside any (see Reader).

// UpsertAccount implements callbridge.Queries.
func (db *DB) UpsertAccount(ctx context.Context, a *callbridge.Account) error {
	return run0(ctx, db, func(q *queries) error { return q.UpsertAccount(ctx, a) })
}

// FindAccount implements callbridge.Queries.
func (db *DB) FindAccount(ctx context.Context, id int64) (*callbridge.Account, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Account, error) { return q.FindAccount(ctx, id) })
}

// FindAccountByKommoID implements callbridge.Queries.
func (db *DB) FindAccountByKommoID(ctx context.Context, kommoID int64) (*callbridge.Account, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Account, error) { return q.FindAccountByKommoID(ctx, kommoID) })
}

// ListAccounts implements callbridge.Queries.
func (db *DB) ListAccounts(ctx context.Context) ([]*callbridge.Account, error) {
	return read(ctx, db, func(q *queries) ([]*callbridge.Account, error) { return q.ListAccounts(ctx) })
}

// SetAccountStatus implements callbridge.Queries.
func (db *DB) SetAccountStatus(ctx context.Context, id int64, status callbridge.AccountStatus) error {
	return run0(ctx, db, func(q *queries) error { return q.SetAccountStatus(ctx, id, status) })
}

// UpdateAccountSettings implements callbridge.Queries.
func (db *DB) UpdateAccountSettings(ctx context.Context, id int64, s callbridge.Settings) error {
	return run0(ctx, db, func(q *queries) error { return q.UpdateAccountSettings(ctx, id, s) })
}

// FindToken implements callbridge.Queries.
func (db *DB) FindToken(ctx context.Context, accountID int64) (*callbridge.Token, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Token, error) { return q.FindToken(ctx, accountID) })
}

// SaveToken implements callbridge.Queries.
func (db *DB) SaveToken(ctx context.Context, t *callbridge.Token) error {
	return run0(ctx, db, func(q *queries) error { return q.SaveToken(ctx, t) })
}

// AcquireRefreshLease implements callbridge.Queries.
func (db *DB) AcquireRefreshLease(ctx context.Context, accountID int64, owner string, now, until time.Time) (*callbridge.Token, bool, error) {
	var acquired bool
	t, err := run(ctx, db, func(q *queries) (*callbridge.Token, error) {
		t, ok, err := q.AcquireRefreshLease(ctx, accountID, owner, now, until)
		acquired = ok
		return t, err
	})
	return t, acquired, err
}

// RotateToken implements callbridge.Queries.
func (db *DB) RotateToken(ctx context.Context, t *callbridge.Token, prevVersion int64) error {
	return run0(ctx, db, func(q *queries) error { return q.RotateToken(ctx, t, prevVersion) })
}

// ReleaseRefreshLease implements callbridge.Queries.
func (db *DB) ReleaseRefreshLease(ctx context.Context, accountID int64, owner string) error {
	return run0(ctx, db, func(q *queries) error { return q.ReleaseRefreshLease(ctx, accountID, owner) })
}

// CreateInstallCode implements callbridge.Queries.
func (db *DB) CreateInstallCode(ctx context.Context, c *callbridge.InstallCode) error {
	return run0(ctx, db, func(q *queries) error { return q.CreateInstallCode(ctx, c) })
}

// FindInstallCode implements callbridge.Queries.
func (db *DB) FindInstallCode(ctx context.Context, id int64) (*callbridge.InstallCode, error) {
	return read(ctx, db, func(q *queries) (*callbridge.InstallCode, error) { return q.FindInstallCode(ctx, id) })
}

// FinishInstallCode implements callbridge.Queries.
func (db *DB) FinishInstallCode(ctx context.Context, id int64, status, errMsg string, accountID int64) error {
	return run0(ctx, db, func(q *queries) error { return q.FinishInstallCode(ctx, id, status, errMsg, accountID) })
}

// CreateConnection implements callbridge.Queries.
func (db *DB) CreateConnection(ctx context.Context, c *callbridge.Connection) error {
	return run0(ctx, db, func(q *queries) error { return q.CreateConnection(ctx, c) })
}

// UpdateConnection implements callbridge.Queries.
func (db *DB) UpdateConnection(ctx context.Context, c *callbridge.Connection) error {
	return run0(ctx, db, func(q *queries) error { return q.UpdateConnection(ctx, c) })
}

// FindConnection implements callbridge.Queries.
func (db *DB) FindConnection(ctx context.Context, accountID, id int64) (*callbridge.Connection, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Connection, error) { return q.FindConnection(ctx, accountID, id) })
}

// FindConnectionByToken implements callbridge.Queries.
func (db *DB) FindConnectionByToken(ctx context.Context, token string) (*callbridge.Connection, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Connection, error) { return q.FindConnectionByToken(ctx, token) })
}

// ListConnections implements callbridge.Queries.
func (db *DB) ListConnections(ctx context.Context, accountID int64) ([]*callbridge.Connection, error) {
	return read(ctx, db, func(q *queries) ([]*callbridge.Connection, error) { return q.ListConnections(ctx, accountID) })
}

// InsertEvent implements callbridge.Queries.
func (db *DB) InsertEvent(ctx context.Context, ev *callbridge.CallEvent) (bool, error) {
	return run(ctx, db, func(q *queries) (bool, error) { return q.InsertEvent(ctx, ev) })
}

// LockCall implements callbridge.Queries. Outside InTx the lock ends with the
// method's own transaction, so this only finds or creates the call.
func (db *DB) LockCall(ctx context.Context, accountID, connectionID int64, providerCallID string) (*callbridge.Call, error) {
	return run(ctx, db, func(q *queries) (*callbridge.Call, error) {
		return q.LockCall(ctx, accountID, connectionID, providerCallID)
	})
}

// MovePlacedEvents implements callbridge.Queries.
func (db *DB) MovePlacedEvents(ctx context.Context, accountID, connectionID int64, placedID, providerCallID string) (bool, error) {
	return run(ctx, db, func(q *queries) (bool, error) {
		return q.MovePlacedEvents(ctx, accountID, connectionID, placedID, providerCallID)
	})
}

// LockPlacedCall implements callbridge.Queries.
func (db *DB) LockPlacedCall(ctx context.Context, accountID, connectionID int64, placedID string) (*callbridge.Call, error) {
	return run(ctx, db, func(q *queries) (*callbridge.Call, error) {
		return q.LockPlacedCall(ctx, accountID, connectionID, placedID)
	})
}

// LockCallByID implements callbridge.Queries.
func (db *DB) LockCallByID(ctx context.Context, accountID, id int64) (*callbridge.Call, error) {
	return run(ctx, db, func(q *queries) (*callbridge.Call, error) { return q.LockCallByID(ctx, accountID, id) })
}

// FindCall implements callbridge.Queries.
func (db *DB) FindCall(ctx context.Context, accountID, id int64) (*callbridge.Call, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Call, error) { return q.FindCall(ctx, accountID, id) })
}

// FindCallByUID implements callbridge.Queries.
func (db *DB) FindCallByUID(ctx context.Context, accountID int64, uid string) (*callbridge.Call, error) {
	return read(ctx, db, func(q *queries) (*callbridge.Call, error) { return q.FindCallByUID(ctx, accountID, uid) })
}

// ListCalls implements callbridge.Queries.
func (db *DB) ListCalls(ctx context.Context, f callbridge.CallFilter) ([]*callbridge.Call, error) {
	return read(ctx, db, func(q *queries) ([]*callbridge.Call, error) { return q.ListCalls(ctx, f) })
}

// ListCallEvents implements callbridge.Queries.
func (db *DB) ListCallEvents(ctx context.Context, callID int64) ([]callbridge.CallEvent, error) {
	return read(ctx, db, func(q *queries) ([]callbridge.CallEvent, error) { return q.ListCallEvents(ctx, callID) })
}

// UpdateCall implements callbridge.Queries.
func (db *DB) UpdateCall(ctx context.Context, c *callbridge.Call) error {
	return run0(ctx, db, func(q *queries) error { return q.UpdateCall(ctx, c) })
}

// EnqueueSync implements callbridge.Queries.
func (db *DB) EnqueueSync(ctx context.Context, accountID, callID int64, at time.Time) error {
	return run0(ctx, db, func(q *queries) error { return q.EnqueueSync(ctx, accountID, callID, at) })
}

// CompleteJob implements callbridge.Queries. Completing a job in a
// transaction of its own is of little use; call it on the Queries of InTx.
func (db *DB) CompleteJob(ctx context.Context, jobID int64) error {
	return run0(ctx, db, func(q *queries) error { return q.CompleteJob(ctx, jobID) })
}

// LockCalls implements callbridge.Queries (the locks last as long as its
// own transaction: use it inside InTx).
func (db *DB) LockCalls(ctx context.Context, accountID, connectionID int64, ids []string) (map[string]*callbridge.Call, error) {
	return run(ctx, db, func(q *queries) (map[string]*callbridge.Call, error) {
		return q.LockCalls(ctx, accountID, connectionID, ids)
	})
}

// ListFoldEvents implements callbridge.Queries.
func (db *DB) ListFoldEvents(ctx context.Context, callIDs []int64) (map[int64][]callbridge.CallEvent, error) {
	return read(ctx, db, func(q *queries) (map[int64][]callbridge.CallEvent, error) { return q.ListFoldEvents(ctx, callIDs) })
}

// EnqueueSyncs implements callbridge.Queries.
func (db *DB) EnqueueSyncs(ctx context.Context, syncs []callbridge.SyncRequest) error {
	return run0(ctx, db, func(q *queries) error { return q.EnqueueSyncs(ctx, syncs) })
}
