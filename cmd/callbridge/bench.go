package main

// `callbridge bench`: runs the cluster (cluster.go), floods it with signed
// Twilio webhooks over real HTTP and measures what docs/benchmarks.md reports.

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
	"callbridge/postgres"
	"callbridge/sandbox"
	"callbridge/sqlite"
	"callbridge/twilio"
)

// BenchCommand measures callbridge end to end on this machine: webhook ingest
// throughput and acknowledgement latency (signed Twilio webhooks over HTTP
// through the production handler, Ingester and store), hang-up → Kommo
// latency, Kommo requests per logged call, 429s and 403s. It runs the Kommo
// emulator, callbridge and the Twilio simulator in this process, so the load
// generator shares the CPU with the server; see docs/benchmarks.md.
type BenchCommand struct {
	Out io.Writer // the report; default os.Stdout
	// Progress receives progress lines; default Out, or os.Stderr with --json.
	Progress io.Writer
}

// benchOptions are the flags of `callbridge bench`.
type benchOptions struct {
	DB            string
	Dir           string
	Calls         int
	EventsPerCall int
	Duplicates    float64
	Recordings    float64
	Concurrency   int
	Window        int
	Rate          float64
	Hold          time.Duration
	KommoRPS      float64
	Workers       int
	Contacts      int
	Seed          uint64
	SyncTimeout   time.Duration
	IngestOnly    bool
	Routing       bool
	JSON          bool
	Keep          bool
	Verbose       bool
	CPUProfile    string
}

func (o *benchOptions) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.DB, "db", "", "postgres:// URL to benchmark PostgreSQL (a fresh schema is created and dropped); default SQLite")
	fs.StringVar(&o.Dir, "dir", "", "directory for the SQLite file and key (default: a new temporary directory)")
	fs.IntVar(&o.Calls, "calls", 2000, "number of calls")
	fs.IntVar(&o.EventsPerCall, "events-per-call", 0, "webhooks per call: 0 = as Twilio sends them (4 to 9); N trims optional ones or adds retries to reach N")
	fs.Float64Var(&o.Duplicates, "duplicates", 0.05, "chance that a webhook is delivered twice (a provider retry)")
	fs.Float64Var(&o.Recordings, "recordings", 0.7, "chance that an answered call has a recording callback")
	fs.IntVar(&o.Concurrency, "concurrency", 32, "webhooks in flight at once")
	fs.IntVar(&o.Window, "window", 0, "calls in progress at once, their webhooks interleaved (default --concurrency); at a fixed --rate one call's webhooks are window/rate seconds apart")
	fs.Float64Var(&o.Rate, "rate", 0, "offered load in webhooks per second (open loop); 0 = as fast as the server acknowledges")
	fs.DurationVar(&o.Hold, "hold", 10*time.Second, "callbridge's hold after hang-up (as serve's default); under 5s River's 5s scheduler tick adds up to 5s−hold")
	fs.Float64Var(&o.KommoRPS, "kommo-rps", 6, "callbridge's Kommo request rate (Kommo allows 7 per second)")
	fs.IntVar(&o.Workers, "workers", 20, "concurrent sync jobs (as serve's default)")
	fs.IntVar(&o.Contacts, "contacts", 50, "seeded Kommo numbers per category (lead, contact, customer, …)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed: the same seed sends the same calls")
	fs.DurationVar(&o.SyncTimeout, "sync-timeout", 10*time.Minute, "how long to wait for every call to reach Kommo")
	fs.BoolVar(&o.Routing, "routing", false, "map every Kommo user to an extension, so that answering an inbound call's voice webhook looks the caller up in Kommo (smart forwarding)")
	fs.BoolVar(&o.IngestOnly, "ingest-only", false, "stop after the flood: measure ingest, not Kommo (much shorter runs)")
	fs.BoolVar(&o.JSON, "json", false, "print the report as JSON")
	fs.BoolVar(&o.Keep, "keep", false, "keep the SQLite directory or PostgreSQL schema afterwards")
	fs.BoolVar(&o.Verbose, "v", false, "log callbridge's warnings")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the webhook flood (server and sender together) to this file")
}

func (o *benchOptions) check() error {
	switch {
	case o.Calls <= 0:
		return errors.New("--calls must be positive")
	case o.Concurrency <= 0:
		return errors.New("--concurrency must be positive")
	case o.Window < 0:
		return errors.New("--window must not be negative")
	case o.Rate < 0:
		return errors.New("--rate must not be negative")
	case o.EventsPerCall < 0:
		return errors.New("--events-per-call must not be negative")
	case o.Duplicates < 0 || o.Duplicates > 1 || o.Recordings < 0 || o.Recordings > 1:
		return errors.New("--duplicates and --recordings are chances between 0 and 1")
	case o.Hold < 0:
		return errors.New("--hold must not be negative")
	}
	return nil
}

// Run runs the benchmark and prints its report. It returns an error when a
// webhook was refused, a call did not reach Kommo in time, or a call is wrong
// in Kommo (missing, doubled, on the wrong entity): a benchmark of a wrong
// result is worthless.
func (c *BenchCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("callbridge bench", flag.ContinueOnError)
	var o benchOptions
	o.flags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	progress := c.Progress
	switch {
	case progress != nil:
	case o.JSON:
		progress = os.Stderr
	default:
		progress = out
	}
	rep, err := runBench(ctx, o, progress)
	if rep != nil {
		if o.JSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if jerr := enc.Encode(rep); jerr != nil {
				return jerr
			}
		} else {
			rep.print(out)
		}
	}
	return err
}

// benchReport is what `callbridge bench` measured. Durations are in
// milliseconds unless the name says otherwise.
type benchReport struct {
	Machine  machineInfo  `json:"machine"`
	Database string       `json:"database"`
	Options  benchSummary `json:"options"`
	Ingest   ingestResult `json:"ingest"`
	Kommo    *kommoResult `json:"kommo,omitempty"` // nil with --ingest-only
	Problems []string     `json:"problems,omitempty"`
}

// benchSummary echoes the options that shape the figures.
type benchSummary struct {
	Calls         int     `json:"calls"`
	Webhooks      int     `json:"webhooks"`
	EventsPerCall float64 `json:"webhooks_per_call"`
	Duplicates    int     `json:"duplicate_deliveries"`
	Concurrency   int     `json:"concurrency"`
	Window        int     `json:"window"`       // calls in progress at once
	Rate          float64 `json:"offered_rate"` // webhooks/s; 0 = closed loop
	HoldMS        float64 `json:"hold_ms"`
	KommoRPS      float64 `json:"kommo_rps"`
	Workers       int     `json:"workers"`
	Seed          uint64  `json:"seed"`
	Routing       bool    `json:"routing"` // users mapped to extensions: routing answers look callers up in Kommo
}

// ingestResult is the webhook flood as the sender saw it.
type ingestResult struct {
	Sent    int     `json:"sent"`
	Acked   int     `json:"acked_2xx"`
	Refused int     `json:"refused"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"events_per_sec"` // acknowledged webhooks per second
	Latency latency `json:"ack_latency"`
	// ByKind splits Latency by webhook kind: "status" and "recording"
	// callbacks are ingest only; "voice" requests (an inbound call's first
	// webhook) also wait for the routing answer, which may look the caller
	// up in Kommo (bounded by pipeline.DefaultRouteTimeout).
	ByKind   map[string]latency `json:"ack_latency_by_kind"`
	FirstErr string             `json:"first_error,omitempty"`
	// CPUPerEvent is this process's CPU time (server, sender and emulator
	// together) per webhook during the flood, in milliseconds; OtherCores is
	// how many cores other processes (other work on the machine, and the
	// PostgreSQL server) kept busy meanwhile, on average. Linux only.
	CPUPerEvent float64 `json:"cpu_ms_per_event,omitempty"`
	OtherCores  float64 `json:"other_processes_cores,omitempty"`
}

// kommoResult is what reached the Kommo emulator.
type kommoResult struct {
	Calls          int     `json:"calls"`
	Logged         int     `json:"logged"`
	NotLogged      int     `json:"not_logged"` // outgoing calls to numbers Kommo does not know
	Wrong          int     `json:"wrong"`
	SyncedAfterSec float64 `json:"synced_after_last_webhook_sec"`
	// HangupToNote runs from the last terminal webhook of a call to its note
	// in the emulator, hold included; NetOfHold subtracts the hold.
	HangupToNote latency `json:"hangup_to_note"`
	NetOfHold    latency `json:"hangup_to_note_minus_hold"`
	PollMS       float64 `json:"note_poll_interval_ms"` // the longest gap between looks at the emulator
	// JobPickup is, for each completed sync job, the time from when it was
	// due (its scheduled_at: hang-up + hold, or a snooze's end) to when its
	// last attempt started: River's scheduling delay.
	JobPickup latency `json:"sync_job_pickup"`
	Requests  int     `json:"requests"`
	PerCall   float64 `json:"requests_per_logged_call"`
	// RoutingLookups are the contact searches (GET /api/v4/contacts) made
	// to answer inbound calls' routing webhooks (and to recover uncertain
	// writes); PerCallLogging leaves them out.
	RoutingLookups int            `json:"routing_lookups"`
	PerCallLogging float64        `json:"requests_per_logged_call_without_lookups"`
	Status429      int            `json:"status_429"`
	Status403      int            `json:"status_403"`
	MaxPerSecond   int            `json:"max_requests_in_1s"`
	ByEndpoint     map[string]int `json:"requests_by_endpoint"`
}

// latency summarises durations in milliseconds (nearest-rank percentiles).
type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50_ms"`
	P90 float64 `json:"p90_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }
	return latency{N: len(s), P50: ms(percentile(s, 50)), P90: ms(percentile(s, 90)), P99: ms(percentile(s, 99)), Max: ms(s[len(s)-1])}
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func runBench(ctx context.Context, o benchOptions, progress io.Writer) (*benchReport, error) {
	rep := &benchReport{Machine: machine()}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "callbridge-bench-")
		if err != nil {
			return nil, err
		}
		dir = d
		if !o.Keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	db := ""
	if o.DB != "" {
		pg, err := benchSchema(ctx, o.DB)
		if err != nil {
			return nil, err
		}
		if !o.Keep {
			defer pg.drop()
		}
		db, rep.Database = pg.url, pg.describe
	} else {
		file := filepath.Join(dir, "callbridge.db")
		if _, err := os.Stat(file); err == nil {
			return nil, fmt.Errorf("%s exists: bench needs a fresh database (choose another --dir)", file)
		}
		rep.Database = fmt.Sprintf("SQLite %s (%s)", file, filesystemOf(dir))
	}

	level := slog.LevelError
	if o.Verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	fmt.Fprintf(progress, "Starting the Kommo emulator and callbridge on %s…\n", rep.Database)
	cl, err := startCluster(ctx, clusterOptions{Dir: dir, DB: db, Hold: o.Hold, Workers: o.Workers,
		KommoRPS: o.KommoRPS, Contacts: o.Contacts, Logger: logger})
	if err != nil {
		return nil, err
	}
	defer cl.Close(context.Background())
	if o.Routing {
		if err := mapExtensions(ctx, cl); err != nil {
			return nil, err
		}
	}

	plans := benchPlans(cl, o)
	window := cmp.Or(o.Window, o.Concurrency)
	seq := interleave(plans, window)
	rep.Options = benchSummary{Calls: len(plans), Webhooks: len(seq), EventsPerCall: float64(len(seq)) / float64(len(plans)),
		Duplicates: countDuplicates(plans), Concurrency: o.Concurrency, Window: window, Rate: o.Rate,
		HoldMS: float64(o.Hold) / 1e6, KommoRPS: o.KommoRPS, Workers: o.Workers, Seed: o.Seed, Routing: o.Routing}

	poller := &notePoller{emu: cl.Emu, account: cl.KommoAccountID, seen: map[string]time.Time{}}
	pollCtx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); poller.run(pollCtx) }()
	defer func() { stopPoll(); <-pollDone }()

	how := "as fast as callbridge acknowledges"
	if o.Rate > 0 {
		how = fmt.Sprintf("at %.0f webhooks/s", o.Rate)
	}
	fmt.Fprintf(progress, "Sending %d signed webhooks of %d calls, %d at a time, %s…\n", len(seq), len(plans), o.Concurrency, how)
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	cpu0 := readCPU()
	start := time.Now()
	results := flood(ctx, cl, seq, o.Concurrency, o.Rate)
	end := time.Now()
	cpu1 := readCPU()
	stopProfile()
	rep.Ingest = ingestSummary(results, start, end)
	rep.Ingest.ByKind = latencyByKind(seq, results)
	if cpu0.ok && cpu1.ok && len(seq) > 0 {
		self := float64(cpu1.self-cpu0.self) / clockTicks // seconds
		others := (float64(cpu1.busy) - float64(cpu0.busy) - float64(cpu1.self-cpu0.self)) / clockTicks
		rep.Ingest.CPUPerEvent = math.Round(self/float64(len(seq))*1e5) / 100
		rep.Ingest.OtherCores = math.Round(max(others, 0)/end.Sub(start).Seconds()*100) / 100
	}
	if rep.Ingest.Refused > 0 {
		rep.Problems = append(rep.Problems, fmt.Sprintf("%d webhooks refused; first: %s", rep.Ingest.Refused, rep.Ingest.FirstErr))
	}

	if o.IngestOnly {
		fmt.Fprintf(progress, "Acknowledged %d webhooks in %.1f s.\n", rep.Ingest.Acked, rep.Ingest.Seconds)
		if rep.Ingest.Refused > 0 {
			return rep, fmt.Errorf("%d of %d webhooks were refused", rep.Ingest.Refused, rep.Ingest.Sent)
		}
		return rep, nil
	}
	fmt.Fprintf(progress, "Acknowledged %d webhooks in %.1f s. Waiting for callbridge to bring Kommo up to date…\n",
		rep.Ingest.Acked, rep.Ingest.Seconds)
	waitErr := cl.waitSynced(ctx, plans, o.SyncTimeout)
	synced := time.Now()
	stopPoll()
	<-pollDone
	poller.poll() // a last look, after everything is in
	if waitErr != nil {
		rep.Problems = append(rep.Problems, waitErr.Error())
	}

	vr, err := cl.verify(ctx, plans)
	if err != nil {
		return rep, err
	}
	calls, err := cl.calls(ctx)
	if err != nil {
		return rep, err
	}
	k := kommoSummary(vr, calls, plans, seq, results, poller, o.Hold)
	if pickup, err := jobPickup(ctx, cl.Main.DB); err == nil {
		k.JobPickup = summarize(pickup)
	} else {
		rep.Problems = append(rep.Problems, "sync job pickup delays: "+err.Error())
	}
	rep.Kommo = &k
	rep.Kommo.SyncedAfterSec = math.Round(synced.Sub(end).Seconds()*100) / 100
	for _, v := range vr.Verdicts {
		if v.Problem != "" && len(rep.Problems) < 10 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("call %s: %s", v.Plan.SID, v.Problem))
		}
	}
	switch {
	case waitErr != nil:
		return rep, waitErr
	case vr.Failed > 0:
		return rep, fmt.Errorf("%d of %d calls are wrong in Kommo", vr.Failed, len(plans))
	case rep.Ingest.Refused > 0:
		return rep, fmt.Errorf("%d of %d webhooks were refused", rep.Ingest.Refused, rep.Ingest.Sent)
	}
	return rep, nil
}

// mapExtensions gives every user of the Kommo account an extension, which
// turns on the Kommo look-up behind routing answers.
func mapExtensions(ctx context.Context, cl *cluster) error {
	s := cl.Account.Settings
	s.Extensions = map[string]string{}
	for _, a := range cl.Emu.State().Accounts {
		if a.ID != cl.KommoAccountID {
			continue
		}
		for i, u := range a.Users {
			s.Extensions[strconv.FormatInt(u.ID, 10)] = strconv.Itoa(101 + i)
		}
	}
	if err := cl.Main.DB.UpdateAccountSettings(ctx, cl.Account.ID, s); err != nil {
		return fmt.Errorf("map extensions: %w", err)
	}
	return nil
}

// benchPlans plans o.Calls calls of webhooks only (no widget results, nothing
// late) and shapes them to o.EventsPerCall.
func benchPlans(cl *cluster, o benchOptions) []*callPlan {
	plans := cl.planCalls(scenarioOptions{Calls: o.Calls, Seed: o.Seed, Concurrency: o.Concurrency,
		DuplicateRate: o.Duplicates, RecordingRate: o.Recordings})
	if o.EventsPerCall > 0 {
		rng := rand.New(rand.NewPCG(o.Seed, 0xbe7c4))
		for _, p := range plans {
			p.early = shapeInputs(p.early, o.EventsPerCall, rng)
			p.Inputs = len(p.early)
		}
	}
	return plans
}

// essential reports whether a webhook carries what the note shows: a call's
// end (a terminal status of any leg) or its recording.
func essential(a action) bool {
	if a.req == nil {
		return true
	}
	return a.req.Kind == "recording" || terminalStatus(a.req)
}

func terminalStatus(r *twilio.Request) bool {
	if r.Kind == "recording" {
		return false
	}
	switch r.Status {
	case "completed", "busy", "no-answer", "canceled", "failed":
		return true
	}
	return false
}

// shapeInputs returns n webhooks for a call: optional ones (ringing,
// answered, the voice request) dropped at random while there are too many,
// retries of random ones added while there are too few. Essential webhooks
// are never dropped, so a call may keep more than n.
func shapeInputs(in []action, n int, rng *rand.Rand) []action {
	out := slices.Clone(in)
	for len(out) > n {
		var optional []int
		for i, a := range out {
			if !essential(a) {
				optional = append(optional, i)
			}
		}
		if len(optional) == 0 {
			break
		}
		i := optional[rng.IntN(len(optional))]
		out = slices.Delete(out, i, i+1)
	}
	for len(out) < n && len(out) > 0 {
		dup := out[rng.IntN(len(out))]
		out = slices.Insert(out, rng.IntN(len(out)+1), dup)
	}
	return out
}

func countDuplicates(plans []*callPlan) int {
	n := 0
	for _, p := range plans {
		seen := map[*twilio.Request]bool{}
		for _, a := range p.early {
			if seen[a.req] {
				n++
			}
			seen[a.req] = true
		}
	}
	return n
}

// benchEvent is one webhook delivery of the flood.
type benchEvent struct {
	plan int // index in plans
	req  *twilio.Request
}

// interleave orders the plans' webhooks as calls in progress together would
// send them: window calls at a time, one webhook of each in turn; a finished
// call makes room for the next.
func interleave(plans []*callPlan, window int) []benchEvent {
	var out []benchEvent
	cursor := make([]int, len(plans))
	var active []int
	next := 0
	for {
		for len(active) < max(window, 1) && next < len(plans) {
			if len(plans[next].early) > 0 {
				active = append(active, next)
			}
			next++
		}
		if len(active) == 0 {
			return out
		}
		still := active[:0]
		for _, pi := range active {
			out = append(out, benchEvent{plan: pi, req: plans[pi].early[cursor[pi]].req})
			cursor[pi]++
			if cursor[pi] < len(plans[pi].early) {
				still = append(still, pi)
			}
		}
		active = still
	}
}

// sendResult is the fate of one delivery.
type sendResult struct {
	start   time.Time     // when it was sent (or due, at a fixed rate)
	latency time.Duration // until the answer was read
	status  int           // 0 when no answer came
	err     error
}

// flood delivers seq over HTTP. With rate 0, concurrency senders send the
// next webhook as soon as they have the previous answer (closed loop);
// otherwise webhook i is due at i/rate seconds and its latency counts from
// then, including any wait for a free sender (open loop: a slow server cannot
// slow the offered load down and hide its own latency).
func flood(ctx context.Context, cl *cluster, seq []benchEvent, concurrency int, rate float64) []sendResult {
	results := make([]sendResult, len(seq))
	send := func(i int, due time.Time) {
		start := time.Now()
		if !due.IsZero() {
			start = due
		}
		r := &results[i]
		r.start = start
		resp, err := cl.Sim.Send(ctx, seq[i].req)
		if err != nil {
			r.err, r.latency = err, time.Since(start)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		r.latency, r.status = time.Since(start), resp.StatusCode
		if resp.StatusCode/100 != 2 {
			r.err = fmt.Errorf("webhook %s %s: %s", seq[i].req.CallSID, seq[i].req.Status, resp.Status)
		}
	}
	var wg sync.WaitGroup
	if rate <= 0 {
		var next atomic.Int64
		for w := 0; w < concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= len(seq) {
						return
					}
					send(i, time.Time{})
				}
			}()
		}
		wg.Wait()
		return results
	}
	type job struct {
		i   int
		due time.Time
	}
	jobs := make(chan job, len(seq))
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if ctx.Err() == nil {
					send(j.i, j.due)
				}
			}
		}()
	}
	t0 := time.Now()
	interval := time.Duration(float64(time.Second) / rate)
	for i := range seq {
		due := t0.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		jobs <- job{i, due}
	}
	close(jobs)
	wg.Wait()
	return results
}

// latencyByKind summarises the acknowledgement latency per webhook kind.
func latencyByKind(seq []benchEvent, results []sendResult) map[string]latency {
	by := map[string][]time.Duration{}
	for i, e := range seq {
		if !results[i].start.IsZero() {
			by[e.req.Kind] = append(by[e.req.Kind], results[i].latency)
		}
	}
	out := make(map[string]latency, len(by))
	for kind, ds := range by {
		out[kind] = summarize(ds)
	}
	return out
}

func ingestSummary(results []sendResult, start, end time.Time) ingestResult {
	r := ingestResult{Seconds: math.Round(end.Sub(start).Seconds()*1000) / 1000}
	lat := make([]time.Duration, 0, len(results))
	for _, x := range results {
		if x.start.IsZero() {
			continue // never sent (cancelled)
		}
		r.Sent++
		lat = append(lat, x.latency)
		if x.err == nil {
			r.Acked++
			continue
		}
		r.Refused++
		if r.FirstErr == "" {
			r.FirstErr = x.err.Error()
		}
	}
	r.Latency = summarize(lat)
	if s := end.Sub(start).Seconds(); s > 0 {
		r.PerSec = math.Round(float64(r.Acked)/s*10) / 10
	}
	return r
}

// kommoSummary computes the Kommo figures. A call's hang-up is when the last
// of its terminal webhooks (each counted at its first delivery) was sent; its
// note time is the earlier of the emulator poll that first saw the note and
// callbridge's record of the sync (Kommo.SyncedAt). Both come after the note
// exists, so the latency is an upper bound, at most one poll interval high.
func kommoSummary(vr *report, calls map[string]*callbridge.Call, plans []*callPlan, seq []benchEvent,
	results []sendResult, poller *notePoller, hold time.Duration) kommoResult {
	k := kommoResult{Calls: len(plans), Logged: vr.Logged, Wrong: vr.Failed, Requests: requestsTo(vr.Stats),
		Status429: vr.Stats.TooManyRequests, Status403: vr.Stats.Blocked, MaxPerSecond: maxWindow(vr.Stats),
		PollMS: math.Round(float64(poller.maxGap)/1e4) / 100, ByEndpoint: map[string]int{}}
	for ep, byStatus := range vr.Stats.Requests {
		if strings.Contains(ep, "/sandbox") {
			continue
		}
		for _, n := range byStatus {
			k.ByEndpoint[ep] += n
		}
	}
	k.RoutingLookups = k.ByEndpoint["GET /api/v4/contacts"]
	if k.Logged > 0 {
		k.PerCall = math.Round(float64(k.Requests)/float64(k.Logged)*1000) / 1000
		k.PerCallLogging = math.Round(float64(k.Requests-k.RoutingLookups)/float64(k.Logged)*1000) / 1000
	}
	first := map[*twilio.Request]time.Time{} // first delivery of each terminal webhook
	hangup := make([]time.Time, len(plans))
	for i, e := range seq {
		if !terminalStatus(e.req) || results[i].start.IsZero() {
			continue
		}
		if t, ok := first[e.req]; !ok || results[i].start.Before(t) {
			first[e.req] = results[i].start
		}
	}
	for _, e := range seq {
		if t, ok := first[e.req]; ok && t.After(hangup[e.plan]) {
			hangup[e.plan] = t
		}
	}
	var lat, net []time.Duration
	for i, v := range vr.Verdicts {
		if v.NoteID == 0 || v.Call == nil || hangup[i].IsZero() {
			if v.Call != nil && v.Call.Kommo.State == callbridge.KommoUnmatched {
				k.NotLogged++
			}
			continue
		}
		at, ok := poller.firstSeen(v.Call.UID)
		if c := calls[v.Plan.SID]; c != nil && !c.Kommo.SyncedAt.IsZero() && (!ok || c.Kommo.SyncedAt.Before(at)) {
			at, ok = c.Kommo.SyncedAt, true
		}
		if !ok {
			continue
		}
		d := at.Sub(hangup[i])
		lat = append(lat, d)
		net = append(net, d-hold)
	}
	// net may be negative: the hold starts at the first terminal webhook
	// callbridge ingests, not the last.
	k.HangupToNote, k.NetOfHold = summarize(lat), summarize(net)
	return k
}

// jobLister is what jobPickup needs of a River client.
type jobLister interface {
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// jobPickup returns, for every completed sync job, how long after it was due
// its last attempt started.
func jobPickup(ctx context.Context, db database) ([]time.Duration, error) {
	var jobs jobLister
	switch d := db.(type) {
	case *sqlite.DB:
		jobs = d.RiverClient()
	case *postgres.DB:
		jobs = d.RiverClient()
	default:
		return nil, fmt.Errorf("unknown database %T", db)
	}
	var out []time.Duration
	params := river.NewJobListParams().Kinds(callbridge.SyncCallArgs{}.Kind()).
		States(rivertype.JobStateCompleted).First(1000)
	for {
		res, err := jobs.JobList(ctx, params)
		if err != nil {
			return nil, err
		}
		for _, j := range res.Jobs {
			if j.AttemptedAt != nil {
				out = append(out, j.AttemptedAt.Sub(j.ScheduledAt))
			}
		}
		if len(res.Jobs) < 1000 || res.LastCursor == nil {
			return out, nil
		}
		params = params.After(res.LastCursor)
	}
}

// notePoller records when each call note first appears in the emulator, by
// looking at its state every 50 ms, or up to 250 ms when a look is slow (a
// large state), so that looking costs about a tenth of one core at most.
type notePoller struct {
	emu     *sandbox.Emulator
	account int64

	mu     sync.Mutex
	seen   map[string]time.Time // note uniq → first seen
	last   time.Time
	maxGap time.Duration
}

func (p *notePoller) run(ctx context.Context) {
	interval := 50 * time.Millisecond
	for {
		t := time.Now()
		p.poll()
		interval = min(max(50*time.Millisecond, 10*time.Since(t)), 250*time.Millisecond)
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (p *notePoller) poll() {
	st := p.emu.State()
	at := time.Now() // after the snapshot: every note in it existed by now
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.last.IsZero() {
		p.maxGap = max(p.maxGap, at.Sub(p.last))
	}
	p.last = at
	for _, a := range st.Accounts {
		if a.ID != p.account {
			continue
		}
		for _, n := range a.Notes {
			uniq, _ := n.Params["uniq"].(string)
			if uniq == "" || (n.NoteType != "call_in" && n.NoteType != "call_out") {
				continue
			}
			if _, ok := p.seen[uniq]; !ok {
				p.seen[uniq] = at
			}
		}
	}
}

func (p *notePoller) firstSeen(uniq string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.seen[uniq]
	return t, ok
}

// clockTicks is Linux's USER_HZ, the unit of /proc CPU times.
const clockTicks = 100

// cpuSample is CPU time so far, in clock ticks: this process's, and the whole
// machine's busy time (all cores).
type cpuSample struct {
	self, busy uint64
	ok         bool
}

// readCPU reads /proc/self/stat and /proc/stat; ok is false elsewhere.
func readCPU() cpuSample {
	var s cpuSample
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return s
	}
	// Fields after the command name (which may hold spaces) start at state;
	// utime and stime are the 14th and 15th fields of the whole line.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return s
	}
	f := strings.Fields(string(stat)[i+1:])
	if len(f) < 13 {
		return s
	}
	var ut, st uint64
	if _, err := fmt.Sscan(f[11], &ut); err != nil {
		return s
	}
	if _, err := fmt.Sscan(f[12], &st); err != nil {
		return s
	}
	all, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(all), "\n")
	fields := strings.Fields(line)
	if len(fields) < 8 || fields[0] != "cpu" {
		return s
	}
	// user nice system idle iowait irq softirq steal…: busy is all but idle and iowait.
	for j, v := range fields[1:] {
		var n uint64
		if _, err := fmt.Sscan(v, &n); err != nil {
			return s
		}
		if j != 3 && j != 4 && j < 8 {
			s.busy += n
		}
	}
	s.self, s.ok = ut+st, true
	return s
}

// startProfile starts a CPU profile into file ("" = none) and returns the
// function that stops it.
func startProfile(file string) (func(), error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// pgBench is a fresh schema for one PostgreSQL benchmark run.
type pgBench struct {
	url      string // the given URL with search_path set to the schema
	describe string // server version, host, database, schema, pool size (no credentials)
	drop     func()
}

// benchSchema creates a schema of its own for a run on the PostgreSQL server
// at rawURL, so that runs never see each other's rows.
func benchSchema(ctx context.Context, rawURL string) (*pgBench, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, errors.New("--db must be a postgres:// URL")
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("--db: %w", err)
	}
	// pgx.Connect would send pool settings (pool_max_conns…) to the server.
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(context.Background())
	var version string
	if err := conn.QueryRow(ctx, `SHOW server_version`).Scan(&version); err != nil {
		return nil, err
	}
	schema := "cbbench_" + randomHex(6)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("create schema: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	host := cfg.ConnConfig.Host
	if cfg.ConnConfig.Port != 0 {
		host = fmt.Sprintf("%s:%d", host, cfg.ConnConfig.Port)
	}
	return &pgBench{
		url: u.String(),
		describe: fmt.Sprintf("PostgreSQL %s at %s/%s (schema %s, pool of %d connections)",
			version, host, cfg.ConnConfig.Database, schema, cfg.MaxConns),
		drop: func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
			if err != nil {
				fmt.Fprintf(os.Stderr, "callbridge bench: drop schema %s: %v\n", schema, err)
				return
			}
			defer c.Close(ctx)
			if _, err := c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
				fmt.Fprintf(os.Stderr, "callbridge bench: drop schema %s: %v\n", schema, err)
			}
		},
	}, nil
}

// machineInfo describes where the figures were measured.
type machineInfo struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	Go         string `json:"go"`
	OS         string `json:"os"`
	Load       string `json:"load_average_at_start"`
}

func machine() machineInfo {
	m := machineInfo{CPU: "unknown", Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS += ", kernel " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	return m
}

// filesystemOf names the filesystem holding dir, from /proc/mounts.
func filesystemOf(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "filesystem unknown"
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	b, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "filesystem unknown"
	}
	best, fstype := "", "unknown"
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		mp := f[1]
		if (abs == mp || strings.HasPrefix(abs, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > len(best) {
			best, fstype = mp, f[2]
		}
	}
	return fstype
}

func (r *benchReport) print(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	m := r.Machine
	o := r.Options
	fmt.Fprintf(tw, "\nmachine\t%s, %d cores (GOMAXPROCS %d), %s, %s, load %s\n", m.CPU, m.Cores, m.GOMAXPROCS, m.Go, m.OS, m.Load)
	fmt.Fprintf(tw, "database\t%s\n", r.Database)
	rate := "closed loop (as fast as acknowledged)"
	if o.Rate > 0 {
		rate = fmt.Sprintf("open loop at %.0f webhooks/s", o.Rate)
	}
	fmt.Fprintf(tw, "load\t%d calls, %d webhooks (%.1f per call, %d retries), %d calls in progress, %d webhooks in flight, %s\n",
		o.Calls, o.Webhooks, o.EventsPerCall, o.Duplicates, o.Window, o.Concurrency, rate)
	routing := "no extensions mapped (routing answers without Kommo)"
	if o.Routing {
		routing = "users mapped to extensions (routing looks callers up in Kommo)"
	}
	fmt.Fprintf(tw, "callbridge\thold %s, %d sync workers, Kommo at %.0f requests/s, %s\n",
		time.Duration(o.HoldMS*1e6), o.Workers, o.KommoRPS, routing)

	in := r.Ingest
	fmt.Fprintf(tw, "\nWEBHOOK INGEST\t(HTTP → connector → Ingester → store)\n")
	fmt.Fprintf(tw, "  acknowledged 2xx\t%d of %d\n", in.Acked, in.Sent)
	fmt.Fprintf(tw, "  throughput\t%.0f events/s (%.2f s)\n", in.PerSec, in.Seconds)
	fmt.Fprintf(tw, "  ack latency\t%s\n", in.Latency.ms())
	for _, kind := range slices.Sorted(maps.Keys(in.ByKind)) {
		fmt.Fprintf(tw, "    %s\t%s\n", kind, in.ByKind[kind].ms())
	}
	if in.CPUPerEvent > 0 {
		fmt.Fprintf(tw, "  CPU\t%.2f ms per webhook in this process (server + sender + emulator); other processes busy %.2f cores\n",
			in.CPUPerEvent, in.OtherCores)
	}

	k := r.Kommo
	if k == nil {
		for _, p := range r.Problems {
			fmt.Fprintf(tw, "PROBLEM\t%s\n", p)
		}
		tw.Flush()
		return
	}
	fmt.Fprintf(tw, "\nKOMMO\t\n")
	fmt.Fprintf(tw, "  calls in Kommo\t%d of %d logged, %d not loggable (outgoing to unknown numbers), %d wrong\n",
		k.Logged, k.Calls, k.NotLogged, k.Wrong)
	fmt.Fprintf(tw, "  all synced\t%.2f s after the last webhook\n", k.SyncedAfterSec)
	fmt.Fprintf(tw, "  hang-up → note\t%s (hold included)\n", k.HangupToNote.ms())
	fmt.Fprintf(tw, "  … minus hold\t%s (note time ≤ %.0f ms late: emulator polled)\n", k.NetOfHold.ms(), k.PollMS)
	fmt.Fprintf(tw, "  sync job pickup\t%s (due → started, River)\n", k.JobPickup.ms())
	fmt.Fprintf(tw, "  requests\t%d, %.3f per logged call; %.3f without the %d routing look-ups\n",
		k.Requests, k.PerCall, k.PerCallLogging, k.RoutingLookups)
	fmt.Fprintf(tw, "  429 / 403\t%d / %d\n", k.Status429, k.Status403)
	fmt.Fprintf(tw, "  max in any 1 s\t%d requests (Kommo's limit: 7)\n", k.MaxPerSecond)
	fmt.Fprintf(tw, "\n  requests by endpoint\t\n")
	for _, ep := range slices.Sorted(maps.Keys(k.ByEndpoint)) {
		fmt.Fprintf(tw, "    %s\t%d\n", ep, k.ByEndpoint[ep])
	}
	for _, p := range r.Problems {
		fmt.Fprintf(tw, "PROBLEM\t%s\n", p)
	}
	tw.Flush()
}

func (l latency) ms() string {
	if l.N == 0 {
		return "-"
	}
	return fmt.Sprintf("p50 %s   p90 %s   p99 %s   max %s   (n=%d)", fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max), l.N)
}

func fmtMS(ms float64) string {
	if math.Abs(ms) >= 1000 {
		return fmt.Sprintf("%.2f s", ms/1000)
	}
	return fmt.Sprintf("%.1f ms", ms)
}
