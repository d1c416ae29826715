package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"callbridge"
	"callbridge/declarative"
	"callbridge/sandbox"
	"callbridge/twilio"
)

// scenarioOptions shape the calls a run drives through the cluster.
type scenarioOptions struct {
	Calls       int
	Seed        uint64
	Concurrency int
	// DuplicateRate is the chance each status webhook is sent twice.
	DuplicateRate float64
	// PartialRate is the chance a call loses some of its status webhooks.
	PartialRate float64
	// ResultRate and RecordingRate are the chances a call gets a call result
	// (from the widget) and, when answered, a recording.
	ResultRate    float64
	RecordingRate float64
	// LateRate is the chance a call's result or recording arrives after
	// LateDelay, i.e. after the call was first written to Kommo.
	LateRate  float64
	LateDelay time.Duration
	// Now is the time the simulated calls start around.
	Now time.Time
	// Categories are the kinds of numbers the calls are with (catLead, …,
	// catUnknown); default all of them.
	Categories []string
	// Providers spreads the calls over these providers' connections
	// ("twilio" or a declarative built-in started with the cluster); default
	// Twilio only.
	Providers []string
}

type action struct {
	req    *twilio.Request      // a Twilio webhook, or
	dreq   *declarative.Request // a declarative provider's webhook, or
	result *resultSave          // a call result saved in the widget
}

type resultSave struct {
	Text       string
	CallStatus int
}

// callPlan is one simulated call and the inputs it will send.
type callPlan struct {
	Provider     string
	ConnectionID int64
	// SID is the provider's call id, as its webhooks name the call.
	SID       string
	Category  string
	Customer  string
	Direction callbridge.Direction
	Outcome   string // answered, missed, busy, failed
	Spec      twilio.CallSpec

	early, late  []action
	ResultText   string // the latest result text, "" if none
	ResultStatus int
	Recording    bool
	Inputs       int
}

// planCalls builds n call plans deterministically from the seed.
func (c *cluster) planCalls(o scenarioOptions) []*callPlan {
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	plans := make([]*callPlan, 0, o.Calls)
	for i := 0; i < o.Calls; i++ {
		p := &callPlan{SID: fmt.Sprintf("CA%016x%016x", o.Seed, uint64(i)+1)}
		cats := categories
		if len(o.Categories) > 0 {
			cats = o.Categories
		}
		p.Provider, p.ConnectionID = "twilio", c.ConnectionID
		country := "US"
		if len(o.Providers) > 0 {
			p.Provider = o.Providers[i%len(o.Providers)]
			if p.Provider != "twilio" {
				x := c.Extra[p.Provider]
				p.ConnectionID, country = x.ConnectionID, x.Country
			}
		}
		// The customer, line and manager are in the provider's country (an
		// Indian provider's calls are with Indian numbers, which its
		// webhooks write in national format).
		p.Category = cats[rng.IntN(len(cats))]
		nums := c.Phones.numbers(country, p.Category)
		p.Customer = nums[rng.IntN(len(nums))]
		p.Direction = callbridge.DirectionInbound
		if rng.Float64() < 0.4 {
			p.Direction = callbridge.DirectionOutbound
		}
		lines := countryLines[country]
		spec := twilio.CallSpec{CallSID: p.SID, Direction: p.Direction, Customer: p.Customer, Line: lines.line,
			Agent: lines.agent, DialLeg: p.Direction == callbridge.DirectionInbound, Start: o.Now.Add(-time.Duration(rng.IntN(600)) * time.Second)}
		switch r := rng.Float64(); {
		case r < 0.6:
			p.Outcome, spec.Answered, spec.Duration = "answered", true, 5+rng.IntN(600)
		case r < 0.85:
			p.Outcome = "missed"
		case r < 0.95:
			p.Outcome, spec.Busy = "busy", true
		default:
			p.Outcome, spec.Failed = "failed", true
		}
		p.Recording = spec.Answered && rng.Float64() < o.RecordingRate
		spec.Recording = p.Recording
		p.Spec = spec

		var inputs, extra []action
		for _, a := range c.webhooks(p, spec) {
			switch {
			case a.kind() == "recording":
				if p.Recording {
					extra = append(extra, a)
				}
			case rng.Float64() < o.PartialRate && rng.Float64() < 0.35:
				// This webhook was lost. Where it carried the recording
				// (Telzio's completion webhook does), the call has none.
				if p.Recording && c.carriesRecording(p, a) {
					p.Recording = false
				}
			default:
				inputs = append(inputs, a)
				if rng.Float64() < o.DuplicateRate {
					inputs = append(inputs, a)
				}
			}
		}
		if rng.Float64() < o.ResultRate {
			saves := 1 + rng.IntN(2)
			for s := 0; s < saves; s++ {
				rs := &resultSave{Text: fmt.Sprintf("Result %d of %s: %s", s+1, p.SID[len(p.SID)-6:], phrases[rng.IntN(len(phrases))]), CallStatus: 1 + rng.IntN(7)}
				extra = append(extra, action{result: rs})
			}
		}
		// Results are saved in order (the last one is the latest); the rest shuffles freely.
		rng.Shuffle(len(inputs), func(a, b int) { inputs[a], inputs[b] = inputs[b], inputs[a] })
		for _, a := range extra {
			if rng.Float64() < o.LateRate {
				p.late = append(p.late, a)
				continue
			}
			pos := rng.IntN(len(inputs) + 1)
			if a.result != nil {
				// keep saves in order: insert after any earlier save
				last := slices.IndexFunc(inputs, func(x action) bool { return x.result != nil })
				for j := len(inputs) - 1; j >= 0; j-- {
					if inputs[j].result != nil {
						last = j
						break
					}
				}
				pos = max(pos, last+1)
			}
			inputs = slices.Insert(inputs, pos, a)
		}
		p.early = inputs
		for _, a := range append(append([]action(nil), inputs...), p.late...) {
			if a.result != nil {
				p.ResultText, p.ResultStatus = a.result.Text, a.result.CallStatus
			}
		}
		p.Inputs = len(p.early) + len(p.late)
		plans = append(plans, p)
	}
	return plans
}

var phrases = []string{"wants a quote", "call back on Monday", "sent the price list", "not interested", "asked for a demo",
	"wrong department", "will decide next week", "needs a contract draft"}

// driveStats summarise what a run sent.
type driveStats struct {
	Requests  atomic.Int64
	Failures  atomic.Int64
	Latencies []time.Duration
	mu        sync.Mutex
	firstErr  error
}

func (d *driveStats) fail(err error) {
	d.Failures.Add(1)
	d.mu.Lock()
	if d.firstErr == nil {
		d.firstErr = err
	}
	d.mu.Unlock()
}

// drive sends every plan's inputs over HTTP: calls concurrently, each call's
// inputs in its shuffled order; late inputs after LateDelay.
func (c *cluster) drive(ctx context.Context, plans []*callPlan, o scenarioOptions) *driveStats {
	st := &driveStats{}
	conc := max(o.Concurrency, 1)
	run := func(pick func(*callPlan) []action) {
		ch := make(chan *callPlan)
		var wg sync.WaitGroup
		for w := 0; w < conc; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat []time.Duration
				for p := range ch {
					for _, a := range pick(p) {
						t := time.Now()
						if err := c.send(ctx, p, a); err != nil {
							st.fail(err)
						}
						lat = append(lat, time.Since(t))
						st.Requests.Add(1)
					}
				}
				st.mu.Lock()
				st.Latencies = append(st.Latencies, lat...)
				st.mu.Unlock()
			}()
		}
		for _, p := range plans {
			select {
			case ch <- p:
			case <-ctx.Done():
			}
		}
		close(ch)
		wg.Wait()
	}
	run(func(p *callPlan) []action { return p.early })
	if slices.ContainsFunc(plans, func(p *callPlan) bool { return len(p.late) > 0 }) {
		select {
		case <-time.After(o.LateDelay):
		case <-ctx.Done():
		}
		run(func(p *callPlan) []action { return p.late })
	}
	return st
}

func (c *cluster) send(ctx context.Context, p *callPlan, a action) error {
	if !c.Retry {
		return c.sendOnce(ctx, p, a)
	}
	var err error
	for wait := 50 * time.Millisecond; ; wait = min(wait*2, time.Second) {
		if err = c.sendOnce(ctx, p, a); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

func (c *cluster) sendOnce(ctx context.Context, p *callPlan, a action) error {
	if a.result != nil {
		return c.widget(ctx, "POST", "/api/widget/calls/result", c.AdminUserID, map[string]any{
			"connection_id": p.ConnectionID, "provider_call_id": p.SID, "text": a.result.Text, "call_status": a.result.CallStatus,
		}, nil)
	}
	var (
		resp *http.Response
		err  error
		what string
	)
	if a.dreq != nil {
		resp, err = c.Extra[p.Provider].Sim.Send(ctx, a.dreq)
		what = a.dreq.CallID + " " + a.dreq.Status
	} else {
		resp, err = c.Sim.Send(ctx, a.req)
		what = a.req.CallSID + " " + a.req.Status
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s webhook %s: %s", p.Provider, what, resp.Status)
	}
	return nil
}

func (a action) kind() string {
	switch {
	case a.dreq != nil:
		return a.dreq.Kind
	case a.req != nil:
		return a.req.Kind
	}
	return "result"
}

// webhooks returns the provider webhooks of a planned call, in the order the
// provider sends them, and sets p.SID to the call id they carry.
func (c *cluster) webhooks(p *callPlan, spec twilio.CallSpec) []action {
	var out []action
	if p.Provider == "twilio" {
		for _, r := range c.Sim.Requests(spec) {
			out = append(out, action{req: r})
		}
		return out
	}
	x := c.Extra[p.Provider]
	ds := declarative.CallSpec{CallID: spec.CallSID, Direction: spec.Direction, Customer: spec.Customer, Line: spec.Line,
		Agent: spec.Agent, Answered: spec.Answered, Busy: spec.Busy, Failed: spec.Failed, Duration: spec.Duration,
		Recording: spec.Recording, Start: spec.Start}
	reqs := x.Sim.Requests(ds)
	for _, r := range reqs {
		out = append(out, action{dreq: r})
	}
	// The provider's own call id, as its connector reads it.
	for _, r := range reqs {
		if evs, _, err := x.Connector.ParseWebhook(context.Background(), x.conn(), r.WebhookRequest(time.Now())); err == nil && len(evs) > 0 {
			p.SID = evs[0].ProviderCallID
			break
		}
	}
	return out
}

// carriesRecording reports whether a provider webhook of p brings a
// recording (as its connector reads it).
func (c *cluster) carriesRecording(p *callPlan, a action) bool {
	if a.dreq == nil {
		return a.kind() == "recording"
	}
	x := c.Extra[p.Provider]
	evs, _, err := x.Connector.ParseWebhook(context.Background(), x.conn(), a.dreq.WebhookRequest(time.Now()))
	if err != nil {
		return false
	}
	return slices.ContainsFunc(evs, func(e callbridge.CallEvent) bool { return e.RecordingURL != "" })
}

// calls returns the account's calls by provider call id.
func (c *cluster) calls(ctx context.Context) (map[string]*callbridge.Call, error) {
	out := map[string]*callbridge.Call{}
	for off := 0; ; off += 1000 {
		cs, err := c.Main.DB.ListCalls(ctx, callbridge.CallFilter{AccountID: c.Account.ID, Offset: off, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, call := range cs {
			out[call.ProviderCallID] = call
		}
		if len(cs) < 1000 {
			return out, nil
		}
	}
}

// waitSynced waits until every loggable call's latest version is in Kommo.
func (c *cluster) waitSynced(ctx context.Context, plans []*callPlan, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	lastLog := time.Now()
	for {
		calls, err := c.calls(ctx)
		if err != nil {
			return err
		}
		pending := 0
		var example *callbridge.Call
		for _, p := range plans {
			call, ok := calls[p.SID]
			if ok && call.Loggable() && (!call.Synced() || call.Kommo.State == callbridge.KommoIntent) {
				pending++
				example = call
			}
		}
		if pending == 0 {
			return nil
		}
		if c.Logf != nil && time.Since(lastLog) > 10*time.Second {
			lastLog = time.Now()
			st := c.Emu.Stats()
			c.Logf("waiting: %d calls not yet in Kommo; %d Kommo requests so far (%s), %d×429; e.g. %s state=%q v%d/%d err=%q",
				pending, requestsTo(st), endpointSummary(st), st.TooManyRequests, example.UID, example.Kommo.State, example.Version, example.Kommo.SyncedVersion, example.Kommo.LastError)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d calls not in Kommo after %s; e.g. %s (state %q, version %d, synced %d, last error %q)",
				pending, timeout, example.UID, example.Kommo.State, example.Version, example.Kommo.SyncedVersion, example.Kommo.LastError)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// verdict is the outcome of one call.
type verdict struct {
	Plan    *callPlan
	Call    *callbridge.Call
	Entity  string // "leads #12"
	NoteID  int64
	Problem string
}

// report is the result of verify.
type report struct {
	Verdicts []verdict
	Logged   int // calls that ended as a note
	Failed   int
	Stats    sandbox.Stats
}

// verify checks that every call ended as exactly one note on the entity
// Kommo's rules choose (or one incoming lead for an unknown inbound number),
// showing the customer's number in E.164 (as the call was with it, whatever
// format the provider wrote it in), the latest result and the recording; and
// that calls that are not loggable left nothing in Kommo.
func (c *cluster) verify(ctx context.Context, plans []*callPlan) (*report, error) {
	calls, err := c.calls(ctx)
	if err != nil {
		return nil, err
	}
	state := c.Emu.State()
	var acct *sandbox.AccountState
	for i := range state.Accounts {
		if state.Accounts[i].ID == c.KommoAccountID {
			acct = &state.Accounts[i]
		}
	}
	if acct == nil {
		return nil, fmt.Errorf("emulator has no account %d", c.KommoAccountID)
	}
	notes := map[string][]sandbox.Note{}
	for _, n := range acct.Notes {
		if n.Deleted || (n.NoteType != "call_in" && n.NoteType != "call_out") {
			continue
		}
		uniq, _ := n.Params["uniq"].(string)
		notes[uniq] = append(notes[uniq], n)
	}
	unsorted := map[string][]sandbox.Unsorted{}
	for _, u := range acct.Unsorted {
		unsorted[u.SourceUID] = append(unsorted[u.SourceUID], u)
	}
	r := &report{Stats: state.Stats}
	for _, p := range plans {
		v := verdict{Plan: p}
		problem := func(format string, args ...any) {
			if v.Problem == "" {
				v.Problem = fmt.Sprintf(format, args...)
			}
		}
		call, ok := calls[p.SID]
		v.Call = call
		if ok && call.CustomerNumber != "" && call.CustomerNumber != p.Customer {
			// The provider wrote the number in its own format (an Indian
			// provider's national "0…"): the connector must read it back
			// as the E.164 number the call was with.
			problem("callbridge read the customer's number as %q; the call was with %q", call.CustomerNumber, p.Customer)
		}
		switch {
		case !ok && p.Inputs > 0:
			problem("lost: callbridge has no such call")
		case !ok:
		case !call.Loggable():
			if n := len(notes[call.UID]); n != 0 {
				problem("not loggable, yet %d notes in Kommo", n)
			}
		case call.CustomerNumber == "" && call.Kommo.State == callbridge.KommoNone:
			// Only a result arrived and no webhook: no number to log it by.
			if n := len(notes[call.UID]); n != 0 {
				problem("no number known, yet %d notes in Kommo", n)
			}
		case call.Kommo.State == callbridge.KommoUnmatched:
			if p.Category != catUnknown || p.Direction != callbridge.DirectionOutbound {
				problem("not logged (unmatched) although Kommo knows the number")
			}
			if n := len(notes[call.UID]); n != 0 {
				problem("unmatched, yet %d notes in Kommo", n)
			}
		default:
			ns := notes[call.UID]
			if len(ns) != 1 {
				problem("%d notes in Kommo, want exactly 1", len(ns))
				break
			}
			n := ns[0]
			v.Entity, v.NoteID = fmt.Sprintf("%s #%d", n.EntityType, n.EntityID), n.ID
			r.Logged++
			if phone, _ := n.Params["phone"].(string); phone != p.Customer {
				problem("note shows the number %q; the call was with %q", phone, p.Customer)
			}
			if p.Category == catUnknown {
				us := unsorted[call.UID]
				if p.Direction == callbridge.DirectionOutbound {
					problem("outgoing call to an unknown number was logged: note on %s showing %q (callbridge's call: %s with %q, Kommo state %q)",
						v.Entity, n.Params["phone"], call.Direction, call.CustomerNumber, call.Kommo.State)
				} else if len(us) != 1 {
					problem("%d incoming leads, want exactly 1", len(us))
				} else if n.EntityType != "leads" || !slices.Contains(us[0].LeadIDs, n.EntityID) {
					problem("note on %s, not on the incoming lead", v.Entity)
				}
			} else if want := c.Phones.typeOf[p.Customer]; n.EntityType != want || n.EntityID != c.Phones.expected[p.Customer] {
				problem("note on %s, Kommo's rule chooses %s #%d", v.Entity, want, c.Phones.expected[p.Customer])
			}
			text, _ := n.Params["call_result"].(string)
			if p.ResultText != "" && !strings.Contains(text, p.ResultText) {
				folded := ""
				if call.Result != nil {
					folded = call.Result.Text
				}
				problem("note does not show the latest result %q: %q (callbridge's call has result %q, version %d, synced %d, record: note %d, text %q)",
					p.ResultText, text, folded, call.Version, call.Kommo.SyncedVersion, call.Kommo.NoteID, call.Kommo.Text)
			}
			if p.ResultText != "" {
				if st := asInt(n.Params["call_status"]); st != p.ResultStatus {
					problem("call_status %v, want %d", n.Params["call_status"], p.ResultStatus)
				}
			}
			// A call planned with a recording has one and the note links
			// it; one without has no link.
			link, _ := n.Params["link"].(string)
			switch {
			case p.Recording && call.RecordingURL == "":
				problem("callbridge holds no recording; the provider sent one")
			case p.Recording && !strings.Contains(link, "/rec/"):
				problem("note has no recording link (link %q)", link)
			case !p.Recording && strings.Contains(link, "/rec/"):
				problem("note links a recording the provider never sent: %q", link)
			}
		}
		if v.Problem != "" {
			r.Failed++
		}
		r.Verdicts = append(r.Verdicts, v)
	}
	return r, nil
}

// requestsTo sums the emulator's answered API requests (not /sandbox).
func requestsTo(st sandbox.Stats) int {
	n := 0
	for ep, byStatus := range st.Requests {
		if strings.Contains(ep, "/sandbox") {
			continue
		}
		for _, k := range byStatus {
			n += k
		}
	}
	return n
}

// asInt reads a JSON number however the emulator holds it.
func asInt(v any) int {
	switch x := v.(type) {
	case float64:
		return int(x)
	case int:
		return x
	case int64:
		return int(x)
	case json.Number:
		n, _ := x.Int64()
		return int(n)
	}
	return 0
}

// endpointSummary lists request counts by endpoint, largest first.
// statsSince is after's request counts less before's, by endpoint and
// status (the other fields are after's).
func statsSince(after, before sandbox.Stats) sandbox.Stats {
	d := after
	d.Requests = map[string]map[int]int{}
	for ep, byStatus := range after.Requests {
		for status, n := range byStatus {
			if n -= before.Requests[ep][status]; n > 0 {
				if d.Requests[ep] == nil {
					d.Requests[ep] = map[int]int{}
				}
				d.Requests[ep][status] = n
			}
		}
	}
	return d
}

func endpointSummary(st sandbox.Stats) string {
	type kv struct {
		k string
		n int
	}
	var out []kv
	for ep, byStatus := range st.Requests {
		n := 0
		for _, c := range byStatus {
			n += c
		}
		out = append(out, kv{ep, n})
	}
	slices.SortFunc(out, func(a, b kv) int { return b.n - a.n })
	var parts []string
	for i, e := range out {
		if i == 6 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s=%d", e.k, e.n))
	}
	return strings.Join(parts, ", ")
}
