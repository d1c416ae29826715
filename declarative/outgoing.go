package declarative

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// placeCall runs the definition's outgoing_call.
//
// Placeholders: @to_number and @customer are req.Customer; @from_number,
// @extension and @agent are req.Agent; each section's name (@status_callback,
// @answer_callback, …) is its callback URL under req.StatusURL carrying the
// click-to-call parameters (cb_to, cb_from, cb_ext), which the provider's
// webhooks bring back as @to_number, @from_number and @extension.
//
// Errors: 401 and 403 are EUNAUTHORIZED; 429 is ERATELIMIT (transient); other
// 4xx, or an error the response maps, are EINVALID; 5xx, a dropped connection
// or a timeout are KindUncertain (the call may have been placed).
func (e *engine) placeCall(ctx context.Context, conn *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	d := e.def
	if strings.TrimSpace(req.Customer) == "" || strings.TrimSpace(req.Agent) == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "A call needs the manager's number and the customer's number.")
	}
	if err := d.requireConfig(conn); err != nil {
		return nil, err
	}
	env := d.newEnv(conn)
	env.set("to_number", req.Customer)
	env.set("customer", req.Customer)
	env.set("from_number", req.Agent)
	env.set("extension", req.Agent)
	env.set("agent", req.Agent)
	env.set("webhook_url", strings.TrimRight(req.StatusURL, "/"))
	env.vars["now"] = value{t: e.now(), isTime: true}
	cb := url.Values{}
	cb.Set(paramTo, req.Customer)
	cb.Set(paramFrom, req.Agent)
	cb.Set(paramExt, req.Agent)
	base, _ := splitWebhookURL(req.StatusURL, "")
	d.setSectionURLs(env, strings.TrimRight(base, "/"), cb)
	hreq, err := e.build(ctx, d.outgoing, env, "")
	if err != nil {
		return nil, err
	}
	resp, err := e.client.Do(hreq)
	if err != nil {
		return nil, callbridge.Uncertain(err, "The call request to %s got no answer; the call may have been placed.", d.Name)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, callbridge.Uncertain(err, "The answer of %s to the call request was cut off; the call may have been placed.", d.Name)
	}
	if resp.StatusCode >= 500 {
		return nil, callbridge.Uncertain(fmt.Errorf("HTTP %d", resp.StatusCode), "%s answered the call request with HTTP %d; the call may have been placed.", d.Name, resp.StatusCode)
	}
	if err := statusError(d.Name, resp, true); err != nil {
		if msg := e.responseError(d.outgoing, resp, body, env); msg != "" {
			err.Message += " " + msg
		}
		return nil, err
	}
	fields := e.responseFields(d.outgoing, resp, body, env)
	if msg := fields["error"]; msg != "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "%s refused the call: %s", d.Name, clipMessage(msg))
	}
	id := fields["call_id"]
	if id == "" || checkID(id) != nil {
		return nil, callbridge.Uncertain(errors.New("no call id in the response"), "%s accepted the call request but returned no call id.", d.Name)
	}
	return &callbridge.PlacedCall{ProviderCallID: id}, nil
}

// checkCredentials runs check_credentials: a 2xx answer (with no mapped
// error) means the credentials work.
func (e *engine) checkCredentials(ctx context.Context, conn *callbridge.Connection) error {
	d := e.def
	if err := d.requireConfig(conn); err != nil {
		return err
	}
	env := d.newEnv(conn)
	env.vars["now"] = value{t: e.now(), isTime: true}
	hreq, err := e.build(ctx, d.check, env, "")
	if err != nil {
		return err
	}
	resp, err := e.client.Do(hreq)
	if err != nil {
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "%s did not answer the credential check.", d.Name)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err := statusError(d.Name, resp, false); err != nil {
		return err
	}
	if msg := e.responseError(d.check, resp, body, env); msg != "" {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "%s refused the credentials: %s", d.Name, clipMessage(msg))
	}
	return nil
}

// listCallHistory pages through call_history between since and until.
//
// Placeholders: @since and @until (times; format them with the time filter,
// e.g. {@since|time:datetime}, rendered in the connection's time zone),
// @page (1-based), @offset and @page_size. The next page is the URL at the
// response's next path (resolved against the request, and only on the same
// origin); without one, a page as long as page_size is followed by the next
// @page/@offset, when the request uses them. At most max_pages pages are read.
func (e *engine) listCallHistory(ctx context.Context, conn *callbridge.Connection, since, until time.Time) ([]callbridge.CallEvent, error) {
	d := e.def
	h := d.history
	if err := d.requireConfig(conn); err != nil {
		return nil, err
	}
	env := d.newEnv(conn)
	env.vars["since"] = value{t: since, isTime: true}
	env.vars["until"] = value{t: until, isTime: true}
	env.vars["now"] = value{t: e.now(), isTime: true}
	env.set("page_size", strconv.Itoa(h.pageSize))
	paged := false
	for _, p := range h.req.params {
		paged = paged || p.val.uses(refVar, "page") || p.val.uses(refVar, "offset")
	}
	paged = paged || h.req.url.uses(refVar, "page") || h.req.url.uses(refVar, "offset")

	var out []callbridge.CallEvent
	next := ""
	var origin *url.URL
	for page := 1; page <= h.maxPages; page++ {
		env.set("page", strconv.Itoa(page))
		env.set("offset", strconv.Itoa((page-1)*h.pageSize))
		hreq, err := e.build(ctx, &h.req, env, next)
		if err != nil {
			return nil, err
		}
		if origin == nil {
			origin = hreq.URL
		} else if hreq.URL.Scheme != origin.Scheme || hreq.URL.Host != origin.Host {
			return nil, callbridge.Errorf(callbridge.EINVALID, "%s pointed the next page to another host.", d.Name)
		}
		resp, err := e.client.Do(hreq)
		if err != nil {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "%s did not answer the call history request.", d.Name)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		resp.Body.Close()
		if err != nil {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "The call history of %s was cut off.", d.Name)
		}
		if err := statusError(d.Name, resp, false); err != nil {
			return nil, err
		}
		doc, err := newDocument(hreq.URL.String(), resp.Header, body, formatJSON)
		if err != nil {
			return nil, callbridge.Errorf(callbridge.EINVALID, "The call history of %s is not JSON.", d.Name)
		}
		listV, _ := doc.lookup(h.list)
		var items []any
		switch v := doc.expand(listV).(type) {
		case []any:
			items = v
		case map[string]any:
			items = []any{v}
		}
		for _, it := range items {
			ienv := *env
			ienv.vars = cloneVars(env.vars)
			ienv.doc = itemDocument(it)
			r := h.item.evaluate(&ienv)
			payload, _ := json.Marshal(it)
			evs, err := h.item.build(r, &ienv, callbridge.CallEvent{Payload: d.redactPayload(payload, http.Header{"Content-Type": {"application/json"}}, env)}, "history")
			if err != nil {
				continue // one unreadable item does not hide the others
			}
			out = append(out, evs...)
		}
		next = ""
		if !h.next.empty() {
			if s, _ := doc.lookupString(h.next); s != "" {
				ref, err := url.Parse(s)
				if err != nil {
					break
				}
				next = hreq.URL.ResolveReference(ref).String()
				continue
			}
			break
		}
		if !paged || len(items) < h.pageSize {
			break
		}
	}
	return out, nil
}

func cloneVars(m map[string]value) map[string]value {
	out := make(map[string]value, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// build renders a request. When next is set it is the URL to fetch (a
// provider's next-page link) and the parameters are not added again.
func (e *engine) build(ctx context.Context, r *requestDef, env *env, next string) (*http.Request, error) {
	raw := next
	if raw == "" {
		raw = strings.TrimSpace(r.url.render(env, escURL))
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The %s request URL %q is not an http(s) URL; check the connection's settings.", e.def.Name, clipMessage(redactURL(raw)))
	}
	method := r.method
	var body io.Reader
	contentType := ""
	if next == "" && len(r.params) > 0 {
		switch {
		case r.format == "query" || method == http.MethodGet:
			q := u.Query()
			for _, p := range r.params {
				q.Add(p.name, p.val.render(env, escNone))
			}
			u.RawQuery = q.Encode()
		case r.format == formatJSON:
			obj := map[string]string{}
			for _, p := range r.params {
				obj[p.name] = p.val.render(env, escNone)
			}
			b, _ := json.Marshal(obj)
			body, contentType = bytes.NewReader(b), "application/json"
		default:
			f := url.Values{}
			for _, p := range r.params {
				f.Add(p.name, p.val.render(env, escNone))
			}
			body, contentType = strings.NewReader(f.Encode()), "application/x-www-form-urlencoded"
		}
	}
	if next != "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the provider request.", Err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "callbridge/"+callbridge.Version)
	for _, h := range r.headers {
		v := h.val.render(env, escNone)
		if strings.ContainsAny(v, "\r\n") {
			return nil, callbridge.Errorf(callbridge.EINVALID, "Header %s holds a line break.", h.name)
		}
		req.Header.Set(h.name, v)
	}
	if err := e.def.provider.auth.apply(req, env); err != nil {
		return nil, err
	}
	return req, nil
}

// statusError maps a provider's HTTP status to an error (nil for 2xx/3xx).
func statusError(name string, resp *http.Response, placing bool) *callbridge.Error {
	switch code := resp.StatusCode; {
	case code < 400:
		return nil
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "%s refused the connection's credentials (HTTP %d).", name, code)
	case code == http.StatusTooManyRequests:
		return callbridge.Transient(callbridge.ERATELIMIT, retryAfter(resp.Header.Get("Retry-After")), fmt.Errorf("HTTP 429"), "%s is rate limiting requests.", name)
	case code >= 500:
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, fmt.Errorf("HTTP %d", code), "%s is unavailable (HTTP %d).", name, code)
	default:
		what := "request"
		if placing {
			what = "call request"
		}
		return callbridge.Errorf(callbridge.EINVALID, "%s refused the %s (HTTP %d).", name, what, code)
	}
}

func retryAfter(s string) time.Duration {
	if n, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && n > 0 && n < 3600 {
		return time.Duration(n) * time.Second
	}
	return 0
}

// responseFields evaluates a request's response maps.
func (e *engine) responseFields(r *requestDef, resp *http.Response, body []byte, env *env) map[string]string {
	if r.resp == nil {
		return map[string]string{}
	}
	doc, err := newDocument(resp.Request.URL.String(), resp.Header, body, "")
	if err != nil {
		doc = itemDocument(map[string]any{"body": string(body)})
	}
	renv := *env
	renv.vars = cloneVars(env.vars)
	renv.doc = doc
	return r.resp.evaluate(&renv).fields
}

// responseError returns the error a response maps, if any.
func (e *engine) responseError(r *requestDef, resp *http.Response, body []byte, env *env) string {
	return e.responseFields(r, resp, body, env)["error"]
}

// requireConfig refuses a connection that lacks a required field.
func (d *Definition) requireConfig(conn *callbridge.Connection) error {
	var creds map[string]string
	if conn != nil {
		creds = conn.Credentials
	}
	cfg := d.config(creds)
	var missing []string
	for _, f := range d.Fields {
		if f.Required && strings.TrimSpace(cfg[f.Name]) == "" {
			missing = append(missing, f.Label)
		}
	}
	if len(missing) > 0 {
		return callbridge.Errorf(callbridge.EINVALID, "The %s connection needs: %s.", d.Name, strings.Join(missing, ", "))
	}
	return nil
}

// ValidateConfig checks a connection's configuration values against the
// definition: required fields present, url fields http(s) URLs. It returns
// EINVALID naming the fields (never their values).
func (d *Definition) ValidateConfig(creds map[string]string) error {
	if err := d.requireConfig(&callbridge.Connection{Credentials: creds}); err != nil {
		return err
	}
	cfg := d.config(creds)
	for _, f := range d.Fields {
		v := strings.TrimSpace(cfg[f.Name])
		if f.Type != "url" || v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return callbridge.Errorf(callbridge.EINVALID, "%s is not an http(s) URL.", f.Label)
		}
	}
	return nil
}

func clipMessage(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// redactURL hides query values and user info in a URL shown in an error.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
