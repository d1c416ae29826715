package ringcentral

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"callbridge"
)

// RecordingRequest returns a GET for a recording's content, authorized with
// the connection's access token (Authorization: Bearer).
//
// The URL must be on one of Options.MediaHosts (exact scheme and host[:port];
// https unless the host was listed with http://), carry no user info, query
// or fragment, and its path must be exactly
// /restapi/v1.0/account/{account id or ~}/recording/{id}/content. Anything
// else returns an *callbridge.Error with EFORBIDDEN: a forged URL cannot send
// the access token to another host or path. Getting the token may return
// EUNAUTHORIZED or a transient error.
func (c *Connector) RecordingRequest(ctx context.Context, conn *callbridge.Connection, recordingURL string) (*http.Request, error) {
	forbidden := callbridge.Errorf(callbridge.EFORBIDDEN, "The recording URL is not a RingCentral recording.")
	u, err := url.Parse(strings.TrimSpace(recordingURL))
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery ||
		u.Fragment != "" || u.RawFragment != "" || u.RawPath != "" {
		return nil, forbidden
	}
	if !c.mediaAllowed(u.Scheme, u.Host) {
		return nil, forbidden
	}
	rest, ok := strings.CutPrefix(u.Path, "/restapi/v1.0/account/")
	if !ok {
		return nil, forbidden
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 4 || (parts[0] != "~" && !isToken(parts[0])) || parts[1] != "recording" || !isToken(parts[2]) || parts[3] != "content" {
		return nil, forbidden
	}
	tok, err := c.accessToken(ctx, conn, "")
	if err != nil {
		return nil, err
	}
	clean := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clean.String(), nil)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the recording request.", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	return req, nil
}

// mediaAllowed reports whether scheme://host is a configured media origin.
func (c *Connector) mediaAllowed(scheme, host string) bool {
	host = strings.ToLower(host)
	if host == "" {
		return false
	}
	for _, m := range c.media {
		if m.scheme == scheme && m.host == host {
			return true
		}
	}
	return false
}
