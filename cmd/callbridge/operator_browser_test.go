package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river/rivertype"

	"callbridge"
	"callbridge/internal/browsertest"
	"callbridge/sandbox"
)

// operatorBrowser is headless Chromium signed in to the operator pages.
type operatorBrowser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func newOperatorBrowser(t *testing.T, base string) *operatorBrowser {
	t.Helper()
	bctx := browsertest.Start(t, 1280, 900)
	// The operator's browser sends basic-auth credentials with every request,
	// as it does once the user answered the login prompt.
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+testOperatorToken))
	if _, err := chromedp.Call(bctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}
	return &operatorBrowser{t: t, ctx: bctx, base: base}
}

func (b *operatorBrowser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (page: %s)", err, b.location())
	}
}

func (b *operatorBrowser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	u, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	return u
}

func evalIn[T any](b *operatorBrowser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("browser: %s: %v (page: %s)", expr, err, b.location())
	}
	return v
}

// wait polls a boolean expression for up to 20 s.
func (b *operatorBrowser) wait(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s (%s) on %s", what, expr, b.location())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// open navigates to path and waits for the page's heading.
func (b *operatorBrowser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
	b.wait("the page", `document.querySelector('h1')`)
}

// text returns the trimmed text of the first element matching sel.
func (b *operatorBrowser) text(sel string) string {
	b.t.Helper()
	return evalIn[string](b, fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||''`, sel))
}

// TestOperatorPagesInBrowser drives calls through a real server, makes one
// call's sync job fail (Kommo answers 500 to everything), and then, in
// Chromium: the account with its connection, the recent calls, a search by
// call id leading to the call's timeline and Kommo writes, the failed-jobs
// page and its Retry button, which — Kommo being back — gets the call written.
func TestOperatorPagesInBrowser(t *testing.T) {
	browsertest.Chromium(t)
	c := newOperatorCluster(t, nil, func(cfg *Config) { cfg.OperatorToken = testOperatorToken })
	ctx := context.Background()
	o := scenarioOptions{Calls: 8, Seed: 11, Concurrency: 4, ResultRate: 1, RecordingRate: 1}
	plans := c.planCalls(o)
	if st := c.drive(ctx, plans, o); st.Failures.Load() > 0 {
		t.Fatalf("inputs refused: %v", st.firstErr)
	}
	if err := c.waitSynced(ctx, plans, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	calls, err := c.calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var shown *callbridge.Call
	for _, p := range plans {
		if call := calls[p.SID]; call != nil && call.Kommo.State == callbridge.KommoWritten && call.Answered() {
			shown = call
			break
		}
	}
	if shown == nil {
		t.Fatal("no answered call was written; the scenario is off")
	}

	// One more call while Kommo fails every request: its job keeps failing.
	c.Emu.SetFaults(sandbox.Faults{ErrorRate: 1})
	o2 := scenarioOptions{Calls: 1, Seed: 12, Concurrency: 1}
	failing := c.planCalls(o2)
	if st := c.drive(ctx, failing, o2); st.Failures.Load() > 0 {
		t.Fatalf("inputs refused: %v", st.firstErr)
	}
	var failedJob *rivertype.JobRow
	deadline := time.Now().Add(90 * time.Second)
	for failedJob == nil {
		jobs, err := c.Main.Jobs.ListJobs(ctx, []rivertype.JobState{rivertype.JobStateRetryable}, 10)
		if err != nil {
			t.Fatal(err)
		}
		// Wait for the third failure: River then waits ~4 s before the next
		// attempt, time enough to find it on the page.
		if i := slices.IndexFunc(jobs, func(j *rivertype.JobRow) bool { return j.Kind == "sync_call" && j.Attempt >= 3 }); i >= 0 {
			failedJob = jobs[i]
		}
		if time.Now().After(deadline) {
			t.Fatal("the sync job of the call did not fail three times")
		}
		time.Sleep(100 * time.Millisecond)
	}

	b := newOperatorBrowser(t, c.Main.Config.PublicURL)

	// Accounts → the account → its connection and recent calls.
	b.open("/operator/")
	if got := b.text("#accounts"); !strings.Contains(got, "demo") {
		t.Fatalf("accounts table %q lacks the account", got)
	}
	if got := b.text("#job-counts"); !strings.Contains(got, "retryable") {
		t.Errorf("job counts %q lack the retryable state", got)
	}
	b.do(chromedp.Click(chromedp.CSS(`#accounts a`)))
	b.wait("the account page", `location.pathname.startsWith('/operator/accounts/') && document.querySelector('#connections')`)
	if got := b.text("#connections"); !strings.Contains(got, "twilio") || strings.Contains(got, c.Sim.AuthToken) {
		t.Errorf("connections %q: want the Twilio connection and none of its credentials", got)
	}
	if n := evalIn[int](b, `document.querySelectorAll('tr.call-row').length`); n < len(plans) {
		t.Errorf("%d recent calls on the account page, want at least %d", n, len(plans))
	}

	// Search by the provider's call id → the call's page.
	b.do(chromedp.SetValue(chromedp.CSS(`input[name=q]`), shown.ProviderCallID),
		chromedp.Submit(chromedp.CSS(`input[name=q]`)))
	b.wait("the call page", `document.querySelector('#events')`)
	if got := b.text("h1"); !strings.Contains(got, shown.UID) {
		t.Fatalf("call page heading %q, want %s", got, shown.UID)
	}
	if got := b.text("#kommo-state"); got != "written" {
		t.Errorf("Kommo state on the page %q, want written", got)
	}
	if got := b.text("#kommo-note"); got != fmt.Sprintf("#%d", shown.Kommo.NoteID) {
		t.Errorf("note on the page %q, want #%d", got, shown.Kommo.NoteID)
	}
	events, err := c.Main.DB.ListCallEvents(ctx, shown.ID)
	if err != nil {
		t.Fatal(err)
	}
	if n := evalIn[int](b, `document.querySelectorAll('tr.event-row').length`); n != len(events) {
		t.Errorf("%d events in the timeline, want %d", n, len(events))
	}
	if n := evalIn[int](b, `document.querySelectorAll('table.jobs tr.job-row').length`); n < 1 {
		t.Errorf("no sync job (Kommo write) listed for the call")
	}

	// Search by number lists the number's calls.
	b.open("/operator/calls")
	b.do(chromedp.SetValue(chromedp.CSS(`input[name=q]`), shown.CustomerNumber),
		chromedp.Submit(chromedp.CSS(`input[name=q]`)))
	b.wait("the search result", `document.querySelector('#events') || document.querySelector('table.calls')`)
	if !evalIn[bool](b, fmt.Sprintf(`document.body.innerText.includes(%q)`, shown.UID)) {
		t.Errorf("searching %s does not show call %s", shown.CustomerNumber, shown.UID)
	}

	// The failed job, and its Retry button once Kommo is back.
	b.open("/operator/jobs")
	row := fmt.Sprintf(`tr.job-row[data-job="%d"]`, failedJob.ID)
	b.wait("the failed job", `document.querySelector('`+row+`')`)
	if got := b.text(row); !strings.Contains(got, "sync_call") || !strings.Contains(got, "500") {
		t.Errorf("failed job row %q: want its kind and Kommo's 500", got)
	}
	c.Emu.SetFaults(sandbox.Faults{})
	b.do(chromedp.Click(chromedp.CSS(row + ` button.retry`)))
	b.wait("the retry notice", `document.querySelector('#retried')`)
	if err := c.waitSynced(ctx, failing, time.Minute); err != nil {
		t.Fatalf("after Retry: %v", err)
	}
	b.open("/operator/jobs")
	if evalIn[bool](b, `!!document.querySelector('`+row+`')`) {
		t.Errorf("job %d is still listed as failed after it succeeded", failedJob.ID)
	}
	rep, err := c.verify(ctx, append(plans, failing...))
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep)
}
