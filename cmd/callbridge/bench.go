package main

// `callbridge bench`: runs the cluster (cluster.go), floods it with signed
// Twilio webhooks over real HTTP and measures what docs/benchmarks.md reports.

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/gob"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
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
// emulator, callbridge and the Twilio simulator in this process; the load
// generator, which sends webhooks signed and serialised beforehand, runs in a
// child process of its own (--sender process, the default) so that its CPU
// is measured apart, or in this process (--sender inline). See
// docs/benchmarks.md.
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
	Sender        string
	SenderChild   bool
	MaxBatch      int
	Committers    int
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
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the webhook flood (callbridge's process) to this file")
	fs.IntVar(&o.MaxBatch, "max-batch", 0, "webhooks committed in one transaction at most (pipeline.Ingester.MaxBatch; 0 = its default, 1 = no group commit)")
	fs.IntVar(&o.Committers, "committers", 0, "transactions of webhooks committed at once (pipeline.Ingester.Committers; 0 = its default)")
	fs.StringVar(&o.Sender, "sender", "process", "where the load generator runs: \"process\" (a child process, so that its CPU is measured apart) or \"inline\" (in this process)")
	fs.BoolVar(&o.SenderChild, "sender-child", false, "internal: act as the load generator of a parent `callbridge bench` (reads the job on stdin)")
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
	case o.MaxBatch < 0 || o.Committers < 0:
		return errors.New("--max-batch and --committers must not be negative")
	case o.Sender != "process" && o.Sender != "inline":
		return errors.New(`--sender must be "process" or "inline"`)
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
	if o.SenderChild {
		return runSenderChild(ctx, os.Stdin, os.Stdout)
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
	Routing       bool    `json:"routing"`              // users mapped to extensions: routing answers look callers up in Kommo
	MaxBatch      int     `json:"max_batch,omitempty"`  // --max-batch (0: the Ingester's default)
	Committers    int     `json:"committers,omitempty"` // --committers (0: the Ingester's default)
	// Sender is where the load generator ran: "process" (a child process)
	// or "inline" (callbridge's process).
	Sender string `json:"sender"`
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
	// CPUPerEvent is the CPU time of callbridge's process (the server, the
	// emulator, and with --sender inline the load generator too) per
	// webhook during the flood, in milliseconds; SenderCPUPerEvent is the
	// load generator's own process's (--sender process). OtherCores is how
	// many cores all other processes (other work on the machine, and the
	// PostgreSQL server) kept busy meanwhile, on average. Linux only.
	CPUPerEvent       float64 `json:"cpu_ms_per_event,omitempty"`
	SenderCPUPerEvent float64 `json:"sender_cpu_ms_per_event,omitempty"`
	// PostgresCPUPerEvent is the CPU time of the processes named
	// "postgres" on this machine per webhook (a local PostgreSQL server's;
	// with SQLite, other engineers' test databases'). OtherCores leaves it
	// out.
	PostgresCPUPerEvent float64 `json:"postgres_cpu_ms_per_event,omitempty"`
	// BackendCPUPerEvent is, with --db, the part of it spent by the
	// backends serving callbridge's own connections (found by
	// application_name), without the server's shared processes (WAL writer,
	// checkpointer) and without other clients.
	BackendCPUPerEvent float64 `json:"postgres_backends_cpu_ms_per_event,omitempty"`
	OtherCores         float64 `json:"other_processes_cores,omitempty"`
	// WebhooksPerTx is how many webhooks the Ingester committed per
	// transaction (group commit).
	WebhooksPerTx float64 `json:"webhooks_per_transaction,omitempty"`
	// Committers is how many transactions of webhooks the Ingester allowed
	// at once by the end of the flood (its choice, or --committers).
	Committers int `json:"committers,omitempty"`
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
	var backends func(context.Context) []int
	if o.DB != "" {
		pg, err := benchSchema(ctx, o.DB)
		if err != nil {
			return nil, err
		}
		if !o.Keep {
			defer pg.drop()
		}
		db, rep.Database, backends = pg.url, pg.describe, pg.backends
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
	// Before any webhook: the committers read these unlocked.
	cl.Main.Ingester.MaxBatch, cl.Main.Ingester.Committers = o.MaxBatch, o.Committers
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
		HoldMS: float64(o.Hold) / 1e6, KommoRPS: o.KommoRPS, Workers: o.Workers, Seed: o.Seed, Routing: o.Routing,
		Sender: o.Sender, MaxBatch: o.MaxBatch, Committers: o.Committers}

	poller := &notePoller{emu: cl.Emu, account: cl.KommoAccountID, seen: map[string]time.Time{}}
	pollCtx, stopPoll := context.WithCancel(ctx)
	pollDone := make(chan struct{})
	go func() { defer close(pollDone); poller.run(pollCtx) }()
	defer func() { stopPoll(); <-pollDone }()

	how := "as fast as callbridge acknowledges"
	if o.Rate > 0 {
		how = fmt.Sprintf("at %.0f webhooks/s", o.Rate)
	}
	fmt.Fprintf(progress, "Sending %d signed webhooks of %d calls, %d at a time, %s, from %s…\n",
		len(seq), len(plans), o.Concurrency, how, map[string]string{"process": "a process of their own", "inline": "this process"}[o.Sender])
	// Every request is signed and serialised before the clock starts.
	job, err := newSenderJob(seq, o.Concurrency, o.Rate)
	if err != nil {
		return nil, err
	}
	stopProfile, err := startProfile(o.CPUProfile)
	if err != nil {
		return nil, err
	}
	stats0 := cl.Main.Ingester.Stats()
	var pg0 map[int]uint64
	if backends != nil {
		pg0 = pidTicks(backends(ctx))
	}
	var fr *floodResult
	if o.Sender == "process" {
		fr, err = floodFromProcess(ctx, job)
	} else {
		fr = floodInline(ctx, job)
	}
	stopProfile()
	if err != nil {
		return nil, err
	}
	var pgBackends float64 // seconds
	if backends != nil {
		for pid, t := range pidTicks(backends(ctx)) {
			pgBackends += float64(t-min(pg0[pid], t)) / clockTicks
		}
	}
	results, start, end := fr.results, fr.start, fr.end
	rep.Ingest = ingestSummary(results, start, end)
	if st := cl.Main.Ingester.Stats(); st.Transactions > stats0.Transactions {
		rep.Ingest.WebhooksPerTx = math.Round(float64(st.Webhooks-stats0.Webhooks)/float64(st.Transactions-stats0.Transactions)*100) / 100
		rep.Ingest.Committers = st.Committers
	}
	rep.Ingest.ByKind = latencyByKind(seq, results)
	if fr.cpu0.ok && fr.cpu1.ok && len(seq) > 0 {
		self := float64(fr.cpu1.self-fr.cpu0.self) / clockTicks // seconds
		pg := float64(fr.cpu1.postgres-fr.cpu0.postgres) / clockTicks
		others := (float64(fr.cpu1.busy)-float64(fr.cpu0.busy))/clockTicks - self - fr.senderCPU.Seconds() - pg
		rep.Ingest.CPUPerEvent = math.Round(self/float64(len(seq))*1e5) / 100
		rep.Ingest.SenderCPUPerEvent = math.Round(fr.senderCPU.Seconds()/float64(len(seq))*1e5) / 100
		rep.Ingest.PostgresCPUPerEvent = math.Round(pg/float64(len(seq))*1e5) / 100
		rep.Ingest.BackendCPUPerEvent = math.Round(pgBackends/float64(len(seq))*1e5) / 100
		rep.Ingest.OtherCores = math.Round(max(others, 0)/fr.cpuEnd.Sub(fr.cpuStart).Seconds()*100) / 100
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

// The load generator. It plays Twilio's side the way a load generator such
// as wrk does, so that it takes little of the CPU that callbridge needs:
// every webhook is signed and written out as HTTP/1.1 bytes before the clock
// starts; each sender owns one keep-alive connection, dialled beforehand,
// writes a request and reads the answer with http.ReadResponse. With
// --sender process it runs in a child process (`callbridge bench
// --sender-child`), which measures its own CPU time.

// senderJob is what the load generator sends: raw HTTP/1.1 requests to
// Addr, Concurrency at a time; at Rate per second (open loop), or each as
// soon as a sender is free (Rate 0, closed loop).
type senderJob struct {
	Addr        string
	Requests    [][]byte
	Concurrency int
	Rate        float64
}

// newSenderJob serialises the webhooks of seq. They must all go to one
// host.
func newSenderJob(seq []benchEvent, concurrency int, rate float64) (*senderJob, error) {
	job := &senderJob{Requests: make([][]byte, len(seq)), Concurrency: concurrency, Rate: rate}
	for i, e := range seq {
		addr, raw, err := rawRequest(e.req)
		if err != nil {
			return nil, err
		}
		if job.Addr != "" && addr != job.Addr {
			return nil, fmt.Errorf("webhooks for %s and %s: one host at a time", job.Addr, addr)
		}
		job.Addr, job.Requests[i] = addr, raw
	}
	return job, nil
}

// rawRequest returns r as an HTTP/1.1 request on the wire, and the host it
// goes to.
func rawRequest(r *twilio.Request) (string, []byte, error) {
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return "", nil, fmt.Errorf("webhook URL %q: want http://host/…", r.URL)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
	h := r.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(r.Body)))
	if err := h.Write(&b); err != nil {
		return "", nil, err
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	return u.Host, b.Bytes(), nil
}

// rawConn is one keep-alive connection of the load generator.
type rawConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

func (c *rawConn) dial() error {
	conn, err := net.DialTimeout("tcp", c.addr, 10*time.Second)
	if err != nil {
		return err
	}
	c.c, c.br = conn, bufio.NewReaderSize(conn, 4096)
	return nil
}

func (c *rawConn) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// roundTrip writes one request and reads its answer. After a failure the
// connection is closed; the next request dials again.
func (c *rawConn) roundTrip(req []byte) (int, error) {
	if c.c == nil {
		if err := c.dial(); err != nil {
			return 0, err
		}
	}
	_ = c.c.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.c.Write(req); err != nil {
		c.close()
		return 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.Close {
		c.close()
	}
	return resp.StatusCode, err
}

// sendAll delivers job's requests. With Rate 0, Concurrency senders send the
// next request as soon as they have the previous answer (closed loop);
// otherwise request i is due at i/Rate seconds and its latency counts from
// then, including any wait for a free sender (open loop: a slow server
// cannot slow the offered load down and hide its own latency). conns are
// the senders' connections, dialled beforehand.
func sendAll(ctx context.Context, job *senderJob, conns []*rawConn) []sendResult {
	results := make([]sendResult, len(job.Requests))
	send := func(c *rawConn, i int, due time.Time) {
		start := time.Now()
		if !due.IsZero() {
			start = due
		}
		r := &results[i]
		r.start = start
		r.status, r.err = c.roundTrip(job.Requests[i])
		r.latency = time.Since(start)
		if r.err == nil && r.status/100 != 2 {
			r.err = fmt.Errorf("webhook %d: HTTP %d", i, r.status)
		}
	}
	var wg sync.WaitGroup
	if job.Rate <= 0 {
		var next atomic.Int64
		for _, c := range conns {
			wg.Go(func() {
				for ctx.Err() == nil {
					i := int(next.Add(1) - 1)
					if i >= len(job.Requests) {
						return
					}
					send(c, i, time.Time{})
				}
			})
		}
		wg.Wait()
		return results
	}
	type item struct {
		i   int
		due time.Time
	}
	items := make(chan item, len(job.Requests))
	for _, c := range conns {
		wg.Go(func() {
			for it := range items {
				if ctx.Err() == nil {
					send(c, it.i, it.due)
				}
			}
		})
	}
	t0 := time.Now()
	interval := time.Duration(float64(time.Second) / job.Rate)
	for i := range job.Requests {
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
		items <- item{i, due}
	}
	close(items)
	wg.Wait()
	return results
}

// dialAll opens the senders' connections.
func dialAll(job *senderJob) ([]*rawConn, error) {
	conns := make([]*rawConn, max(job.Concurrency, 1))
	for i := range conns {
		conns[i] = &rawConn{addr: job.Addr}
		if err := conns[i].dial(); err != nil {
			for _, c := range conns[:i] {
				c.close()
			}
			return nil, err
		}
	}
	return conns, nil
}

// floodResult is a flood as the load generator saw it, and the CPU samples
// around it.
type floodResult struct {
	results    []sendResult
	start, end time.Time // the flood, as the load generator timed it
	// cpu0 and cpu1 are this process's and the machine's CPU at cpuStart
	// and cpuEnd; senderCPU is the load generator's process's CPU time
	// meanwhile (0 inline).
	cpu0, cpu1       cpuSample
	cpuStart, cpuEnd time.Time
	senderCPU        time.Duration
}

// floodInline runs the load generator in this process.
func floodInline(ctx context.Context, job *senderJob) *floodResult {
	fr := &floodResult{}
	conns, err := dialAll(job)
	if err != nil {
		fr.results = make([]sendResult, len(job.Requests))
		for i := range fr.results {
			fr.results[i] = sendResult{start: time.Now(), err: err}
		}
		return fr
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	fr.cpu0, fr.cpuStart = readCPU(), time.Now()
	fr.start = time.Now()
	fr.results = sendAll(ctx, job, conns)
	fr.end = time.Now()
	fr.cpu1, fr.cpuEnd = readCPU(), time.Now()
	return fr
}

// flood sends seq to the cluster from this process: the Go benchmarks' load
// generator.
func flood(ctx context.Context, cl *cluster, seq []benchEvent, concurrency int, rate float64) []sendResult {
	_ = cl // the requests carry callbridge's address
	job, err := newSenderJob(seq, concurrency, rate)
	if err != nil {
		results := make([]sendResult, len(seq))
		for i := range results {
			results[i] = sendResult{start: time.Now(), err: err}
		}
		return results
	}
	return floodInline(ctx, job).results
}

// senderChildEnv marks the load generator's process, so that a test binary
// (whose flags are not callbridge's) knows to act as one.
const senderChildEnv = "CALLBRIDGE_BENCH_SENDER_CHILD"

// senderWire is one sendResult as the load generator's process reports it.
type senderWire struct {
	Start   int64 // unix nanoseconds
	Latency time.Duration
	Status  int
	Err     string
}

// senderReport is what the load generator's process writes back.
type senderReport struct {
	Results    []senderWire
	Start, End int64         // unix nanoseconds
	CPU        time.Duration // its own CPU time during the flood
	Err        string
}

// floodFromProcess runs the load generator as a child process: this binary
// with `bench --sender-child`. The child reads the job, dials, says "ready";
// this process takes its CPU sample and says "go"; the child floods and
// writes its report.
func floodFromProcess(ctx context.Context, job *senderJob) (*floodResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "bench", "--sender-child")
	cmd.Env = append(os.Environ(), senderChildEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	fail := func(err error) (*floodResult, error) {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("load generator: %w", err)
	}
	if err := gob.NewEncoder(stdin).Encode(job); err != nil {
		return fail(err)
	}
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil || line != "ready\n" {
		return fail(fmt.Errorf("did not get ready: %q %v", line, err))
	}
	fr := &floodResult{}
	fr.cpu0, fr.cpuStart = readCPU(), time.Now()
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		return fail(err)
	}
	var rep senderReport
	err = gob.NewDecoder(out).Decode(&rep)
	fr.cpu1, fr.cpuEnd = readCPU(), time.Now()
	if err != nil {
		return fail(err)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		return nil, fmt.Errorf("load generator: %w", err)
	}
	if rep.Err != "" {
		return nil, fmt.Errorf("load generator: %s", rep.Err)
	}
	fr.start, fr.end, fr.senderCPU = time.Unix(0, rep.Start), time.Unix(0, rep.End), rep.CPU
	fr.results = make([]sendResult, len(rep.Results))
	for i, w := range rep.Results {
		r := sendResult{latency: w.Latency, status: w.Status}
		if w.Start != 0 {
			r.start = time.Unix(0, w.Start)
		}
		if w.Err != "" {
			r.err = errors.New(w.Err)
		}
		fr.results[i] = r
	}
	return fr, nil
}

// runSenderChild is the load generator's process: it reads a senderJob
// (gob) from in, dials, writes "ready", waits for "go", floods, and writes a
// senderReport (gob) to out.
func runSenderChild(ctx context.Context, in io.Reader, out io.Writer) error {
	br := bufio.NewReader(in)
	var job senderJob
	if err := gob.NewDecoder(br).Decode(&job); err != nil {
		return fmt.Errorf("sender: read job: %w", err)
	}
	report := func(rep *senderReport) error { return gob.NewEncoder(out).Encode(rep) }
	conns, err := dialAll(&job)
	if err != nil {
		return report(&senderReport{Err: err.Error()})
	}
	defer func() {
		for _, c := range conns {
			c.close()
		}
	}()
	if _, err := io.WriteString(out, "ready\n"); err != nil {
		return err
	}
	if line, err := br.ReadString('\n'); err != nil || line != "go\n" {
		return fmt.Errorf("sender: no go: %q %v", line, err)
	}
	cpu0 := readCPU()
	start := time.Now()
	results := sendAll(ctx, &job, conns)
	end := time.Now()
	cpu1 := readCPU()
	rep := &senderReport{Start: start.UnixNano(), End: end.UnixNano(), Results: make([]senderWire, len(results))}
	if cpu0.ok && cpu1.ok {
		rep.CPU = time.Duration(float64(cpu1.self-cpu0.self) / clockTicks * float64(time.Second))
	}
	for i, r := range results {
		w := senderWire{Latency: r.latency, Status: r.status}
		if !r.start.IsZero() {
			w.Start = r.start.UnixNano()
		}
		if r.err != nil {
			w.Err = r.err.Error()
		}
		rep.Results[i] = w
	}
	return report(rep)
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

// cpuSample is CPU time so far, in clock ticks: this process's, the
// processes named "postgres" on this machine (a local PostgreSQL server's),
// and the whole machine's busy time (all cores).
type cpuSample struct {
	self, postgres, busy uint64
	ok                   bool
}

// readCPU reads /proc/self/stat, /proc/*/stat and /proc/stat; ok is false
// elsewhere.
func readCPU() cpuSample {
	var s cpuSample
	self, ok := procTicks("/proc/self/stat")
	if !ok {
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
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s
		}
		if j != 3 && j != 4 && j < 8 {
			s.busy += n
		}
	}
	if pids, err := os.ReadDir("/proc"); err == nil {
		for _, p := range pids {
			if p.Name()[0] < '0' || p.Name()[0] > '9' {
				continue
			}
			if comm, err := os.ReadFile("/proc/" + p.Name() + "/comm"); err == nil && strings.TrimSpace(string(comm)) == "postgres" {
				if t, ok := procTicks("/proc/" + p.Name() + "/stat"); ok {
					s.postgres += t
				}
			}
		}
	}
	s.self, s.ok = self, true
	return s
}

// pidTicks returns the CPU time of each of pids, in clock ticks.
func pidTicks(pids []int) map[int]uint64 {
	out := make(map[int]uint64, len(pids))
	for _, pid := range pids {
		if t, ok := procTicks("/proc/" + strconv.Itoa(pid) + "/stat"); ok {
			out[pid] = t
		}
	}
	return out
}

// procTicks returns the user and system CPU time of the process whose
// /proc/PID/stat is file, in clock ticks.
func procTicks(file string) (uint64, bool) {
	stat, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	// Fields after the command name (which may hold spaces) start at state;
	// utime and stime are the 14th and 15th fields of the whole line.
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(stat)[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ut + st, true
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
	url      string // the given URL with search_path set to the schema and application_name to its name
	describe string // server version, host, database, schema, pool size (no credentials)
	drop     func()
	// backends returns the process ids of the server's backends serving
	// callbridge's connections (by application_name), or nil.
	backends func(ctx context.Context) []int
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
	q.Set("application_name", schema) // to find callbridge's backends
	u.RawQuery = q.Encode()
	host := cfg.ConnConfig.Host
	if cfg.ConnConfig.Port != 0 {
		host = fmt.Sprintf("%s:%d", host, cfg.ConnConfig.Port)
	}
	return &pgBench{
		url: u.String(),
		describe: fmt.Sprintf("PostgreSQL %s at %s/%s (schema %s, pool of %d connections)",
			version, host, cfg.ConnConfig.Database, schema, cfg.MaxConns),
		backends: func(ctx context.Context) []int {
			c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
			if err != nil {
				return nil
			}
			defer c.Close(context.Background())
			rows, err := c.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE application_name = $1`, schema)
			if err != nil {
				return nil
			}
			pids, _ := pgx.CollectRows(rows, pgx.RowTo[int32])
			out := make([]int, len(pids))
			for i, p := range pids {
				out[i] = int(p)
			}
			return out
		},
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
	if in.WebhooksPerTx > 0 {
		fmt.Fprintf(tw, "  group commit\t%.1f webhooks per transaction, %d at a time\n", in.WebhooksPerTx, in.Committers)
	}
	if in.CPUPerEvent > 0 {
		if o.Sender == "process" {
			fmt.Fprintf(tw, "  CPU per webhook\t%.2f ms callbridge's process (server, River, emulator), %.2f ms the load generator's process, %.2f ms PostgreSQL's processes (%.2f ms callbridge's backends)\n",
				in.CPUPerEvent, in.SenderCPUPerEvent, in.PostgresCPUPerEvent, in.BackendCPUPerEvent)
		} else {
			fmt.Fprintf(tw, "  CPU per webhook\t%.2f ms this process (server, River, emulator, load generator), %.2f ms PostgreSQL's processes (%.2f ms callbridge's backends)\n",
				in.CPUPerEvent, in.PostgresCPUPerEvent, in.BackendCPUPerEvent)
		}
		fmt.Fprintf(tw, "  other processes\t%.2f cores busy on average\n", in.OtherCores)
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
