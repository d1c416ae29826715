// Package postgrestest opens throw-away callbridge PostgreSQL databases for
// tests, each in a schema of its own.
//
// The server is named by the environment variable CALLBRIDGE_TEST_POSTGRES_URL
// (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable). When it is
// unset, tests that need PostgreSQL are skipped; when it is set and the server
// cannot be reached, they fail.
package postgrestest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"callbridge/postgres"
	"callbridge/secret"
)

// EnvURL is the environment variable holding the test server's URL.
const EnvURL = "CALLBRIDGE_TEST_POSTGRES_URL"

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

// URL returns the test server's URL, skipping tb when EnvURL is unset.
func URL(tb testing.TB) string {
	tb.Helper()
	url := os.Getenv(EnvURL)
	if url == "" {
		tb.Skipf("%s is not set; skipping PostgreSQL test", EnvURL)
	}
	return url
}

// Open returns a new, migrated database in a fresh schema (opts.Schema is
// replaced by a random name), sealed with Key. When opts.Logger is nil, logs
// are discarded; opts.Jobs.TestOnly is set. When the test ends the database
// is stopped (running jobs finish, 10 s at most) and the schema dropped.
func Open(tb testing.TB, opts postgres.Options) *postgres.DB {
	tb.Helper()
	url := URL(tb)
	ctx, cancel := context.WithTimeout(tb.Context(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("postgrestest: %s is set but the server is unreachable: %v", EnvURL, err)
	}
	admin.Close(ctx)

	var b [6]byte
	rand.Read(b[:])
	schema := "cbtest_" + hex.EncodeToString(b[:])
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts.Schema = schema
	opts.Jobs.TestOnly = true
	db, err := postgres.Open(ctx, url, Box(), opts)
	tb.Cleanup(func() { dropSchema(tb, url, schema) })
	if err != nil {
		tb.Fatalf("postgrestest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := db.Stop(ctx); err != nil {
			tb.Errorf("postgrestest: stop: %v", err)
		}
	})
	return db
}

func dropSchema(tb testing.TB, url, schema string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Errorf("postgrestest: drop schema %s: %v", schema, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
		tb.Errorf("postgrestest: drop schema %s: %v", schema, err)
	}
}
