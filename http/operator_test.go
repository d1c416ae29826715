package http_test

import (
	"context"
	"encoding/json"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/pipeline"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

const operatorToken = "operator-token-0123456789abcdef"

// fakeJobs is an in-memory OperatorJobs.
type fakeJobs struct {
	mu      sync.Mutex
	jobs    []*rivertype.JobRow
	retried []int64
}

func (f *fakeJobs) CountJobs(context.Context) (map[rivertype.JobState]int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[rivertype.JobState]int{}
	for _, j := range f.jobs {
		out[j.State]++
	}
	return out, nil
}

func (f *fakeJobs) ListJobs(_ context.Context, states []rivertype.JobState, limit int) ([]*rivertype.JobRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*rivertype.JobRow
	for _, j := range f.jobs {
		for _, s := range states {
			if j.State == s {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

func (f *fakeJobs) ListCallJobs(_ context.Context, callID int64, limit int) ([]*rivertype.JobRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*rivertype.JobRow
	for _, j := range f.jobs {
		var a struct {
			CallID int64 `json:"call_id"`
		}
		if json.Unmarshal(j.EncodedArgs, &a) == nil && a.CallID == callID {
			out = append(out, j)
		}
	}
	return out, nil
}

func (f *fakeJobs) RetryJob(_ context.Context, id int64) (*rivertype.JobRow, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, j := range f.jobs {
		if j.ID == id {
			j.State = rivertype.JobStateAvailable
			f.retried = append(f.retried, id)
			return j, nil
		}
	}
	return nil, callbridge.Errorf(callbridge.ENOTFOUND, "Job not found.")
}

// operatorFixture is a server with one account, one connection holding a
// credential, and one call with a payload that tries to inject HTML.
type operatorFixture struct {
	srv  *httptest.Server
	db   *sqlite.DB
	jobs *fakeJobs
	acct *callbridge.Account
	conn *callbridge.Connection
	call *callbridge.Call
}

const (
	operatorCredential = "twilio-auth-token-DO-NOT-SHOW"
	operatorCallSID    = "CA0123456789abcdef0123456789abcdef"
)

func newOperatorFixture(t *testing.T, token string) *operatorFixture {
	t.Helper()
	ctx := t.Context()
	db := sqlitetest.Open(t, sqlite.Options{})
	acct := &callbridge.Account{KommoID: 41000001, Subdomain: "acme-ops", BaseURL: "https://acme-ops.kommo.com"}
	if err := db.UpsertAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	conn := &callbridge.Connection{AccountID: acct.ID, Provider: "twilio", Name: "Main line",
		Credentials: map[string]string{"auth_token": operatorCredential, "account_sid": "AC1"}}
	if err := db.CreateConnection(ctx, conn); err != nil {
		t.Fatal(err)
	}
	ing := &pipeline.Ingester{Store: db, Hold: -1}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	evs := []callbridge.CallEvent{
		{Type: callbridge.EventStatus, Key: "s:ringing", ProviderCallID: operatorCallSID, Status: callbridge.StatusRinging,
			Direction: callbridge.DirectionInbound, CustomerNumber: "+14155550177", OccurredAt: at,
			Payload: []byte("CallStatus=ringing&From=%2B14155550177&Note=%3Cscript%3Ealert(1)%3C%2Fscript%3E")},
		{Type: callbridge.EventStatus, Key: "s:completed", ProviderCallID: operatorCallSID, Status: callbridge.StatusCompleted,
			Direction: callbridge.DirectionInbound, CustomerNumber: "+14155550177", Duration: 42, OccurredAt: at.Add(time.Minute),
			Payload: []byte(`{"CallStatus":"completed","Echo":"<img src=x onerror=alert(2)>"}`)},
	}
	if err := ing.Ingest(ctx, conn, evs); err != nil {
		t.Fatal(err)
	}
	calls, err := db.ListCalls(ctx, callbridge.CallFilter{AccountID: acct.ID})
	if err != nil || len(calls) != 1 {
		t.Fatalf("calls = %v, %v", calls, err)
	}
	call := calls[0]
	args, _ := json.Marshal(callbridge.SyncCallArgs{AccountID: acct.ID, CallID: call.ID})
	jobs := &fakeJobs{jobs: []*rivertype.JobRow{
		{ID: 77, Kind: "sync_call", State: rivertype.JobStateDiscarded, Attempt: 100, MaxAttempts: 100, EncodedArgs: args,
			CreatedAt: at, Errors: []rivertype.AttemptError{{At: at, Attempt: 100, Error: "kommo: POST /api/v4/calls: 400: <b>bad</b>"}}},
		{ID: 78, Kind: "sync_call", State: rivertype.JobStateCompleted, Attempt: 1, MaxAttempts: 100, EncodedArgs: args, CreatedAt: at},
	}}
	s := &cbhttp.Server{Store: db, Ingester: ing, OperatorToken: token, Jobs: jobs}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &operatorFixture{srv: srv, db: db, jobs: jobs, acct: acct, conn: conn, call: call}
}

// get fetches path with the operator's basic auth (unless auth is "") and
// returns the status and body; redirects are not followed.
func (f *operatorFixture) get(t *testing.T, path, auth string) (int, string, nethttp.Header) {
	t.Helper()
	req, _ := nethttp.NewRequestWithContext(t.Context(), "GET", f.srv.URL+path, nil)
	if auth != "" {
		req.SetBasicAuth("ops", auth)
	}
	return doRequest(t, req)
}

func doRequest(t *testing.T, req *nethttp.Request) (int, string, nethttp.Header) {
	t.Helper()
	c := &nethttp.Client{CheckRedirect: func(*nethttp.Request, []*nethttp.Request) error { return nethttp.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestOperator_Auth(t *testing.T) {
	t.Run("NoTokenConfigured", func(t *testing.T) {
		f := newOperatorFixture(t, "")
		if code, _, _ := f.get(t, "/operator/", ""); code != nethttp.StatusNotFound {
			t.Fatalf("status %d without a configured token, want 404", code)
		}
		if code, _, _ := f.get(t, "/operator/", "anything"); code != nethttp.StatusNotFound {
			t.Fatalf("status %d without a configured token, want 404", code)
		}
	})
	f := newOperatorFixture(t, operatorToken)
	t.Run("NoCredentials", func(t *testing.T) {
		code, _, h := f.get(t, "/operator/", "")
		if code != nethttp.StatusUnauthorized || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
			t.Fatalf("status %d, WWW-Authenticate %q; want 401 with a Basic challenge", code, h.Get("WWW-Authenticate"))
		}
	})
	t.Run("WrongPassword", func(t *testing.T) {
		for _, p := range []string{"wrong", operatorToken + "x", operatorToken[:len(operatorToken)-1]} {
			if code, body, _ := f.get(t, "/operator/", p); code != nethttp.StatusUnauthorized || strings.Contains(body, "acme-ops") {
				t.Fatalf("password %q: status %d; want 401 and no page", p, code)
			}
		}
	})
	t.Run("Basic", func(t *testing.T) {
		code, body, h := f.get(t, "/operator/", operatorToken)
		if code != nethttp.StatusOK || !strings.Contains(body, "acme-ops") {
			t.Fatalf("status %d; want 200 listing the account: %s", code, body)
		}
		if h.Get("Cache-Control") != "no-store" || h.Get("Content-Security-Policy") == "" {
			t.Fatalf("headers %v: want no-store and a CSP", h)
		}
	})
	t.Run("Bearer", func(t *testing.T) {
		for token, want := range map[string]int{operatorToken: 200, "nope": 401} {
			req, _ := nethttp.NewRequestWithContext(t.Context(), "GET", f.srv.URL+"/operator/calls", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			if code, _, _ := doRequest(t, req); code != want {
				t.Fatalf("bearer %q: status %d, want %d", token, code, want)
			}
		}
	})
	t.Run("RiverUINotMountedWithoutHandler", func(t *testing.T) {
		if code, _, _ := f.get(t, "/riverui/", operatorToken); code != nethttp.StatusNotFound {
			t.Fatalf("status %d, want 404", code)
		}
	})
}

func TestOperator_Pages(t *testing.T) {
	f := newOperatorFixture(t, operatorToken)
	callPath := "/operator/accounts/" + itoa(f.acct.ID) + "/calls/" + itoa(f.call.ID)

	t.Run("AccountShowsConnectionsWithoutSecrets", func(t *testing.T) {
		code, body, _ := f.get(t, "/operator/accounts/"+itoa(f.acct.ID), operatorToken)
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		for _, want := range []string{"Main line", "twilio", "account_sid, auth_token", f.call.UID} {
			if !strings.Contains(body, want) {
				t.Errorf("account page lacks %q", want)
			}
		}
		for _, secret := range []string{operatorCredential, f.conn.Token} {
			if strings.Contains(body, secret) {
				t.Errorf("account page shows a secret %q", secret)
			}
		}
	})
	t.Run("CallTimelineIsEscaped", func(t *testing.T) {
		code, body, _ := f.get(t, callPath, operatorToken)
		if code != 200 {
			t.Fatalf("status %d", code)
		}
		for _, want := range []string{operatorCallSID, "ringing", "completed", "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x", "Kommo writes", "&lt;b&gt;bad&lt;/b&gt;"} {
			if !strings.Contains(body, want) {
				t.Errorf("call page lacks %q", want)
			}
		}
		for _, bad := range []string{"<script>alert", "<img src=x", "<b>bad</b>", operatorCredential} {
			if strings.Contains(body, bad) {
				t.Errorf("call page contains %q unescaped", bad)
			}
		}
	})
	t.Run("CallOfAnotherAccount", func(t *testing.T) {
		other := &callbridge.Account{KommoID: 41000002, Subdomain: "other"}
		if err := f.db.UpsertAccount(t.Context(), other); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := f.get(t, "/operator/accounts/"+itoa(other.ID)+"/calls/"+itoa(f.call.ID), operatorToken); code != 404 {
			t.Fatalf("status %d for a call under the wrong account, want 404", code)
		}
	})
	t.Run("Search", func(t *testing.T) {
		for _, q := range []string{"(415) 555-0177", "4155550177", operatorCallSID, f.call.UID} {
			code, _, h := f.get(t, "/operator/calls?q="+url.QueryEscape(q), operatorToken)
			if code != nethttp.StatusSeeOther || h.Get("Location") != callPath {
				t.Errorf("search %q: status %d to %q; want 303 to %s", q, code, h.Get("Location"), callPath)
			}
		}
		code, body, _ := f.get(t, "/operator/calls?q=CAnothing", operatorToken)
		if code != 200 || !strings.Contains(body, "No calls.") {
			t.Errorf("search for nothing: status %d; want 200 and no calls", code)
		}
		code, body, _ = f.get(t, "/operator/calls", operatorToken)
		if code != 200 || !strings.Contains(body, f.call.UID) {
			t.Errorf("recent calls: status %d; want the call listed", code)
		}
	})
	t.Run("Home", func(t *testing.T) {
		_, body, _ := f.get(t, "/operator/", operatorToken)
		if !strings.Contains(body, `id="job-counts"`) || !strings.Contains(body, "discarded") {
			t.Errorf("home page lacks the job counts")
		}
	})
}

func TestOperator_Retry(t *testing.T) {
	f := newOperatorFixture(t, operatorToken)
	code, body, _ := f.get(t, "/operator/jobs", operatorToken)
	if code != 200 || !strings.Contains(body, `data-job="77"`) || strings.Contains(body, `data-job="78"`) {
		t.Fatalf("failed jobs page: status %d; want job 77 (discarded) and not 78 (completed)", code)
	}
	post := func(origin, site string) (int, nethttp.Header) {
		form := url.Values{"return": {"/operator/jobs"}}
		req, _ := nethttp.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/operator/jobs/77/retry", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("ops", operatorToken)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		code, _, h := doRequest(t, req)
		return code, h
	}
	// A form on another site cannot make the operator's browser retry jobs.
	if code, _ := post("https://evil.example", "cross-site"); code != nethttp.StatusForbidden {
		t.Fatalf("cross-site POST: status %d, want 403", code)
	}
	if len(f.jobs.retried) != 0 {
		t.Fatalf("a cross-site POST retried jobs %v", f.jobs.retried)
	}
	code, h := post(f.srv.URL, "same-origin")
	if code != nethttp.StatusSeeOther || h.Get("Location") != "/operator/jobs?retried=77" {
		t.Fatalf("retry: status %d to %q; want 303 to /operator/jobs?retried=77", code, h.Get("Location"))
	}
	if len(f.jobs.retried) != 1 || f.jobs.retried[0] != 77 {
		t.Fatalf("retried %v, want [77]", f.jobs.retried)
	}
	_, body, _ = f.get(t, "/operator/jobs?retried=77", operatorToken)
	if !strings.Contains(body, `id="retried"`) || strings.Contains(body, `data-job="77"`) {
		t.Fatalf("after the retry the page should confirm it and no longer list job 77")
	}
	// Unknown job; a return path off the operator pages is ignored.
	req, _ := nethttp.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/operator/jobs/999/retry", strings.NewReader("return=https://evil.example/"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", operatorToken)
	if code, _, _ := doRequest(t, req); code != nethttp.StatusNotFound {
		t.Fatalf("retry of an unknown job: status %d, want 404", code)
	}
	f.jobs.jobs[0].State = rivertype.JobStateDiscarded
	form := url.Values{"return": {"//evil.example/x"}}
	req, _ = nethttp.NewRequestWithContext(t.Context(), "POST", f.srv.URL+"/operator/jobs/77/retry", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("ops", operatorToken)
	if code, _, h := doRequest(t, req); code != nethttp.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/operator/jobs?") {
		t.Fatalf("open redirect: status %d to %q", code, h.Get("Location"))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
