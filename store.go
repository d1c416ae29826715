package callbridge

import (
	"context"
	"time"
)

// Queries are the operations on callbridge's database. Every method is scoped
// by the ids it takes; none trusts an account id it was not given by an
// authenticated caller. Methods return *Error with ENOTFOUND when a row does
// not exist and ECONFLICT when a uniqueness or version check fails.
//
// Called on a Store, each method runs in its own transaction; called on the
// Queries passed to Store.InTx, it runs in that transaction.
type Queries interface {
	// UpsertAccount inserts the account, or updates the one with the same
	// KommoID (subdomain, base URL, status; settings are kept unless empty).
	// It sets a.ID, CreatedAt and UpdatedAt.
	UpsertAccount(ctx context.Context, a *Account) error
	// FindAccount returns the account with our id a.ID.
	FindAccount(ctx context.Context, id int64) (*Account, error)
	// FindAccountByKommoID returns the account with Kommo's account id.
	FindAccountByKommoID(ctx context.Context, kommoID int64) (*Account, error)
	// ListAccounts returns all accounts ordered by id.
	ListAccounts(ctx context.Context) ([]*Account, error)
	// SetAccountStatus changes an account's status.
	SetAccountStatus(ctx context.Context, id int64, status AccountStatus) error
	// UpdateAccountSettings replaces an account's settings.
	UpdateAccountSettings(ctx context.Context, id int64, s Settings) error

	// FindToken returns the account's OAuth pair (decrypted).
	FindToken(ctx context.Context, accountID int64) (*Token, error)
	// SaveToken stores a new pair for the account unconditionally (install),
	// clears any lease and sets t.Version to the stored version.
	SaveToken(ctx context.Context, t *Token) error
	// AcquireRefreshLease gives owner the refresh lease until `until` if no
	// other owner holds an unexpired lease at `now`. It returns the stored token
	// either way, and whether the lease was acquired.
	AcquireRefreshLease(ctx context.Context, accountID int64, owner string, now, until time.Time) (*Token, bool, error)
	// RotateToken stores t's new pair only if the stored version is still
	// prevVersion; it clears the lease and sets t.Version. ECONFLICT otherwise.
	RotateToken(ctx context.Context, t *Token, prevVersion int64) error
	// ReleaseRefreshLease clears owner's lease (a no-op if owner does not hold it).
	ReleaseRefreshLease(ctx context.Context, accountID int64, owner string) error

	// CreateInstallCode persists an authorization code and enqueues an
	// InstallArgs job for it in the same transaction. It sets c.ID.
	CreateInstallCode(ctx context.Context, c *InstallCode) error
	// FindInstallCode returns a persisted code (decrypted).
	FindInstallCode(ctx context.Context, id int64) (*InstallCode, error)
	// FinishInstallCode records the outcome of an exchange.
	FinishInstallCode(ctx context.Context, id int64, status, errMsg string, accountID int64) error

	// CreateConnection stores a connection; it generates c.Token when empty and
	// sets c.ID and CreatedAt.
	CreateConnection(ctx context.Context, c *Connection) error
	// UpdateConnection replaces the name, time zone and credentials of the
	// connection c.ID in c.AccountID, keeping its webhook token (so the URL
	// configured at the provider stays valid). ENOTFOUND when there is no such
	// connection.
	UpdateConnection(ctx context.Context, c *Connection) error
	// FindConnection returns the connection with id in the given account.
	FindConnection(ctx context.Context, accountID, id int64) (*Connection, error)
	// FindConnectionByToken returns the connection whose webhook token is
	// token (compared in constant time after a lookup by hash).
	FindConnectionByToken(ctx context.Context, token string) (*Connection, error)
	// ListConnections returns the account's connections ordered by id.
	ListConnections(ctx context.Context, accountID int64) ([]*Connection, error)

	// InsertEvent stores ev unless an event with the same (ConnectionID, Key)
	// exists; it reports whether ev was stored and sets ev.ID when it was.
	InsertEvent(ctx context.Context, ev *CallEvent) (bool, error)
	// LockCall returns the call (connectionID, providerCallID), creating it
	// with a fresh UID when it does not exist, and locks its row until the
	// transaction ends (SELECT … FOR UPDATE on PostgreSQL; SQLite transactions
	// are serial). Concurrent callers for the same call are serialised.
	LockCall(ctx context.Context, accountID, connectionID int64, providerCallID string) (*Call, error)
	// LockPlacedCall locks the call of the connection whose PlacedID is
	// placedID (the id a click-to-call was placed with), or returns
	// ENOTFOUND. It never creates a call.
	LockPlacedCall(ctx context.Context, accountID, connectionID int64, placedID string) (*Call, error)
	// MovePlacedEvents gives the call providerCallID the events stored
	// under placedID in the connection — a result the widget saved against
	// a click-to-call's placed id before any webhook named the call — and
	// deletes the call placedID named. It reports whether an event moved.
	MovePlacedEvents(ctx context.Context, accountID, connectionID int64, placedID, providerCallID string) (bool, error)
	// LockCalls locks, in one statement, the existing calls of connectionID
	// in accountID whose provider call ids are among ids, in the order of
	// their provider call ids, and returns them by provider call id. Ids
	// without a call are left out: LockCall creates them.
	LockCalls(ctx context.Context, accountID, connectionID int64, ids []string) (map[string]*Call, error)
	// LockCallByID is LockCall for a call known by id within the account.
	LockCallByID(ctx context.Context, accountID, id int64) (*Call, error)
	// FindCall returns the call with id in the account (no lock).
	FindCall(ctx context.Context, accountID, id int64) (*Call, error)
	// FindCallByUID returns the call with the given UID in the account.
	FindCallByUID(ctx context.Context, accountID int64, uid string) (*Call, error)
	// ListCalls returns calls matching f, newest first.
	ListCalls(ctx context.Context, f CallFilter) ([]*Call, error)
	// ListCallEvents returns the events of a call ordered by id.
	ListCallEvents(ctx context.Context, callID int64) ([]CallEvent, error)
	// ListFoldEvents returns, in one statement, the events of each of the
	// calls, by call id and ordered by id, without what Call.Fold does not
	// read (Payload, AISummary, Transcript).
	ListFoldEvents(ctx context.Context, callIDs []int64) (map[int64][]CallEvent, error)
	// UpdateCall writes all of c's mutable fields (derived fields, Version,
	// Kommo record, UpdatedAt).
	UpdateCall(ctx context.Context, c *Call) error

	// EnqueueSync enqueues SyncCallArgs{AccountID: accountID, CallID: callID}
	// to run at `at` (now if zero). While one is pending (available, scheduled, retryable, running)
	// for the call, this is a no-op: a burst of events becomes one job.
	EnqueueSync(ctx context.Context, accountID, callID int64, at time.Time) error
	// EnqueueSyncs is EnqueueSync of several calls, with one look-up of the
	// jobs already pending for all of them.
	EnqueueSyncs(ctx context.Context, syncs []SyncRequest) error
	// CompleteJob marks the running River job jobID completed in this
	// transaction (river.JobCompleteTx). It must be called with the worker's
	// context, inside InTx.
	CompleteJob(ctx context.Context, jobID int64) error
}

// SyncRequest asks for a call's sync job (Queries.EnqueueSyncs): due at At,
// or at once when At is zero.
type SyncRequest struct {
	AccountID, CallID int64
	At                time.Time
}

// Store is callbridge's database: SQLite (package sqlite) or PostgreSQL
// (package postgres).
type Store interface {
	Queries
	// InTx runs fn in one transaction: committed if fn returns nil, rolled back
	// otherwise. On SQLite the transaction is BEGIN IMMEDIATE. fn must not do
	// network I/O: never hold a transaction across a call to Kommo.
	InTx(ctx context.Context, fn func(q Queries) error) error
}
