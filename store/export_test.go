package store

// Exported for the external tests of this package.
var (
	SyncUniqueKey   = syncUniqueKey
	SyncsPendingSQL = syncsPendingSQL
)
