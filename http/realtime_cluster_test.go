package http_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/kommo"
	"callbridge/pipeline"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

// The cluster tests run two replicas — each an http.Server, a Realtime and
// an Ingester — over one database, as replicas behind a load balancer do.

// clusterDB is what a replica needs of its database.
type clusterDB interface {
	callbridge.Store
	cbhttp.RealtimeStore
}

// clock is the replicas' shared clock.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// cluster is a running two-replica test cluster.
type cluster struct {
	clock    *clock
	kommo    *fakeKommo
	dbs      []clusterDB
	replicas []*wenv // A, B
}

const (
	// clusterPresenceTTL is the presence records' lifetime. The heartbeat
	// is an hour: records change only when widgets connect and disconnect,
	// and expire when the clock is moved past this.
	clusterPresenceTTL = time.Minute
)

// newCluster starts one replica per database (all on the same data) with
// the given buses, and creates accounts wAcctA and wAcctB with a connection
// each.
func newCluster(t *testing.T, dbs []clusterDB, buses []cbhttp.RealtimeBus, opts ...func(*cbhttp.RealtimeConfig)) *cluster {
	t.Helper()
	c := &cluster{clock: &clock{}, kommo: &fakeKommo{contacts: map[string][]kommo.Contact{}}, dbs: dbs}
	accounts, conns := map[int64]*callbridge.Account{}, map[int64]*callbridge.Connection{}
	ctx := t.Context()
	for _, id := range []int64{wAcctA, wAcctB} {
		a := &callbridge.Account{KommoID: id, Subdomain: fmt.Sprint(id), Settings: callbridge.Settings{
			Extensions: map[string]string{fmt.Sprint(wAdmin): "+15550000501", fmt.Sprint(wSales): "+15550000502"},
		}}
		if err := dbs[0].UpsertAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		cn := &callbridge.Connection{AccountID: a.ID, Provider: "fakevoip", Name: "line", Credentials: map[string]string{"key": "good-key"}}
		if err := dbs[0].CreateConnection(ctx, cn); err != nil {
			t.Fatal(err)
		}
		accounts[id], conns[id] = a, cn
	}
	key := bytes.Repeat([]byte{7}, 32)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, db := range dbs {
		e := &wenv{t: t, kommo: c.kommo, provider: &fakeProvider{}, now: c.clock.now, accounts: accounts, conns: conns}
		cfg := cbhttp.RealtimeConfig{Accounts: db, Kommo: c.kommo, Bus: buses[i], Store: db, TicketKey: key,
			Workers: 1, Logger: logger, Now: c.clock.now, CallerIDTimeout: 500 * time.Millisecond,
			PresenceInterval: time.Hour, PresenceTTL: clusterPresenceTTL}
		for _, o := range opts {
			o(&cfg)
		}
		e.rt = cbhttp.NewRealtime(cfg)
		e.ingester = &pipeline.Ingester{Store: db, Hold: -1, OnCommit: e.rt.OnCommit, Logger: logger}
		e.server = &cbhttp.Server{
			Addr: "127.0.0.1:0", Store: db, Ingester: e.ingester,
			Connectors: map[string]callbridge.Connector{"fakevoip": e.provider},
			ClientID:   testClientID, ClientSecret: testClientSecret,
			Kommo: c.kommo, Realtime: e.rt, Logger: logger, Now: c.clock.now,
		}
		if err := e.server.Open(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			e.rt.Close()
			e.server.Close(ctx)
		})
		c.replicas = append(c.replicas, e)
	}
	return c
}

// ingestEvent commits one status event of a call of the Kommo account's
// connection through the replica's Ingester. key names the event (a new key
// is a new event, as a provider's next webhook is).
func ingestEvent(e *wenv, key string, kommoAccount int64, callID string, status callbridge.Status, agent, customer string) {
	e.t.Helper()
	ev := callbridge.CallEvent{Type: callbridge.EventStatus, Key: key, ProviderCallID: callID,
		Status: status, Direction: callbridge.DirectionInbound, CustomerNumber: customer, LineNumber: "+15550009999", Agent: agent,
		OccurredAt: time.Now().UTC()}
	if err := e.ingester.Ingest(e.t.Context(), e.conns[kommoAccount], []callbridge.CallEvent{ev}); err != nil {
		e.t.Fatal(err)
	}
}

// notificationsFor counts Kommo fallback notifications for a phone number.
func (c *cluster) notificationsFor(phone string) int {
	n := 0
	for _, x := range c.kommo.notifications() {
		if x.Phone == phone {
			n++
		}
	}
	return n
}

func TestRealtimeCluster(t *testing.T) {
	// One SQLite database shared by two replicas in this process, talking
	// through a LocalBus and its peer.
	db := sqlitetest.Open(t, sqlite.Options{})
	bus := cbhttp.NewLocalBus()
	testCluster(t, newCluster(t, []clusterDB{db, db}, []cbhttp.RealtimeBus{bus, bus.Peer()}))
}

func TestRealtimeClusterPostgres(t *testing.T) {
	if os.Getenv(postgrestest.EnvURL) == "" {
		t.Skipf("%s is not set", postgrestest.EnvURL)
	}
	// Two databases (pools) on one schema, each with its own Notifier, as
	// two `callbridge serve` processes have.
	dbA := postgrestest.Open(t, postgres.Options{})
	dbB, err := postgres.Open(t.Context(), postgrestest.URL(t), postgrestest.Box(),
		postgres.Options{Schema: dbA.Schema(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dbB.Close() })
	var buses []cbhttp.RealtimeBus
	for _, db := range []*postgres.DB{dbA, dbB} {
		n, err := postgres.NewNotifier(t.Context(), db, postgres.NotifierOptions{Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { n.Close() }) // Realtime.Close closes it first; a second Close is harmless
		buses = append(buses, n)
	}
	testCluster(t, newCluster(t, []clusterDB{dbA, dbB}, buses))
}

// testCluster runs the multi-replica scenario: a widget takes its ticket
// from replica A and connects to replica B; calls are ingested by either.
func testCluster(t *testing.T, c *cluster) {
	a, b := c.replicas[0], c.replicas[1]
	acctA := a.accounts[wAcctA].ID

	// The ticket comes from A, the WebSocket goes to B.
	ticket, _ := a.ticket(wAcctA, wAdmin)
	admin, code := b.dialWS(ticket)
	if code != 101 {
		t.Fatalf("A's ticket on B: %d, want 101", code)
	}
	if m := admin.next(t); m["type"] != "hello" {
		t.Fatalf("first message %v, want hello", m)
	}
	if b.rt.Connected(acctA, wAdmin) != 1 || a.rt.Connected(acctA, wAdmin) != 0 {
		t.Fatalf("connections: A %d, B %d; want the one on B", a.rt.Connected(acctA, wAdmin), b.rt.Connected(acctA, wAdmin))
	}
	// Single use across replicas.
	for i, e := range []*wenv{a, b} {
		if _, code := e.dialWS(ticket); code != 401 {
			t.Fatalf("the used ticket on replica %d: %d, want 401", i, code)
		}
	}
	forged := []byte(ticket)
	if forged[70] == 'A' {
		forged[70] = 'B'
	} else {
		forged[70] = 'A'
	}
	if _, code := b.dialWS(string(forged)); code != 401 {
		t.Fatalf("a ticket with a wrong MAC: %d, want 401", code)
	}

	// Account B's call for the same Kommo user id must not reach account
	// A's widget: it is committed first, so a leak would arrive first.
	ingestEvent(a, "b1", wAcctB, "X-1", callbridge.StatusRinging, "+15550000501", "+14155550001")
	// A ringing call for the admin, committed through A: B pushes it once.
	ingestEvent(a, "r1a", wAcctA, "R-1", callbridge.StatusRinging, "+15550000501", "+14155550011")
	m := admin.nextCall(t)
	if m.Phase != cbhttp.PhaseRinging || m.Call.ProviderCallID != "R-1" || m.UserID != wAdmin || m.Call.CustomerNumber != "+14155550011" {
		t.Fatalf("B's widget got %s %+v for user %d, want R-1 ringing for %d", m.Phase, m.Call, m.UserID, wAdmin)
	}
	// Another ringing event of the call (through A, then through B) and its
	// answer: the widget hears "answered" next, no second "ringing".
	ingestEvent(a, "r1b", wAcctA, "R-1", callbridge.StatusRinging, "+15550000501", "+14155550011")
	ingestEvent(b, "r1c", wAcctA, "R-1", callbridge.StatusRinging, "+15550000501", "+14155550011")
	ingestEvent(a, "r1d", wAcctA, "R-1", callbridge.StatusAnswered, "+15550000501", "+14155550011")
	if m := admin.nextCall(t); m.Phase != cbhttp.PhaseAnswered || m.Call.ProviderCallID != "R-1" {
		t.Fatalf("after the answer B's widget got %s of %s, want R-1 answered", m.Phase, m.Call.ProviderCallID)
	}

	// The sales manager is connected nowhere: R-2 rings through A, then
	// rings again through B (both replicas consider the fallback). Then
	// markers ringing the admin through B and through A: each replica has
	// one worker, so when the widget has them both replicas have decided
	// R-2's fallback.
	ingestEvent(a, "r2a", wAcctA, "R-2", callbridge.StatusRinging, "+15550000502", "+14155550022")
	ingestEvent(b, "r2b", wAcctA, "R-2", callbridge.StatusRinging, "+15550000502", "+14155550022")
	ingestEvent(b, "r3", wAcctA, "R-3", callbridge.StatusRinging, "+15550000501", "+14155550033")
	ingestEvent(a, "r4", wAcctA, "R-4", callbridge.StatusRinging, "+15550000501", "+14155550044")
	seen := map[string]bool{}
	for !seen["R-3"] || !seen["R-4"] {
		m := admin.nextCall(t)
		if m.Phase != cbhttp.PhaseRinging || seen[m.Call.ProviderCallID] || (m.Call.ProviderCallID != "R-3" && m.Call.ProviderCallID != "R-4") {
			t.Fatalf("B's widget got %s of %s (seen %v), want R-3 and R-4 ringing once each", m.Phase, m.Call.ProviderCallID, seen)
		}
		seen[m.Call.ProviderCallID] = true
	}
	waitFor(t, "R-2's fallback", func() bool { return c.notificationsFor("+14155550022") > 0 })

	// The admin disconnects: their presence goes, and A falls back for the
	// next call.
	admin.close()
	waitFor(t, "the admin's presence to go", func() bool {
		present, err := c.dbs[0].RealtimePresent(t.Context(), acctA, wAdmin, c.clock.now())
		return err == nil && !present && b.rt.Connected(acctA, wAdmin) == 0
	})
	ingestEvent(a, "r5", wAcctA, "R-5", callbridge.StatusRinging, "+15550000501", "+14155550055")
	waitFor(t, "R-5's fallback", func() bool { return c.notificationsFor("+14155550055") > 0 })

	// A replica that stops refreshing its presence (it died) stops counting
	// once its records expire: the admin connects to B again, B's records
	// are left to age, and A falls back.
	admin2, code := b.dialWS(mustTicket(a, wAcctA, wAdmin))
	if code != 101 {
		t.Fatalf("reconnect: %d", code)
	}
	admin2.next(t) // hello: the presence is recorded
	ingestEvent(a, "r6", wAcctA, "R-6", callbridge.StatusRinging, "+15550000501", "+14155550066")
	// A call with no mapped manager rings every connected user, on any
	// replica, and has no fallback. (A replica decides a call's fallback
	// before it publishes the call: once the widget has R-6, R-6's is
	// settled.)
	ingestEvent(a, "m6", wAcctA, "M-6", callbridge.StatusRinging, "", "+14155550067")
	for _, want := range []string{"R-6", "M-6"} {
		if m := admin2.nextCall(t); m.Call.ProviderCallID != want {
			t.Fatalf("B's widget got %s, want %s", m.Call.ProviderCallID, want)
		}
	}
	c.clock.advance(clusterPresenceTTL + time.Second)
	ingestEvent(a, "r7", wAcctA, "R-7", callbridge.StatusRinging, "+15550000501", "+14155550077")
	waitFor(t, "R-7's fallback", func() bool { return c.notificationsFor("+14155550077") > 0 })

	// Closing the replicas waits for fallbacks in flight; then count.
	for _, e := range c.replicas {
		e.rt.Close()
	}
	for phone, want := range map[string]int{
		"+14155550001": 1, // account B's admin was connected nowhere
		"+14155550011": 0, // connected to B
		"+14155550022": 1, // connected nowhere; decided once by A and B
		"+14155550033": 0,
		"+14155550044": 0,
		"+14155550055": 1, // disconnected
		"+14155550066": 0,
		"+14155550067": 0, // no mapped manager
		"+14155550077": 1, // B's presence expired
	} {
		if got := c.notificationsFor(phone); got != want {
			t.Errorf("Kommo notifications for %s: %d, want %d", phone, got, want)
		}
	}
}

// deafBus is a LocalBus that can pretend to have lost its connection.
type deafBus struct {
	*cbhttp.LocalBus
	listening atomic.Bool
}

func (b *deafBus) Listening() bool { return b.listening.Load() }

func TestRealtimePresenceHeartbeat(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	bus := &deafBus{LocalBus: cbhttp.NewLocalBus()}
	bus.listening.Store(true)
	// A fast heartbeat; records that never expire by themselves.
	c := newCluster(t, []clusterDB{db}, []cbhttp.RealtimeBus{bus}, func(cfg *cbhttp.RealtimeConfig) {
		cfg.PresenceInterval, cfg.PresenceTTL = 20*time.Millisecond, 24*time.Hour
	})
	e := c.replicas[0]
	acct := e.accounts[wAcctA].ID
	present := func() bool {
		p, err := db.RealtimePresent(t.Context(), acct, wAdmin, c.clock.now())
		return err == nil && p
	}
	ws, code := e.dialWS(mustTicket(e, wAcctA, wAdmin))
	if code != 101 {
		t.Fatalf("handshake: %d", code)
	}
	ws.next(t) // hello: the presence is recorded
	if !present() {
		t.Fatal("no presence record after hello")
	}

	// Records lost behind the replica's back (purged while it could not
	// refresh them): the heartbeat notices and writes them again.
	if n, err := db.PurgeRealtime(t.Context(), c.clock.now().Add(48*time.Hour)); err != nil || n != 2 {
		t.Fatalf("purge: %d rows, %v; want the presence record and the ticket's claim", n, err)
	}
	waitFor(t, "the heartbeat to restore the record", present)

	// A replica that cannot hear the others withdraws its users, and
	// brings them back when it can again.
	bus.listening.Store(false)
	waitFor(t, "the presence to be withdrawn", func() bool { return !present() })
	bus.listening.Store(true)
	waitFor(t, "the presence to come back", present)

	// Closing the replica removes its records.
	e.rt.Close()
	if present() {
		t.Fatal("a closed replica's presence remains")
	}
}
