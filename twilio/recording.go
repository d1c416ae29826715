package twilio

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"callbridge"
)

// RecordingRequest returns an authenticated GET for the media of a recording
// whose URL came from one of this connector's events.
//
// The URL must be https on one of Options.RecordingHosts (exact host[:port]
// match; http only for hosts listed as "http://host:port"), carry no user
// info, query or fragment, and its path must be exactly
// /2010-04-01/Accounts/{conn's account_sid}/Recordings/{RE…} with an optional
// ".mp3" or ".wav" extension. Without an extension ".mp3" is appended (Twilio
// serves WAV by default; MP3 is a tenth of the size). The request carries HTTP
// Basic auth account_sid:auth_token, which Twilio requires when the account
// enforces authentication on media URLs. Any other URL returns an
// *callbridge.Error with EFORBIDDEN: a forged URL cannot make callbridge fetch
// another host or another account's recording with these credentials.
func (c *Connector) RecordingRequest(ctx context.Context, conn *callbridge.Connection, recordingURL string) (*http.Request, error) {
	forbidden := callbridge.Errorf(callbridge.EFORBIDDEN, "The recording URL is not a recording of this Twilio account.")
	sid, token := credentials(conn)
	if !isSID(sid) || token == "" {
		return nil, callbridge.Errorf(callbridge.EFORBIDDEN, "The Twilio connection has no credentials.")
	}
	u, err := url.Parse(strings.TrimSpace(recordingURL))
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || u.RawFragment != "" || u.RawPath != "" {
		return nil, forbidden
	}
	if !c.recordingHostAllowed(u.Scheme, u.Host) {
		return nil, forbidden
	}
	prefix := "/" + APIVersion + "/Accounts/" + sid + "/Recordings/"
	name, ok := strings.CutPrefix(u.Path, prefix)
	if !ok {
		return nil, forbidden
	}
	base, ext := name, ""
	if i := strings.IndexByte(name, '.'); i >= 0 {
		base, ext = name[:i], name[i:]
	}
	switch ext {
	case "":
		ext = ".mp3"
	case ".mp3", ".wav":
	default:
		return nil, forbidden
	}
	if !strings.HasPrefix(base, "RE") || !isSID(base) {
		return nil, forbidden
	}
	media := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: prefix + base + ext}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, media.String(), nil)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the recording request.", Err: err}
	}
	req.SetBasicAuth(sid, token)
	return req, nil
}

// recordingHostAllowed reports whether scheme://host is a configured recording
// origin.
func (c *Connector) recordingHostAllowed(scheme, host string) bool {
	host = strings.ToLower(host)
	if host == "" {
		return false
	}
	for _, h := range c.recordingHosts {
		if h.scheme == scheme && h.host == host {
			return true
		}
	}
	return false
}

// isSID reports whether s looks like a Twilio SID: 2 to maxSIDLen ASCII
// letters and digits.
func isSID(s string) bool {
	if len(s) < 2 || len(s) > maxSIDLen {
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
