package store

// Exported for the external tests of this package.
var (
	SyncUniqueKey       = syncUniqueKey
	SyncPendingSQLite   = syncPendingSQLite
	SyncPendingPostgres = syncPendingPostgres
)
