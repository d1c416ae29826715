package pipeline

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// DefaultRouteTimeout bounds the Kommo look-up behind a routing answer: a
// provider waits for the answer while the caller hears ringing.
const DefaultRouteTimeout = 1500 * time.Millisecond

// ContactSearcher finds Kommo contacts by phone (implemented by *kommo.Client,
// which caches results per number).
type ContactSearcher interface {
	SearchContacts(ctx context.Context, acct *callbridge.Account, phone string) ([]kommo.Contact, error)
}

// Router answers providers' synchronous incoming-call webhooks with smart
// forwarding: the caller's responsible manager in Kommo first (through the
// account's user → extension mapping), then the account's fallback, then
// voicemail when enabled. When Kommo is slow or down the answer falls back
// within Timeout instead of keeping the caller waiting.
type Router struct {
	Store   callbridge.Store
	Kommo   ContactSearcher
	Timeout time.Duration // default DefaultRouteTimeout
	Logger  *slog.Logger
}

// For returns the routing function for one webhook of conn, whose account
// the caller has just read (acct); with a nil acct the function reads it.
func (r *Router) For(acct *callbridge.Account, conn *callbridge.Connection) callbridge.Router {
	return func(ctx context.Context, req callbridge.RouteRequest) callbridge.RouteTarget {
		return r.route(ctx, acct, conn, req)
	}
}

// Route answers one routing request, reading the connection's account.
func (r *Router) Route(ctx context.Context, conn *callbridge.Connection, req callbridge.RouteRequest) callbridge.RouteTarget {
	return r.route(ctx, nil, conn, req)
}

func (r *Router) route(ctx context.Context, acct *callbridge.Account, conn *callbridge.Connection, req callbridge.RouteRequest) callbridge.RouteTarget {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = DefaultRouteTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	if acct == nil || acct.ID != conn.AccountID {
		var err error
		if acct, err = r.Store.FindAccount(ctx, conn.AccountID); err != nil {
			return callbridge.RouteTarget{Reason: "account unavailable"}
		}
	}
	if !acct.Active() {
		return callbridge.RouteTarget{Reason: "account unavailable"}
	}
	s := acct.Settings.WithDefaults()
	t := callbridge.RouteTarget{Fallback: s.Routing.Fallback, Voicemail: s.Routing.Voicemail, Reason: "fallback"}
	// No mapped extension means no manager to ring: spare Kommo the search.
	if s.Routing.Disabled || len(s.Extensions) == 0 || !callbridge.IsPhoneNumber(req.Customer) {
		return t
	}
	contacts, err := r.Kommo.SearchContacts(ctx, acct, req.Customer)
	if err != nil {
		log.Warn("routing: Kommo look-up failed or was too slow; using the fallback", "account_id", acct.ID,
			"connection_id", conn.ID, "error", err)
		t.Reason = "fallback (Kommo look-up failed)"
		return t
	}
	for _, c := range contacts {
		if c.ResponsibleUserID == 0 {
			continue
		}
		if ext := s.Extensions[strconv.FormatInt(c.ResponsibleUserID, 10)]; ext != "" {
			t.Agents = []string{ext}
			if t.Fallback == ext {
				t.Fallback = ""
			}
			t.Reason = "responsible manager"
			return t
		}
	}
	return t
}
