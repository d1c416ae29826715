package http

import (
	"errors"
	"io"
	"log/slog"
	"net"
	nethttp "net/http"
	"net/url"
	"strconv"
	"time"

	"callbridge"
)

// maxRecordingToken bounds the /rec/ token before it is parsed.
const maxRecordingToken = 128

// handleRecording is GET /rec/{token}: stream a call's recording from its
// provider. The token (callbridge.SignRecordingToken) names the account and
// call and expires; the provider request is built by the call's connector,
// which refuses URLs outside the provider's hosts (403) and adds the
// provider's credentials. Range and If-Range are forwarded; the status (200,
// 206 or 416), Content-Type, Content-Length, Content-Range, ETag and
// Last-Modified are passed back, always with Accept-Ranges: bytes. Nothing of
// the provider request (URL, credentials) appears in the response or logs.
func (s *Server) handleRecording(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	token := r.PathValue("token")
	if len(s.RecordingKey) == 0 || len(token) > maxRecordingToken {
		Error(w, r, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid recording link."))
		return
	}
	accountID, callID, err := callbridge.ParseRecordingToken(s.RecordingKey, token, s.now())
	if err != nil {
		Error(w, r, err) // 401 forged, 410 expired
		return
	}
	setAccount(r, accountID)

	acct, err := s.Store.FindAccount(ctx, accountID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		Error(w, r, &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Recording not found.", Err: err})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	if !acct.Active() {
		Error(w, r, callbridge.Errorf(callbridge.EGONE, "This integration was disconnected from Kommo."))
		return
	}
	call, err := s.Store.FindCall(ctx, accountID, callID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		Error(w, r, &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Recording not found.", Err: err})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	if call.RecordingURL == "" {
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "No recording yet."))
		return
	}
	conn, err := s.Store.FindConnection(ctx, accountID, call.ConnectionID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		Error(w, r, &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Recording not found.", Err: err})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	connector := s.Connectors[conn.Provider]
	if connector == nil {
		Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Message: "Provider not available.",
			Err: callbridge.Errorf(callbridge.EINTERNAL, "no connector %q configured", conn.Provider)})
		return
	}
	preq, err := connector.RecordingRequest(ctx, conn, call.RecordingURL)
	if err != nil {
		// EFORBIDDEN: the URL is not on the provider's hosts.
		Error(w, r, err)
		return
	}
	preq = preq.WithContext(ctx)
	for _, h := range []string{"Range", "If-Range"} {
		if v := r.Header.Get(h); v != "" {
			preq.Header.Set(h, v)
		}
	}

	resp, err := s.httpClient().Do(preq)
	if err != nil {
		// Log the cause without the URL: it may carry credentials.
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err
		}
		Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient,
			Message: "The provider did not send the recording; please retry.",
			Err:     errors.New("recording fetch from " + preq.URL.Hostname() + ": " + cause.Error())})
		return
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case nethttp.StatusOK, nethttp.StatusPartialContent, nethttp.StatusRequestedRangeNotSatisfiable:
	case nethttp.StatusNotFound, nethttp.StatusGone:
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "The provider has no such recording."))
		return
	default:
		Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient,
			Message: "The provider did not send the recording; please retry.",
			Err:     errors.New("recording fetch from " + preq.URL.Hostname() + ": status " + strconv.Itoa(resp.StatusCode))})
		return
	}

	h := w.Header()
	for _, k := range []string{"Content-Type", "Content-Range", "ETag", "Last-Modified"} {
		if v := resp.Header.Get(k); v != "" {
			h.Set(k, v)
		}
	}
	if h.Get("Content-Type") == "" && resp.StatusCode != nethttp.StatusRequestedRangeNotSatisfiable {
		h.Set("Content-Type", "application/octet-stream")
	}
	if resp.ContentLength >= 0 {
		h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", "private, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Disposition", "inline")
	w.WriteHeader(resp.StatusCode)
	if r.Method == nethttp.MethodHead {
		return
	}
	if n, err := io.Copy(w, resp.Body); err != nil {
		// Headers are gone; the client sees a short body.
		s.logger().LogAttrs(ctx, slog.LevelWarn, "recording stream interrupted",
			slog.String("request_id", RequestID(ctx)),
			slog.Int64("account_id", accountID),
			slog.Int64("call_id", callID),
			slog.Int64("bytes", n),
			slog.String("error", err.Error()))
	}
}

// httpClient returns HTTPClient or the default recording client.
func (s *Server) httpClient() *nethttp.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		s.client = &nethttp.Client{
			Transport: &nethttp.Transport{
				Proxy:                 nethttp.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				IdleConnTimeout:       90 * time.Second,
				MaxIdleConnsPerHost:   8,
				ForceAttemptHTTP2:     true,
			},
			CheckRedirect: func(req *nethttp.Request, via []*nethttp.Request) error {
				if len(via) >= 5 {
					return errors.New("too many redirects")
				}
				if via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
					return errors.New("redirect from https to http refused")
				}
				return nil
			},
		}
	}
	return s.client
}
