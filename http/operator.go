package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	nethttp "net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/rivertype"

	"callbridge"
)

// The operator pages are server-rendered HTML for the people who run
// callbridge: accounts and their connections, recent calls with each call's
// event timeline and Kommo writes, failed jobs with a retry button, and a
// search by phone number or call id. They and River's UI sit behind
// Server.OperatorToken.

// OperatorJobs is what the operator pages need of the job queue. It is
// implemented by store.JobAdmin.
type OperatorJobs interface {
	// CountJobs returns how many jobs are in each state.
	CountJobs(ctx context.Context) (map[rivertype.JobState]int, error)
	// ListJobs returns jobs in states, newest first, at most limit.
	ListJobs(ctx context.Context, states []rivertype.JobState, limit int) ([]*rivertype.JobRow, error)
	// ListCallJobs returns the sync jobs of a call, newest first.
	ListCallJobs(ctx context.Context, callID int64, limit int) ([]*rivertype.JobRow, error)
	// RetryJob makes a job run again now; ENOTFOUND for an unknown id.
	RetryJob(ctx context.Context, id int64) (*rivertype.JobRow, error)
}

// operatorCallFinder is implemented by the store (store.DB) to find calls by
// the provider's call id across accounts; without it the search looks up
// numbers and callbridge call ids only.
type operatorCallFinder interface {
	FindCallsByProviderCallID(ctx context.Context, id string, limit int) ([]*callbridge.Call, error)
}

// Operator page limits.
const (
	// operatorPageSize is the number of calls and jobs a listing shows.
	operatorPageSize = 50
	// operatorRealm is the basic-auth realm browsers show.
	operatorRealm = "callbridge operator"
)

// failedStates are the job states the failed-jobs page lists.
var failedStates = []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable}

//go:embed operator.tmpl
var operatorTemplateText string

var operatorTemplates = template.Must(template.New("operator").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"whenp": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	},
	"failed": func(s rivertype.JobState) bool { return slices.Contains(failedStates, s) },
	"lastError": func(j *rivertype.JobRow) string {
		if len(j.Errors) == 0 {
			return ""
		}
		return j.Errors[len(j.Errors)-1].Error
	},
	"dur": func(sec int) string { return (time.Duration(sec) * time.Second).String() },
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
}).Parse(operatorTemplateText))

// registerOperatorRoutes adds the operator pages and River's UI to mux.
func (s *Server) registerOperatorRoutes(mux *nethttp.ServeMux) {
	page := func(h func(nethttp.ResponseWriter, *nethttp.Request)) nethttp.Handler {
		return s.operator(nethttp.HandlerFunc(h))
	}
	mux.Handle("GET /operator/{$}", page(s.handleOperatorHome))
	mux.Handle("GET /operator", nethttp.RedirectHandler("/operator/", nethttp.StatusMovedPermanently))
	mux.Handle("GET /operator/accounts/{id}", page(s.handleOperatorAccount))
	mux.Handle("GET /operator/calls", page(s.handleOperatorCalls))
	mux.Handle("GET /operator/accounts/{account}/calls/{id}", page(s.handleOperatorCall))
	mux.Handle("GET /operator/jobs", page(s.handleOperatorJobs))
	mux.Handle("POST /operator/jobs/{id}/retry", page(s.handleOperatorRetry))
	if s.RiverUI != nil {
		mux.Handle(RiverUIPrefix+"/", s.operator(s.RiverUI))
		mux.Handle("GET "+RiverUIPrefix, nethttp.RedirectHandler(RiverUIPrefix+"/", nethttp.StatusMovedPermanently))
	}
}

// operator puts h behind the operator token: HTTP basic auth with any user
// name and the token as password, or "Authorization: Bearer <token>". The
// token is compared in constant time (as SHA-256 digests, so its length does
// not leak either). Without a configured token the pages do not exist (404).
// Unsafe methods must come from the same origin (CSRF protection: the
// browser sends basic-auth credentials on its own).
func (s *Server) operator(h nethttp.Handler) nethttp.Handler {
	csrf := nethttp.NewCrossOriginProtection()
	protected := csrf.Handler(h)
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if s.OperatorToken == "" {
			nethttp.NotFound(w, r)
			return
		}
		if !operatorAuthorized(r, s.OperatorToken) {
			recordError(r, callbridge.Errorf(callbridge.EUNAUTHORIZED, "operator authentication failed"))
			w.Header().Set("WWW-Authenticate", `Basic realm="`+operatorRealm+`", charset="UTF-8"`)
			w.Header().Set("Cache-Control", "no-store")
			nethttp.Error(w, "Operator authentication required.", nethttp.StatusUnauthorized)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Frame-Options", "DENY")
		w.Header().Set("Referrer-Policy", "same-origin")
		protected.ServeHTTP(w, r)
	})
}

func operatorAuthorized(r *nethttp.Request, token string) bool {
	var given string
	if _, pass, ok := r.BasicAuth(); ok {
		given = pass
	} else if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		given = auth[7:]
	} else {
		return false
	}
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// render writes the named page. Pages are rendered to a buffer first so that
// a template error becomes a 500, not half a page.
func (s *Server) render(w nethttp.ResponseWriter, r *nethttp.Request, status int, name string, data map[string]any) {
	data["RiverUI"] = s.RiverUI != nil
	data["Jobs"] = s.Jobs != nil
	if _, ok := data["Q"]; !ok {
		data["Q"] = ""
	}
	var buf bytes.Buffer
	if err := operatorTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		recordError(r, fmt.Errorf("operator page %s: %w", name, err))
		nethttp.Error(w, "Internal error.", nethttp.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// operatorError renders an error page: the client-safe message and the status
// of err's code.
func (s *Server) operatorError(w nethttp.ResponseWriter, r *nethttp.Request, err error) {
	recordError(r, err)
	status := ErrorStatus(callbridge.ErrorCode(err))
	msg := callbridge.ErrorMessage(err)
	if status >= 500 {
		msg = "Something went wrong; the error is in the server's log (request " + RequestID(r.Context()) + ")."
	}
	s.render(w, r, status, "error", map[string]any{"Title": nethttp.StatusText(status), "Message": msg})
}

// accountRow is an account on the home page.
type accountRow struct {
	*callbridge.Account
	Connections int
}

func (s *Server) handleOperatorHome(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	accts, err := s.Store.ListAccounts(ctx)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	rows := make([]accountRow, 0, len(accts))
	for _, a := range accts {
		conns, err := s.Store.ListConnections(ctx, a.ID)
		if err != nil {
			s.operatorError(w, r, err)
			return
		}
		rows = append(rows, accountRow{Account: a, Connections: len(conns)})
	}
	data := map[string]any{"Title": "Accounts", "Accounts": rows}
	if s.Jobs != nil {
		counts, err := s.Jobs.CountJobs(ctx)
		if err != nil {
			s.operatorError(w, r, err)
			return
		}
		type stateCount struct {
			State rivertype.JobState
			N     int
		}
		var cs []stateCount
		for _, st := range []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStateScheduled, rivertype.JobStateRunning,
			rivertype.JobStateRetryable, rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateCompleted} {
			cs = append(cs, stateCount{st, counts[st]})
		}
		data["JobCounts"] = cs
	}
	s.render(w, r, nethttp.StatusOK, "home", data)
}

// pathID parses the path value name as a positive id.
func pathID(r *nethttp.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, callbridge.Errorf(callbridge.ENOTFOUND, "Not found.")
	}
	return id, nil
}

func (s *Server) handleOperatorAccount(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	a, err := s.Store.FindAccount(ctx, id)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	conns, err := s.Store.ListConnections(ctx, a.ID)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	calls, err := s.Store.ListCalls(ctx, callbridge.CallFilter{AccountID: a.ID, Limit: operatorPageSize})
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	providers := map[int64]string{}
	for _, c := range conns {
		providers[c.ID] = c.Provider
	}
	s.render(w, r, nethttp.StatusOK, "account", map[string]any{
		"Title": fmt.Sprintf("Account %d", a.ID), "Account": a, "Connections": operatorConnections(conns),
		"Calls": calls, "Providers": providers,
	})
}

// operatorConnection is a connection as the pages show it: never its token
// or credentials.
type operatorConnection struct {
	ID        int64
	Provider  string
	Name      string
	TimeZone  string
	CreatedAt time.Time
	// Credentials are the names of the stored credentials, not their values.
	Credentials []string
}

func operatorConnections(cs []*callbridge.Connection) []operatorConnection {
	out := make([]operatorConnection, 0, len(cs))
	for _, c := range cs {
		oc := operatorConnection{ID: c.ID, Provider: c.Provider, Name: c.Name, TimeZone: c.TimeZone, CreatedAt: c.CreatedAt}
		for k := range c.Credentials {
			oc.Credentials = append(oc.Credentials, k)
		}
		slices.Sort(oc.Credentials)
		out = append(out, oc)
	}
	return out
}

// handleOperatorCalls lists recent calls of every account, or searches: q is
// a phone number (its last 10 digits match, as in Kommo), a callbridge call
// id (UID) or a provider's call id.
func (s *Server) handleOperatorCalls(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	offset = max(offset, 0)
	var calls []*callbridge.Call
	if q == "" {
		var err error
		calls, err = s.Store.ListCalls(ctx, callbridge.CallFilter{Offset: offset, Limit: operatorPageSize})
		if err != nil {
			s.operatorError(w, r, err)
			return
		}
	} else {
		if len(q) > 200 {
			s.operatorError(w, r, callbridge.Errorf(callbridge.EINVALID, "The search is too long."))
			return
		}
		seen := map[int64]bool{}
		add := func(cs []*callbridge.Call, err error) error {
			for _, c := range cs {
				if !seen[c.ID] {
					seen[c.ID] = true
					calls = append(calls, c)
				}
			}
			return err
		}
		if looksLikePhone(q) {
			if err := add(s.Store.ListCalls(ctx, callbridge.CallFilter{Number: q, Limit: operatorPageSize})); err != nil {
				s.operatorError(w, r, err)
				return
			}
		}
		if err := add(s.Store.ListCalls(ctx, callbridge.CallFilter{UID: q, Limit: operatorPageSize})); err != nil {
			s.operatorError(w, r, err)
			return
		}
		if f, ok := s.Store.(operatorCallFinder); ok {
			if err := add(f.FindCallsByProviderCallID(ctx, q, operatorPageSize)); err != nil {
				s.operatorError(w, r, err)
				return
			}
		}
		slices.SortFunc(calls, func(a, b *callbridge.Call) int { return int(b.ID - a.ID) })
		if len(calls) == 1 {
			c := calls[0]
			nethttp.Redirect(w, r, fmt.Sprintf("/operator/accounts/%d/calls/%d", c.AccountID, c.ID), nethttp.StatusSeeOther)
			return
		}
	}
	data := map[string]any{"Title": "Calls", "Calls": calls, "Q": q}
	if q == "" {
		if offset > 0 {
			data["Prev"] = max(offset-operatorPageSize, 0)
			data["HasPrev"] = true
		}
		if len(calls) == operatorPageSize {
			data["Next"] = offset + operatorPageSize
		}
	}
	s.render(w, r, nethttp.StatusOK, "calls", data)
}

// looksLikePhone reports whether q is a phone number: digits with the usual
// separators, at least 5 digits.
func looksLikePhone(q string) bool {
	digits := 0
	for _, c := range q {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case strings.ContainsRune("+-() .", c):
		default:
			return false
		}
	}
	return digits >= 5
}

// operatorEvent is one input of a call's timeline.
type operatorEvent struct {
	callbridge.CallEvent
	PayloadText string
}

// operatorJob is a job row with its arguments decoded.
type operatorJob struct {
	*rivertype.JobRow
	AccountID int64
	CallID    int64
}

func operatorJobs(jobs []*rivertype.JobRow) []operatorJob {
	out := make([]operatorJob, 0, len(jobs))
	for _, j := range jobs {
		oj := operatorJob{JobRow: j}
		var args struct {
			AccountID int64 `json:"account_id"`
			CallID    int64 `json:"call_id"`
		}
		if json.Unmarshal(j.EncodedArgs, &args) == nil {
			oj.AccountID, oj.CallID = args.AccountID, args.CallID
		}
		out = append(out, oj)
	}
	return out
}

func (s *Server) handleOperatorCall(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	acctID, err := pathID(r, "account")
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	a, err := s.Store.FindAccount(ctx, acctID)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	call, err := s.Store.FindCall(ctx, acctID, id)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	conn, err := s.Store.FindConnection(ctx, acctID, call.ConnectionID)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	evs, err := s.Store.ListCallEvents(ctx, call.ID)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	timeline := make([]operatorEvent, 0, len(evs))
	for _, e := range evs {
		timeline = append(timeline, operatorEvent{CallEvent: e, PayloadText: payloadText(e.Payload)})
	}
	data := map[string]any{
		"Title": "Call " + call.UID, "Account": a, "Call": call, "Connection": operatorConnections([]*callbridge.Connection{conn})[0],
		"Events": timeline, "KommoLink": kommoLink(a, call),
	}
	if s.Jobs != nil {
		jobs, err := s.Jobs.ListCallJobs(ctx, call.ID, operatorPageSize)
		if err != nil {
			s.operatorError(w, r, err)
			return
		}
		data["CallJobs"] = operatorJobs(jobs)
	}
	s.render(w, r, nethttp.StatusOK, "call", data)
}

// payloadText shows a stored payload (credentials were redacted on ingest):
// indented when it is JSON, decoded when it is a form, as is otherwise.
func payloadText(p []byte) string {
	if len(p) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Indent(&buf, p, "", "  ") == nil {
		return buf.String()
	}
	if vs, err := url.ParseQuery(string(p)); err == nil && len(vs) > 0 && !bytes.ContainsAny(p, " \n<") {
		keys := make([]string, 0, len(vs))
		for k := range vs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var b strings.Builder
		for _, k := range keys {
			for _, v := range vs[k] {
				fmt.Fprintf(&b, "%s = %s\n", k, v)
			}
		}
		return b.String()
	}
	return string(p)
}

// kommoLink is the URL of the entity that holds the call's note, or "".
func kommoLink(a *callbridge.Account, c *callbridge.Call) string {
	if c.Kommo.EntityID == 0 || !callbridge.ValidEntityType(c.Kommo.EntityType) {
		return ""
	}
	base := strings.TrimRight(a.BaseURL, "/")
	if base == "" && a.Subdomain != "" {
		base = "https://" + a.Subdomain + ".kommo.com"
	}
	if base == "" {
		return ""
	}
	return fmt.Sprintf("%s/%s/detail/%d", base, c.Kommo.EntityType, c.Kommo.EntityID)
}

func (s *Server) handleOperatorJobs(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.Jobs == nil {
		s.operatorError(w, r, callbridge.Errorf(callbridge.EUNAVAILABLE, "This server has no job queue to show."))
		return
	}
	jobs, err := s.Jobs.ListJobs(r.Context(), failedStates, operatorPageSize*2)
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	retried, _ := strconv.ParseInt(r.URL.Query().Get("retried"), 10, 64)
	s.render(w, r, nethttp.StatusOK, "jobs", map[string]any{"Title": "Failed jobs", "FailedJobs": operatorJobs(jobs), "Retried": retried})
}

// handleOperatorRetry retries a job and returns to the page the button was
// on (the form's "return" field, a path under /operator/).
func (s *Server) handleOperatorRetry(w nethttp.ResponseWriter, r *nethttp.Request) {
	if s.Jobs == nil {
		s.operatorError(w, r, callbridge.Errorf(callbridge.EUNAVAILABLE, "This server has no job queue."))
		return
	}
	id, err := pathID(r, "id")
	if err != nil {
		s.operatorError(w, r, err)
		return
	}
	r.Body = nethttp.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		s.operatorError(w, r, callbridge.Errorf(callbridge.EINVALID, "Bad form."))
		return
	}
	if _, err := s.Jobs.RetryJob(r.Context(), id); err != nil {
		s.operatorError(w, r, err)
		return
	}
	s.logger().LogAttrs(r.Context(), slog.LevelInfo, "operator retried a job",
		slog.String("request_id", RequestID(r.Context())), slog.Int64("job_id", id))
	back := r.PostForm.Get("return")
	if !strings.HasPrefix(back, "/operator/") || strings.HasPrefix(back, "//") || strings.ContainsAny(back, "\\\r\n") {
		back = "/operator/jobs"
	}
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	nethttp.Redirect(w, r, back+sep+"retried="+strconv.FormatInt(id, 10), nethttp.StatusSeeOther)
}
