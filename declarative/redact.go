package declarative

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// redacted replaces secrets in stored payloads.
const redacted = "[redacted]"

// redactPaths replaces the values at paths in a JSON or form body. A path
// into a form field that holds JSON (Ozonetel's data.Apikey) rewrites that
// JSON. A body that cannot be decoded is returned unchanged (the secret-value
// replacement still applies to it).
func redactPaths(body []byte, header http.Header, paths []path) []byte {
	t := bytes.TrimSpace(body)
	if len(t) == 0 {
		return body
	}
	ct := ""
	if header != nil {
		ct, _, _ = mime.ParseMediaType(header.Get("Content-Type"))
	}
	if t[0] == '{' || strings.Contains(ct, "json") {
		v, err := decodeJSON(t)
		if err != nil {
			return body
		}
		changed := false
		for _, p := range paths {
			if p.root == "" {
				v = redactValue(v, p.segs, &changed)
			}
		}
		if !changed {
			return body
		}
		out, err := json.Marshal(v)
		if err != nil {
			return body
		}
		return out
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return body
	}
	changed := false
	for _, p := range paths {
		if p.root != "" {
			continue
		}
		for i := len(p.segs); i >= 1; i-- {
			key := strings.Join(p.segs[:i], ".")
			vals, ok := form[key]
			if !ok {
				continue
			}
			rest := p.segs[i:]
			for j, s := range vals {
				if len(rest) == 0 {
					vals[j], changed = redacted, true
					continue
				}
				v, err := decodeJSON([]byte(strings.TrimSpace(s)))
				if err != nil {
					continue
				}
				c := false
				v = redactValue(v, rest, &c)
				if c {
					if b, err := json.Marshal(v); err == nil {
						vals[j], changed = string(b), true
					}
				}
			}
			break
		}
	}
	if !changed {
		return body
	}
	return []byte(form.Encode())
}

// redactValue replaces the value at segs inside a decoded JSON value.
func redactValue(v any, segs []string, changed *bool) any {
	if len(segs) == 0 {
		*changed = true
		return redacted
	}
	switch x := v.(type) {
	case map[string]any:
		for i := len(segs); i >= 1; i-- {
			key := strings.Join(segs[:i], ".")
			if c, ok := x[key]; ok {
				x[key] = redactValue(c, segs[i:], changed)
				return x
			}
		}
		for k, c := range x {
			if strings.EqualFold(k, segs[0]) {
				x[k] = redactValue(c, segs[1:], changed)
				return x
			}
		}
	case []any:
		if i, err := strconv.Atoi(segs[0]); err == nil && i >= 0 && i < len(x) {
			x[i] = redactValue(x[i], segs[1:], changed)
		}
	case string:
		t := strings.TrimSpace(x)
		if len(t) > 1 && (t[0] == '{' || t[0] == '[') {
			if inner, err := decodeJSON([]byte(t)); err == nil {
				c := false
				inner = redactValue(inner, segs, &c)
				if c {
					if b, err := json.Marshal(inner); err == nil {
						*changed = true
						return string(b)
					}
				}
			}
		}
	}
	return v
}
