package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"callbridge/postgres"
	"callbridge/sandbox"
	"callbridge/secret"
	"callbridge/twilio"
)

// balancer is a load balancer in front of the replicas: every request goes
// to a random replica; when that one refuses the connection (it is dead or
// restarting) the others are tried in turn.
type balancer struct {
	backends []string
	client   *http.Client
	served   []atomic.Int64
}

func newBalancer(backends []string) *balancer {
	return &balancer{backends: backends, served: make([]atomic.Int64, len(backends)),
		client: &http.Client{
			Timeout:       30 * time.Second,
			Transport:     &http.Transport{MaxIdleConnsPerHost: 64},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	first := rand.IntN(len(b.backends))
	var lastErr error
	for i := range b.backends {
		n := (first + i) % len(b.backends)
		req, err := http.NewRequestWithContext(r.Context(), r.Method, b.backends[n]+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		resp, err := b.client.Do(req)
		if err != nil {
			lastErr = err
			continue
		}
		b.served[n].Add(1)
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
		return
	}
	http.Error(w, fmt.Sprintf("no replica answered: %v", lastErr), http.StatusBadGateway)
}

// arrivals records when Kommo API requests reach the emulator's HTTP
// handler, before it takes its lock.
type arrivals struct {
	next http.Handler
	mu   sync.Mutex
	all  []arrival
	slow map[string]time.Duration // the longest answer by endpoint
}

type arrival struct {
	at   time.Time
	what string
}

func (a *arrivals) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/oauth2/") {
		now := time.Now()
		a.mu.Lock()
		a.all = append(a.all, arrival{now, r.RemoteAddr + " " + r.Method + " " + r.URL.Path})
		a.mu.Unlock()
		a.next.ServeHTTP(w, r)
		d := time.Since(now)
		a.mu.Lock()
		if a.slow == nil {
			a.slow = map[string]time.Duration{}
		}
		k := r.Method + " " + r.URL.Path
		a.slow[k] = max(a.slow[k], d)
		a.mu.Unlock()
		return
	}
	a.next.ServeHTTP(w, r)
}

// maxPerSecond returns the most arrivals in any sliding second, and them.
func (a *arrivals) maxPerSecond() (int, []arrival) {
	a.mu.Lock()
	ts := slices.Clone(a.all)
	a.mu.Unlock()
	slices.SortFunc(ts, func(x, y arrival) int { return x.at.Compare(y.at) })
	best, lo, from := 0, 0, 0
	for hi := range ts {
		for !ts[lo].at.After(ts[hi].at.Add(-time.Second)) {
			lo++
		}
		if hi-lo+1 > best {
			best, from = hi-lo+1, lo
		}
	}
	return best, ts[from : from+best]
}

// terminate sends SIGTERM and waits for a graceful exit; it returns the
// process's exit error (nil for status 0).
func (s *serverProcess) terminate(timeout time.Duration) error {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("no exit %s after SIGTERM", timeout)
	}
}

// replicaSet is a Kommo emulator, a Twilio simulator, and callbridge replicas
// as separate processes on one PostgreSQL schema behind a balancer.
type replicaSet struct {
	c        *cluster
	lb       *balancer
	replicas []*serverProcess
	db       *postgres.DB // this process's view of the database (no workers)
	url      string       // PostgreSQL URL (without pool settings)
	arrivals *arrivals
	schema   string
}

// startReplicas starts n replicas. Each child gets the same --db URL,
// --db-schema, secret key, integration and public URL (the balancer's).
func startReplicas(t *testing.T, n int, extra ...string) *replicaSet {
	t.Helper()
	b := backend{name: "PostgreSQL", url: os.Getenv(envPostgres)}
	if b.url == "" {
		t.Skipf("%s not set: the replica test needs PostgreSQL", envPostgres)
	}
	b.prepare(t)
	dir := t.TempDir()
	ctx := context.Background()

	emuLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	recLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	lbLn, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	publicURL := "http://" + lbLn.Addr().String()
	clientID, clientSecret := "cb-replicas", randomHex(24)
	emu := sandbox.New(sandbox.Config{ClientID: clientID, ClientSecret: clientSecret, Host: emuLn.Addr().String(),
		RedirectURI: publicURL + "/oauth/install", DisconnectURL: publicURL + "/oauth/disconnect", RetryAfter: time.Second})
	rec := &arrivals{next: emu}
	emuSrv := serveOn(emuLn, rec)
	t.Cleanup(func() { emuSrv.Close(); emu.Close() })

	c := &cluster{Emu: emu, EmuURL: "http://" + emuLn.Addr().String(), BaseURL: publicURL, Retry: true, Logf: t.Logf,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}}
	c.Sim = &twilio.Simulator{AccountSID: "AC" + randomHex(16), AuthToken: randomHex(16),
		RecordingBase: "http://" + recLn.Addr().String(), HTTPClient: c.client}
	recSrv := serveOn(recLn, c.Sim.RecordingServer())
	t.Cleanup(func() { recSrv.Close() })
	seed, phones := seedData(40)
	res, err := emu.Seed(seed)
	if err != nil {
		t.Fatal(err)
	}
	c.KommoAccountID, c.AdminUserID = res.Accounts[0].ID, res.Accounts[0].AdminUserID
	phones.resolve(res.Accounts[0])
	c.Phones = phones

	// Every replica opens a pool of 8 connections.
	dbURL := b.url
	if strings.Contains(dbURL, "?") {
		dbURL += "&pool_max_conns=8"
	} else {
		dbURL += "?pool_max_conns=8"
	}
	keyFile := filepath.Join(dir, "callbridge.key")
	rs := &replicaSet{c: c, url: b.url, schema: b.schema, arrivals: rec}
	var backends []string
	for range n {
		ln, err := listen()
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		backends = append(backends, "http://"+addr)
		rs.replicas = append(rs.replicas, &serverProcess{t: t, url: "http://" + addr, args: append([]string{
			"--addr", addr, "--public-url", publicURL, "--db", dbURL, "--db-schema", b.schema, "--secret-key-file", keyFile,
			"--kommo-client-id", clientID, "--kommo-client-secret", clientSecret, "--kommo-base-url", c.EmuURL,
			"--hold", "5s", "--job-timeout", "60s", "--rescue-after", "61s", "--workers", "30", "--kommo-batch-wait", "1s",
			"--twilio-api-base", c.Sim.RecordingBase, "--recording-hosts", c.Sim.RecordingBase,
			"--log-format", "json", "--log-level", "error"}, extra...)})
	}
	if raceDetector {
		// As newTestCluster does: under the race detector the emulator's
		// arrival stamps lag on two starved cores; two requests of margin
		// keep the ≤ 7 check about callbridge.
		for _, r := range rs.replicas {
			r.args = append([]string{"--kommo-rps", "5"}, r.args...)
		}
	}
	rs.lb = newBalancer(backends)
	lbSrv := serveOn(lbLn, rs.lb)
	t.Cleanup(func() { lbSrv.Close() })

	// The first replica creates the key file and migrates; the others find
	// both done.
	for _, r := range rs.replicas {
		r.start()
	}
	t.Cleanup(func() {
		for _, r := range rs.replicas {
			r.kill()
		}
	})

	key, err := secret.LoadKey("", keyFile)
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	rs.db, err = postgres.Open(ctx, dbURL, box, postgres.Options{Schema: b.schema, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.db.Close() })
	c.Main = &Main{DB: rs.db}

	// Install through the balancer, then connect Twilio from the widget.
	if err := c.install(ctx, "replicas"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Sim.WebhookURL, publicURL+"/") {
		t.Fatalf("webhook URL %s is not on the public URL %s", c.Sim.WebhookURL, publicURL)
	}
	return rs
}

// query runs a query on the replicas' schema.
func (rs *replicaSet) query(t *testing.T, sql string, dest ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rs.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET search_path TO "+pgx.Identifier{rs.schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestReplicas runs three callbridge processes on one PostgreSQL database
// behind a load balancer that sends every webhook and widget request to a
// random replica. While 2,000 calls flow, one replica is SIGKILLed and
// restarted and another is stopped gracefully (SIGTERM: it must drain and
// exit 0) and restarted. Every call must end in Kommo exactly once, and the
// replicas together must stay within Kommo's budget: at most 7 requests in
// any second per IP and per account, and never a 403.
//
// Under -race it runs 300 calls: the race detector slows the four processes
// on two cores enough that the emulator itself stamps requests late (see
// .ci/run, which runs the full size without it).
func TestReplicas(t *testing.T) {
	calls := 2000
	if raceDetector || testing.Short() {
		calls = 300
	}
	rs := startReplicas(t, 3)
	c := rs.c
	ctx := context.Background()
	// Kommo answers with some latency but no faults: the crash makes writes
	// uncertain already, and every recovery scan costs requests from the
	// 6-per-second budget (TestStress covers Kommo's faults).
	c.Emu.SetFaults(sandbox.Faults{Latency: time.Millisecond, Jitter: 5 * time.Millisecond})

	o := scenarioOptions{Calls: calls, Seed: 2026, Concurrency: 24, DuplicateRate: 0.1, PartialRate: 0.1,
		ResultRate: 0.3, RecordingRate: 0.4, LateRate: 0.05, LateDelay: 3 * time.Second}
	plans := c.planCalls(o)
	inputs := 0
	for _, p := range plans {
		inputs += p.Inputs
	}

	// Crash replica 1 and drain replica 2 while the inputs flow.
	start := time.Now()
	done := make(chan struct{})
	var chaos sync.WaitGroup
	var drainErr error
	var killed, drained bool
	chaos.Go(func() {
		waitFor := func(frac float64) bool {
			for rs.lb.total() < int64(frac*float64(inputs)) {
				select {
				case <-done:
					return false
				case <-time.After(50 * time.Millisecond):
				}
			}
			return true
		}
		if !waitFor(0.3) {
			return
		}
		t.Logf("%.1fs: SIGKILL replica 1", time.Since(start).Seconds())
		rs.replicas[1].kill()
		killed = true
		time.Sleep(time.Second)
		rs.replicas[1].start()
		if !waitFor(0.6) {
			return
		}
		t.Logf("%.1fs: SIGTERM replica 2", time.Since(start).Seconds())
		drainErr = rs.replicas[2].terminate(45 * time.Second)
		drained = true
		t.Logf("%.1fs: replica 2 exited (%v); restarting", time.Since(start).Seconds(), drainErr)
		rs.replicas[2].start()
	})
	st := c.drive(ctx, plans, o)
	close(done)
	chaos.Wait()
	t.Logf("%.1fs: %d inputs sent (%d through the balancer: %v)", time.Since(start).Seconds(), st.Requests.Load(), rs.lb.total(), rs.lb.counts())
	if n := st.Failures.Load(); n > 0 {
		t.Fatalf("%d inputs could not be delivered; first: %v", n, st.firstErr)
	}
	if !killed || !drained {
		t.Errorf("the run ended before the chaos: killed %v, drained %v", killed, drained)
	}
	if drainErr != nil {
		t.Errorf("replica 2 did not shut down cleanly on SIGTERM: %v", drainErr)
	}

	c.Emu.SetFaults(sandbox.Faults{})
	if err := c.waitSynced(ctx, plans, 5*time.Minute); err != nil {
		t.Error(err)
	}
	t.Logf("%.1fs: all calls in Kommo", time.Since(start).Seconds())
	rep, err := c.verify(ctx, plans)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	for acct, n := range rep.Stats.MaxPerSecondByAccount {
		if n > 7 {
			t.Errorf("the emulator saw %d requests in one second for account %d; Kommo allows 7", n, acct)
		}
	}
	kommo := requestsTo(rep.Stats)
	t.Logf("%d calls, %d inputs; %d notes; %d Kommo requests (%.2f per logged call); %d×429, %d×403; max %d req/s per IP",
		len(plans), st.Requests.Load(), rep.Logged, kommo, float64(kommo)/float64(max(rep.Logged, 1)),
		rep.Stats.TooManyRequests, rep.Stats.Blocked, maxWindow(rep.Stats))
	if t.Failed() {
		// Where the emulator's count and the requests as they reached it
		// differ, the emulator stamped them late (its lock, a starved test
		// process).
		n, in := rs.arrivals.maxPerSecond()
		t.Logf("at the emulator's door: max %d requests in one second:", n)
		for _, a := range in {
			t.Logf("  %s %s", a.at.Format("15:04:05.000"), a.what)
		}
		rs.arrivals.mu.Lock()
		t.Logf("slowest emulator answers: %v", rs.arrivals.slow)
		rs.arrivals.mu.Unlock()
	}

	// Every replica served requests and worked sync jobs; River elected one
	// leader (it alone enqueues the periodic jobs).
	for i, n := range rs.lb.counts() {
		if n == 0 {
			t.Errorf("replica %d served no request", i)
		}
	}
	var workers, leaders int64
	rs.query(t, `SELECT count(DISTINCT w) FROM river_job, unnest(attempted_by) AS w WHERE kind = 'sync_call'`, &workers)
	rs.query(t, `SELECT count(*) FROM river_leader`, &leaders)
	if workers < 3 {
		t.Errorf("sync jobs were worked by %d River clients, want every replica's", workers)
	}
	if leaders != 1 {
		t.Errorf("%d River leaders, want exactly 1", leaders)
	}
	t.Logf("sync jobs worked by %d River clients (restarts get new ids); %d leader", workers, leaders)

	// A graceful stop of every replica.
	for i, r := range rs.replicas {
		if err := r.terminate(45 * time.Second); err != nil {
			t.Errorf("replica %d: SIGTERM: %v", i, err)
		}
	}
}

func (b *balancer) total() int64 {
	var n int64
	for i := range b.served {
		n += b.served[i].Load()
	}
	return n
}

func (b *balancer) counts() []int64 {
	out := make([]int64, len(b.served))
	for i := range b.served {
		out[i] = b.served[i].Load()
	}
	return out
}
