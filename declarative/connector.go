package declarative

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	pathpkg "path"
	"strings"
	"time"

	"callbridge"
)

// Query parameters callbridge adds to the callback URLs it gives a provider
// when it places a call, and reads back from the provider's webhooks: the
// number to dial, the manager's side, and the extension.
const (
	paramTo   = "cb_to"
	paramFrom = "cb_from"
	paramExt  = "cb_ext"
)

// engine is the connector built from a definition.
type engine struct {
	def    *Definition
	client *http.Client
	hosts  []hostDef
	now    func() time.Time
}

// Connector returns a callbridge.Connector for the definition. Its dynamic
// type implements callbridge.CallPlacer when the definition has an
// outgoing_call, callbridge.HistoryLister when it has a call_history, and
// callbridge.CredentialChecker when it has a check_credentials; callers
// discover them with type assertions.
func (d *Definition) Connector(opts Options) callbridge.Connector {
	e := &engine{def: d, client: opts.HTTPClient, now: opts.Now}
	if e.client == nil {
		e.client = &http.Client{Timeout: 15 * time.Second}
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.hosts = append(e.hosts, d.provider.hosts...)
	for _, h := range opts.RecordingHosts {
		if hd, ok := parseHost(strings.TrimSpace(h)); ok {
			e.hosts = append(e.hosts, hd)
		}
	}
	place, hist, check := d.outgoing != nil, d.history != nil, d.check != nil
	switch {
	case place && hist && check:
		return struct {
			*engine
			placer
			lister
			checker
		}{e, placer{e}, lister{e}, checker{e}}
	case place && hist:
		return struct {
			*engine
			placer
			lister
		}{e, placer{e}, lister{e}}
	case place && check:
		return struct {
			*engine
			placer
			checker
		}{e, placer{e}, checker{e}}
	case hist && check:
		return struct {
			*engine
			lister
			checker
		}{e, lister{e}, checker{e}}
	case place:
		return struct {
			*engine
			placer
		}{e, placer{e}}
	case hist:
		return struct {
			*engine
			lister
		}{e, lister{e}}
	case check:
		return struct {
			*engine
			checker
		}{e, checker{e}}
	}
	return e
}

// The optional capabilities, embedded by Connector as needed.
type (
	placer  struct{ e *engine }
	lister  struct{ e *engine }
	checker struct{ e *engine }
)

// PlaceCall implements callbridge.CallPlacer.
func (p placer) PlaceCall(ctx context.Context, conn *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	return p.e.placeCall(ctx, conn, req)
}

// ListCallHistory implements callbridge.HistoryLister.
func (l lister) ListCallHistory(ctx context.Context, conn *callbridge.Connection, since, until time.Time) ([]callbridge.CallEvent, error) {
	return l.e.listCallHistory(ctx, conn, since, until)
}

// CheckCredentials implements callbridge.CredentialChecker.
func (c checker) CheckCredentials(ctx context.Context, conn *callbridge.Connection) error {
	return c.e.checkCredentials(ctx, conn)
}

var _ callbridge.Connector = (*engine)(nil)

// Name returns the definition's name, the value of Connection.Provider.
func (e *engine) Name() string { return e.def.Name }

// Definition returns the definition the connector runs.
func (e *engine) Definition() *Definition { return e.def }

// newEnv returns the evaluation environment of a connection.
func (d *Definition) newEnv(conn *callbridge.Connection) *env {
	var creds map[string]string
	tz := d.timezone
	if conn != nil {
		creds = conn.Credentials
		if conn.TimeZone != "" {
			tz = conn.TimeZone
		}
	}
	cfg := d.config(creds)
	country := d.country
	if c := strings.ToUpper(strings.TrimSpace(cfg["country"])); len(c) == 2 {
		country = c
	}
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	vars := map[string]value{"agents": {isList: true}}
	return &env{config: cfg, vars: vars, country: country, loc: loc}
}

// ParseWebhook authenticates a webhook and maps it to events.
//
// The section that handles it is chosen by the URL suffix after the
// connection's token (/webhooks/{token}/status → the section whose path is
// "status"), then by the section's method and when condition; on the bare URL
// every section is a candidate, in document order. Authentication follows the
// definition's webhook_auth schemes (EUNAUTHORIZED when they fail). A body that
// cannot be decoded, or a payload without the call id the section maps,
// returns EINVALID. A payload whose status the mapping does not track is
// acknowledged with no events.
//
// Events carry the connection's redacted payload: configured redact paths and
// every password field's value are replaced by "[redacted]". The reply is the
// section's first send_response whose when condition holds; for an
// incoming_call section its placeholders include the routing answer of
// req.Route (@agents, @to_number, @fallback, @voicemail).
func (e *engine) ParseWebhook(ctx context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	if conn == nil || req == nil {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Missing webhook request.")
	}
	return e.def.handle(ctx, conn, req, false)
}

// handle runs one webhook through the definition; replay skips
// authentication and the path.
func (d *Definition) handle(ctx context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest, replay bool) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	env := d.newEnv(conn)
	base, suffix := splitWebhookURL(req.URL, conn.Token)
	doc, err := newDocument(req.URL, req.Header, req.Body, "")
	if err != nil {
		if !replay {
			// Authenticate what can be authenticated before saying more.
			if aerr := d.authenticate(env, req); aerr != nil {
				return nil, nil, aerr
			}
		}
		return nil, nil, err
	}
	env.doc = doc
	env.set("webhook_url", base)
	// The click-to-call parameters callbridge put in the callback URLs.
	for name, param := range map[string]string{"to_number": paramTo, "from_number": paramFrom, "extension": paramExt} {
		if v := doc.query.Get(param); v != "" {
			env.set(name, v)
		}
	}
	env.set("agent", doc.query.Get(paramFrom))
	d.setSectionURLs(env, base, callbackParams(doc.query))
	if !replay {
		if err := d.authenticate(env, req); err != nil {
			return nil, nil, err
		}
	}
	candidates := d.candidates(env, req.Method, suffix, replay)
	if len(candidates) == 0 {
		if replay {
			return nil, nil, callbridge.Errorf(callbridge.EINVALID, "No callback section of %s handles this payload.", d.Name)
		}
		return nil, nil, callbridge.Errorf(callbridge.ENOTFOUND, "No callback section of %s handles %s /%s.", d.Name, req.Method, suffix)
	}
	// A webhook goes to the first candidate. A replay, which does not know
	// where the payload was sent, takes the first candidate that records an
	// event.
	var (
		sec    *section
		r      *result
		events []callbridge.CallEvent
	)
	payload := d.redactPayload(req.Body, req.Header, env)
	for i, s := range candidates {
		if s.format != "" && s.format != formatAuto {
			if doc, err = newDocument(req.URL, req.Header, req.Body, s.format); err != nil {
				if i < len(candidates)-1 {
					continue
				}
				return nil, nil, err
			}
			env.doc = doc
		}
		r = s.mapping.evaluate(env)
		evs, err := s.mapping.build(r, env, callbridge.CallEvent{ReceivedAt: req.ReceivedAt, Payload: payload}, "status")
		if err != nil {
			if replay && i < len(candidates)-1 {
				continue
			}
			return nil, nil, err
		}
		sec, events = s, evs
		if !replay || len(evs) > 0 {
			break
		}
	}
	if sec == nil {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "No callback section of %s handles this payload.", d.Name)
	}
	env.set("customer", r.fields["customer"])
	env.set("line", r.fields["line"])
	if sec.kind == kindIncoming {
		env.set("from_number", r.fields["customer"])
		d.route(ctx, env, req, r, events)
	}
	return events, sec.reply(env), nil
}

// route asks the router where an incoming call rings and sets the routing
// placeholders.
func (d *Definition) route(ctx context.Context, env *env, req *callbridge.WebhookRequest, r *result, events []callbridge.CallEvent) {
	var target callbridge.RouteTarget
	if req.Route != nil {
		rr := callbridge.RouteRequest{Customer: r.fields["customer"], Line: r.fields["line"]}
		if len(events) > 0 {
			rr.ProviderCallID = events[0].ProviderCallID
		} else {
			rr.ProviderCallID = r.fields["call_id"]
		}
		target = req.Route(ctx, rr)
	}
	agents := make([]string, 0, len(target.Agents))
	for _, a := range target.Agents {
		if a = strings.TrimSpace(a); a != "" {
			agents = append(agents, a)
		}
	}
	env.vars["agents"] = value{list: agents, isList: true}
	env.set("fallback", strings.TrimSpace(target.Fallback))
	if target.Voicemail {
		env.set("voicemail", "true")
	}
	to := target.Fallback
	if len(agents) > 0 {
		to = agents[0]
	}
	env.set("to_number", to)
	env.set("extension", to)
	env.set("agent", to)
}

// candidates returns the sections that may handle a webhook, in order: the
// sections whose path is the URL suffix and whose method and condition
// accept it (only the first is used); on the bare URL, or for a replay, every
// section that accepts it, those with an empty path first.
func (d *Definition) candidates(env *env, method, suffix string, anyPath bool) []*section {
	match := func(s *section) bool {
		if s.method != "" && s.method != "ANY" && method != "" && s.method != method {
			return false
		}
		return s.when.holds(env)
	}
	var out []*section
	if !anyPath {
		for _, s := range d.sections {
			if s.path == suffix && match(s) {
				return []*section{s}
			}
		}
		if suffix != "" {
			return nil
		}
	}
	for _, s := range d.sections {
		if match(s) {
			out = append(out, s)
		}
	}
	return out
}

// setSectionURLs sets each section's URL placeholder.
func (d *Definition) setSectionURLs(env *env, base string, cb url.Values) {
	for _, s := range d.sections {
		env.set(s.name, s.url(base, cb))
	}
	if _, ok := env.vars["answer_status_callback"]; !ok {
		env.set("answer_status_callback", env.str("status_callback"))
	}
}

// url returns the section's callback URL: the connection's webhook URL, the
// section's path, and the click-to-call parameters.
func (s *section) url(base string, cb url.Values) string {
	u := base
	if s.path != "" {
		u += "/" + s.path
	}
	if len(cb) > 0 {
		u += "?" + cb.Encode()
	}
	return u
}

// callbackParams returns the click-to-call parameters of a query.
func callbackParams(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range []string{paramTo, paramFrom, paramExt} {
		if v := q.Get(k); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

// reply renders the first send_response whose condition holds; without one
// the reply is an empty 200.
func (s *section) reply(env *env) *callbridge.WebhookReply {
	for _, r := range s.replies {
		if !r.when.holds(env) {
			continue
		}
		return &callbridge.WebhookReply{
			Status:      r.status,
			ContentType: r.contentType,
			Body:        []byte(r.body.render(env, escapeFor(r.contentType))),
		}
	}
	return &callbridge.WebhookReply{Status: http.StatusOK}
}

// splitWebhookURL returns the connection's webhook URL (up to and including
// the token segment, without query) and the path after it. Without the token
// in the path the whole path is the base and the suffix is empty.
func splitWebhookURL(raw, token string) (base, suffix string) {
	u, err := url.Parse(raw)
	if err != nil {
		return raw, ""
	}
	u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
	if token == "" {
		return u.String(), ""
	}
	segs := strings.Split(u.EscapedPath(), "/")
	for i, seg := range segs {
		if seg == token || seg == url.PathEscape(token) {
			suffix = strings.Trim(strings.Join(segs[i+1:], "/"), "/")
			u.RawPath = ""
			p, _ := url.PathUnescape(strings.Join(segs[:i+1], "/"))
			u.Path = p
			if s, err := url.PathUnescape(suffix); err == nil {
				suffix = s
			}
			return u.String(), suffix
		}
	}
	return u.String(), ""
}

// RecordingRequest returns an authenticated GET for a recording URL from one
// of this connector's events. The URL must be http(s) on one of the
// definition's recording hosts (or Options.RecordingHosts): exact host[:port]
// match, https unless the host is listed as "http://…", under the host's path
// prefix if it has one, with no user info, fragment, encoded slashes or dot
// segments. The provider's authentication is added unless the host says
// auth="none". Anything else returns EFORBIDDEN.
func (e *engine) RecordingRequest(ctx context.Context, conn *callbridge.Connection, recordingURL string) (*http.Request, error) {
	forbidden := callbridge.Errorf(callbridge.EFORBIDDEN, "The recording URL is not on one of %s's recording hosts.", e.def.Name)
	u, err := url.Parse(strings.TrimSpace(recordingURL))
	if err != nil || u.Opaque != "" || u.User != nil || u.Fragment != "" || u.RawFragment != "" || u.RawPath != "" || u.Host == "" {
		return nil, forbidden
	}
	p := u.Path
	if p == "" || strings.Contains(p, "\\") || (pathpkg.Clean(p) != p && pathpkg.Clean(p)+"/" != p) {
		return nil, forbidden
	}
	host := strings.ToLower(u.Host)
	var match *hostDef
	for i := range e.hosts {
		h := &e.hosts[i]
		if h.scheme == u.Scheme && h.host == host && (h.prefix == "" || strings.HasPrefix(p, h.prefix)) {
			match = h
			break
		}
	}
	if match == nil {
		return nil, forbidden
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the recording request.", Err: err}
	}
	if match.auth {
		if err := e.def.provider.auth.apply(req, e.def.newEnv(conn)); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// redactPayload returns the body to keep on events: redact paths and secret
// values replaced by "[redacted]", cut to 16 KiB.
func (d *Definition) redactPayload(body []byte, header http.Header, env *env) []byte {
	out := bytes.Clone(body)
	if len(d.redact) > 0 {
		out = redactPaths(out, header, d.redact)
	}
	for _, s := range d.secrets(env.config) {
		for _, form := range []string{s, url.QueryEscape(s), escape(escJSON, s)} {
			out = bytes.ReplaceAll(out, []byte(form), []byte(redacted))
		}
	}
	if len(out) > maxPayloadBytes {
		out = out[:maxPayloadBytes]
	}
	return out
}
