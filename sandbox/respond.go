package sandbox

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// route is one API endpoint. Patterns are matched segment by segment;
// "{name}" captures a segment. The first matching route wins, so more
// specific patterns are listed first.
type route struct {
	method  string
	pattern string
	segs    []string
	auth    bool // needs a Bearer access token
	h       func(*call)
}

// call is one API request being handled. Handlers run with Emulator.mu held
// and write to w, a buffer; they never block.
type call struct {
	e     *Emulator
	w     *bufWriter
	r     *http.Request
	vars  map[string]string
	body  []byte
	now   time.Time
	acct  *account
	user  *User
	after []func() // run after mu is released (network I/O)
}

func (c *call) unix() int64 { return c.now.Unix() }

// baseURL is the scheme and host the client used, for _links.
func (c *call) baseURL() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

func (c *call) link(path string) map[string]any {
	return map[string]any{"self": map[string]any{"href": c.baseURL() + path}}
}

// bufWriter buffers a response so that faults can replace or drop it after
// the handler applied its writes.
type bufWriter struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func newBufWriter() *bufWriter                   { return &bufWriter{h: http.Header{}} }
func (b *bufWriter) Header() http.Header         { return b.h }
func (b *bufWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufWriter) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *bufWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.h {
		w.Header()[k] = v
	}
	w.WriteHeader(b.code())
	_, _ = w.Write(b.body.Bytes())
}

const (
	halJSON     = "application/hal+json"
	problemJSON = "application/problem+json"
)

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, contentType = http.StatusInternalServerError, problemJSON
		b = []byte(`{"title":"Internal Server Error","status":500}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ok answers a successful request with hal+json.
func (c *call) ok(status int, v any) { writeJSON(c.w, status, halJSON, v) }

// noContent answers 204 (Kommo's answer to an empty list or search).
func (c *call) noContent() { c.w.WriteHeader(http.StatusNoContent) }

// problem writes Kommo's problem+json error body.
func problem(w http.ResponseWriter, status int, detail string, extra map[string]any) {
	body := map[string]any{
		"title":  http.StatusText(status),
		"type":   "https://httpstatus.es/" + strconv.Itoa(status),
		"status": status,
		"detail": detail,
	}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, problemJSON, body)
}

func (c *call) problem(status int, detail string) { problem(c.w, status, detail, nil) }

// tooMany writes Kommo's 429 body.
func tooMany(w http.ResponseWriter, retryAfter time.Duration) {
	problem(w, http.StatusTooManyRequests,
		"You have sent too many requests in a given amount of time. Please try again later.",
		map[string]any{"retry_after": seconds(retryAfter)})
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int64 {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// fieldError is one entry of a validation-errors item.
type fieldError struct {
	Code   string `json:"code"`
	Path   string `json:"path"`
	Detail string `json:"detail"`
}

// validation collects Kommo's validation-errors for a batch.
type validation struct {
	items []map[string]any
}

func (v *validation) add(requestID string, errs []fieldError) {
	if len(errs) > 0 {
		v.items = append(v.items, map[string]any{"request_id": requestID, "errors": errs})
	}
}

func (v *validation) failed() bool { return len(v.items) > 0 }

// write answers 400 with the collected validation errors.
func (v *validation) write(w http.ResponseWriter) {
	problem(w, http.StatusBadRequest, "Request validation failed",
		map[string]any{"validation-errors": v.items})
}

func badRequest(w http.ResponseWriter, requestID, code, path, detail string) {
	var v validation
	v.add(requestID, []fieldError{{code, path, detail}})
	v.write(w)
}

// obj is a decoded JSON object (numbers as json.Number).
type obj map[string]any

// decode parses body as JSON with numbers kept exact.
func decode(body []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeArray parses a batch body: a JSON array of objects. Kommo also
// accepts a single object where a batch is expected; so does the emulator.
func decodeArray(body []byte) ([]obj, bool) {
	v, err := decode(body)
	if err != nil {
		return nil, false
	}
	switch t := v.(type) {
	case []any:
		out := make([]obj, 0, len(t))
		for _, it := range t {
			m, ok := it.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, obj(m))
		}
		return out, true
	case map[string]any:
		return []obj{obj(t)}, true
	}
	return nil, false
}

func decodeObject(body []byte) (obj, bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return obj{}, true
	}
	v, err := decode(body)
	if err != nil {
		return nil, false
	}
	m, ok := v.(map[string]any)
	return obj(m), ok
}

// has reports whether key is present and not null.
func (o obj) has(key string) bool {
	v, ok := o[key]
	return ok && v != nil
}

// str returns a string field; numbers are accepted and formatted. ok is false
// when the field is absent or of another type.
func (o obj) str(key string) (string, bool) {
	switch v := o[key].(type) {
	case string:
		return v, true
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// int returns an integer field; numeric strings are accepted (Kommo is
// lenient). present is false when absent or null; ok is false when present
// but not an integer.
func (o obj) int(key string) (n int64, present, ok bool) {
	v, found := o[key]
	if !found || v == nil {
		return 0, false, true
	}
	return toInt(v)
}

func toInt(v any) (int64, bool, bool) {
	switch t := v.(type) {
	case json.Number:
		n, err := t.Int64()
		if err != nil {
			f, ferr := t.Float64()
			if ferr != nil || f != math.Trunc(f) {
				return 0, true, false
			}
			return int64(f), true, true
		}
		return n, true, true
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
		return n, true, err == nil
	case float64:
		return int64(t), true, t == math.Trunc(t)
	case int64:
		return t, true, true
	}
	return 0, true, false
}

func (o obj) bool(key string) (b, present bool) {
	switch v := o[key].(type) {
	case bool:
		return v, true
	case json.Number:
		return v.String() != "0", true
	case string:
		return v == "true" || v == "1" || v == "Y", true
	}
	return false, false
}

func (o obj) object(key string) (obj, bool) {
	m, ok := o[key].(map[string]any)
	return obj(m), ok
}

func (o obj) array(key string) ([]any, bool) {
	a, ok := o[key].([]any)
	return a, ok
}

// requestID returns the item's request_id, or its index.
func (o obj) requestID(i int) string {
	if s, ok := o.str("request_id"); ok && s != "" {
		return s
	}
	return strconv.Itoa(i)
}

// embeddedIDs returns the ids listed under _embedded[key][].id.
func (o obj) embeddedIDs(key string) ([]int64, bool) {
	emb, ok := o.object("_embedded")
	if !ok {
		return nil, true
	}
	arr, ok := emb.array(key)
	if !ok {
		return nil, !emb.has(key)
	}
	var ids []int64
	for _, it := range arr {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, false
		}
		id, present, valid := obj(m).int("id")
		if !present || !valid {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

// normalize converts decoded JSON for storage: json.Number becomes int64 when
// integral, float64 otherwise; containers are copied.
func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = normalize(x)
		}
		return m
	case obj:
		return normalize(map[string]any(t))
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = normalize(x)
		}
		return a
	}
	return v
}

// deepCopy copies a stored JSON value (maps and slices are duplicated).
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(t))
		for i, x := range t {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

func copyParams(p map[string]any) map[string]any {
	if p == nil {
		return map[string]any{}
	}
	return deepCopy(p).(map[string]any)
}

// listValues returns the values of a Kommo list filter given as name=1,
// name[]=1&name[]=2, name[0]=1 or name=1,2.
func listValues(q url.Values, name string) []string {
	var out []string
	for k, vs := range q {
		if k == name || k == name+"[]" || isIndexedKey(k, name) {
			for _, v := range vs {
				for _, p := range strings.Split(v, ",") {
					if p = strings.TrimSpace(p); p != "" {
						out = append(out, p)
					}
				}
			}
		}
	}
	return out
}

// isIndexedKey reports whether k is name[N].
func isIndexedKey(k, name string) bool {
	if len(k) < len(name)+3 || !strings.HasPrefix(k, name+"[") || !strings.HasSuffix(k, "]") {
		return false
	}
	return isIndex(k[len(name)+1 : len(k)-1])
}

func isIndex(s string) bool {
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

// listInts is listValues parsed as integers; ok is false on a non-integer.
func listInts(q url.Values, name string) ([]int64, bool) {
	var out []int64
	for _, v := range listValues(q, name) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, false
		}
		out = append(out, n)
	}
	return out, true
}

// maxPage is Kommo's largest page and batch.
const maxPage = 250

// paging reads limit (default 50, at most 250) and page (default 1). On a bad
// value it answers and returns ok=false.
func (c *call) paging() (limit, page int, ok bool) {
	q := c.r.URL.Query()
	limit, page = 50, 1
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			badRequest(c.w, "0", "InvalidType", "limit", "This value should be a positive integer.")
			return 0, 0, false
		}
		if n > maxPage {
			c.overLimit()
			return 0, 0, false
		}
		limit = n
	}
	if s := q.Get("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			badRequest(c.w, "0", "InvalidType", "page", "This value should be a positive integer.")
			return 0, 0, false
		}
		page = n
	}
	return limit, page, true
}

// overLimit answers Kommo's 422 for more than 250 items.
func (c *call) overLimit() { c.problem(http.StatusUnprocessableEntity, "Limit 250 per page") }

// pageOf returns the page's slice of n items as [from, to) and whether a next
// page exists.
func pageOf(n, limit, page int) (from, to int, next bool) {
	from = (page - 1) * limit
	if from > n {
		from = n
	}
	to = from + limit
	if to > n {
		to = n
	}
	return from, to, to < n
}

// list writes a paged HAL list of n items under _embedded[key], rendering
// only the page's items with view, or 204 when the page is empty.
func (c *call) list(key string, n, limit, page int, view func(i int) any) {
	from, to, next := pageOf(n, limit, page)
	if from == to {
		c.noContent()
		return
	}
	q := c.r.URL.Query()
	self := func(p int) map[string]any {
		q.Set("page", strconv.Itoa(p))
		q.Set("limit", strconv.Itoa(limit))
		return map[string]any{"href": c.baseURL() + c.r.URL.Path + "?" + q.Encode()}
	}
	links := map[string]any{"self": self(page)}
	if next {
		links["next"] = self(page + 1)
	}
	if page > 1 {
		links["prev"] = self(page - 1)
	}
	items := make([]any, 0, to-from)
	for i := from; i < to; i++ {
		items = append(items, view(i))
	}
	c.ok(http.StatusOK, map[string]any{
		"_page":     page,
		"_links":    links,
		"_embedded": map[string]any{key: items},
	})
}

// idsFrom returns [{id}] objects for _embedded lists.
func idsFrom(ids []int64) []any {
	out := make([]any, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]any{"id": id})
	}
	return out
}
