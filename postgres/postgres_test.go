package postgres_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"callbridge"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/secret"
	"callbridge/store/storetest"
)

func TestStore(t *testing.T) {
	postgrestest.URL(t)
	storetest.Run(t, func(t *testing.T) callbridge.Store {
		return postgrestest.Open(t, postgres.Options{})
	})
}

func TestJobs(t *testing.T) {
	storetest.RunJobs(t, func(t *testing.T) storetest.JobsDB {
		return postgrestest.Open(t, postgres.Options{})
	})
}

// TestOpen_ConcurrentMigrations opens one schema from several "replicas" at
// once: the advisory lock lets exactly one of them migrate at a time, so all
// succeed.
func TestOpen_ConcurrentMigrations(t *testing.T) {
	url := postgrestest.URL(t)
	base := postgrestest.Open(t, postgres.Options{}) // a schema dropped at cleanup
	schema := base.Schema() + "_r"
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+schema+` CASCADE`)
	})

	const n = 4
	dbs := make([]*postgres.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			dbs[i], errs[i] = postgres.Open(t.Context(), url, postgrestest.Box(), postgres.Options{Schema: schema, Logger: slog.New(slog.DiscardHandler)})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("replica %d: %v", i, errs[i])
		}
		defer dbs[i].Close()
	}
	a := &callbridge.Account{KommoID: 1}
	if err := dbs[0].UpsertAccount(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if got, err := dbs[n-1].FindAccount(t.Context(), a.ID); err != nil || got.KommoID != 1 {
		t.Fatalf("other replica: %+v, %v", got, err)
	}
	if err := dbs[1].Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if dbs[2].RiverClient() == nil {
		t.Fatal("no River client")
	}
}

func TestOpen_Errors(t *testing.T) {
	url := postgrestest.URL(t)
	logger := slog.New(slog.DiscardHandler)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for name, tc := range map[string]struct {
		url  string
		box  *secret.Box
		opts postgres.Options
	}{
		"NoBox":         {url, nil, postgres.Options{}},
		"BadSchema":     {url, postgrestest.Box(), postgres.Options{Schema: "Robert'); DROP"}},
		"OneConnection": {url + sep + "pool_max_conns=1", postgrestest.Box(), postgres.Options{}},
		"BadURL":        {"postgres://%zz", postgrestest.Box(), postgres.Options{}},
	} {
		tc.opts.Logger = logger
		if db, err := postgres.Open(t.Context(), tc.url, tc.box, tc.opts); err == nil {
			db.Close()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}
