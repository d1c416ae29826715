package main

// Tests of `callbridge bench`, and the end-to-end Go benchmarks. The
// benchmarks run only with -bench, e.g.
//
//	go test -run '^$' -bench WebhookIngest -benchtime 5000x ./cmd/callbridge
//	go test -run '^$' -bench KommoRequests -benchtime 300x ./cmd/callbridge
//
// With CALLBRIDGE_TEST_POSTGRES_URL set, the PostgreSQL variants run too.
// They report figures (b.ReportMetric) and assert only correctness.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge/postgres/postgrestest"
	"callbridge/twilio"
)

// The test binary acts as bench's load generator process when bench starts
// it as one (--sender process).
func init() {
	if os.Getenv(senderChildEnv) == "1" {
		if err := runSenderChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sender:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// runBenchJSON runs `callbridge bench --json args…` and decodes its report.
func runBenchJSON(t *testing.T, args ...string) *benchReport {
	t.Helper()
	var out, progress bytes.Buffer
	cmd := &BenchCommand{Out: &out, Progress: &progress}
	err := cmd.Run(t.Context(), append([]string{"--json", "--dir", t.TempDir()}, args...))
	if err != nil {
		t.Fatalf("bench %v: %v\nprogress:\n%s\nreport:\n%s", args, err, progress.String(), out.String())
	}
	var rep benchReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	return &rep
}

// checkBenchReport checks what every run must show whatever the machine.
func checkBenchReport(t *testing.T, rep *benchReport, calls int) {
	t.Helper()
	in, k := rep.Ingest, rep.Kommo
	if k == nil {
		t.Fatal("no Kommo figures")
	}
	if rep.Options.Calls != calls || k.Calls != calls {
		t.Errorf("calls: options %d, kommo %d; want %d", rep.Options.Calls, k.Calls, calls)
	}
	if in.Sent != rep.Options.Webhooks || in.Acked != in.Sent || in.Refused != 0 {
		t.Errorf("ingest: sent %d of %d webhooks, %d acknowledged, %d refused", in.Sent, rep.Options.Webhooks, in.Acked, in.Refused)
	}
	if in.PerSec <= 0 || in.Latency.N != in.Sent || in.Latency.P50 <= 0 || in.Latency.P50 > in.Latency.P99 || in.Latency.P99 > in.Latency.Max {
		t.Errorf("ingest figures inconsistent: %+v", in)
	}
	if k.Wrong != 0 || k.Logged == 0 || k.Logged+k.NotLogged != calls {
		t.Errorf("kommo: %d logged + %d not loggable of %d calls, %d wrong", k.Logged, k.NotLogged, calls, k.Wrong)
	}
	if k.HangupToNote.N != k.Logged || k.HangupToNote.P50 <= 0 {
		t.Errorf("hang-up → note measured for %d of %d logged calls (p50 %v ms)", k.HangupToNote.N, k.Logged, k.HangupToNote.P50)
	}
	// The hold is a lower bound for a call whose terminal webhooks all
	// arrived together, so the median note comes after it.
	if hold := rep.Options.HoldMS; k.HangupToNote.P50 < hold/2 {
		t.Errorf("hang-up → note p50 %.0f ms, but the hold is %.0f ms", k.HangupToNote.P50, hold)
	}
	if k.Requests == 0 || k.PerCall <= 0 || k.ByEndpoint["POST /api/v4/calls"] == 0 {
		t.Errorf("kommo requests: %d (%.2f per call), by endpoint %v", k.Requests, k.PerCall, k.ByEndpoint)
	}
	if k.Status403 != 0 || k.MaxPerSecond > 7 {
		t.Errorf("Kommo's limit broken: %d × 403, %d requests in one second", k.Status403, k.MaxPerSecond)
	}
	if rep.Machine.Cores <= 0 || rep.Machine.Go == "" || !strings.HasPrefix(rep.Database, "SQLite") {
		t.Errorf("machine or database not described: %+v, %q", rep.Machine, rep.Database)
	}
	if len(rep.Problems) != 0 {
		t.Errorf("problems: %v", rep.Problems)
	}
}

// The runs below keep each call's webhooks within well under the hold
// (--window 2): a call whose first sync starts before its parent leg's
// webhooks arrived is a different scenario from the one measured.
func TestBenchCommand(t *testing.T) {
	t.Run("ClosedLoop", func(t *testing.T) {
		t.Parallel()
		rep := runBenchJSON(t, "--calls", "10", "--concurrency", "4", "--window", "2", "--hold", "2s", "--seed", "3", "--sender", "inline")
		checkBenchReport(t, rep, 10)
		if rep.Options.Rate != 0 || rep.Options.Duplicates == 0 {
			t.Errorf("options: %+v", rep.Options)
		}
	})
	t.Run("FixedRateAndEventsPerCall", func(t *testing.T) {
		t.Parallel()
		rep := runBenchJSON(t, "--calls", "8", "--concurrency", "4", "--window", "2", "--hold", "2s", "--seed", "4",
			"--rate", "50", "--events-per-call", "10", "--duplicates", "0", "--routing")
		checkBenchReport(t, rep, 8)
		// With extensions mapped, answering inbound calls looks callers up.
		if !rep.Options.Routing || rep.Kommo.RoutingLookups == 0 {
			t.Errorf("--routing: %d look-ups (options %+v)", rep.Kommo.RoutingLookups, rep.Options)
		}
		// Every call has at most 9 webhooks as Twilio sends them: 10 means retries were added.
		if rep.Options.Webhooks != 80 || rep.Options.Duplicates == 0 {
			t.Errorf("want 80 webhooks with retries, got %d (%d retries)", rep.Options.Webhooks, rep.Options.Duplicates)
		}
		// 80 webhooks at 50/s take at least 1.58 s: an open loop cannot be faster.
		if rep.Ingest.Seconds < 1.5 {
			t.Errorf("80 webhooks at 50/s took %.2f s", rep.Ingest.Seconds)
		}
	})
}

func TestBenchCommandIngestOnly(t *testing.T) {
	t.Parallel()
	rep := runBenchJSON(t, "--calls", "6", "--concurrency", "4", "--ingest-only")
	if rep.Kommo != nil {
		t.Errorf("Kommo figures with --ingest-only: %+v", rep.Kommo)
	}
	if in := rep.Ingest; in.Sent == 0 || in.Acked != in.Sent || in.Latency.N != in.Sent {
		t.Errorf("ingest: %+v", in)
	}
	if rep.Options.Sender != "process" {
		t.Errorf("sender %q, want the default, process", rep.Options.Sender)
	}
}

// TestLoadGenerator checks the raw HTTP/1.1 sender against Go's server:
// every request arrives whole (URL, headers, body), answers with and without
// bodies are read, a connection the server closes is dialled again, and both
// loops deliver everything once.
func TestLoadGenerator(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.RequestURI()+" "+r.Header.Get("X-Twilio-Signature")+" "+string(body)]++
		mu.Unlock()
		switch r.URL.Query().Get("n") {
		case "3":
			w.Header().Set("Connection", "close")
		case "5":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, "<Response/>")
			return
		case "7":
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	var seq []benchEvent
	for i := range 40 {
		form := url.Values{"CallSid": {fmt.Sprintf("CA%d", i)}, "CallStatus": {"ringing"}}
		h := http.Header{}
		h.Set("Content-Type", "application/x-www-form-urlencoded")
		h.Set("X-Twilio-Signature", fmt.Sprintf("sig%d", i))
		seq = append(seq, benchEvent{req: &twilio.Request{URL: fmt.Sprintf("%s/webhooks/tok?n=%d", srv.URL, i%10),
			Header: h, Form: form, Body: []byte(form.Encode())}})
	}
	for _, rate := range []float64{0, 400} {
		clear(got)
		job, err := newSenderJob(seq, 3, rate)
		if err != nil {
			t.Fatal(err)
		}
		fr := floodInline(t.Context(), job)
		for i, r := range fr.results {
			wantStatus := map[bool]int{true: 503, false: 200}[i%10 == 7]
			if r.status != wantStatus || (r.err != nil) != (wantStatus != 200) || r.start.IsZero() || r.latency <= 0 {
				t.Errorf("rate %v, webhook %d: status %d, err %v, start %v, latency %v", rate, i, r.status, r.err, r.start, r.latency)
			}
			key := fmt.Sprintf("/webhooks/tok?n=%d sig%d %s", i%10, i, seq[i].req.Body)
			if got[key] != 1 {
				t.Errorf("rate %v: the server got webhook %d %d times", rate, i, got[key])
			}
		}
	}
}

func TestBenchCommandFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--calls", "0"}, {"--concurrency", "0"}, {"--rate", "-1"}, {"--duplicates", "2"},
		{"--events-per-call", "-3"}, {"--db", "mysql://x"}, {"--sender", "thread"},
	} {
		err := (&BenchCommand{Out: io.Discard, Progress: io.Discard}).Run(t.Context(), append(args, "--dir", t.TempDir()))
		if err == nil {
			t.Errorf("bench %v: no error", args)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 200; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	for p, want := range map[float64]time.Duration{50: 100 * time.Millisecond, 99: 198 * time.Millisecond, 100: 200 * time.Millisecond, 0: time.Millisecond} {
		if got := percentile(ds, p); got != want {
			t.Errorf("p%v = %v, want %v", p, got, want)
		}
	}
	rand.Shuffle(len(ds), func(i, j int) { ds[i], ds[j] = ds[j], ds[i] })
	l := summarize(ds)
	if l.N != 200 || l.P50 != 100 || l.P90 != 180 || l.P99 != 198 || l.Max != 200 {
		t.Errorf("summarize = %+v", l)
	}
	if percentile(nil, 50) != 0 || summarize(nil).N != 0 {
		t.Error("empty input")
	}
}

func simCall(sim *twilio.Simulator, sid string, answered bool) []action {
	var out []action
	spec := twilio.CallSpec{CallSID: sid, Customer: "+14151000001", Line: "+14155550000", Agent: "+14155559999",
		DialLeg: true, Answered: answered, Duration: 30, Recording: answered}
	for _, r := range sim.Requests(spec) {
		out = append(out, action{req: r})
	}
	return out
}

func TestShapeInputs(t *testing.T) {
	sim := &twilio.Simulator{AccountSID: "AC1", AuthToken: "t", WebhookURL: "https://cb.example.com/webhooks/x"}
	in := simCall(sim, "CA1", true)
	rng := rand.New(rand.NewPCG(1, 2))
	var essentials []*twilio.Request
	for _, a := range in {
		if essential(a) {
			essentials = append(essentials, a.req)
		}
	}
	if len(essentials) != 3 { // the dial leg's and the parent's completed, the recording
		t.Fatalf("%d essential webhooks in an answered, recorded inbound call, want 3", len(essentials))
	}
	for _, n := range []int{1, 3, 5, len(in), 20} {
		out := shapeInputs(in, n, rng)
		if want := max(n, len(essentials)); len(out) != want {
			t.Errorf("n=%d: %d webhooks, want %d", n, len(out), want)
		}
		for _, r := range essentials {
			if !slices.ContainsFunc(out, func(a action) bool { return a.req == r }) {
				t.Errorf("n=%d: dropped the essential %s %s", n, r.Kind, r.Status)
			}
		}
		if n >= len(in) {
			for _, a := range in {
				if !slices.ContainsFunc(out, func(b action) bool { return b.req == a.req }) {
					t.Errorf("n=%d: padding dropped %s %s", n, a.req.Kind, a.req.Status)
				}
			}
		}
	}
}

func TestInterleave(t *testing.T) {
	sim := &twilio.Simulator{AccountSID: "AC1", AuthToken: "t", WebhookURL: "https://cb.example.com/webhooks/x"}
	var plans []*callPlan
	total := 0
	for i := 0; i < 7; i++ {
		p := &callPlan{SID: "CA" + string(rune('a'+i)), early: simCall(sim, "CA"+string(rune('a'+i)), i%2 == 0)}
		total += len(p.early)
		plans = append(plans, p)
	}
	plans = append(plans, &callPlan{SID: "CAempty"}) // nothing to send
	const window = 3
	seq := interleave(plans, window)
	if len(seq) != total {
		t.Fatalf("%d deliveries, want %d", len(seq), total)
	}
	pos := make([]int, len(plans))
	firstAt, lastAt := map[int]int{}, map[int]int{}
	for i, e := range seq {
		p := plans[e.plan]
		if p.early[pos[e.plan]].req != e.req {
			t.Fatalf("delivery %d is not call %s's next webhook", i, p.SID)
		}
		pos[e.plan]++
		if _, ok := firstAt[e.plan]; !ok {
			firstAt[e.plan] = i
		}
		lastAt[e.plan] = i
	}
	// At any point at most window calls are in progress.
	for i := range seq {
		open := 0
		for pi := range firstAt {
			if firstAt[pi] <= i && i <= lastAt[pi] {
				open++
			}
		}
		if open > window {
			t.Fatalf("%d calls in progress at delivery %d, window %d", open, i, window)
		}
	}
}

// benchDatabase returns the --db value for a sub-benchmark: "" for SQLite,
// a fresh schema's URL for PostgreSQL (skipped without
// CALLBRIDGE_TEST_POSTGRES_URL).
func benchDatabase(b *testing.B, name string) string {
	if name == "SQLite" {
		return ""
	}
	url := postgrestest.URL(b)
	pg, err := benchSchema(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pg.drop)
	return pg.url
}

func benchCluster(b *testing.B, db string, hold time.Duration) *cluster {
	b.Helper()
	ctx := context.Background()
	cl, err := startCluster(ctx, clusterOptions{Dir: b.TempDir(), DB: db, Hold: hold, Contacts: 20,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cl.Close(context.Background()) })
	return cl
}

// benchSequence returns n webhook deliveries of new calls, 32 calls in
// progress at a time, about 5% of them provider retries.
func benchSequence(cl *cluster, n int, seed uint64) ([]*callPlan, []benchEvent) {
	for calls := n/4 + 1; ; calls *= 2 {
		plans := cl.planCalls(scenarioOptions{Calls: calls, Seed: seed, DuplicateRate: 0.05, RecordingRate: 0.7})
		if seq := interleave(plans, 32); len(seq) >= n {
			return plans, seq[:n]
		}
	}
}

// BenchmarkWebhookIngest sends b.N signed Twilio webhooks over HTTP, 32 at a
// time, through callbridge's handler, Ingester and store, and reports
// acknowledged events per second and the acknowledgement latency. The hold is
// an hour, so nothing is written to Kommo meanwhile: this is ingest alone
// (`callbridge bench` measures it with the sync worker running).
func BenchmarkWebhookIngest(b *testing.B) {
	for _, name := range []string{"SQLite", "PostgreSQL"} {
		b.Run(name, func(b *testing.B) {
			cl := benchCluster(b, benchDatabase(b, name), time.Hour)
			_, seq := benchSequence(cl, b.N, uint64(b.N))
			b.ResetTimer()
			start := time.Now()
			results := flood(context.Background(), cl, seq, 32, 0)
			b.StopTimer()
			in := ingestSummary(results, start, time.Now())
			if in.Refused > 0 {
				b.Fatalf("%d of %d webhooks refused; first: %s", in.Refused, in.Sent, in.FirstErr)
			}
			b.ReportMetric(in.PerSec, "events/s")
			b.ReportMetric(in.Latency.P50, "p50-ms")
			b.ReportMetric(in.Latency.P99, "p99-ms")
		})
	}
}

// BenchmarkKommoRequestsPerCall sends b.N calls (with retries and
// recordings) through callbridge, waits until every one is in the Kommo
// emulator, checks each is there exactly once, and reports Kommo requests per
// logged call and the 429s and 403s. Use -benchtime Nx: a round takes at least
// the hold plus Kommo's pace of about 7 requests per second.
func BenchmarkKommoRequestsPerCall(b *testing.B) {
	ctx := context.Background()
	cl := benchCluster(b, "", 500*time.Millisecond)
	plans := cl.planCalls(scenarioOptions{Calls: b.N, Seed: uint64(b.N), DuplicateRate: 0.05, RecordingRate: 0.7})
	seq := interleave(plans, 32)
	b.ResetTimer()
	results := flood(ctx, cl, seq, 32, 0)
	if err := cl.waitSynced(ctx, plans, 10*time.Minute); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if in := ingestSummary(results, time.Now(), time.Now()); in.Refused > 0 {
		b.Fatalf("%d webhooks refused; first: %s", in.Refused, in.FirstErr)
	}
	vr, err := cl.verify(ctx, plans)
	if err != nil {
		b.Fatal(err)
	}
	if vr.Failed > 0 {
		b.Fatalf("%d of %d calls wrong in Kommo", vr.Failed, len(plans))
	}
	b.ReportMetric(float64(requestsTo(vr.Stats))/float64(max(vr.Logged, 1)), "requests/call")
	b.ReportMetric(float64(vr.Stats.TooManyRequests), "429s")
	b.ReportMetric(float64(vr.Stats.Blocked), "403s")
}
