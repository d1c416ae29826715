package kommo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"callbridge"
)

// maxResponse bounds the bytes read from one response.
const maxResponse = 8 << 20

// ipBlockPause is how long nothing is sent after a 403 that looks like an IP block.
const ipBlockPause = 10 * time.Minute

// paymentPause is the RetryAfter of a 402 (the account's subscription ended).
const paymentPause = time.Hour

// defaultRetryAfter is used for a 429 that does not say how long to wait.
const defaultRetryAfter = 60 * time.Second

// errNothingToSend is returned by send when req.prepare withdrew the request
// (every caller of a batch gave up before it was sent).
var errNothingToSend = errors.New("kommo: nothing to send")

// request is one HTTP request to Kommo.
type request struct {
	method string
	route  string // template for metrics and logs, e.g. "POST /api/v4/calls"
	path   string // path and query
	body   any    // JSON-encoded when non-nil
	// prepare, when set, supplies the body right before the request is sent
	// (after the limiter and the token). ok=false withdraws the request. It
	// may also set path (a batched read builds its query there); it is
	// called again, and must answer the same, when a 401 makes do resend.
	prepare func() (body any, ok bool)
	// adminOnly marks endpoints where Kommo answers 403 to non-administrators
	// (a permission error, not an IP block).
	adminOnly bool
}

func (r *request) write() bool { return r.method != http.MethodGet && r.method != http.MethodHead }

// response is what Kommo answered.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends req for acct with the account's access token. After a 401 on a
// token believed valid it refreshes the token once and sends again. The
// response is returned whenever Kommo answered, together with the error its
// status maps to.
func (c *Client) do(ctx context.Context, acct *callbridge.Account, req *request) (*response, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	base, err := c.baseURL(acct)
	if err != nil {
		return nil, err
	}
	tok, err := c.accessToken(ctx, acct)
	if err != nil {
		return nil, err
	}
	for refreshed := false; ; refreshed = true {
		resp, err := c.send(ctx, acct.ID, base, tok.AccessToken, req)
		if err != nil {
			return resp, err
		}
		if resp.status != http.StatusUnauthorized {
			return resp, c.check(req, resp)
		}
		if refreshed {
			return resp, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Kind: callbridge.KindPermanent,
				Message: "Kommo refused the account's access token: the integration must be reinstalled",
				Err:     fmt.Errorf("%s: 401 after a token refresh: %s", req.route, problemOf(resp.body).summary())}
		}
		c.log.WarnContext(ctx, "kommo: access token refused; refreshing", "account", acct.ID, "route", req.route)
		tok, err = c.refresh(ctx, acct, tok.Version, true)
		if err != nil {
			return resp, err
		}
	}
}

// send performs one HTTP exchange: it waits for the limiter, sends and reads
// the response. It returns an error only when no response was received (or
// it could not be read); HTTP statuses are left to the caller.
func (c *Client) send(ctx context.Context, accountID int64, base, token string, req *request) (*response, error) {
	if err := c.lim.Wait(ctx, accountID); err != nil {
		if e, ok := errors.AsType[*callbridge.Error](err); ok {
			return nil, e
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: %s not sent: %v", req.route, err)
	}
	body := req.body
	if req.prepare != nil {
		b, ok := req.prepare()
		if !ok {
			return nil, errNothingToSend
		}
		body = b
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "kommo: cannot encode the request", Err: err}
		}
		rd = bytes.NewReader(data)
	}
	var wrote atomic.Bool
	var attempts atomic.Int32
	trace := &httptrace.ClientTrace{
		// http.Transport silently sends an idempotent request again when the
		// reused connection it went out on died. Kommo counts every attempt
		// against the IP's 7 requests per second, so each attempt after the
		// first waits for the limiter too (GotConn runs once per attempt, on
		// this goroutine, before the request is written).
		GotConn: func(httptrace.GotConnInfo) {
			if attempts.Add(1) > 1 {
				_ = c.lim.Wait(ctx, accountID)
			}
		},
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	}
	hreq, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), req.method, base+req.path, rd)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "kommo: bad request URL", Err: err}
	}
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "callbridge/"+callbridge.Version)
	if body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		hreq.Header.Set("Authorization", "Bearer "+token)
	}

	start := time.Now()
	hresp, err := c.hc.Do(hreq)
	if err != nil {
		c.observe(ctx, req.route, 0, time.Since(start), accountID)
		return nil, c.transportError(req, wrote.Load(), err)
	}
	data, rerr := io.ReadAll(io.LimitReader(hresp.Body, maxResponse))
	hresp.Body.Close()
	c.observe(ctx, req.route, hresp.StatusCode, time.Since(start), accountID)
	resp := &response{status: hresp.StatusCode, header: hresp.Header, body: data}
	if rerr != nil {
		// The status is known, the body is not. A write that succeeded (or
		// failed on the server) has an unknown effect; anything else may be
		// retried.
		if req.write() && (resp.status < 300 || resp.status >= 500) {
			return nil, callbridge.Uncertain(rerr, "kommo: %s answered %d but the response was lost", req.route, resp.status)
		}
		if resp.status < 300 || resp.status >= 500 {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, rerr, "kommo: %s: response lost", req.route)
		}
	}
	return resp, nil
}

func (c *Client) observe(ctx context.Context, route string, status int, d time.Duration, accountID int64) {
	c.log.DebugContext(ctx, "kommo: request", "route", route, "status", status, "duration", d, "account", accountID)
	if c.cfg.OnRequest != nil {
		c.cfg.OnRequest(route, status, d)
	}
}

// transportError classifies a request that got no response. A write that
// was fully sent may have been applied: KindUncertain. Anything else was not
// applied: KindTransient.
func (c *Client) transportError(req *request, wrote bool, err error) error {
	if req.write() && wrote {
		return callbridge.Uncertain(err, "kommo: %s was sent but no response arrived", req.route)
	}
	return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: %s failed: Kommo is unreachable", req.route)
}

// check maps an HTTP status other than 401 to nil or an error, and applies
// the rate-limit side effects of 429 and 403.
func (c *Client) check(req *request, resp *response) error {
	s := resp.status
	switch {
	case s >= 200 && s < 300:
		return nil
	case s == http.StatusTooManyRequests:
		d := retryAfter(resp)
		c.lim.Penalize(time.Now().Add(d))
		c.log.Warn("kommo: rate limited (429); pausing all requests", "route", req.route, "retry_after", d)
		return &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, RetryAfter: d,
			Message: "Kommo's rate limit was exceeded", Err: fmt.Errorf("%s: 429: %s", req.route, problemOf(resp.body).summary())}
	case s == http.StatusForbidden:
		if req.adminOnly && isJSON(resp.body) {
			return &callbridge.Error{Code: callbridge.EFORBIDDEN, Kind: callbridge.KindPermanent,
				Message: "Kommo: this request needs an administrator's token",
				Err:     fmt.Errorf("%s: 403: %s", req.route, problemOf(resp.body).summary())}
		}
		c.lim.Penalize(time.Now().Add(ipBlockPause))
		c.log.Error("kommo: 403 Forbidden: Kommo appears to have BLOCKED THIS IP for exceeding the rate limit; all requests paused",
			"route", req.route, "pause", ipBlockPause)
		return &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, RetryAfter: ipBlockPause,
			Message: "Kommo refuses requests from this IP address (rate-limit block)",
			Err:     fmt.Errorf("%s: 403: %s", req.route, problemOf(resp.body).summary())}
	case s == http.StatusPaymentRequired:
		return &callbridge.Error{Code: callbridge.EFORBIDDEN, Kind: callbridge.KindTransient, RetryAfter: paymentPause,
			Message: "the Kommo account's subscription has ended (402 Payment Required)",
			Err:     fmt.Errorf("%s: 402", req.route)}
	case s == http.StatusNotFound:
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Kind: callbridge.KindPermanent,
			Message: "Kommo: " + problemOf(resp.body).message("not found"),
			Err:     fmt.Errorf("%s: 404", req.route)}
	case s == http.StatusUnauthorized:
		return &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Kind: callbridge.KindPermanent,
			Message: "Kommo: " + problemOf(resp.body).message("unauthorized"),
			Err:     fmt.Errorf("%s: 401", req.route)}
	case s >= 500:
		err := fmt.Errorf("%s: %d: %s", req.route, s, problemOf(resp.body).summary())
		if req.write() {
			return callbridge.Uncertain(err, "Kommo failed (%d) after receiving %s", s, req.route)
		}
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "Kommo failed (%d)", s)
	case s == http.StatusConflict:
		return &callbridge.Error{Code: callbridge.ECONFLICT, Kind: callbridge.KindPermanent,
			Message: "Kommo: " + problemOf(resp.body).message("conflict"), Err: fmt.Errorf("%s: 409", req.route)}
	default: // 400, 422 and the other 4xx
		return &callbridge.Error{Code: callbridge.EINVALID, Kind: callbridge.KindPermanent,
			Message: "Kommo: " + problemOf(resp.body).message(http.StatusText(s)),
			Err:     fmt.Errorf("%s: %d", req.route, s)}
	}
}

// retryAfter reads how long Kommo asked us to wait: the JSON body's
// retry_after (seconds), else the Retry-After header (seconds or an HTTP
// date), else 60 s. The result is between 1 s and 1 h.
func retryAfter(resp *response) time.Duration {
	d := time.Duration(0)
	var p problem
	if json.Unmarshal(resp.body, &p) == nil && p.RetryAfter > 0 {
		d = time.Duration(p.RetryAfter) * time.Second
	} else if h := strings.TrimSpace(resp.header.Get("Retry-After")); h != "" {
		if n, err := strconv.ParseInt(h, 10, 64); err == nil && n > 0 && n < 1<<20 {
			d = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(h); err == nil {
			d = time.Until(t)
		}
	}
	if d <= 0 {
		d = defaultRetryAfter
	}
	return min(max(d, time.Second), time.Hour)
}

// problem is Kommo's error body (application/problem+json), with the extra
// members some endpoints add.
type problem struct {
	Title            string       `json:"title"`
	Type             string       `json:"type"`
	Status           flexInt      `json:"status"`
	Detail           string       `json:"detail"`
	Hint             string       `json:"hint"`
	RetryAfter       flexInt      `json:"retry_after"`
	ValidationErrors []validation `json:"validation-errors"`
	Errors           []itemError  `json:"errors"`
}

// validation is one entry of a 400's validation-errors.
type validation struct {
	RequestID flexString `json:"request_id"`
	Errors    []struct {
		Code   string `json:"code"`
		Path   string `json:"path"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func (v validation) message() string {
	var parts []string
	for _, e := range v.Errors {
		switch {
		case e.Path != "" && e.Detail != "":
			parts = append(parts, e.Path+": "+e.Detail)
		case e.Detail != "":
			parts = append(parts, e.Detail)
		case e.Code != "":
			parts = append(parts, e.Code)
		}
	}
	return strings.Join(parts, "; ")
}

// itemError is one entry of the errors array of a batch answer.
type itemError struct {
	RequestID flexString `json:"request_id"`
	Title     string     `json:"title"`
	Detail    string     `json:"detail"`
	Status    flexInt    `json:"status"`
}

func problemOf(body []byte) problem {
	var p problem
	_ = json.Unmarshal(body, &p)
	return p
}

// message is a short client-safe description of the problem.
func (p problem) message(fallback string) string {
	msg := p.Detail
	if msg == "" {
		msg = p.Title
	}
	if p.Hint != "" {
		if msg != "" {
			msg += ": "
		}
		msg += p.Hint
	}
	var vs []string
	for _, v := range p.ValidationErrors {
		if m := v.message(); m != "" {
			vs = append(vs, m)
		}
	}
	if len(vs) > 0 {
		msg += " (" + strings.Join(vs, "; ") + ")"
	}
	if msg == "" {
		msg = fallback
	}
	return truncate(msg, 300)
}

// summary is the problem for logs.
func (p problem) summary() string { return p.message("no details") }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func isJSON(body []byte) bool {
	body = bytes.TrimSpace(body)
	return len(body) > 0 && (body[0] == '{' || body[0] == '[') && json.Valid(body)
}

// decode unmarshals a successful response body into out; an empty body (204)
// leaves out unchanged. A body that cannot be read is, for a write, an
// uncertain outcome: Kommo applied something we cannot see.
func decode(req *request, resp *response, out any) error {
	if resp.status == http.StatusNoContent || len(bytes.TrimSpace(resp.body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(resp.body, out); err != nil {
		if req.write() {
			return callbridge.Uncertain(err, "kommo: %s: unreadable answer", req.route)
		}
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: %s: unreadable answer", req.route)
	}
	return nil
}

// flexInt decodes a JSON number, a numeric string, null or false as an int64
// (Kommo is not consistent).
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	switch s {
	case "null", "false", `""`:
		*n = 0
		return nil
	case "true":
		*n = 1
		return nil
	}
	s = strings.Trim(s, `"`)
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		*n = flexInt(i)
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f > 1<<62 || f < -(1<<62) {
		return fmt.Errorf("kommo: not an integer: %.40q", s)
	}
	*n = flexInt(int64(f))
	return nil
}

// flexString decodes a JSON string or number as a string.
type flexString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	if string(b) == "null" {
		*s = ""
		return nil
	}
	*s = flexString(strings.TrimSpace(string(b)))
	return nil
}

// unixTime converts Kommo's unix seconds; 0 is the zero time.
func unixTime(n flexInt) time.Time {
	if n <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(n), 0).UTC()
}

// unix converts t to unix seconds for a request; the zero time is omitted (0).
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}
