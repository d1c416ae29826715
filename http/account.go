package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"html"
	"log/slog"
	"net"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Limits on the OAuth install parameters.
const (
	maxInstallCode  = 4096 // bytes of the authorization code
	maxInstallState = 512  // bytes of state
	maxRefererHost  = 253  // bytes of the referer host (DNS limit), plus port
	// installTimeout bounds persisting an install code: Kommo waits 3 s for
	// the install webhook and never resends it.
	installTimeout = 2 * time.Second
)

// handleInstall is the OAuth redirect URI and Kommo's widget-install webhook:
// GET /oauth/install?code=…&referer=acme.kommo.com&state=…&from_widget=1.
//
// Kommo waits at most 3 s and never resends, so the code is persisted first
// (Store.CreateInstallCode, which also enqueues the exchange job in the same
// transaction) and exchanged later by a job; the answer is a small HTML page.
// error=access_denied (the user declined) and malformed input get a 400 page.
func (s *Server) handleInstall(w nethttp.ResponseWriter, r *nethttp.Request) {
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		msg := "The installation was not authorized."
		if e == "access_denied" {
			msg = "Access was denied, so callbridge was not installed. You can close this window."
		}
		recordError(r, callbridge.Errorf(callbridge.EINVALID, "OAuth error %q", truncate(e, 64)))
		writePage(w, nethttp.StatusBadRequest, "callbridge was not installed", msg)
		return
	}

	code, state := q.Get("code"), q.Get("state")
	referer, refererOK := refererHost(q.Get("referer"))
	var invalid string
	switch {
	case code == "":
		invalid = "The authorization code is missing."
	case len(code) > maxInstallCode || !printableASCII(code):
		invalid = "The authorization code is malformed."
	case !refererOK:
		invalid = "The account address (referer) is missing or malformed."
	case len(state) > maxInstallState:
		invalid = "The state parameter is too long."
	case q.Has("client_id") && s.ClientID != "" && q.Get("client_id") != s.ClientID:
		invalid = "The authorization is for another integration."
	}
	if invalid != "" {
		recordError(r, callbridge.Errorf(callbridge.EINVALID, "%s", invalid))
		writePage(w, nethttp.StatusBadRequest, "callbridge was not installed", invalid)
		return
	}

	ic := &callbridge.InstallCode{
		Code:       code,
		Referer:    referer,
		State:      state,
		FromWidget: truthy(q.Get("from_widget")),
		Status:     "pending",
		CreatedAt:  s.now(),
	}
	ctx, cancel := context.WithTimeout(r.Context(), installTimeout)
	defer cancel()
	if err := s.Store.CreateInstallCode(ctx, ic); err != nil {
		recordError(r, unavailable(err))
		writePage(w, nethttp.StatusServiceUnavailable, "callbridge could not be installed",
			"The installation could not be recorded. Please try installing again in a minute.")
		return
	}
	s.logger().LogAttrs(r.Context(), slog.LevelInfo, "install code received",
		slog.String("request_id", RequestID(r.Context())),
		slog.Int64("install_code_id", ic.ID),
		slog.String("referer", referer),
		slog.Bool("from_widget", ic.FromWidget))
	writePage(w, nethttp.StatusOK, "callbridge is being installed",
		"callbridge received the authorization and is finishing the installation. You can close this window.")
}

// handleDisconnect is Kommo's "access revoked" hook:
// GET /oauth/disconnect?client_uuid=…&account_id=…&signature=…, where
// signature = hex(HMAC-SHA256(key=client_secret, msg=client_id+"|"+account_id)).
// A verified request marks the account disconnected, which stops all work for
// it; an unknown account is answered 200 with nothing to do.
func (s *Server) handleDisconnect(w nethttp.ResponseWriter, r *nethttp.Request) {
	q := r.URL.Query()
	rawID := q.Get("account_id")
	if !s.verifyDisconnect(q.Get("client_uuid"), rawID, q.Get("signature")) {
		Error(w, r, callbridge.Errorf(callbridge.EUNAUTHORIZED, "Invalid signature."))
		return
	}
	kommoID, err := strconv.ParseInt(rawID, 10, 64)
	if err != nil || kommoID <= 0 {
		Error(w, r, callbridge.Errorf(callbridge.EINVALID, "Invalid account_id."))
		return
	}

	ctx := r.Context()
	acct, err := s.Store.FindAccountByKommoID(ctx, kommoID)
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		writeJSON(w, nethttp.StatusOK, map[string]string{"status": "unknown_account"})
		return
	} else if err != nil {
		Error(w, r, unavailable(err))
		return
	}
	setAccount(r, acct.ID)
	if err := s.Store.SetAccountStatus(ctx, acct.ID, callbridge.AccountDisconnected); err != nil {
		Error(w, r, unavailable(err))
		return
	}
	s.accountChanged(acct.ID)
	s.logger().LogAttrs(ctx, slog.LevelInfo, "account disconnected by Kommo",
		slog.String("request_id", RequestID(ctx)),
		slog.Int64("account_id", acct.ID),
		slog.Int64("kommo_account_id", kommoID))
	writeJSON(w, nethttp.StatusOK, map[string]string{"status": "disconnected"})
}

// verifyDisconnect checks the disconnect hook's client and signature in
// constant time. It refuses everything when the client id or secret is unset.
func (s *Server) verifyDisconnect(clientUUID, accountID, signature string) bool {
	if s.ClientID == "" || s.ClientSecret == "" || accountID == "" || len(accountID) > 20 {
		return false
	}
	clientOK := subtle.ConstantTimeCompare([]byte(clientUUID), []byte(s.ClientID)) == 1
	got, err := hex.DecodeString(signature)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	mac := hmac.New(sha256.New, []byte(s.ClientSecret))
	mac.Write([]byte(s.ClientID + "|" + accountID))
	return hmac.Equal(mac.Sum(nil), got) && clientOK
}

// refererHost validates Kommo's referer parameter, the account's host such as
// "acme.kommo.com" (optionally with a port, for the emulator), and returns it
// lowercased. Schemes, paths, user info and anything that is not a plausible
// host name or IP address are refused.
func refererHost(s string) (string, bool) {
	s = strings.ToLower(s)
	if s == "" || len(s) > maxRefererHost+6 {
		return "", false
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", false
		}
	}
	if host == "" || len(host) > maxRefererHost {
		return "", false
	}
	if net.ParseIP(host) != nil {
		return s, port != "" || !strings.Contains(host, ":") // bare IPv6 needs brackets
	}
	if host == "localhost" {
		return s, true
	}
	labels := strings.Split(host, ".")
	if len(labels) < 2 {
		return "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", false
			}
		}
	}
	return s, true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "n", "off":
		return false
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// writePage writes a small self-contained HTML page. The pages are shown in
// the OAuth popup; their URL carries the authorization code, so they send no
// referrer and are never cached.
func writePage(w nethttp.ResponseWriter, status int, title, message string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.WriteHeader(status)
	t, m := html.EscapeString(title), html.EscapeString(message)
	_, _ = w.Write([]byte("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + t +
		"</title><style>body{font-family:sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}</style></head>" +
		"<body><h1>" + t + "</h1><p>" + m + "</p></body></html>\n"))
}
