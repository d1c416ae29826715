package zenvia

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"callbridge"
)

// recordingParams are the query parameters a recording URL may carry: the
// call id, a signature and the customer id.
var recordingParams = map[string]bool{"id": true, "x": true, "cid": true}

// RecordingRequest returns a GET for a recording URL from a webhook's
// url_gravacao, e.g. https://api.evoline.com.br/rec/?id=37721262&x=7a8718b28b&cid=2150.
//
// The URL must be on one of Options.RecordingHosts (exact scheme and
// host[:port]; https unless listed with http://), carry no user info or
// fragment, have the path /rec/ (calls) or /recvm/ (voicemail), and a query
// of only id, x and cid, each 1–64 letters and digits. Anything else returns
// an *callbridge.Error with EFORBIDDEN. The URL is a capability (its x
// parameter signs it), so the request carries no credential: the access
// token never leaves for a recording host.
func (c *Connector) RecordingRequest(ctx context.Context, _ *callbridge.Connection, recordingURL string) (*http.Request, error) {
	forbidden := callbridge.Errorf(callbridge.EFORBIDDEN, "The recording URL is not a Zenvia recording.")
	u, err := url.Parse(strings.TrimSpace(recordingURL))
	if err != nil || u.Opaque != "" || u.User != nil || u.Fragment != "" || u.RawFragment != "" || u.RawPath != "" {
		return nil, forbidden
	}
	allowed := false
	for _, o := range c.hosts {
		if o.scheme == u.Scheme && o.host == strings.ToLower(u.Host) && u.Host != "" {
			allowed = true
		}
	}
	if !allowed || (u.Path != "/rec/" && u.Path != "/recvm/") {
		return nil, forbidden
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil || q.Get("id") == "" {
		return nil, forbidden
	}
	for k, vs := range q {
		if !recordingParams[k] || len(vs) != 1 || !isAlnum(vs[0]) {
			return nil, forbidden
		}
	}
	clean := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawQuery: q.Encode()}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clean.String(), nil)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the recording request.", Err: err}
	}
	return req, nil
}

// isAlnum reports whether s is 1 to 64 ASCII letters and digits.
func isAlnum(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z') {
			return false
		}
	}
	return true
}
