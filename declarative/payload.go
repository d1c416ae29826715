package declarative

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Payload formats.
const (
	formatAuto = "auto"
	formatForm = "form"
	formatJSON = "json"
)

// maxEmbeddedJSON bounds a string value decoded as JSON by a path.
const maxEmbeddedJSON = 1 << 20

// document is a decoded webhook payload or API response: the body's fields
// merged over the URL's query parameters, plus the headers.
type document struct {
	root   map[string]any
	query  url.Values
	header http.Header
	cache  map[string]any // JSON decoded from string values
}

// newDocument decodes a body: JSON when format says so, or (auto) when the
// content type is JSON or the body starts with "{"; a form otherwise. Query
// parameters of rawURL are fields too; the body's win on conflict.
func newDocument(rawURL string, header http.Header, body []byte, format string) (*document, error) {
	d := &document{root: map[string]any{}, header: header}
	if u, err := url.Parse(rawURL); err == nil {
		if q, err := url.ParseQuery(u.RawQuery); err == nil {
			d.query = q
		}
	}
	if d.query == nil {
		d.query = url.Values{}
	}
	for k, v := range d.query {
		d.root[k] = formValue(v)
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return d, nil
	}
	if format == "" || format == formatAuto {
		format = formatForm
		ct := ""
		if header != nil {
			ct, _, _ = mime.ParseMediaType(header.Get("Content-Type"))
		}
		if strings.Contains(ct, "json") || trimmed[0] == '{' {
			format = formatJSON
		}
	}
	switch format {
	case formatJSON:
		v, err := decodeJSON(trimmed)
		if err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not valid JSON.", Err: err}
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, callbridge.Errorf(callbridge.EINVALID, "The webhook body is not a JSON object.")
		}
		for k, v := range obj {
			d.root[k] = v
		}
	default:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not a valid form.", Err: err}
		}
		for k, v := range form {
			d.root[k] = formValue(v)
		}
	}
	return d, nil
}

// itemDocument wraps one element of a list (call history) as a document.
func itemDocument(item any) *document {
	d := &document{root: map[string]any{}, query: url.Values{}}
	if m, ok := item.(map[string]any); ok {
		d.root = m
	} else {
		d.root["value"] = item
	}
	return d
}

func formValue(v []string) any {
	if len(v) == 1 {
		return v[0]
	}
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON value")
	}
	return v, nil
}

// path is a compiled dotted path: "data.monitorUCID", "Legs.1.Status",
// "Legs[1].Status", or rooted at "$header." / "$query.".
type path struct {
	root string // "", "header" or "query"
	segs []string
	raw  string
}

func (p path) String() string { return p.raw }

func (p path) empty() bool { return len(p.segs) == 0 }

// compilePath checks and splits a path.
func compilePath(s string) (path, error) {
	s = strings.TrimSpace(s)
	p := path{raw: s}
	if s == "" {
		return p, fmt.Errorf("empty path")
	}
	if len(s) > 256 {
		return p, fmt.Errorf("path %q is too long", clip(s))
	}
	switch {
	case strings.HasPrefix(s, "$header."):
		p.root, s = "header", s[len("$header."):]
	case strings.HasPrefix(s, "$query."):
		p.root, s = "query", s[len("$query."):]
	case strings.HasPrefix(s, "$payload."):
		s = s[len("$payload."):]
	}
	s = strings.NewReplacer("[", ".", "]", "").Replace(s)
	segs := strings.Split(s, ".")
	if len(segs) > 32 {
		return p, fmt.Errorf("path %q has too many segments", clip(p.raw))
	}
	for _, seg := range segs {
		if seg == "" {
			return p, fmt.Errorf("path %q has an empty segment", clip(p.raw))
		}
	}
	if p.root != "" && len(segs) != 1 {
		return p, fmt.Errorf("path %q: a header or query name has no sub-fields", clip(p.raw))
	}
	p.segs = segs
	return p, nil
}

// lookup resolves p. At each object it tries the longest key made of the
// remaining segments joined by dots (so a key holding a dot is found), then a
// case-insensitive match of one segment. A string holding a JSON object or
// array is decoded when the path goes into it (Ozonetel's form field "data").
func (d *document) lookup(p path) (any, bool) {
	if d == nil || len(p.segs) == 0 {
		return nil, false
	}
	switch p.root {
	case "header":
		if d.header == nil || len(d.header.Values(p.segs[0])) == 0 {
			return nil, false
		}
		return d.header.Get(p.segs[0]), true
	case "query":
		if !d.query.Has(p.segs[0]) {
			return nil, false
		}
		return d.query.Get(p.segs[0]), true
	}
	var cur any = d.root
	segs := p.segs
	for len(segs) > 0 {
		cur = d.expand(cur)
		switch v := cur.(type) {
		case map[string]any:
			found := false
			for i := len(segs); i >= 1; i-- {
				key := segs[0]
				if i > 1 {
					key = strings.Join(segs[:i], ".")
				}
				if x, ok := v[key]; ok {
					cur, segs, found = x, segs[i:], true
					break
				}
			}
			if !found {
				for k, x := range v {
					if strings.EqualFold(k, segs[0]) {
						cur, segs, found = x, segs[1:], true
						break
					}
				}
			}
			if !found {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(segs[0])
			if err != nil || i < 0 || i >= len(v) {
				return nil, false
			}
			cur, segs = v[i], segs[1:]
		default:
			return nil, false
		}
	}
	return cur, true
}

// expand decodes a string that holds a JSON object or array.
func (d *document) expand(v any) any {
	s, ok := v.(string)
	if !ok {
		return v
	}
	t := strings.TrimSpace(s)
	if len(t) < 2 || len(t) > maxEmbeddedJSON || (t[0] != '{' && t[0] != '[') {
		return v
	}
	if x, ok := d.cache[t]; ok {
		return x
	}
	x, err := decodeJSON([]byte(t))
	if err != nil {
		x = v
	}
	if d.cache == nil {
		d.cache = map[string]any{}
	}
	d.cache[t] = x
	return x
}

// lookupString resolves p to a string (see stringify).
func (d *document) lookupString(p path) (string, bool) {
	v, ok := d.lookup(p)
	if !ok {
		return "", false
	}
	return stringify(v), true
}

// stringify renders a JSON value as text: strings as they are, numbers in
// their JSON spelling, booleans as true/false, null as "", objects and arrays
// as compact JSON.
func stringify(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// parseDuration reads a duration in seconds: "HH:MM:SS", "MM:SS", or a
// number in unit ("s" default, "ms", "min"). Fractions round to the nearest
// second; anything unreadable or negative is 0. The result is at most a week.
func parseDuration(s, unit string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	var secs float64
	if strings.Contains(s, ":") {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0
		}
		for _, p := range parts {
			n, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || n < 0 {
				return 0
			}
			secs = secs*60 + n
		}
	} else {
		n, err := strconv.ParseFloat(strings.TrimSuffix(strings.ToLower(s), "s"), 64)
		if err != nil || n < 0 {
			return 0
		}
		switch unit {
		case "ms":
			n /= 1000
		case "min":
			n *= 60
		}
		secs = n
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
		return 0
	}
	const week = 7 * 24 * 3600
	if secs > week {
		return week
	}
	return int(math.Round(secs))
}

// Timestamp layouts tried when a map gives none.
var (
	zonedLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05.999999999Z07:00",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05 -0700",
		"2006-01-02T15:04:05.999999999Z0700",
		"Mon, 2 Jan 2006 15:04:05 -0700",
		"2 Jan 2006 15:04:05 -0700",
	}
	abbrevLayouts = []string{
		"Mon, 2 Jan 2006 15:04:05 MST",
		"2 Jan 2006 15:04:05 MST",
		"2006-01-02 15:04:05 MST",
	}
	naiveLayouts = []string{
		"2006-01-02 15:04:05.999999999",
		"2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04",
		"Mon, 2 Jan 2006 15:04:05",
		"2 Jan 2006 15:04:05",
		"2006/01/02 15:04:05",
		"2006:01:02 15:04:05",
	}
)

// parseTime reads a provider time and returns it in UTC, or the zero time.
// layout is a named or Go layout, "unix" or "unixms", or "" to try the common
// layouts. A time without a zone (or with an ambiguous zone abbreviation) is
// read in loc. The epoch and its local variants ("1970-01-01 05:30:00", which
// Exotel sends for unknown times) read as zero.
func parseTime(s, layout string, loc *time.Location) time.Time {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return time.Time{}
	}
	if loc == nil {
		loc = time.UTC
	}
	t := parseTimeIn(s, layout, loc)
	if t.IsZero() || t.Year() < 1980 || t.Year() > 9999 {
		return time.Time{}
	}
	return t.UTC()
}

func parseTimeIn(s, layout string, loc *time.Location) time.Time {
	switch layout {
	case "unix", "unixms":
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n <= 0 || n > 1e15 {
			return time.Time{}
		}
		if layout == "unixms" {
			n /= 1000
		}
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(frac*1e9))
	case "":
	default:
		if l, ok := namedLayouts[layout]; ok {
			layout = l
		}
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			return time.Time{}
		}
		return t
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	for _, l := range abbrevLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if name, _ := t.Zone(); name == "UTC" || name == "GMT" || name == "Z" {
				return t
			}
			s = strings.TrimSpace(s[:strings.LastIndexByte(s, ' ')])
			break
		}
	}
	for _, l := range naiveLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && len(s) >= 9 && len(s) <= 13 {
		if len(s) == 13 {
			return time.UnixMilli(n)
		}
		return time.Unix(n, 0)
	}
	return time.Time{}
}
