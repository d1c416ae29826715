package declarative

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"callbridge"
	"callbridge/twilio"
)

// Webhook authentication schemes (<webhook_auth type="…">).
const (
	authPlivoV3    = "plivo-v3"
	authTwilio     = "twilio"
	authHMACSHA256 = "hmac-sha256"
	authHMACSHA1   = "hmac-sha1"
	authHeader     = "header"
	authParam      = "param"
	authBasic      = "basic"
	authBearer     = "bearer"
)

// Plivo's V3 signature headers.
const (
	PlivoSignatureHeader = "X-Plivo-Signature-V3"
	PlivoNonceHeader     = "X-Plivo-Signature-V3-Nonce"
)

// authScheme is one <webhook_auth>.
type authScheme struct {
	typ      string
	secret   *tmpl // key or shared secret
	username *tmpl // basic
	header   string
	param    path
	encoding string // hex or base64
	prefix   string
	over     string // body, url or url+body
	optional bool
	line     int
}

func (p *parser) authScheme(n *node) *authScheme {
	a := &authScheme{typ: strings.ToLower(strings.TrimSpace(n.get("type"))), line: n.line}
	secret := func(names ...string) *tmpl {
		for _, name := range names {
			if v, line, ok := n.value(name); ok {
				return p.c.compile(v, line)
			}
		}
		return nil
	}
	if v, ok := n.attr("optional"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.fail(n.line, "optional=%q is not true or false", v)
		}
		a.optional = b
	}
	switch a.typ {
	case authPlivoV3, authTwilio:
		a.secret = secret("secret", "token", "auth_token")
	case authHMACSHA256, authHMACSHA1:
		a.secret = secret("secret", "key")
		a.header, _ = n.getAny("header", "name")
		a.encoding = strings.ToLower(n.get("encoding"))
		a.prefix = n.get("prefix")
		a.over = strings.ToLower(n.get("over"))
		switch a.encoding {
		case "":
			a.encoding = "hex"
		case "hex", "base64":
		default:
			p.fail(n.line, "encoding %q: use hex or base64", a.encoding)
		}
		switch a.over {
		case "":
			a.over = "body"
		case "body", "url", "url+body":
		default:
			p.fail(n.line, "over %q: use body, url or url+body", a.over)
		}
		if !validHeaderName(a.header) {
			p.fail(n.line, "%s needs the header that carries the signature (header=\"…\")", a.typ)
		}
	case authHeader:
		a.header, _ = n.getAny("header", "name")
		a.secret = secret("secret", "value")
		if !validHeaderName(a.header) {
			p.fail(n.line, "header auth needs a header name (header=\"…\")")
		}
	case authParam, "query":
		a.typ = authParam
		ps, ok := n.getAny("path", "name", "param")
		if !ok {
			p.fail(n.line, "param auth needs the payload path or query name of the secret (path=\"…\")")
		}
		var err error
		if a.param, err = compilePath(ps); err != nil && ok {
			p.fail(n.line, "param auth: %v", err)
		}
		a.secret = secret("secret", "value")
	case authBasic:
		a.username = secret("username", "user")
		a.secret = secret("password", "secret")
		if a.username == nil {
			p.fail(n.line, "basic webhook auth needs a username")
		}
	case authBearer:
		a.secret = secret("token", "secret")
	case "", "none":
		return nil
	default:
		p.fail(n.line, "webhook_auth type %q: use plivo-v3, twilio, hmac-sha256, hmac-sha1, header, param, basic, bearer or none", a.typ)
		return nil
	}
	if a.secret == nil {
		p.fail(n.line, "webhook_auth %s needs its secret (secret=\"$config.$fields.…\")", a.typ)
		return nil
	}
	return a
}

// authenticate checks a webhook against the definition's schemes. With no
// scheme the unguessable webhook URL is the only credential. A scheme whose
// secret the connection leaves empty is skipped when optional; otherwise the
// webhook is refused. When several schemes are configured, one must pass.
func (d *Definition) authenticate(e *env, req *callbridge.WebhookRequest) error {
	if len(d.webhookAuth) == 0 {
		return nil
	}
	configured, passed := 0, false
	for _, a := range d.webhookAuth {
		secret := a.secret.render(e, escNone)
		user := ""
		if a.username != nil {
			user = a.username.render(e, escNone)
		}
		if secret == "" && user == "" {
			if a.optional {
				continue
			}
			return callbridge.Errorf(callbridge.EUNAUTHORIZED, "The connection has no credentials to verify this webhook.")
		}
		configured++
		if a.verify(e, req, user, secret) {
			passed = true
		}
	}
	if configured == 0 || passed {
		return nil
	}
	return callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid webhook signature.")
}

// verify checks one scheme. Every comparison is constant-time.
func (a *authScheme) verify(e *env, req *callbridge.WebhookRequest, user, secret string) bool {
	h := req.Header
	if h == nil {
		h = http.Header{}
	}
	switch a.typ {
	case authPlivoV3:
		return ValidPlivoV3(secret, req.Method, req.URL, formParams(req), h.Get(PlivoNonceHeader), h.Get(PlivoSignatureHeader))
	case authTwilio:
		sig := h.Get(twilio.SignatureHeader)
		return sig != "" && twilio.ValidSignature(secret, req.URL, formParams(req), sig)
	case authHMACSHA256, authHMACSHA1:
		got := strings.TrimSpace(h.Get(a.header))
		if got == "" || !strings.HasPrefix(got, a.prefix) {
			return false
		}
		got = got[len(a.prefix):]
		var fn func() hash.Hash = sha256.New
		if a.typ == authHMACSHA1 {
			fn = sha1.New
		}
		mac := hmac.New(fn, []byte(secret))
		if a.over != "body" {
			mac.Write([]byte(req.URL))
		}
		if a.over != "url" {
			mac.Write(req.Body)
		}
		sum := mac.Sum(nil)
		if a.encoding == "base64" {
			want := base64.StdEncoding.EncodeToString(sum)
			return hmac.Equal([]byte(got), []byte(want))
		}
		return hmac.Equal([]byte(strings.ToLower(got)), []byte(hex.EncodeToString(sum)))
	case authHeader:
		return equal(h.Get(a.header), secret)
	case authParam:
		v, _ := e.doc.lookupString(a.param)
		return equal(v, secret)
	case authBasic:
		auth := h.Get("Authorization")
		scheme, cred, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Basic") {
			return false
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return false
		}
		u, pw, ok := strings.Cut(string(raw), ":")
		okUser := equal(u, user)
		okPass := equal(pw, secret)
		return ok && okUser && okPass
	case authBearer:
		auth := h.Get("Authorization")
		scheme, tok, ok := strings.Cut(auth, " ")
		return ok && strings.EqualFold(scheme, "Bearer") && equal(strings.TrimSpace(tok), secret)
	}
	return false
}

// equal compares in constant time; empty values never match.
func equal(got, want string) bool {
	if got == "" || want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// formParams returns the form parameters of a POST body (none for JSON).
func formParams(req *callbridge.WebhookRequest) url.Values {
	if req.Method == http.MethodGet || len(req.Body) == 0 {
		return url.Values{}
	}
	t := strings.TrimSpace(string(req.Body))
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		return url.Values{}
	}
	p, err := url.ParseQuery(string(req.Body))
	if err != nil {
		return url.Values{}
	}
	return p
}

// PlivoV3Base returns the string Plivo signs for a request (before the nonce
// is appended): the URL's scheme, host and path; then "?" and the URL's query
// parameters sorted as "k=v" pairs joined by "&", if any; then, for POST,
// "." (only after a query) and the POST parameters sorted by name, each as
// name followed by value. Repeated names contribute every value, sorted.
func PlivoV3Base(method, rawURL string, params url.Values) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	base := u.Scheme + "://" + u.Host + u.Path
	query := u.Query()
	if method == http.MethodGet {
		for k, vs := range params {
			query[k] = append(query[k], vs...)
		}
		params = nil
	}
	var qs []string
	for _, k := range slices.Sorted(maps.Keys(query)) {
		vs := slices.Clone(query[k])
		slices.Sort(vs)
		for _, v := range vs {
			qs = append(qs, k+"="+v)
		}
	}
	var ps strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			ps.WriteString(k)
			ps.WriteString(v)
		}
	}
	if len(qs) > 0 || ps.Len() > 0 {
		base += "?"
	}
	base += strings.Join(qs, "&")
	if len(qs) > 0 && ps.Len() > 0 {
		base += "."
	}
	return base + ps.String()
}

// SignPlivoV3 returns Plivo's X-Plivo-Signature-V3 for a request:
// base64(HMAC-SHA256(authToken, PlivoV3Base(method, url, params) + "." + nonce)).
func SignPlivoV3(authToken, method, rawURL string, params url.Values, nonce string) string {
	mac := hmac.New(sha256.New, []byte(authToken))
	mac.Write([]byte(PlivoV3Base(method, rawURL, params) + "." + nonce))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidPlivoV3 reports whether signatures (X-Plivo-Signature-V3, which may
// hold several comma-separated signatures) contains Plivo's signature of the
// request. Comparison is constant-time; an empty token, nonce or signature is
// never valid.
func ValidPlivoV3(authToken, method, rawURL string, params url.Values, nonce, signatures string) bool {
	if authToken == "" || nonce == "" || signatures == "" {
		return false
	}
	want := []byte(SignPlivoV3(authToken, method, rawURL, params, nonce))
	ok := false
	for _, s := range strings.Split(signatures, ",") {
		if hmac.Equal([]byte(strings.TrimSpace(s)), want) {
			ok = true
		}
	}
	return ok
}

// apply adds the provider's authentication to an outgoing request.
func (a *authDef) apply(req *http.Request, e *env) error {
	if a == nil {
		return nil
	}
	switch a.typ {
	case "basic":
		req.SetBasicAuth(a.username.render(e, escNone), a.password.render(e, escNone))
	case "bearer":
		tok := a.token.render(e, escNone)
		if strings.ContainsAny(tok, "\r\n") {
			return callbridge.Errorf(callbridge.EINVALID, "The provider token holds a line break.")
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case "header":
		v := a.val.render(e, escNone)
		if strings.ContainsAny(v, "\r\n") {
			return callbridge.Errorf(callbridge.EINVALID, "The provider credential holds a line break.")
		}
		req.Header.Set(a.name, v)
	case "query":
		q := req.URL.Query()
		q.Set(a.name, a.val.render(e, escNone))
		req.URL.RawQuery = q.Encode()
	}
	return nil
}
