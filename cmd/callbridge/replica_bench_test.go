package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge/store"
)

// TestReplicaBenchmarks measures what docs/benchmarks.md reports for
// replicas on PostgreSQL. It runs only with CALLBRIDGE_REPLICA_BENCH=1 (and
// CALLBRIDGE_TEST_POSTGRES_URL), without -race, and takes several minutes:
//
//	CALLBRIDGE_REPLICA_BENCH=1 go test -count=1 -timeout 40m -run TestReplicaBenchmarks -v ./cmd/callbridge
//
// Every process (replicas, balancer, load generator, emulator, PostgreSQL)
// shares this machine's CPUs, as in the e2e tests.
func TestReplicaBenchmarks(t *testing.T) {
	if os.Getenv("CALLBRIDGE_REPLICA_BENCH") != "1" {
		t.Skip("set CALLBRIDGE_REPLICA_BENCH=1 to run the replica benchmarks")
	}
	if raceDetector {
		t.Skip("benchmarks run without -race")
	}
	ctx := context.Background()
	var out strings.Builder
	fmt.Fprintf(&out, "\n| replicas | calls | webhooks + results | wall | inputs/s | ack p50 | ack p99 |\n|---|---|---|---|---|---|---|\n")

	// Ingest: the replicas hold every call for an hour, so that only ingest
	// runs (no Kommo traffic).
	for n := 1; n <= 3; n++ {
		t.Run(fmt.Sprintf("Ingest%d", n), func(t *testing.T) {
			rs := startReplicas(t, n, "--hold", "1h")
			o := scenarioOptions{Calls: 1500, Seed: uint64(100 + n), Concurrency: 64, DuplicateRate: 0.1, PartialRate: 0.1, ResultRate: 0.3}
			plans := rs.c.planCalls(o)
			start := time.Now()
			st := rs.c.drive(ctx, plans, o)
			wall := time.Since(start)
			if st.Failures.Load() > 0 {
				t.Fatalf("inputs refused: %v", st.firstErr)
			}
			p50, p99 := pct(st.Latencies, 50), pct(st.Latencies, 99)
			fmt.Fprintf(&out, "| %d | %d | %d | %.1f s | %.0f | %.1f ms | %.1f ms |\n", n, len(plans), st.Requests.Load(),
				wall.Seconds(), float64(st.Requests.Load())/wall.Seconds(), ms(p50), ms(p99))
		})
	}

	// Throughput at Kommo's cap: three replicas, one account, 2,000 calls,
	// no faults; how fast calls are logged and what they cost in requests.
	t.Run("KommoCap", func(t *testing.T) {
		rs := startReplicas(t, 3)
		c := rs.c
		o := scenarioOptions{Calls: 2000, Seed: 7, Concurrency: 32, DuplicateRate: 0.1, PartialRate: 0.1,
			ResultRate: 0.3, RecordingRate: 0.4, LateRate: 0.05, LateDelay: 3 * time.Second}
		plans := c.planCalls(o)
		start := time.Now()
		st := c.drive(ctx, plans, o)
		ingested := time.Since(start)
		if err := c.waitSynced(ctx, plans, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		wall := time.Since(start)
		rep, err := c.verify(ctx, plans)
		if err != nil {
			t.Fatal(err)
		}
		checkReport(t, rep)
		kommo := requestsTo(rep.Stats)
		fmt.Fprintf(&out, "\nKommo at the cap (3 replicas, one account): %d calls, %d inputs (ingested in %.1f s), %d logged in %.1f s = %.1f calls logged/s; "+
			"%d Kommo requests = %.2f per logged call (%.1f req/s); naive one request per input: %.2f per logged call; max %d req/s per IP, %d×429, %d×403\n",
			len(plans), st.Requests.Load(), ingested.Seconds(), rep.Logged, wall.Seconds(), float64(rep.Logged)/wall.Seconds(),
			kommo, float64(kommo)/float64(max(rep.Logged, 1)), float64(kommo)/wall.Seconds(),
			float64(st.Requests.Load())/float64(max(rep.Logged, 1)), maxWindow(rep.Stats), rep.Stats.TooManyRequests, rep.Stats.Blocked)
		fmt.Fprintf(&out, "requests by endpoint: %s\n", endpointSummary(rep.Stats))
	})

	// One account's logging throughput at Kommo's cap. The calls are with
	// known numbers (no incoming leads, no look-ups: one note each, in
	// batches of 50) and are ingested first with an hour's hold; then every
	// held job is made available at once and the clock runs until the last
	// call is in Kommo. Enough workers keep 50 calls waiting for every
	// request the limiter lets out.
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("Capacity%d", n), func(t *testing.T) {
			rs := startReplicas(t, n, "--hold", "1h", "--workers", strconv.Itoa(600/n))
			var released int64
			line := measureCapacity(t, rs.c, 40+n, func() {
				rs.query(t, `WITH u AS (UPDATE river_job SET state = 'available', scheduled_at = now()
					WHERE kind = 'sync_call' AND state = 'scheduled' RETURNING 1) SELECT count(*) FROM u`, &released)
			})
			fmt.Fprintf(&out, "\nOne account at Kommo's cap (%d replica(s), %d released jobs): %s", n, released, line)
		})
	}

	fmt.Fprintf(&out, "\n| accounts | calls | logged | wall (hold 5 s) | calls logged/s | Kommo requests | per logged call | max req/s per IP | 429 |\n|---|---|---|---|---|---|---|---|---|\n")
	// Growth with accounts: 600 calls spread over 1, 10 and 50 accounts
	// on one replica. Kommo's budget is per IP as well as per account, and a
	// batch carries one account's calls, so more accounts mean smaller
	// batches from the same budget.
	var byEndpoint []string
	for _, k := range []int{1, 10, 50} {
		t.Run(fmt.Sprintf("Accounts%d", k), func(t *testing.T) {
			rs := startReplicas(t, 1, "--workers", "100")
			views := []*cluster{rs.c}
			for i := 2; i <= k; i++ {
				v, err := rs.c.addAccount(ctx, i, 10)
				if err != nil {
					t.Fatal(err)
				}
				views = append(views, v)
			}
			total := 600
			o := scenarioOptions{Calls: total / k, Concurrency: max(64/k, 2), DuplicateRate: 0.1, PartialRate: 0.1, ResultRate: 0.3}
			plans := make([][]*callPlan, k)
			for i, v := range views {
				o.Seed = uint64(500 + i)
				plans[i] = v.planCalls(o)
			}
			before := rs.c.Emu.Stats()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make([]error, k)
			for i, v := range views {
				wg.Go(func() {
					if st := v.drive(ctx, plans[i], o); st.Failures.Load() > 0 {
						errs[i] = st.firstErr
						return
					}
					errs[i] = v.waitSynced(ctx, plans[i], 15*time.Minute)
				})
			}
			wg.Wait()
			wall := time.Since(start)
			logged := 0
			var rep *report
			for i, v := range views {
				if errs[i] != nil {
					t.Fatalf("account %d: %v", i+1, errs[i])
				}
				r, err := v.verify(ctx, plans[i])
				if err != nil {
					t.Fatal(err)
				}
				checkReport(t, r)
				logged += r.Logged
				rep = r
			}
			kommo := requestsTo(rep.Stats) - requestsTo(before)
			fmt.Fprintf(&out, "| %d | %d | %d | %.1f s | %.1f | %d | %.2f | %d | %d |\n", k, k*o.Calls, logged, wall.Seconds(),
				float64(logged)/wall.Seconds(), kommo, float64(kommo)/float64(max(logged, 1)), maxWindow(rep.Stats), rep.Stats.TooManyRequests)
			byEndpoint = append(byEndpoint, fmt.Sprintf("%d accounts: %s", k, endpointSummary(statsSince(rep.Stats, before))))
		})
	}

	if len(byEndpoint) > 0 {
		fmt.Fprintf(&out, "requests by endpoint:\n%s\n", strings.Join(byEndpoint, "\n"))
	}

	// Memory: one replica holding 10,000 calls whose Kommo writes are
	// pending (held for an hour).
	t.Run("Memory", func(t *testing.T) {
		rs := startReplicas(t, 1, "--hold", "1h")
		before := rss(t, rs.replicas[0])
		o := scenarioOptions{Calls: 10000, Seed: 9, Concurrency: 64}
		plans := rs.c.planCalls(o)
		st := rs.c.drive(ctx, plans, o)
		if st.Failures.Load() > 0 {
			t.Fatalf("inputs refused: %v", st.firstErr)
		}
		var pending int64
		rs.query(t, `SELECT count(*) FROM river_job WHERE kind = 'sync_call' AND state IN ('scheduled', 'available')`, &pending)
		after := rss(t, rs.replicas[0])
		fmt.Fprintf(&out, "\nMemory of one replica: %s before, %s with %d calls in flight (%d inputs; %d sync jobs pending)\n",
			before, after, len(plans), st.Requests.Load(), pending)
	})
	t.Log(out.String())
}

// rss returns the resident set size and its peak of a server process.
func rss(t *testing.T, s *serverProcess) string {
	t.Helper()
	s.mu.Lock()
	pid := s.cmd.Process.Pid
	s.mu.Unlock()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	var cur, peak string
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			cur = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			peak = strings.TrimSpace(v)
		}
	}
	return cur + " (peak " + peak + ")"
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(max(int(float64(len(s))*p/100+0.5)-1, 0), len(s)-1)
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestCapacity measures one account's logging throughput at Kommo's cap with
// one in-process server, on SQLite and on PostgreSQL: 6,000 calls with known
// numbers are ingested under an hour's hold, then every held sync job is
// made due at once and the clock runs until the last call is in Kommo. It
// runs with CALLBRIDGE_REPLICA_BENCH=1, without -race:
//
//	CALLBRIDGE_REPLICA_BENCH=1 go test -count=1 -run TestCapacity -v ./cmd/callbridge
func TestCapacity(t *testing.T) {
	if os.Getenv("CALLBRIDGE_REPLICA_BENCH") != "1" {
		t.Skip("set CALLBRIDGE_REPLICA_BENCH=1 to run the capacity benchmark")
	}
	if raceDetector {
		t.Skip("benchmarks run without -race")
	}
	ctx := context.Background()
	var out strings.Builder
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			c := newTestCluster(t, b, clusterOptions{Hold: time.Hour, Workers: 600, Contacts: 40, KommoBatchWait: time.Second})
			release := `UPDATE river_job SET state = 'available', scheduled_at = now() WHERE kind = 'sync_call' AND state = 'scheduled'`
			if b.url == "" {
				release = `UPDATE river_job SET state = 'available', scheduled_at = datetime('now', 'subsec', '-1 seconds') WHERE kind = 'sync_call' AND state = 'scheduled'`
			}
			line := measureCapacity(t, c, 61, func() {
				tx, err := c.Main.DB.(interface{ Backend() store.Backend }).Backend().Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := tx.Exec(ctx, release); err != nil {
					t.Fatal(err)
				}
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
			})
			fmt.Fprintf(&out, "\nOne account at Kommo's cap, one in-process server on %s: %s", b.name, line)
		})
	}
	t.Log(out.String())
}

// measureCapacity drives 6,000 calls with known numbers (seeded by seed)
// into c under a hold long enough that none is synced, calls release to make
// every held sync job due at once, and times until the last call is in
// Kommo. It checks every call and returns the report line: calls logged per
// second against 7 requests/s × 50 calls, Kommo requests, the rate limit.
func measureCapacity(t *testing.T, c *cluster, seed int, release func()) string {
	t.Helper()
	ctx := context.Background()
	o := scenarioOptions{Calls: 6000, Seed: uint64(seed), Concurrency: 64, DuplicateRate: 0.1,
		Categories: []string{catLead, catContact, catCustomer, catMulti, catCompany}}
	plans := c.planCalls(o)
	if st := c.drive(ctx, plans, o); st.Failures.Load() > 0 {
		t.Fatalf("inputs refused: %v", st.firstErr)
	}
	before := c.Emu.Stats()
	start := time.Now()
	release()
	if err := c.waitSynced(ctx, plans, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	wall := time.Since(start)
	rep, err := c.verify(ctx, plans)
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
	kommo := requestsTo(rep.Stats) - requestsTo(before)
	const limit = 7.0 * 50
	perSec := float64(rep.Logged) / wall.Seconds()
	// The steady rate is Kommo's view: calls per request times requests per
	// second between the first and the last note written, without the
	// second or two it takes the jobs to start and the test to see the last
	// call marked as written.
	const notes = "POST /api/v4/calls"
	n := rep.Stats.Count(notes, 200) - before.Count(notes, 200)
	span := rep.Stats.Served[notes].Last.Sub(rep.Stats.Served[notes].First)
	steady := 0.0
	if n > 1 && span > 0 {
		steady = float64(n-1) / span.Seconds() * float64(rep.Logged) / float64(n)
	}
	return fmt.Sprintf("%d calls logged in %.1f s from release to the last one marked written = **%.0f calls/s** (%.0f%% of 7 req/s × 50 = %.0f/s); "+
		"steady, between the first and the last of %d notes requests (%.2f s): **%.0f calls/s** (%.0f%%); "+
		"%d Kommo requests (%.1f req/s, %.1f calls per request); max %d req/s per IP, %d×429, %d×403\nrequests by endpoint: %s\n",
		rep.Logged, wall.Seconds(), perSec, 100*perSec/limit, limit, n, span.Seconds(), steady, 100*steady/limit,
		kommo, float64(kommo)/wall.Seconds(), float64(rep.Logged)/float64(max(kommo, 1)), maxWindow(rep.Stats),
		rep.Stats.TooManyRequests, rep.Stats.Blocked, endpointSummary(rep.Stats))
}
