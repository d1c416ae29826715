package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Sign returns the X-Twilio-Signature Twilio computes for a request to rawURL
// carrying the POST parameters params, with the account's auth token as key:
//
//	base64(HMAC-SHA1(authToken, rawURL + k1 + v1 + k2 + v2 + …))
//
// rawURL is the full URL including its query string, exactly as configured in
// Twilio. Parameters are sorted by name in byte order (Unix-style,
// case-sensitive); a name that occurs several times contributes each of its
// distinct values once, in sorted order, each preceded by the name (the rule
// of Twilio's own helper libraries). For a JSON body, params is empty and the
// body is bound to the signature by the bodySHA256 query parameter of rawURL.
func Sign(authToken, rawURL string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, rawURL)
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vals := slices.Clone(params[k])
		slices.Sort(vals)
		for _, v := range slices.Compact(vals) {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ValidSignature reports whether signature is Twilio's signature of a request
// to rawURL with the POST parameters params. Comparison is constant-time. An
// empty token or signature is never valid.
//
// Like Twilio's helper libraries it also accepts the signature of rawURL with
// its scheme's default port made explicit (":443" for https, ":80" for http)
// or, when rawURL names the default port, with that port removed: Twilio is
// not consistent about it. Any other difference in scheme, host, port, path
// or query is refused.
func ValidSignature(authToken, rawURL string, params url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	ok := false
	for _, u := range urlVariants(rawURL) {
		// Evaluate every variant: the time taken does not depend on which one
		// matched.
		if hmac.Equal([]byte(Sign(authToken, u, params)), []byte(signature)) {
			ok = true
		}
	}
	return ok
}

// urlVariants returns rawURL followed by its default-port twin, if any.
func urlVariants(rawURL string) []string {
	out := []string{rawURL}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return out
	}
	var def string
	switch u.Scheme {
	case "https":
		def = "443"
	case "http":
		def = "80"
	default:
		return out
	}
	switch u.Port() {
	case "":
		if strings.HasSuffix(u.Host, ":") { // "host:" — an empty port
			return out
		}
		u.Host += ":" + def
	case def:
		u.Host = strings.TrimSuffix(u.Host, ":"+def)
	default:
		return out
	}
	if v := u.String(); v != rawURL {
		out = append(out, v)
	}
	return out
}

// validBodyHash reports whether want (the bodySHA256 query parameter, hex) is
// the SHA-256 of body. Comparison is constant-time and ignores hex case.
func validBodyHash(body []byte, want string) bool {
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	return want != "" && hmac.Equal([]byte(got), []byte(strings.ToLower(want)))
}
