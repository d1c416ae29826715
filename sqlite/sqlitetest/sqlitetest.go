// Package sqlitetest opens throw-away callbridge SQLite databases for tests.
package sqlitetest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"callbridge/secret"
	"callbridge/sqlite"
)

// Key is the fixed secret key of test databases.
var Key = bytes.Repeat([]byte{0x42}, secret.KeySize)

// Box returns a secret.Box with Key.
func Box() *secret.Box {
	b, err := secret.New(Key)
	if err != nil {
		panic(err)
	}
	return b
}

// Open returns a new, migrated database in a file under tb.TempDir(), sealed
// with Key. When opts.Logger is nil, logs are discarded; opts.Jobs.TestOnly is
// set. The database is stopped (running jobs finish, 10 s at most) and closed
// when the test ends.
func Open(tb testing.TB, opts sqlite.Options) *sqlite.DB {
	tb.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Jobs.TestOnly = true
	path := filepath.Join(tb.TempDir(), "callbridge.db")
	db, err := sqlite.Open(tb.Context(), path, Box(), opts)
	if err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Stop(ctx); err != nil {
			tb.Errorf("sqlitetest: stop: %v", err)
		}
	})
	return db
}
