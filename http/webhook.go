package http

import (
	"log/slog"
	nethttp "net/http"

	"callbridge"
)

// maxWebhookToken bounds the token path segment before any database lookup.
const maxWebhookToken = 128

// handleWebhook receives a provider webhook at /webhooks/{token}[/{rest...}].
//
// The token names the connection (looked up with its account at most
// cacheTTL ago); its account must be active; the body is
// read up to MaxBodyBytes; the connection's connector authenticates and parses
// the request against PublicURL + path + query; the events are ingested in one
// transaction; only then is the connector's reply written. Any failure after
// authentication that a retry could fix is a 503, so the provider retries.
func (s *Server) handleWebhook(w nethttp.ResponseWriter, r *nethttp.Request) {
	ctx := r.Context()
	receivedAt := s.now()

	token := r.PathValue("token")
	if token == "" || len(token) > maxWebhookToken {
		Error(w, r, callbridge.Errorf(callbridge.ENOTFOUND, "Not found."))
		return
	}
	conn, acct, err := s.lookupTarget(ctx, token, receivedAt)
	if err != nil {
		if conn == nil && callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			// Generic: say nothing about tokens or connections.
			Error(w, r, &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Not found.", Err: err})
			return
		}
		Error(w, r, unavailable(err))
		return
	}
	setAccount(r, conn.AccountID)
	if !acct.Active() {
		s.logger().LogAttrs(ctx, slog.LevelWarn, "webhook for a disconnected account",
			slog.String("request_id", RequestID(ctx)),
			slog.Int64("account_id", acct.ID),
			slog.Int64("connection_id", conn.ID),
			slog.String("provider", conn.Provider))
		Error(w, r, callbridge.Errorf(callbridge.EGONE, "This integration was disconnected from Kommo."))
		return
	}

	connector := s.Connectors[conn.Provider]
	if connector == nil {
		Error(w, r, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Message: "Provider not available.",
			Err: callbridge.Errorf(callbridge.EINTERNAL, "no connector %q configured", conn.Provider)})
		return
	}

	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}

	req := &callbridge.WebhookRequest{
		URL:        s.baseURL() + r.URL.RequestURI(),
		Method:     r.Method,
		Header:     r.Header.Clone(),
		Body:       body,
		ReceivedAt: receivedAt,
	}
	if s.Router != nil {
		req.Route = s.Router(acct, conn)
	}
	events, reply, err := connector.ParseWebhook(ctx, conn, req)
	if err != nil {
		if callbridge.ErrorCode(err) == callbridge.EINTERNAL {
			// A connector bug: let the provider retry once it is fixed.
			err = unavailable(err)
		}
		Error(w, r, err) // EUNAUTHORIZED 401, EINVALID 400, …
		return
	}

	if len(events) > 0 {
		for i := range events {
			events[i].AccountID = conn.AccountID
			events[i].ConnectionID = conn.ID
			events[i].ReceivedAt = receivedAt
		}
		if err := s.Ingester.Ingest(ctx, conn, events); err != nil {
			if callbridge.ErrorCode(err) == callbridge.EGONE {
				Error(w, r, err)
				return
			}
			Error(w, r, unavailable(err))
			return
		}
	}
	writeReply(w, reply)
}

// writeReply writes the connector's reply; nil means an empty 200.
func writeReply(w nethttp.ResponseWriter, reply *callbridge.WebhookReply) {
	if reply == nil {
		w.WriteHeader(nethttp.StatusOK)
		return
	}
	status := reply.Status
	if status == 0 {
		status = nethttp.StatusOK
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if reply.ContentType != "" {
		w.Header().Set("Content-Type", reply.ContentType)
	} else if len(reply.Body) > 0 {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(reply.Body)
}

// unavailable turns a failure of a dependency into a 503 so that the caller
// retries; err stays the logged cause.
func unavailable(err error) *callbridge.Error {
	return &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindTransient, Message: "Temporarily unavailable; please retry.", Err: err}
}
