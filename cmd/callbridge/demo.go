package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"callbridge/declarative"
	"callbridge/sandbox"
)

// DemoCommand runs the emulator, callbridge and a Twilio simulator together,
// drives calls through them over HTTP and checks that every call landed in
// Kommo exactly once.
type DemoCommand struct {
	Out io.Writer // default os.Stdout
}

// Run runs the demo; it returns an error when any call is missing or doubled.
func (c *DemoCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("callbridge demo", flag.ContinueOnError)
	calls := fs.Int("calls", 36, "number of calls")
	faults := fs.Bool("faults", true, "inject Kommo faults: latency, 5xx, 429 bursts, accept-then-drop")
	db := fs.String("db", "", "postgres:// URL to run on PostgreSQL (default: a temporary SQLite file)")
	hold := fs.Duration("hold", 2*time.Second, "callbridge's hold after hang-up")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (the run is reproducible per seed)")
	verbose := fs.Bool("v", false, "log callbridge's warnings")
	provider := fs.String("provider", "twilio", "provider to simulate: twilio, "+strings.Join(declarative.SimulatedProviders(), ", ")+", or all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	out := c.Out
	if out == nil {
		out = os.Stdout
	}
	dir, err := os.MkdirTemp("", "callbridge-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	level := slog.LevelError
	if *verbose {
		level = slog.LevelWarn
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	fmt.Fprintf(out, "Starting the Kommo emulator and callbridge (seed %d)…\n", *seed)
	var providers []string
	switch *provider {
	case "twilio":
	case "all":
		providers = declarative.SimulatedProviders()
	default:
		if !slices.Contains(declarative.SimulatedProviders(), *provider) {
			return fmt.Errorf("unknown provider %q: want twilio, %s or all", *provider, strings.Join(declarative.SimulatedProviders(), ", "))
		}
		providers = []string{*provider}
	}
	cl, err := startCluster(ctx, clusterOptions{Dir: dir, DB: *db, Hold: *hold, Contacts: 8, Logger: logger, Providers: providers})
	if err != nil {
		return err
	}
	defer cl.Close(context.Background())
	fmt.Fprintf(out, "Installed Kommo account %d through OAuth; Twilio connected at %s\n", cl.KommoAccountID, cl.Sim.WebhookURL)
	for _, x := range cl.Extra {
		fmt.Fprintf(out, "%s connected at %s\n", x.Name, x.Sim.WebhookURL)
	}

	if *faults {
		cl.Emu.SetFaults(sandbox.Faults{
			Latency: 5 * time.Millisecond, Jitter: 30 * time.Millisecond,
			ErrorRate: 0.05, ErrorAfterRate: 0.03, DropRate: 0.05, RateLimitRate: 0.01,
			StormRetryAfter: time.Second, StormUntil: time.Now().Add(3 * time.Second),
		})
		fmt.Fprintln(out, "Kommo faults on: latency, 5% 5xx, 3% 5xx after applying, 5% accept-then-drop, 429s and a 3 s 429 storm")
	}
	opts := scenarioOptions{Calls: *calls, Seed: *seed, Concurrency: 8, DuplicateRate: 0.3, PartialRate: 0.2,
		ResultRate: 0.6, RecordingRate: 0.7, LateRate: 0.25, LateDelay: *hold + 3*time.Second}
	switch *provider {
	case "twilio":
	case "all":
		opts.Providers = append([]string{"twilio"}, providers...)
	default:
		opts.Providers = providers
	}
	plans := cl.planCalls(opts)
	fmt.Fprintf(out, "Sending %d calls: shuffled and duplicated webhooks, call results, recordings, some arriving late…\n", len(plans))
	st := cl.drive(ctx, plans, opts)
	if st.Failures.Load() > 0 {
		return fmt.Errorf("%d of %d inputs were refused; first: %v", st.Failures.Load(), st.Requests.Load(), st.firstErr)
	}
	fmt.Fprintf(out, "Sent %d inputs. Waiting for callbridge to bring Kommo up to date…\n", st.Requests.Load())
	waitErr := cl.waitSynced(ctx, plans, 3*time.Minute)
	cl.Emu.SetFaults(sandbox.Faults{})
	rep, err := cl.verify(ctx, plans)
	if err != nil {
		return err
	}
	printReport(out, rep)
	if waitErr != nil {
		return waitErr
	}
	if rep.Failed > 0 {
		return fmt.Errorf("%d of %d calls are wrong in Kommo", rep.Failed, len(plans))
	}
	fmt.Fprintf(out, "\nOK: every call is in Kommo exactly once. %d notes, %d Kommo requests (%.2f per logged call), %d × 429, %d × 403, at most %d requests in any second.\n",
		rep.Logged, requestsTo(rep.Stats), float64(requestsTo(rep.Stats))/float64(max(rep.Logged, 1)),
		rep.Stats.TooManyRequests, rep.Stats.Blocked, maxWindow(rep.Stats))
	return nil
}

func maxWindow(st sandbox.Stats) int {
	m := 0
	for _, n := range st.MaxPerSecondByIP {
		m = max(m, n)
	}
	return m
}

func printReport(out io.Writer, rep *report) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPROVIDER\tCALL\tDIRECTION\tNUMBER\tOUTCOME\tINPUTS\tKOMMO\tNOTE\tRESULT\tREC\tCHECK")
	vs := slices.Clone(rep.Verdicts)
	for _, v := range vs {
		p := v.Plan
		entity, note := v.Entity, "-"
		if v.NoteID != 0 {
			note = fmt.Sprint(v.NoteID)
		}
		if entity == "" {
			entity = "-"
			if v.Call != nil && !v.Call.Loggable() {
				entity = "(not ended)"
			} else if v.Call != nil && v.Call.Kommo.State == "unmatched" {
				entity = "(unknown number)"
			} else if v.Call != nil && v.Call.CustomerNumber == "" {
				entity = "(no webhook: no number)"
			}
		}
		check := "ok"
		if v.Problem != "" {
			check = "FAIL: " + v.Problem
		}
		res := "-"
		if p.ResultText != "" {
			res = "yes"
		}
		rec := "-"
		if p.Recording {
			rec = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s (%s)\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Provider, p.SID[max(len(p.SID)-8, 0):], p.Direction, p.Customer, p.Category,
			p.Outcome, p.Inputs, entity, note, res, rec, check)
	}
	tw.Flush()
}
