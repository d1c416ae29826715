package sqlite_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	"callbridge/secret"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
	"callbridge/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) callbridge.Store {
		return sqlitetest.Open(t, sqlite.Options{})
	})
}

func TestJobs(t *testing.T) {
	storetest.RunJobs(t, func(t *testing.T) storetest.JobsDB {
		return sqlitetest.Open(t, sqlite.Options{})
	})
}

// TestPlaceholders checks what package store relies on: modernc.org/sqlite
// binds $n to the n-th argument, repeated and out of order.
func TestPlaceholders(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	tx, err := db.Backend().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	var a, b, c, d string
	if err := tx.QueryRow(t.Context(), `SELECT $2, $1, $2, $3 || $1`, "one", "two", "three").Scan(&a, &b, &c, &d); err != nil {
		t.Fatal(err)
	}
	if a != "two" || b != "one" || c != "two" || d != "threeone" {
		t.Fatalf("got %q %q %q %q", a, b, c, d)
	}
}

func TestOpen_Reopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	ctx := t.Context()
	logger := slog.New(slog.DiscardHandler)
	db, err := sqlite.Open(ctx, path, sqlitetest.Box(), sqlite.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	a := &callbridge.Account{KommoID: 5}
	if err := db.UpsertAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Migrations are idempotent and data survives.
	db, err = sqlite.Open(ctx, path, sqlitetest.Box(), sqlite.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got, err := db.FindAccountByKommoID(ctx, 5); err != nil || got.ID != a.ID {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if got := db.RiverClient(); got == nil {
		t.Fatal("no River client")
	}

	// Another key cannot read the secrets, and says so with EINTERNAL.
	if err := db.SaveToken(ctx, &callbridge.Token{AccountID: a.ID, AccessToken: "x", RefreshToken: "y"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	other, _ := secret.New(bytes.Repeat([]byte{1}, secret.KeySize))
	db, err = sqlite.Open(ctx, path, other, sqlite.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = db.FindToken(ctx, a.ID)
	if callbridge.ErrorCode(err) != callbridge.EINTERNAL || callbridge.ErrorKind(err) != callbridge.KindTransient {
		t.Fatalf("FindToken with the wrong key: %v", err)
	}
}

func TestOpen_Errors(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), nil, sqlite.Options{}); err == nil {
		t.Fatal("Open without a box succeeded")
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "x.db"), sqlitetest.Box(), sqlite.Options{Logger: slog.New(slog.DiscardHandler)}); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
}

func TestJobsLifecycle(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	ctx := t.Context()
	insertOnly := db.RiverClient()
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[callbridge.SyncCallArgs]) error { return nil }))
	if err := db.ConfigureJobs(sqlite.JobConfig{Workers: workers, TestOnly: true}); err != nil {
		t.Fatal(err)
	}
	if db.RiverClient() == insertOnly {
		t.Fatal("ConfigureJobs kept the old client")
	}
	if err := db.ConfigureJobs(sqlite.JobConfig{Workers: river.NewWorkers(), FetchPollInterval: time.Nanosecond}); err == nil {
		t.Fatal("invalid configuration accepted")
	}
	if err := db.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Start(ctx); err == nil {
		t.Fatal("second Start succeeded")
	}
	if err := db.ConfigureJobs(sqlite.JobConfig{}); err == nil {
		t.Fatal("ConfigureJobs after Start succeeded")
	}
	// River refuses kinds without a worker: install has none here.
	if err := db.CreateInstallCode(ctx, &callbridge.InstallCode{Code: "c"}); err == nil {
		t.Fatal("enqueued a job kind without a worker")
	}
	stopCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := db.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Fatal("Ping after Stop succeeded")
	}
}

// TestOpen_Path checks that unusual file names are taken literally and that
// the pragmas apply.
func TestOpen_Path(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir #1 %20")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "call bridge.db")
	db, err := sqlite.Open(t.Context(), path, sqlitetest.Box(), sqlite.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the literal path: %v", err)
	}
	tx, err := db.Backend().Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(t.Context())
	var mode string
	var fk, busy int
	if err := tx.QueryRow(t.Context(), `SELECT journal_mode, foreign_keys, timeout FROM pragma_journal_mode(), pragma_foreign_keys(), pragma_busy_timeout()`).Scan(&mode, &fk, &busy); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || fk != 1 || busy != 10000 {
		t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d", mode, fk, busy)
	}
	for _, bad := range []string{"", "x.db?mode=ro", "file:x.db"} {
		if _, err := sqlite.Open(t.Context(), bad, sqlitetest.Box(), sqlite.Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

// TestStatementCache runs one SQL text again while a Rows of it is still
// open, and with other arguments after it: every use gets its own results
// (the cached statement is not shared while it is being read).
func TestStatementCache(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	ctx := t.Context()
	tx, err := db.Backend().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	const q = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT i FROM n`
	outer, err := tx.Query(ctx, q, 3)
	if err != nil {
		t.Fatal(err)
	}
	sum := 0
	for outer.Next() {
		var i int
		if err := outer.Scan(&i); err != nil {
			t.Fatal(err)
		}
		var inner int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM (`+q+`)`, 10*i).Scan(&inner); err != nil {
			t.Fatal(err)
		}
		if inner != 10*i {
			t.Fatalf("inner count %d, want %d", inner, 10*i)
		}
		// The same text as the open Rows, with another argument.
		again, err := tx.Query(ctx, q, 2)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for again.Next() {
			n++
		}
		again.Close()
		if n != 2 {
			t.Fatalf("nested query returned %d rows, want 2", n)
		}
		sum += i
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	if sum != 6 {
		t.Fatalf("outer rows summed to %d, want 6 (1+2+3)", sum)
	}
	// Reused after the Rows closed, with new arguments.
	var last int
	if err := tx.QueryRow(ctx, `SELECT max(i) FROM (`+q+`)`, 7).Scan(&last); err != nil || last != 7 {
		t.Fatalf("max %d, %v; want 7", last, err)
	}
}
