package pipeline_test

// Benchmarks of Ingester.Ingest on real stores. They run only with -bench:
//
//	go test -run '^$' -bench 'Ingest' -benchtime 5s ./pipeline
//	CALLBRIDGE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench 'Ingest' -benchtime 5s ./pipeline
//
// One op is one webhook (the events one Twilio request parses into) ingested
// by one Ingest call, as the HTTP handler does. The events are what the
// Twilio connector makes of simulated calls (status callbacks of both legs,
// recording callbacks, about 5% provider retries), parsed before the timer
// starts, so the figure is the store's and the fold's cost only: no HTTP, no
// signature check. docs/benchmarks.md has the figures and how to read them.

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	"callbridge/pipeline"
	"callbridge/postgres"
	"callbridge/postgres/postgrestest"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
	"callbridge/twilio"
)

// benchStores opens a fresh store per benchmark round.
var benchStores = []struct {
	name string
	open func(b *testing.B) callbridge.Store
}{
	{"SQLite", func(b *testing.B) callbridge.Store { return sqlitetest.Open(b, sqlite.Options{}) }},
	{"PostgreSQL", func(b *testing.B) callbridge.Store { return postgrestest.Open(b, postgres.Options{}) }},
}

// BenchmarkIngest ingests webhooks one after another: the latency-bound
// figure (one transaction in flight).
func BenchmarkIngest(b *testing.B) {
	for _, s := range benchStores {
		b.Run(s.name, func(b *testing.B) {
			in, conn, hooks := ingestSetup(b, s.open(b))
			ctx := context.Background()
			b.ReportAllocs()
			cpu := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := in.Ingest(ctx, conn, hooks[i]); err != nil {
					b.Fatal(err)
				}
			}
			reportEvents(b, hooks, cpu)
		})
	}
}

// ingestModes are the Ingester configurations BenchmarkIngestParallel
// compares: group commit (the default), the same with two committers, and
// one transaction per webhook (the Ingester before group commit; the store's
// shorter statements apply to all three).
var ingestModes = []struct {
	name                 string
	maxBatch, committers int
}{
	{"GroupCommit", 0, 0},
	{"GroupCommit2", 0, 2},
	{"TxPerWebhook", 1, 0},
}

// BenchmarkIngestParallel ingests webhooks from 16×GOMAXPROCS goroutines, as
// concurrent HTTP requests do: the throughput-bound figure. It also reports
// the mean number of webhooks per transaction.
func BenchmarkIngestParallel(b *testing.B) {
	for _, s := range benchStores {
		for _, mode := range ingestModes {
			b.Run(s.name+"/"+mode.name, func(b *testing.B) {
				in, conn, hooks := ingestSetup(b, s.open(b))
				in.MaxBatch, in.Committers = mode.maxBatch, mode.committers
				ctx := context.Background()
				var next atomic.Int64
				b.SetParallelism(16)
				b.ReportAllocs()
				cpu := processCPU()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						i := next.Add(1) - 1
						if err := in.Ingest(ctx, conn, hooks[i]); err != nil {
							b.Error(err)
							return
						}
					}
				})
				reportEvents(b, hooks, cpu)
				if st := in.Stats(); st.Transactions > 0 {
					b.ReportMetric(float64(st.Webhooks)/float64(st.Transactions), "webhooks/tx")
				}
			})
		}
	}
}

// reportEvents reports webhooks and events per second of the timed part, and
// this process's CPU time per webhook (the PostgreSQL server's is not in it).
func reportEvents(b *testing.B, hooks [][]callbridge.CallEvent, cpu0 time.Duration) {
	b.StopTimer()
	cpu := processCPU() - cpu0
	sec := b.Elapsed().Seconds()
	if sec <= 0 {
		return
	}
	events := 0
	for _, h := range hooks[:b.N] {
		events += len(h)
	}
	b.ReportMetric(float64(b.N)/sec, "webhooks/s")
	b.ReportMetric(float64(events)/sec, "events/s")
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/webhook")
	}
}

// processCPU returns the CPU time (user and system) this process has used,
// from /proc/self/stat (Linux), or 0 where that is missing.
func processCPU() time.Duration {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	// utime and stime are the 14th and 15th fields; the command name (2nd)
	// may hold spaces.
	_, rest, ok := strings.Cut(string(stat), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ
}

// ingestSetup creates an account and a Twilio connection in s and parses
// b.N webhooks of simulated calls.
func ingestSetup(b *testing.B, s callbridge.Store) (*pipeline.Ingester, *callbridge.Connection, [][]callbridge.CallEvent) {
	b.Helper()
	ctx := context.Background()
	acct := &callbridge.Account{KommoID: 31_000_001, Subdomain: "bench", BaseURL: "https://bench.kommo.com"}
	if err := s.UpsertAccount(ctx, acct); err != nil {
		b.Fatal(err)
	}
	sim := &twilio.Simulator{AccountSID: "AC" + fmt.Sprintf("%032x", 42), AuthToken: "bench-auth-token",
		WebhookURL: "https://cb.example.com/webhooks/bench"}
	conn := &callbridge.Connection{AccountID: acct.ID, Provider: "twilio", Name: "Twilio",
		Credentials: map[string]string{twilio.CredentialAccountSID: sim.AccountSID, twilio.CredentialAuthToken: sim.AuthToken}}
	if err := s.CreateConnection(ctx, conn); err != nil {
		b.Fatal(err)
	}
	hooks := simulatedWebhooks(b, sim, conn, b.N)
	// No job workers run (the stores are insert-only): only ingest is timed.
	return &pipeline.Ingester{Store: s, Hold: time.Hour, Logger: slog.New(slog.DiscardHandler)}, conn, hooks
}

// simulatedWebhooks returns n webhooks (each the events of one parsed Twilio
// request) of calls in flight together: 16 calls at a time, their webhooks
// interleaved, about 5% of them delivered twice.
func simulatedWebhooks(b *testing.B, sim *twilio.Simulator, conn *callbridge.Connection, n int) [][]callbridge.CallEvent {
	b.Helper()
	ctx := context.Background()
	connector := twilio.New(twilio.Options{})
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	now := time.Now().UTC()
	parse := func(r *twilio.Request) []callbridge.CallEvent {
		events, _, err := connector.ParseWebhook(ctx, conn, r.WebhookRequest(now))
		if err != nil {
			b.Fatalf("parse simulated webhook: %v", err)
		}
		for i := range events {
			events[i].AccountID, events[i].ConnectionID, events[i].ReceivedAt = conn.AccountID, conn.ID, now
		}
		return events
	}
	call := 0
	newCall := func() []*twilio.Request {
		call++
		spec := twilio.CallSpec{
			CallSID: fmt.Sprintf("CA%032x", call), Customer: fmt.Sprintf("+1415%07d", rng.IntN(10_000_000)),
			Line: "+14155550000", Agent: "+14155559999", Direction: callbridge.DirectionInbound, DialLeg: true,
			Start: now.Add(-time.Duration(rng.IntN(600)) * time.Second),
		}
		if rng.IntN(10) < 4 {
			spec.Direction, spec.DialLeg = callbridge.DirectionOutbound, false
		}
		switch r := rng.IntN(20); {
		case r < 12:
			spec.Answered, spec.Duration, spec.Recording = true, 5+rng.IntN(600), rng.IntN(10) < 7
		case r < 17:
		case r < 19:
			spec.Busy = true
		default:
			spec.Failed = true
		}
		return sim.Requests(spec)
	}
	const window = 16
	active := make([][]*twilio.Request, window)
	out := make([][]callbridge.CallEvent, 0, n)
	for len(out) < n {
		for w := range active {
			if len(active[w]) == 0 {
				active[w] = newCall()
			}
			r := active[w][0]
			active[w] = active[w][1:]
			events := parse(r)
			if len(events) == 0 {
				continue // e.g. nothing to record; the handler would not ingest
			}
			out = append(out, events)
			if rng.IntN(20) == 0 {
				out = append(out, parse(r)) // a provider retry
			}
			if len(out) >= n {
				break
			}
		}
	}
	return out[:n]
}
