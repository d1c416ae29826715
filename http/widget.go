package http

import (
	"context"
	nethttp "net/http"
	"net/url"
	"strings"

	"callbridge"
)

// The widget API (/api/widget/…) is called from the Kommo web interface with
// $authorizedAjax: cross-origin, from https://{subdomain}.kommo.com (or an
// amoCRM domain), with an X-Auth-Token header that names the account and
// user. Every endpoint acts for that account only.

// builtinOriginSuffixes are the Kommo domains whose subdomains may call the
// widget API over https.
var builtinOriginSuffixes = []string{".kommo.com", ".amocrm.com", ".amocrm.ru"}

// widgetAuth is who a widget request acts for.
type widgetAuth struct {
	Account *callbridge.Account
	UserID  int64 // Kommo user id
	Claims  *WidgetClaims
}

// widgetFrom returns the authenticated widget caller stored in ctx, or nil.
func widgetFrom(ctx context.Context) *widgetAuth {
	a, _ := ctx.Value(widgetKey).(*widgetAuth)
	return a
}

// widget wraps a widget API handler with CORS and X-Auth-Token
// authentication. The handler runs only for an active account; the caller
// (account, user, claims) is in the request context (widgetFrom).
func (s *Server) widget(h func(nethttp.ResponseWriter, *nethttp.Request, *widgetAuth)) nethttp.Handler {
	return s.cors(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		ctx := r.Context()
		claims, err := ParseWidgetToken(r.Header.Get("X-Auth-Token"), WidgetTokenOptions{
			Secret:   []byte(s.ClientSecret),
			ClientID: s.ClientID,
			Audience: s.WidgetAudience,
			Now:      s.now(),
		})
		if err != nil {
			Error(w, r, err)
			return
		}
		acct, err := s.Store.FindAccountByKommoID(ctx, claims.AccountID)
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			Error(w, r, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "callbridge is not installed in this Kommo account.", Err: err})
			return
		} else if err != nil {
			Error(w, r, unavailable(err))
			return
		}
		setAccount(r, acct.ID)
		if !acct.Active() {
			Error(w, r, callbridge.Errorf(callbridge.EGONE, "This integration was disconnected from Kommo."))
			return
		}
		r = r.WithContext(context.WithValue(ctx, widgetKey, &widgetAuth{Account: acct, UserID: claims.UserID, Claims: claims}))
		h(w, r, widgetFrom(r.Context()))
	}))
}

// cors applies the widget API's CORS policy: requests without an Origin
// header (not from a browser) pass; allowed origins are echoed in
// Access-Control-Allow-Origin; any other origin is refused with 403.
func (s *Server) cors(next nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin != "" {
			if !s.originAllowed(origin) {
				Error(w, r, callbridge.Errorf(callbridge.EFORBIDDEN, "Origin not allowed."))
				return
			}
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", "X-Request-Id, Retry-After")
		}
		next.ServeHTTP(w, r)
	})
}

// handlePreflight answers CORS preflight requests (OPTIONS) for the widget
// API; cors has already checked the origin.
func (s *Server) handlePreflight(w nethttp.ResponseWriter, r *nethttp.Request) {
	h := w.Header()
	h.Add("Vary", "Access-Control-Request-Method")
	h.Add("Vary", "Access-Control-Request-Headers")
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT")
	h.Set("Access-Control-Allow-Headers", "X-Auth-Token, Content-Type, X-Requested-With, X-Request-Id")
	h.Set("Access-Control-Max-Age", "600")
	h.Set("Allow", "GET, POST, PUT, OPTIONS")
	w.WriteHeader(nethttp.StatusNoContent)
}

// originAllowed reports whether a browser origin may call the widget API:
// https on a subdomain of kommo.com, amocrm.com or amocrm.ru (default port),
// or one of AllowedOrigins.
func (s *Server) originAllowed(origin string) bool {
	origin = strings.ToLower(origin)
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	if u.Scheme == "https" && u.Port() == "" {
		for _, suffix := range builtinOriginSuffixes {
			if subdomainOf(u.Hostname(), suffix) {
				return true
			}
		}
	}
	for _, allowed := range s.AllowedOrigins {
		allowed = strings.TrimRight(strings.ToLower(strings.TrimSpace(allowed)), "/")
		if allowed == origin {
			return true
		}
		scheme, rest, ok := strings.Cut(allowed, "://*.")
		if ok && scheme == u.Scheme && subdomainOf(u.Host, "."+rest) {
			return true
		}
	}
	return false
}

// subdomainOf reports whether host is one or more valid DNS labels followed by
// suffix (which starts with a dot).
func subdomainOf(host, suffix string) bool {
	prefix, ok := strings.CutSuffix(host, suffix)
	if !ok || prefix == "" {
		return false
	}
	for _, l := range strings.Split(prefix, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
