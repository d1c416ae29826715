package declarative

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Section kinds.
const (
	kindStatus = iota
	kindAnswer
	kindIncoming
	kindRecording
)

// section is one callback section: which webhooks it handles (path, method,
// when), how they map to events, and what to answer.
type section struct {
	kind    int
	name    string
	path    string
	method  string
	format  string
	when    conds
	mapping *mapping
	replies []*reply
	line    int
}

// reply is one <send_response>.
type reply struct {
	contentType string
	status      int
	when        conds
	body        *tmpl
}

// providerDef is <provider>: the API base URL, its authentication and the
// hosts recordings may come from.
type providerDef struct {
	url   *tmpl
	auth  *authDef
	hosts []hostDef
}

// authDef is how callbridge authenticates to the provider.
type authDef struct {
	typ                            string // none, basic, bearer, header, query
	username, password, token, val *tmpl
	name                           string
	line                           int
}

// hostDef is one host recordings may be fetched from.
type hostDef struct {
	scheme string // https or http
	host   string // lowercased host[:port]
	prefix string // path prefix, or ""
	auth   bool   // send the provider's authentication
}

// requestDef is a provider API request: outgoing_call, check_credentials or
// call_history.
type requestDef struct {
	method  string
	url     *tmpl
	format  string // form, json or query
	headers []namedTmpl
	params  []namedTmpl
	resp    *mapping // outgoing_call and check_credentials: call_id, error
	line    int
}

type namedTmpl struct {
	name string
	val  *tmpl
}

// historyDef is <call_history>.
type historyDef struct {
	req      requestDef
	list     path
	next     path
	pageSize int
	maxPages int
	item     *mapping
}

// parser builds a Definition from a node tree.
type parser struct {
	def   *Definition
	probs []Problem
	c     *compiler
}

func (p *parser) fail(line int, format string, args ...any) {
	p.probs = append(p.probs, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warn(line int, format string, args ...any) {
	p.def.Warnings = append(p.def.Warnings, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// Parse reads and validates one definition. name identifies the source in
// messages (a file name); it is also the provider name when the connector
// element has no name attribute. Every problem found is reported with its
// line: the error is a *callbridge.Error with code EINVALID wrapping a
// *ParseError. Problems that do not stop the definition from working (unknown
// elements or attributes, kept for compatibility with Vtiger's files) are
// returned as Definition.Warnings instead.
func Parse(r io.Reader, name string) (*Definition, error) {
	root, probs := readTree(r)
	if probs != nil {
		return nil, parseError(name, probs)
	}
	p := &parser{def: &Definition{Source: name}}
	p.c = &compiler{probs: &p.probs}
	p.connector(root)
	if len(p.probs) > 0 {
		return nil, parseError(name, p.probs)
	}
	return p.def, nil
}

func parseError(source string, probs []Problem) error {
	pe := &ParseError{Source: source, Problems: probs}
	return &callbridge.Error{Code: callbridge.EINVALID, Message: pe.Error(), Err: pe}
}

func (p *parser) connector(root *node) {
	d := p.def
	if root.name != "connector" {
		p.fail(root.line, "the root element is <%s>; a definition is a <connector>", root.name)
		return
	}
	d.Type = root.get("type")
	if d.Type != "" && !strings.EqualFold(d.Type, "PhoneCalls") {
		p.fail(root.line, "connector type %q: only PhoneCalls connectors are supported", d.Type)
	}
	d.Name = strings.TrimSpace(root.get("name"))
	if d.Name == "" {
		base := filepath.Base(d.Source)
		d.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	d.Name = strings.ToLower(d.Name)
	if !validName(d.Name) {
		p.fail(root.line, "connector name %q: use letters, digits, - and _ (at most 64)", d.Name)
	}
	root.attr("version")
	d.country = strings.ToUpper(strings.TrimSpace(root.get("country")))
	if d.country == "" {
		d.country = "US"
	} else if len(d.country) != 2 {
		p.fail(root.line, "country %q is not an ISO 3166 alpha-2 code", d.country)
	}
	if tz := strings.TrimSpace(root.get("timezone")); tz != "" {
		if _, err := time.LoadLocation(tz); err != nil {
			p.fail(root.line, "timezone %q is not an IANA time zone", tz)
		}
		d.timezone = tz
	}
	if n := root.kid("description"); n != nil {
		d.Description = strings.TrimSpace(n.text.String())
	}

	p.fields(root)
	p.c.fields = map[string]bool{}
	for _, f := range d.Fields {
		p.c.fields[f.Name] = true
	}
	// Section names are URL placeholders (@status_callback); collect them
	// before compiling any template.
	p.c.sections = map[string]bool{}
	// Sections in document order: <callbacks> children and top-level
	// <incoming_call> elements interleave as they appear.
	callbacks := root.kids("callbacks")
	var sectionNodes []*node
	isSection := func(name string) bool {
		switch name {
		case "answer_callback", "status_callback", "recording_callback", "incoming_call":
			return true
		}
		return false
	}
	for _, c := range root.children {
		switch {
		case c.name == "callbacks":
			for _, cc := range c.children {
				if isSection(cc.name) {
					cc.used = true
					sectionNodes = append(sectionNodes, cc)
				}
			}
		case c.name == "incoming_call":
			c.used = true
			sectionNodes = append(sectionNodes, c)
		}
	}
	for _, n := range sectionNodes {
		name := n.get("name")
		if name == "" {
			name = n.name
		}
		switch {
		case !validName(name):
			p.fail(n.line, "section name %q: use letters, digits, - and _", name)
		case placeholders[name]:
			p.fail(n.line, "section name %q is already the placeholder @%s; choose another", name, name)
		}
		p.c.sections[name] = true
	}

	p.provider(root)
	for _, cb := range callbacks {
		for _, n := range cb.kids("webhook_auth") {
			p.webhookAuth(n)
		}
	}
	for _, n := range root.kids("webhook_auth") {
		p.webhookAuth(n)
	}
	for _, n := range root.kids("redact") {
		v, line, _ := n.value("path")
		cp, err := compilePath(v)
		if err != nil {
			p.fail(line, "<redact>: %v", err)
			continue
		}
		d.redact = append(d.redact, cp)
	}
	if n := root.kid("outgoing_call"); n != nil {
		d.outgoing = p.request(n, true)
	}
	if n := root.kid("check_credentials"); n != nil {
		d.check = p.request(n, false)
	}
	if n := root.kid("call_history"); n != nil {
		p.history(n)
	}
	names := map[string]int{}
	for _, n := range sectionNodes {
		s := p.section(n)
		if s == nil {
			continue
		}
		if prev, dup := names[s.name]; dup {
			p.fail(n.line, "two callback sections are named %q (the other is on line %d); give one a name attribute", s.name, prev)
			continue
		}
		names[s.name] = n.line
		d.sections = append(d.sections, s)
	}
	root.unused(p.warn)
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// fields reads <config><fields><field …/></fields></config>.
func (p *parser) fields(root *node) {
	seen := map[string]bool{}
	for _, cfg := range root.kids("config") {
		var fieldNodes []*node
		for _, fs := range cfg.kids("fields") {
			fieldNodes = append(fieldNodes, fs.kids("field")...)
		}
		fieldNodes = append(fieldNodes, cfg.kids("field")...)
		for _, n := range fieldNodes {
			f := Field{
				Name:    strings.TrimSpace(n.get("name")),
				Label:   n.get("label"),
				Type:    strings.ToLower(strings.TrimSpace(n.get("type"))),
				Default: n.get("default"),
				Help:    n.get("help"),
			}
			if req, ok := n.attr("required"); ok {
				b, err := strconv.ParseBool(req)
				if err != nil {
					p.fail(n.line, "field %s: required=%q is not true or false", f.Name, req)
				}
				f.Required = b
			}
			switch {
			case f.Name == "":
				p.fail(n.line, "<field> without a name")
				continue
			case !validName(f.Name):
				p.fail(n.line, "field name %q: use letters, digits, - and _", f.Name)
				continue
			case seen[f.Name]:
				p.fail(n.line, "field %s is declared twice", f.Name)
				continue
			}
			seen[f.Name] = true
			switch f.Type {
			case "text", "password", "url":
			case "":
				f.Type = "text"
			default:
				p.warn(n.line, "field %s: type %q is read as text (types are text, password, url)", f.Name, f.Type)
				f.Type = "text"
			}
			if f.Label == "" {
				f.Label = f.Name
			}
			if f.Type == "url" && f.Default != "" {
				if u, err := url.Parse(f.Default); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
					p.fail(n.line, "field %s: default %q is not an http(s) URL", f.Name, f.Default)
				}
			}
			p.def.Fields = append(p.def.Fields, f)
		}
	}
}

// provider reads <provider url=…><auth/><recordings/></provider>.
func (p *parser) provider(root *node) {
	d := p.def
	n := root.kid("provider")
	var recs []*node
	if n != nil {
		if u, line, ok := n.value("url"); ok && strings.TrimSpace(u) != "" {
			d.provider.url = p.c.compile(strings.TrimSpace(u), line)
		}
		if a := n.kid("auth"); a != nil {
			d.provider.auth = p.auth(a)
		}
		recs = n.kids("recordings", "recording")
	}
	recs = append(recs, root.kids("recordings")...)
	for _, r := range recs {
		for _, h := range r.kids("host") {
			hd, ok := parseHost(strings.TrimSpace(h.text.String()))
			if !ok {
				p.fail(h.line, "recording host %q is not host[:port] or an http(s)://host[:port] origin", strings.TrimSpace(h.text.String()))
				continue
			}
			if pre := h.get("path"); pre != "" {
				if !strings.HasPrefix(pre, "/") {
					p.fail(h.line, "recording host path %q must start with /", pre)
				}
				hd.prefix = pre
			}
			switch a := strings.ToLower(h.get("auth")); a {
			case "", "provider":
				hd.auth = true
			case "none":
				hd.auth = false
			default:
				p.fail(h.line, "recording host auth %q: use provider or none", a)
			}
			d.provider.hosts = append(d.provider.hosts, hd)
		}
	}
}

// parseHost reads "host[:port]" (HTTPS) or "http(s)://host[:port]".
func parseHost(s string) (hostDef, bool) {
	if s == "" {
		return hostDef{}, false
	}
	if !strings.Contains(s, "://") {
		if strings.ContainsAny(s, "/?#@ ") {
			return hostDef{}, false
		}
		return hostDef{scheme: "https", host: strings.ToLower(s), auth: true}, true
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return hostDef{}, false
	}
	return hostDef{scheme: u.Scheme, host: strings.ToLower(u.Host), auth: true}, true
}

// auth reads a provider <auth>.
func (p *parser) auth(n *node) *authDef {
	a := &authDef{typ: strings.ToLower(strings.TrimSpace(n.get("type"))), line: n.line}
	get := func(names ...string) *tmpl {
		for _, name := range names {
			if v, line, ok := n.value(name); ok {
				return p.c.compile(v, line)
			}
		}
		return nil
	}
	// A Vtiger file may name the auth type without its parameters; it loads,
	// with a warning, and sends no credentials.
	incomplete := func(what string) {
		p.warn(n.line, "%s auth without %s: no credentials are sent", a.typ, what)
		a.typ = "none"
	}
	switch a.typ {
	case "", "none":
		a.typ = "none"
	case "basic":
		a.username, a.password = get("username", "user"), get("password")
		if a.username == nil {
			incomplete("a username")
		}
	case "bearer":
		a.token = get("token", "value")
		if a.token == nil {
			incomplete("a token")
		}
	case "header", "query":
		name, _, _ := n.value("name")
		a.name = strings.TrimSpace(name)
		a.val = get("value", "token")
		switch {
		case a.name == "" || a.val == nil:
			incomplete("a name and a value")
		case a.typ == "header" && !validHeaderName(a.name):
			p.fail(n.line, "%q is not a valid header name", a.name)
		}
	default:
		p.fail(n.line, "auth type %q: use none, basic, bearer, header or query", a.typ)
	}
	return a
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}

// request reads outgoing_call, check_credentials or call_history.
func (p *parser) request(n *node, needsCallID bool) *requestDef {
	r := &requestDef{line: n.line}
	r.method = strings.ToUpper(strings.TrimSpace(n.get("method")))
	switch r.method {
	case "":
		r.method = http.MethodPost
		if !needsCallID {
			r.method = http.MethodGet
		}
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch:
	default:
		p.fail(n.line, "<%s> method %q: use GET, POST, PUT or PATCH", n.name, r.method)
	}
	if u, line, ok := n.value("url"); ok && strings.TrimSpace(u) != "" {
		r.url = p.c.compile(strings.TrimSpace(u), line)
	} else if p.def.provider.url != nil {
		r.url = p.def.provider.url
	} else {
		p.fail(n.line, "<%s> needs a url", n.name)
	}
	r.format = strings.ToLower(n.get("format"))
	switch r.format {
	case "":
		r.format = formatForm
		if r.method == http.MethodGet {
			r.format = "query"
		}
	case formatForm, formatJSON, "query":
	default:
		p.fail(n.line, "<%s> format %q: use form, json or query", n.name, r.format)
	}
	for _, hs := range n.kids("headers") {
		for _, h := range hs.kids("header") {
			name := strings.TrimSpace(h.get("name"))
			if !validHeaderName(name) {
				p.fail(h.line, "%q is not a valid header name", name)
				continue
			}
			r.headers = append(r.headers, namedTmpl{name, p.c.compile(strings.TrimSpace(h.text.String()), h.line)})
		}
	}
	for _, ps := range n.kids("parameters") {
		for _, pr := range ps.kids("param", "parameter") {
			name := strings.TrimSpace(pr.get("name"))
			if name == "" {
				p.fail(pr.line, "<param> without a name")
				continue
			}
			v, line, ok := pr.value("value")
			if !ok {
				v, line = strings.TrimSpace(pr.text.String()), pr.line
			}
			r.params = append(r.params, namedTmpl{name, p.c.compile(v, line)})
		}
	}
	if needsCallID || n.name == "check_credentials" {
		if resp := n.kid("response"); resp != nil {
			resp.attr("format")
			r.resp = p.mapping(resp, n.name, false, true)
		}
		if needsCallID && (r.resp == nil || !r.resp.hasCallID()) {
			p.warn(n.line, "<%s> maps no call id from the response (map field=\"call_id\" or \"sourceuuid\")", n.name)
		}
	}
	return r
}

// history reads <call_history>.
func (p *parser) history(n *node) {
	h := &historyDef{pageSize: 50, maxPages: 20}
	h.req = *p.request(n, false)
	if v, ok := n.attr("page_size"); ok {
		if k, err := strconv.Atoi(v); err != nil || k < 1 || k > 1000 {
			p.fail(n.line, "page_size %q is not 1 to 1000", v)
		} else {
			h.pageSize = k
		}
	}
	if v, ok := n.attr("max_pages"); ok {
		if k, err := strconv.Atoi(v); err != nil || k < 1 || k > 1000 {
			p.fail(n.line, "max_pages %q is not 1 to 1000", v)
		} else {
			h.maxPages = k
		}
	}
	resp := n.kid("response")
	if resp == nil {
		p.fail(n.line, "<call_history> needs a <response list=\"…\"> with the item mapping")
		return
	}
	list := resp.get("list")
	if list == "" {
		p.fail(resp.line, "<call_history> <response> needs a list attribute (the path of the array of calls)")
		return
	}
	var err error
	if h.list, err = compilePath(list); err != nil {
		p.fail(resp.line, "list: %v", err)
	}
	if next := resp.get("next"); next != "" {
		if h.next, err = compilePath(next); err != nil {
			p.fail(resp.line, "next: %v", err)
		}
	}
	resp.attr("format")
	h.item = p.mapping(resp, "call_history", false, false)
	if k, line, ok := resp.value("key"); ok && strings.TrimSpace(k) != "" {
		h.item.key = p.c.compile(strings.TrimSpace(k), line)
	}
	if !h.item.hasCallID() {
		p.fail(resp.line, "<call_history> maps no call id")
	}
	p.def.history = h
}

// webhookAuth reads one <webhook_auth>.
func (p *parser) webhookAuth(n *node) {
	a := p.authScheme(n)
	if a != nil {
		p.def.webhookAuth = append(p.def.webhookAuth, a)
	}
}

// section reads a callback section.
func (p *parser) section(n *node) *section {
	s := &section{line: n.line, name: n.get("name")}
	if s.name == "" {
		s.name = n.name
	}
	switch n.name {
	case "status_callback":
		s.kind, s.path = kindStatus, "status"
	case "answer_callback":
		s.kind, s.path = kindAnswer, "answer"
	case "recording_callback":
		s.kind, s.path = kindRecording, "recording"
	case "incoming_call":
		s.kind, s.path = kindIncoming, "incoming"
	}
	if v, ok := n.attr("path"); ok {
		s.path = strings.Trim(strings.TrimSpace(v), "/")
		if strings.ContainsAny(s.path, "?#% ") {
			p.fail(n.line, "path %q may not hold ?, #, %% or spaces", v)
		}
	}
	s.method = strings.ToUpper(strings.TrimSpace(n.get("method")))
	switch s.method {
	case "", "ANY", http.MethodGet, http.MethodPost:
	default:
		p.fail(n.line, "method %q: use GET, POST or any", s.method)
	}
	s.format = strings.ToLower(n.get("format"))
	switch s.format {
	case "", formatAuto, formatForm, formatJSON:
	default:
		p.fail(n.line, "format %q: use auto, form or json", s.format)
	}
	s.when = p.c.compileConds(n.get("when"), n.line)
	typ := callbridge.EventStatus
	if s.kind == kindRecording {
		typ = callbridge.EventRecording
	}
	switch t := strings.ToLower(n.get("type")); t {
	case "":
	case "status":
		typ = callbridge.EventStatus
	case "recording":
		typ = callbridge.EventRecording
	default:
		p.fail(n.line, "type %q: use status or recording", t)
	}
	s.mapping = p.mapping(n, s.name, typ == callbridge.EventRecording, false)
	s.mapping.typ = typ
	if k, line, ok := n.value("key"); ok && strings.TrimSpace(k) != "" {
		s.mapping.key = p.c.compile(strings.TrimSpace(k), line)
	}
	if s.kind == kindIncoming {
		// An incoming call rings, inbound, unless the file says otherwise.
		pre := []*fieldMap{
			{field: "direction", value: p.c.compile("inbound", n.line), normalize: true, line: n.line},
			{field: "status", value: p.c.compile("ringing", n.line), normalize: true, line: n.line},
		}
		s.mapping.maps = append(pre, s.mapping.maps...)
	}
	if !s.mapping.hasCallID() {
		p.warn(n.line, "<%s> maps no call id: its webhooks are answered but record nothing", n.name)
	}
	for _, r := range n.kids("send_response") {
		rp := &reply{status: http.StatusOK}
		rp.contentType, _ = r.getAny("content-type", "content_type", "contenttype", "type")
		if rp.contentType == "" {
			rp.contentType = "text/plain; charset=utf-8"
		}
		if st, ok := r.attr("status"); ok {
			k, err := strconv.Atoi(st)
			if err != nil || k < 200 || k > 599 {
				p.fail(r.line, "send_response status %q is not an HTTP status", st)
			}
			rp.status = k
		}
		rp.when = p.c.compileConds(r.get("when"), r.line)
		rp.body = p.c.compileBody(strings.TrimSpace(r.text.String()), r.line)
		s.replies = append(s.replies, rp)
	}
	return s
}

// mapping reads the <map> children of n and of its <response> blocks. For a
// request (outgoing_call, check_credentials) only call_id and error are
// meaningful.
func (p *parser) mapping(n *node, where string, recording, request bool) *mapping {
	m := &mapping{typ: callbridge.EventStatus}
	if recording {
		m.typ = callbridge.EventRecording
	}
	add := func(mn *node, statuses []string) {
		f := p.fieldMap(mn, where, request)
		if f == nil {
			return
		}
		if len(statuses) > 0 {
			if f.field == "direction" {
				p.fail(mn.line, "a direction map cannot depend on the status")
				return
			}
			f.statuses = append(f.statuses, statuses...)
		}
		m.maps = append(m.maps, f)
	}
	for _, c := range n.children {
		switch c.name {
		case "map":
			c.used = true
			add(c, nil)
		case "response":
			c.used = true
			var statuses []string
			if st, ok := c.attr("status"); ok {
				for _, s := range strings.Split(st, "|") {
					if s = strings.TrimSpace(s); s != "" {
						statuses = append(statuses, s)
					}
				}
			}
			for _, mn := range c.kids("map") {
				add(mn, statuses)
			}
		}
	}
	return m
}

// fieldMap reads one <map>.
func (p *parser) fieldMap(n *node, where string, request bool) *fieldMap {
	name := strings.ToLower(strings.TrimSpace(n.get("field")))
	if name == "" {
		name = strings.ToLower(strings.TrimSpace(n.get("name")))
	}
	if name == "" {
		p.warn(n.line, "<map> without a field in <%s> (ignored)", where)
		return nil
	}
	field, ok := fieldAliases[name]
	if !ok {
		if !vtigerOnly[name] {
			p.warn(n.line, "<map field=%q> in <%s>: callbridge has no such field (ignored)", name, where)
		}
		n.attr("path")
		n.attr("value")
		return nil
	}
	if request && field != "call_id" && field != "error" {
		p.warn(n.line, "<map field=%q>: a response maps only call_id and error (ignored)", name)
		return nil
	}
	if !request && field == "error" {
		p.warn(n.line, "<map field=\"error\"> belongs in a request's <response> (ignored)")
		return nil
	}
	f := &fieldMap{field: field, line: n.line, normalize: true}
	pathStr, hasPath := n.attr("path")
	val, hasVal := n.attr("value")
	switch {
	case hasPath && hasVal:
		p.fail(n.line, "<map field=%q> has both path and value", name)
	case hasPath:
		cp, err := compilePath(pathStr)
		if err != nil {
			p.fail(n.line, "<map field=%q>: %v", name, err)
		}
		f.path, f.hasPath = cp, true
	case hasVal:
		f.value = p.c.compile(val, n.line)
	default:
		if t := strings.TrimSpace(n.text.String()); t != "" {
			f.value = p.c.compile(t, n.line)
		} else if _, hasDef := n.attr("default"); !hasDef {
			p.fail(n.line, "<map field=%q> needs a path or a value", name)
			return nil
		}
	}
	if d, ok := n.attr("default"); ok {
		f.def = p.c.compile(d, n.line)
	}
	if ds, ok := n.attr("direction"); ok {
		if field == "direction" {
			p.fail(n.line, "a direction map cannot depend on the direction")
		}
		f.dirs = p.directions(ds, n.line)
	}
	if st, ok := n.attr("status"); ok {
		for _, s := range strings.Split(st, "|") {
			if s = strings.TrimSpace(s); s != "" {
				f.statuses = append(f.statuses, s)
			}
		}
	}
	f.when = p.c.compileConds(n.get("when"), n.line)
	if u, ok := n.attr("unit"); ok {
		switch u = strings.ToLower(u); u {
		case "s", "seconds", "":
		case "ms", "milliseconds":
			f.unit = "ms"
		case "min", "minutes":
			f.unit = "min"
		default:
			p.fail(n.line, "unit %q: use s, ms or min", u)
		}
	}
	if l, ok := n.attr("layout"); ok {
		f.layout = strings.TrimSpace(l)
	}
	if z, ok := n.attr("zone"); ok {
		loc, err := time.LoadLocation(strings.TrimSpace(z))
		if err != nil {
			p.fail(n.line, "zone %q is not an IANA time zone", z)
		}
		f.zone = loc
	}
	if nz, ok := n.attr("normalize"); ok {
		b, err := strconv.ParseBool(nz)
		if err != nil {
			p.fail(n.line, "normalize=%q is not true or false", nz)
		}
		f.normalize = b
	}
	for _, vn := range n.kids("value") {
		from, ok := vn.attr("from")
		if !ok {
			p.fail(vn.line, "<value> needs a from attribute")
			continue
		}
		to, ok := vn.attr("to")
		if !ok {
			p.fail(vn.line, "<value> needs a to attribute")
			continue
		}
		v := valueMap{to: strings.TrimSpace(to)}
		for _, s := range strings.Split(from, "|") {
			v.from = append(v.from, strings.ToLower(strings.TrimSpace(s)))
		}
		if ds, ok := vn.attr("direction"); ok {
			if field == "direction" {
				p.fail(vn.line, "a direction value cannot depend on the direction")
			}
			v.dirs = p.directions(ds, vn.line)
		}
		v.when = p.c.compileConds(vn.get("when"), vn.line)
		switch field {
		case "status":
			if _, ignore, ok := statusWord(v.to); !ok && !ignore {
				p.fail(vn.line, "status %q: use ringing, answered, ended, completed, missed, busy, failed or ignore", v.to)
			}
		case "direction":
			if _, ok := directionWord(v.to); !ok {
				p.fail(vn.line, "direction %q: use inbound, outbound, internal or unknown", v.to)
			}
		}
		f.values = append(f.values, v)
	}
	if field == "status" && f.value != nil && len(f.values) == 0 && !templateHasRefs(f.value) {
		if _, ignore, ok := statusWord(f.value.raw); !ok && !ignore {
			p.fail(n.line, "status %q: use ringing, answered, ended, completed, missed, busy, failed or ignore", f.value.raw)
		}
	}
	if field == "direction" && f.value != nil && len(f.values) == 0 && !templateHasRefs(f.value) {
		if _, ok := directionWord(f.value.raw); !ok {
			p.fail(n.line, "direction %q: use inbound, outbound, internal or unknown", f.value.raw)
		}
	}
	return f
}

func templateHasRefs(t *tmpl) bool {
	for _, p := range t.parts {
		if p.ref != nil {
			return true
		}
	}
	return len(t.filters) > 0
}

func (p *parser) directions(s string, line int) []callbridge.Direction {
	var out []callbridge.Direction
	for _, x := range strings.Split(s, "|") {
		d, ok := directionWord(x)
		if !ok {
			p.fail(line, "direction %q: use inbound, outbound, internal or unknown", strings.TrimSpace(x))
			continue
		}
		out = append(out, d)
	}
	return out
}
