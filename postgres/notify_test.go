package postgres_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
)

// received collects what a Notifier's subscriber was given.
type received struct {
	mu   sync.Mutex
	msgs [][2]int64
}

func (r *received) add(accountID, callID int64) {
	r.mu.Lock()
	r.msgs = append(r.msgs, [2]int64{accountID, callID})
	r.mu.Unlock()
}

func (r *received) get() [][2]int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newNotifier(t *testing.T, db *postgres.DB) (*postgres.Notifier, *received) {
	t.Helper()
	n, err := postgres.NewNotifier(t.Context(), db, postgres.NotifierOptions{
		Logger: slog.New(slog.DiscardHandler), MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Ping: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Close() })
	r := &received{}
	n.Subscribe(r.add)
	return n, r
}

func TestNotifier(t *testing.T) {
	dbs := replicas(t, 2)
	a, gotA := newNotifier(t, dbs[0])
	b, gotB := newNotifier(t, dbs[1])
	if a.Channel() != b.Channel() || a.Channel() != "callbridge_realtime_"+dbs[0].Schema() {
		t.Fatalf("channels %q and %q, want both named after schema %q", a.Channel(), b.Channel(), dbs[0].Schema())
	}
	// Another schema on the same server: its own channel.
	other := postgrestest.Open(t, postgres.Options{})
	_, gotC := newNotifier(t, other)
	d, _ := newNotifier(t, postgresReplica(t, other))
	ctx := t.Context()

	t.Run("InOrderToOthersOnly", func(t *testing.T) {
		var want [][2]int64
		for i := range int64(50) {
			if err := a.Publish(ctx, 7, 100+i); err != nil {
				t.Fatal(err)
			}
			want = append(want, [2]int64{7, 100 + i})
		}
		waitFor(t, "B to receive A's 50 messages", func() bool { return len(gotB.get()) >= 50 })
		if got := gotB.get(); !slices.Equal(got, want) {
			t.Fatalf("B received %v, want %v", got, want)
		}
		// B's marker comes after A's messages in the server's order: once
		// A and C have it (or its schema's own marker), they have seen
		// everything before it.
		if err := b.Publish(ctx, 8, 999); err != nil {
			t.Fatal(err)
		}
		if err := d.Publish(ctx, 9, 998); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "A to receive B's marker", func() bool { return len(gotA.get()) >= 1 })
		waitFor(t, "C to receive D's marker", func() bool { return len(gotC.get()) >= 1 })
		if got := gotA.get(); !slices.Equal(got, [][2]int64{{8, 999}}) {
			t.Fatalf("A received %v, want only B's marker (never its own messages)", got)
		}
		if got := gotC.get(); !slices.Equal(got, [][2]int64{{9, 998}}) {
			t.Fatalf("C (another schema) received %v, want only its own schema's marker", got)
		}
	})

	t.Run("Reconnects", func(t *testing.T) {
		// Kill both listening connections, as a database restart or a
		// dropped network path would.
		admin, err := pgx.Connect(ctx, postgrestest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		defer admin.Close(context.Background())
		var killed int
		err = admin.QueryRow(ctx, `
			SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN %' AND query LIKE '%' || $1 || '%'`,
			a.Channel()).Scan(&killed)
		if err != nil {
			t.Fatal(err)
		}
		if killed != 2 {
			t.Fatalf("terminated %d listening connections, want 2", killed)
		}
		// Messages published while a Notifier reconnects may be lost:
		// publish until one gets through each way.
		through := func(from *postgres.Notifier, to *received, callID int64) func() bool {
			return func() bool {
				if slices.ContainsFunc(to.get(), func(m [2]int64) bool { return m[1] == callID }) {
					return true
				}
				if err := from.Publish(ctx, 7, callID); err != nil {
					t.Logf("publish: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
				return false
			}
		}
		waitFor(t, "A to B after the reconnection", through(a, gotB, 5000))
		waitFor(t, "B to A after the reconnection", through(b, gotA, 5001))
		if !a.Listening() || !b.Listening() {
			t.Fatalf("listening: A %v, B %v", a.Listening(), b.Listening())
		}
	})

	t.Run("Close", func(t *testing.T) {
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if b.Listening() {
			t.Fatal("a closed Notifier reports listening")
		}
		if err := b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}

// postgresReplica opens a second database on db's schema.
func postgresReplica(t *testing.T, db *postgres.DB) *postgres.DB {
	t.Helper()
	r, err := postgres.Open(t.Context(), postgrestest.URL(t), postgrestest.Box(),
		postgres.Options{Schema: db.Schema(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
