package twilio

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"callbridge"
)

// History listing limits.
const (
	historyPageSize = 1000 // Twilio's largest page
	maxHistoryPages = 50   // at most 50 000 calls per listing
)

// callPage is one page of the Calls list resource.
type callPage struct {
	Calls       []json.RawMessage `json:"calls"`
	NextPageURI string            `json:"next_page_uri"`
}

// ListCallHistory lists the calls that started in [since, until) from
// Twilio's call log (GET /2010-04-01/Accounts/{sid}/Calls.json, filtered by
// StartTime>= and StartTime<= on UTC dates, then by the exact start time;
// pages of 1000 followed through next_page_uri, at most 50 pages) and maps
// every call record, parent and child legs alike, to the event the status
// callback of that leg in its current status would give: the same Key
// ("status:" + CallSid + ":" + status), ProviderCallID, LegID, Child,
// Direction, numbers and status mapping as ParseWebhook. An outbound-api
// call with an outbound-dial child in the listing is read as a click-to-call
// (see PlaceCall). OccurredAt is the end time of a finished call and the
// start time otherwise; Payload is the call record as JSON. Calls that have
// not started (queued) are left out; recordings are not listed (their
// callbacks bring them).
//
// Errors: EINVALID when until is not after since; otherwise those of the
// REST call (EUNAUTHORIZED, ERATELIMIT, transient EUNAVAILABLE).
func (c *Connector) ListCallHistory(ctx context.Context, conn *callbridge.Connection, since, until time.Time) ([]callbridge.CallEvent, error) {
	if !until.After(since) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The history range is empty.")
	}
	sid, _ := credentials(conn)
	if !isSID(sid) {
		return nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Twilio connection has no credentials.")
	}
	since, until = since.UTC(), until.UTC()
	listPath := accountPath(sid) + "/Calls.json"
	q := url.Values{
		"StartTime>=": {since.Format(time.DateOnly)},
		"StartTime<=": {until.Format(time.DateOnly)},
		"PageSize":    {"1000"},
	}
	next := listPath + "?" + q.Encode()

	type record struct {
		call callResource
		raw  json.RawMessage
	}
	var records []record
	for page := 0; next != "" && page < maxHistoryPages; page++ {
		data, err := c.api(ctx, conn, http.MethodGet, next, nil, false)
		if err != nil {
			return nil, err
		}
		var p callPage
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "Twilio sent an unreadable call list.")
		}
		for _, raw := range p.Calls {
			var call callResource
			if json.Unmarshal(raw, &call) == nil {
				records = append(records, record{call, raw})
			}
		}
		next = ""
		// Follow only the same list of the same account: the URI comes from
		// the network and must not send credentials elsewhere.
		if u := p.NextPageURI; strings.HasPrefix(u, listPath+"?") {
			next = u
		}
	}

	// Click-to-call: an API call whose <Dial> leg is in the listing.
	clickToCall := map[string]bool{}
	apiCalls := map[string]bool{}
	for _, r := range records {
		if r.call.ParentCallSID == "" && r.call.Direction == directionOutboundAPI {
			apiCalls[r.call.SID] = true
		}
	}
	for _, r := range records {
		if p := r.call.ParentCallSID; p != "" && apiCalls[p] && r.call.Direction == directionOutboundDial {
			clickToCall[p] = true
		}
	}

	now := time.Now().UTC()
	var out []callbridge.CallEvent
	for _, r := range records {
		call := r.call
		start := parseTimestamp(call.StartTime, "")
		if start.IsZero() || start.Before(since) || !start.Before(until) {
			continue
		}
		if call.AccountSID != "" && call.AccountSID != sid {
			continue
		}
		p := url.Values{
			"AccountSid": {sid}, "CallSid": {call.SID}, "CallStatus": {call.Status},
			"Direction": {call.Direction}, "From": {call.From}, "To": {call.To},
			"CallDuration": {call.Duration},
		}
		if call.ParentCallSID != "" {
			p.Set("ParentCallSid", call.ParentCallSID)
		}
		p.Set("Timestamp", call.StartTime)
		if terminal(strings.ToLower(call.Status)) && call.EndTime != "" {
			p.Set("Timestamp", call.EndTime)
		}
		flags := url.Values{}
		if clickToCall[call.SID] || clickToCall[call.ParentCallSID] {
			flags.Set(queryFlow, flowClickToCall)
		}
		m := mapper{conn: conn, p: p, q: flags, received: now, payload: []byte(r.raw)}
		evs, err := m.status()
		if err != nil {
			continue // a malformed record; the rest are still worth logging
		}
		out = append(out, evs...)
	}
	return out, nil
}

var _ callbridge.HistoryLister = (*Connector)(nil)
