package http

import (
	"context"
	nethttp "net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Click-to-call: POST /api/widget/calls {phone, connection_id?}. The
// provider rings the caller's own extension (Settings.Extensions) first and
// then connects the customer; the call's progress arrives as ordinary
// webhooks of the connection.

// placeCallTimeout bounds CallPlacer.PlaceCall.
const placeCallTimeout = 20 * time.Second

// placeRequest is the body of POST /api/widget/calls.
type placeRequest struct {
	Phone        string `json:"phone"`
	ConnectionID int64  `json:"connection_id"`
}

// placedView is the answer to a click-to-call.
type placedView struct {
	ConnectionID   int64  `json:"connection_id"`
	ProviderCallID string `json:"provider_call_id"`
	CustomerNumber string `json:"customer_number"`
}

// dialPlan is a checked click-to-call, ready to place.
type dialPlan struct {
	conn     *callbridge.Connection
	placer   callbridge.CallPlacer
	agent    string
	customer string
}

// planCall checks everything a click-to-call needs without placing it: the
// caller's extension, the number, and a connection (the named one, or the
// account's first whose provider can place calls).
func (s *Server) planCall(ctx context.Context, a *widgetAuth, phone string, connectionID int64) (*dialPlan, error) {
	invalid := func(format string, args ...any) error {
		return callbridge.Errorf(callbridge.EINVALID, format, args...)
	}
	st := a.Account.Settings.WithDefaults()
	agent := strings.TrimSpace(st.Extensions[strconv.FormatInt(a.UserID, 10)])
	if agent == "" {
		return nil, invalid("No extension is assigned to you. Ask an administrator to map your Kommo user to an extension in callbridge's advanced settings.")
	}
	if len(phone) > 64 {
		return nil, invalid("phone is too long.")
	}
	customer := callbridge.NormalizePhone(phone, st.Country)
	if !callbridge.IsPhoneNumber(customer) {
		return nil, invalid("%q is not a phone number that can be called.", truncate(strings.TrimSpace(phone), 40))
	}
	var conns []*callbridge.Connection
	if connectionID != 0 {
		c, err := s.Store.FindConnection(ctx, a.Account.ID, connectionID)
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			return nil, invalid("connection_id does not name a connection of this account.")
		} else if err != nil {
			return nil, unavailable(err)
		}
		conns = []*callbridge.Connection{c}
	} else {
		var err error
		if conns, err = s.Store.ListConnections(ctx, a.Account.ID); err != nil {
			return nil, unavailable(err)
		}
	}
	for _, c := range conns {
		if c.AccountID != a.Account.ID {
			continue
		}
		if p, ok := s.Connectors[c.Provider].(callbridge.CallPlacer); ok {
			return &dialPlan{conn: c, placer: p, agent: agent, customer: customer}, nil
		}
	}
	if connectionID != 0 {
		return nil, invalid("This connection's provider cannot place calls.")
	}
	return nil, invalid("No connected provider can place calls. Connect one in callbridge's settings.")
}

// place places a planned call.
func (s *Server) place(ctx context.Context, p *dialPlan) (*placedView, error) {
	ctx, cancel := context.WithTimeout(ctx, placeCallTimeout)
	defer cancel()
	placed, err := p.placer.PlaceCall(ctx, p.conn, callbridge.PlaceCallRequest{
		Agent:     p.agent,
		Customer:  p.customer,
		StatusURL: s.baseURL() + "/webhooks/" + p.conn.Token,
	})
	if err != nil {
		switch {
		case callbridge.ErrorKind(err) == callbridge.KindUncertain:
			return nil, &callbridge.Error{Code: callbridge.EUNAVAILABLE, Kind: callbridge.KindUncertain, Err: err,
				Message: "The provider did not confirm the call; it may have been placed. Check your phone before calling again."}
		case callbridge.ErrorCode(err) == callbridge.EUNAUTHORIZED:
			return nil, &callbridge.Error{Code: callbridge.EINVALID, Err: err,
				Message: "The provider refused the connection's credentials; an administrator must update them in callbridge's settings."}
		}
		return nil, err
	}
	if placed == nil || placed.ProviderCallID == "" {
		return nil, callbridge.Errorf(callbridge.EUNAVAILABLE, "The provider did not name the call it placed.")
	}
	return &placedView{ConnectionID: p.conn.ID, ProviderCallID: placed.ProviderCallID, CustomerNumber: p.customer}, nil
}

// handlePlaceCall is POST /api/widget/calls: click-to-call from a phone
// number in Kommo or the widget's keypad. 201 with the placed call
// (connection_id, provider_call_id: the ids the realtime channel and the
// call-result endpoint use).
func (s *Server) handlePlaceCall(w nethttp.ResponseWriter, r *nethttp.Request, a *widgetAuth) {
	body, err := readBody(w, r, s.maxBody())
	if err != nil {
		Error(w, r, err)
		return
	}
	var req placeRequest
	if err := decodeJSON(body, &req); err != nil {
		Error(w, r, err)
		return
	}
	if strings.TrimSpace(req.Phone) == "" {
		Error(w, r, callbridge.Errorf(callbridge.EINVALID, "phone is required."))
		return
	}
	plan, err := s.planCall(r.Context(), a, req.Phone, req.ConnectionID)
	if err != nil {
		Error(w, r, err)
		return
	}
	placed, err := s.place(r.Context(), plan)
	if err != nil {
		Error(w, r, err)
		return
	}
	writeJSON(w, nethttp.StatusCreated, placed)
}
