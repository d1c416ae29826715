package declarative

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// A template is a string with references to the connection's configuration
// ($config.$fields.NAME), the webhook payload ($payload.PATH, $header.NAME,
// $query.NAME) and placeholders (@to_number, @status_callback, …). A
// reference may be wrapped in braces to delimit it and to apply filters to it
// alone: {@to_number|digits}. A template that is not a response body may end
// with filters that apply to the whole rendered string:
// "https://x/call|urlappend:{api_key:$config.$fields.api_key}".

// placeholders are the @names a template may use; section names are added per
// definition. Unknown names are a parse error unless the @ follows a word
// character (an e-mail address or a SIP URI is literal text).
var placeholders = map[string]bool{
	"to_number": true, "from_number": true, "extension": true, "agent": true,
	"customer": true, "line": true, "call_id": true, "leg_id": true,
	"status": true, "raw_status": true, "direction": true,
	"agents": true, "fallback": true, "voicemail": true,
	"since": true, "until": true, "page": true, "offset": true, "page_size": true,
	"webhook_url": true, "now": true, "recording_id": true,
}

// sectionPlaceholders are the callback URLs of Vtiger's connector. They are
// known even when the definition has no section of that name (they are then
// empty, except @answer_status_callback, which falls back to
// @status_callback: the status callback of the legs an answer_callback
// creates).
var sectionPlaceholders = map[string]bool{
	"status_callback": true, "answer_callback": true, "answer_status_callback": true,
	"recording_callback": true, "incoming_call": true,
}

// Reference kinds.
const (
	refConfig = iota
	refVar
	refPayload
	refHeader
	refQuery
)

type tmpl struct {
	raw     string
	parts   []tpart
	filters []filterCall // applied to the whole rendered string
}

type tpart struct {
	lit string
	ref *tref
}

type tref struct {
	kind    int
	name    string // field, placeholder or header/query name
	path    path   // for refPayload
	filters []filterCall
}

type filterCall struct {
	name  string
	arg   *tmpl   // argument, itself a template
	pairs []tpair // urlappend:{k:v,…}
}

type tpair struct {
	key string
	val *tmpl
}

// filters are the known filter names.
var filters = map[string]bool{
	"urlappend": true, "urlencode": true, "xml": true, "json": true, "raw": true,
	"digits": true, "e164": true, "trimplus": true, "lower": true, "upper": true,
	"trim": true, "default": true, "time": true, "utc": true, "base64": true,
	"join": true, "each": true, "first": true, "phones": true, "sips": true,
	"bool": true,
}

// compiler compiles templates of one definition, collecting problems.
type compiler struct {
	fields   map[string]bool // declared config fields
	sections map[string]bool // declared section names (URL placeholders)
	probs    *[]Problem
}

func (c *compiler) fail(line int, format string, args ...any) {
	*c.probs = append(*c.probs, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// compile compiles a value template (with trailing whole-value filters).
func (c *compiler) compile(s string, line int) *tmpl {
	body, fs := splitFilters(s)
	t := c.compileBody(body, line)
	t.raw = s
	t.filters = c.filterCalls(fs, line)
	return t
}

// compileBody compiles a response body: references only, no trailing filters.
func (c *compiler) compileBody(s string, line int) *tmpl {
	t := &tmpl{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, tpart{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		ch := s[i]
		if ch == '{' && i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '@') {
			j := matchBrace(s[i:])
			if j < 0 {
				c.fail(line, "unclosed { in %q", clip(s))
				lit.WriteString(s[i:])
				break
			}
			inner := s[i+1 : i+j]
			segs := splitTop(inner, '|')
			r, n := c.ref(segs[0], line)
			if r == nil || n != len(segs[0]) {
				c.fail(line, "bad reference {%s}", clip(inner))
			} else {
				r.filters = c.filterCalls(segs[1:], line)
				flush()
				t.parts = append(t.parts, tpart{ref: r})
			}
			i += j + 1
			continue
		}
		if ch == '$' || (ch == '@' && (i == 0 || !isWordByte(s[i-1]))) {
			if r, n := c.ref(s[i:], line); r != nil {
				flush()
				t.parts = append(t.parts, tpart{ref: r})
				i += n
				continue
			}
		}
		lit.WriteByte(ch)
		i++
	}
	flush()
	return t
}

// matchBrace returns the index of the "}" closing the "{" that starts s, or
// -1.
func matchBrace(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

// ref reads one reference at the start of s; it returns nil when s does not
// start with one (a lone "$" or "@" is literal text).
func (c *compiler) ref(s string, line int) (*tref, int) {
	switch {
	case strings.HasPrefix(s, "$config.$fields."):
		n := len("$config.$fields.")
		name := scan(s[n:], isNameByte)
		if name == "" {
			return nil, 0
		}
		if c.fields != nil && !c.fields[name] {
			c.fail(line, "$config.$fields.%s names no configuration field", name)
		}
		return &tref{kind: refConfig, name: name}, n + len(name)
	case strings.HasPrefix(s, "$payload."):
		n := len("$payload.")
		p := strings.TrimRight(scan(s[n:], isPathByte), ".")
		if p == "" {
			return nil, 0
		}
		cp, err := compilePath(p)
		if err != nil {
			c.fail(line, "%v", err)
		}
		return &tref{kind: refPayload, name: p, path: cp}, n + len(p)
	case strings.HasPrefix(s, "$header."):
		n := len("$header.")
		name := scan(s[n:], isNameByte)
		if name == "" {
			return nil, 0
		}
		return &tref{kind: refHeader, name: name}, n + len(name)
	case strings.HasPrefix(s, "$query."):
		n := len("$query.")
		name := scan(s[n:], isNameByte)
		if name == "" {
			return nil, 0
		}
		return &tref{kind: refQuery, name: name}, n + len(name)
	case strings.HasPrefix(s, "@"):
		name := scan(s[1:], isNameByte)
		if name == "" {
			return nil, 0
		}
		if !placeholders[name] && !c.sections[name] && !sectionPlaceholders[name] {
			c.fail(line, "unknown placeholder @%s", name)
		}
		return &tref{kind: refVar, name: name}, 1 + len(name)
	}
	return nil, 0
}

// filterCalls compiles "name:arg" filter specifications.
func (c *compiler) filterCalls(specs []string, line int) []filterCall {
	var out []filterCall
	for _, spec := range specs {
		name, arg, hasArg := strings.Cut(spec, ":")
		name = strings.TrimSpace(name)
		if !filters[name] {
			c.fail(line, "unknown filter %q", name)
			continue
		}
		f := filterCall{name: name}
		switch name {
		case "urlappend":
			arg = strings.TrimSpace(arg)
			if !strings.HasPrefix(arg, "{") || !strings.HasSuffix(arg, "}") {
				c.fail(line, "urlappend needs {name:value,…}")
				continue
			}
			for _, kv := range splitTop(arg[1:len(arg)-1], ',') {
				k, v, ok := strings.Cut(kv, ":")
				k = strings.TrimSpace(k)
				if !ok || k == "" {
					c.fail(line, "urlappend: %q is not name:value", clip(kv))
					continue
				}
				f.pairs = append(f.pairs, tpair{key: k, val: c.compileBody(strings.TrimSpace(v), line)})
			}
		case "default", "join", "each", "time":
			if !hasArg && name != "time" {
				c.fail(line, "filter %s needs an argument (%s:…)", name, name)
				continue
			}
			f.arg = c.compileBody(arg, line)
		default:
			if hasArg {
				c.fail(line, "filter %s takes no argument", name)
			}
		}
		out = append(out, f)
	}
	return out
}

// splitFilters splits "text|f1:a|f2" into the text and the filter specs. A
// "|" starts a filter only when a known filter name follows it (and it is not
// inside a {…} reference), so other pipes stay literal.
func splitFilters(s string) (string, []string) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case '|':
			if depth == 0 && startsFilter(s[i+1:]) {
				return s[:i], splitTop(s[i+1:], '|')
			}
		}
	}
	return s, nil
}

func startsFilter(s string) bool {
	name := scan(s, isNameByte)
	if !filters[name] {
		return false
	}
	rest := s[len(name):]
	return rest == "" || rest[0] == ':' || rest[0] == '|'
}

// splitTop splits s at sep outside {…}.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func scan(s string, ok func(byte) bool) string {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return s[:i]
}

func isWordByte(b byte) bool {
	return b == '_' || b == '.' || b == '-' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func isNameByte(b byte) bool {
	return b == '_' || b == '-' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

func isPathByte(b byte) bool { return isNameByte(b) || b == '.' || b == '[' || b == ']' }

func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}

// value is what a reference evaluates to: a string, a list (@agents) or a
// time (@since, @until).
type value struct {
	s       string
	list    []string
	t       time.Time
	isList  bool
	isTime  bool
	escaped bool // already escaped for the output context (json, each)
}

func str(s string) value { return value{s: s} }

func (v value) String(loc *time.Location) string {
	switch {
	case v.isList:
		return strings.Join(v.list, ",")
	case v.isTime:
		if v.t.IsZero() {
			return ""
		}
		return v.t.In(loc).Format(time.DateTime)
	}
	return v.s
}

// env is what templates and conditions are evaluated against.
type env struct {
	config  map[string]string
	vars    map[string]value
	doc     *document // the payload, or nil
	country string
	loc     *time.Location
}

func (e *env) set(name, v string) { e.vars[name] = str(v) }

func (e *env) str(name string) string {
	if v, ok := e.vars[name]; ok {
		return v.String(e.loc)
	}
	return ""
}

// escMode says how substituted values are escaped for an output context.
type escMode int

const (
	escNone escMode = iota // inserted as they are
	escXML                 // XML text and attribute values
	escJSON                // inside a JSON string
	escURL                 // a URL: path-escaped before "?", query-escaped after
)

// escape escapes s for mode (escURL query-escapes).
func escape(mode escMode, s string) string {
	switch mode {
	case escXML:
		var b strings.Builder
		for _, r := range s {
			switch r {
			case '<':
				b.WriteString("&lt;")
			case '>':
				b.WriteString("&gt;")
			case '&':
				b.WriteString("&amp;")
			case '"':
				b.WriteString("&quot;")
			case '\'':
				b.WriteString("&apos;")
			default:
				if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
					continue
				}
				b.WriteRune(r)
			}
		}
		return b.String()
	case escJSON:
		b, _ := json.Marshal(s)
		return string(b[1 : len(b)-1])
	case escURL:
		return url.QueryEscape(s)
	}
	return s
}

// escapeFor returns the escape mode of a response content type.
func escapeFor(contentType string) escMode {
	ct := strings.ToLower(contentType)
	switch {
	case strings.Contains(ct, "json"):
		return escJSON
	case strings.Contains(ct, "xml") || strings.Contains(ct, "html"):
		return escXML
	}
	return escNone
}

// render evaluates t, escaping substituted values for mode. In a URL a value
// that starts the template (a configured base URL) is inserted as it is;
// later values are path-escaped before the first "?" and query-escaped after.
func (t *tmpl) render(e *env, mode escMode) string {
	if t == nil {
		return ""
	}
	var b strings.Builder
	inQuery := false
	for i, p := range t.parts {
		if p.ref == nil {
			b.WriteString(p.lit)
			if strings.Contains(p.lit, "?") {
				inQuery = true
			}
			continue
		}
		v := p.ref.eval(e)
		raw := false
		for _, f := range p.ref.filters {
			if f.name == "raw" {
				raw = true
			}
			v = f.apply(v, e, mode)
		}
		s := v.String(e.loc)
		switch {
		case raw || v.escaped:
		case mode == escURL:
			if i != 0 {
				if inQuery {
					s = url.QueryEscape(s)
				} else {
					s = url.PathEscape(s)
				}
			}
		default:
			s = escape(mode, s)
		}
		b.WriteString(s)
	}
	v := str(b.String())
	for _, f := range t.filters {
		v = f.apply(v, e, escNone)
	}
	return v.String(e.loc)
}

// eval resolves a reference.
func (r *tref) eval(e *env) value {
	switch r.kind {
	case refConfig:
		return str(e.config[r.name])
	case refVar:
		if v, ok := e.vars[r.name]; ok {
			return v
		}
		return value{}
	case refPayload:
		if e.doc == nil {
			return value{}
		}
		s, _ := e.doc.lookupString(r.path)
		return str(s)
	case refHeader:
		if e.doc == nil || e.doc.header == nil {
			return value{}
		}
		return str(e.doc.header.Get(r.name))
	case refQuery:
		if e.doc == nil {
			return value{}
		}
		return str(e.doc.query.Get(r.name))
	}
	return value{}
}

// apply runs one filter.
func (f filterCall) apply(v value, e *env, mode escMode) value {
	arg := func() string { return f.arg.render(e, mode) }
	mapStr := func(fn func(string) string) value {
		if v.isList {
			out := make([]string, 0, len(v.list))
			for _, s := range v.list {
				if s = fn(s); s != "" {
					out = append(out, s)
				}
			}
			return value{list: out, isList: true}
		}
		return str(fn(v.String(e.loc)))
	}
	switch f.name {
	case "urlappend":
		s := v.String(e.loc)
		q := url.Values{}
		for _, p := range f.pairs {
			q.Add(p.key, p.val.render(e, escNone))
		}
		if len(q) == 0 {
			return str(s)
		}
		sep := "?"
		if strings.Contains(s, "?") {
			sep = "&"
			if strings.HasSuffix(s, "?") || strings.HasSuffix(s, "&") {
				sep = ""
			}
		}
		return str(s + sep + q.Encode())
	case "urlencode":
		return str(url.QueryEscape(v.String(e.loc)))
	case "xml":
		return value{s: escape(escXML, v.String(e.loc)), escaped: true}
	case "json":
		var b []byte
		if v.isList {
			b, _ = json.Marshal(nonNil(v.list))
		} else {
			b, _ = json.Marshal(v.String(e.loc))
		}
		return value{s: string(b), escaped: true}
	case "raw":
		return v
	case "digits":
		return mapStr(func(s string) string {
			return strings.Map(func(r rune) rune {
				if '0' <= r && r <= '9' {
					return r
				}
				return -1
			}, s)
		})
	case "e164":
		return mapStr(func(s string) string { return callbridge.NormalizePhone(s, e.country) })
	case "trimplus":
		return mapStr(func(s string) string { return strings.TrimPrefix(strings.TrimSpace(s), "+") })
	case "lower":
		return mapStr(strings.ToLower)
	case "upper":
		return mapStr(strings.ToUpper)
	case "trim":
		return mapStr(strings.TrimSpace)
	case "default":
		if v.isList && len(v.list) > 0 || !v.isList && v.String(e.loc) != "" {
			return v
		}
		return str(arg())
	case "time":
		if !v.isTime {
			return v
		}
		return str(formatTime(v.t.In(e.loc), arg()))
	case "utc":
		if v.isTime {
			v.t = v.t.UTC()
			return str(v.t.Format(time.DateTime))
		}
		return v
	case "bool":
		b := false
		switch strings.ToLower(strings.TrimSpace(v.String(e.loc))) {
		case "1", "t", "true", "yes", "y", "on":
			b = true
		}
		return value{s: strconv.FormatBool(b), escaped: true}
	case "base64":
		return str(base64.StdEncoding.EncodeToString([]byte(v.String(e.loc))))
	case "join":
		if v.isList {
			return str(strings.Join(v.list, arg()))
		}
		return v
	case "each":
		items := v.list
		if !v.isList {
			items = nil
			if s := v.String(e.loc); s != "" {
				items = []string{s}
			}
		}
		format := arg()
		var b strings.Builder
		for _, it := range items {
			b.WriteString(strings.ReplaceAll(format, "%s", escape(mode, it)))
		}
		return value{s: b.String(), escaped: true}
	case "first":
		if v.isList {
			if len(v.list) == 0 {
				return str("")
			}
			return str(v.list[0])
		}
		return v
	case "phones":
		return mapStr(func(s string) string {
			if callbridge.IsPhoneNumber(s) || isDigits(s) {
				return s
			}
			return ""
		})
	case "sips":
		return mapStr(func(s string) string {
			if strings.HasPrefix(strings.ToLower(s), "sip:") {
				return s
			}
			return ""
		})
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Named time layouts for the time filter and for map layout attributes.
var namedLayouts = map[string]string{
	"rfc3339":  time.RFC3339,
	"rfc2822":  time.RFC1123Z,
	"rfc1123z": time.RFC1123Z,
	"datetime": time.DateTime,
	"date":     time.DateOnly,
	"iso":      "2006-01-02T15:04:05",
}

// formatTime formats t with a named or Go layout; "unix" and "unixms" give
// epoch numbers. The default is "2006-01-02 15:04:05".
func formatTime(t time.Time, layout string) string {
	layout = strings.TrimSpace(layout)
	switch layout {
	case "":
		return t.Format(time.DateTime)
	case "unix":
		return strconv.FormatInt(t.Unix(), 10)
	case "unixms":
		return strconv.FormatInt(t.UnixMilli(), 10)
	}
	if l, ok := namedLayouts[layout]; ok {
		layout = l
	}
	return t.Format(layout)
}

// uses reports whether a template refers to a reference of the kind and
// name, in its text or its filters' arguments.
func (t *tmpl) uses(kind int, name string) bool {
	if t == nil {
		return false
	}
	for _, p := range t.parts {
		if p.ref != nil && p.ref.kind == kind && p.ref.name == name {
			return true
		}
	}
	return slices.ContainsFunc(t.filters, func(f filterCall) bool {
		for _, p := range f.pairs {
			if p.val.uses(kind, name) {
				return true
			}
		}
		return f.arg.uses(kind, name)
	})
}

// empty reports whether t has no content.
func (t *tmpl) empty() bool { return t == nil || strings.TrimSpace(t.raw) == "" }
