package kommo

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"callbridge"
)

// Call statuses of POST /api/v4/calls (call_status).
const (
	CallStatusLeftMessage   = 1 // left a voice message
	CallStatusCallBackLater = 2
	CallStatusNotAvailable  = 3
	CallStatusConversation  = 4 // had a conversation
	CallStatusInvalidNumber = 5
	CallStatusNotReached    = 6 // no connection
	CallStatusBusy          = 7 // line busy
)

// CallInput is one call for POST /api/v4/calls. Kommo finds the entity by
// the last 10 digits of Phone and adds a call_in/call_out note to it.
type CallInput struct {
	Direction  string // "inbound" or "outbound" (required)
	Phone      string // the other party's number (required)
	Duration   int    // seconds (>= 0)
	Source     string // shown as the integration's name (required)
	Uniq       string // our call key, for finding the note again
	Link       string // recording URL; Kommo shows a player
	CallResult string // note text
	CallStatus int    // 1–7 (CallStatus*); 0 = not sent
	// ResponsibleUserID and CreatedBy are Kommo user ids; 0 = not sent (the
	// call then counts as made by a robot in Kommo's statistics).
	ResponsibleUserID int64
	CreatedBy         int64
	CreatedAt         time.Time // zero = now (Kommo's clock)
}

func (in CallInput) validate() error {
	switch {
	case in.Direction != "inbound" && in.Direction != "outbound":
		return callbridge.Errorf(callbridge.EINVALID, "kommo: call direction must be inbound or outbound")
	case strings.TrimSpace(in.Phone) == "":
		return callbridge.Errorf(callbridge.EINVALID, "kommo: call without a phone number")
	case strings.TrimSpace(in.Source) == "":
		return callbridge.Errorf(callbridge.EINVALID, "kommo: call without a source")
	case in.Duration < 0:
		return callbridge.Errorf(callbridge.EINVALID, "kommo: negative call duration")
	case in.CallStatus < 0 || in.CallStatus > 8:
		return callbridge.Errorf(callbridge.EINVALID, "kommo: call status out of range")
	}
	return nil
}

// CallCreated is Kommo's answer for one logged call.
type CallCreated struct {
	NoteID     int64  // the call's "id": the id of its call_in/call_out note
	EntityID   int64  // the entity the note was added to
	EntityType string // leads, contacts, companies or customers
}

type callBody struct {
	Direction         string `json:"direction"`
	Duration          int    `json:"duration"`
	Source            string `json:"source"`
	Phone             string `json:"phone"`
	Uniq              string `json:"uniq,omitempty"`
	Link              string `json:"link,omitempty"`
	CallResult        string `json:"call_result,omitempty"`
	CallStatus        int    `json:"call_status,omitempty"`
	ResponsibleUserID int64  `json:"responsible_user_id,omitempty"`
	CreatedBy         int64  `json:"created_by,omitempty"`
	CreatedAt         int64  `json:"created_at,omitempty"`
	RequestID         string `json:"request_id"`
}

// AddCall logs one call with POST /api/v4/calls. Concurrent calls for the
// same account are sent together, up to Config.BatchSize per request; each
// caller gets its own item's result.
//
// Errors: an unknown number is ENOTFOUND "Entity not found" (permanent);
// other rejected items are EINVALID (permanent); a request that was sent
// without a readable answer (or answered 5xx) is KindUncertain — look for a
// note with in.Uniq before writing again.
func (c *Client) AddCall(ctx context.Context, acct *callbridge.Account, in CallInput) (*CallCreated, error) {
	if err := checkAccount(acct); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	return c.calls.do(ctx, acct, "calls", in)
}

var callsSpec = &batchSpec[CallInput, *CallCreated]{
	method: http.MethodPost, route: "POST /api/v4/calls", path: "/api/v4/calls",
	encode: func(in CallInput, rid string) any {
		return callBody{
			Direction: in.Direction, Duration: in.Duration, Source: in.Source, Phone: in.Phone,
			Uniq: in.Uniq, Link: in.Link, CallResult: in.CallResult, CallStatus: in.CallStatus,
			ResponsibleUserID: in.ResponsibleUserID, CreatedBy: in.CreatedBy, CreatedAt: unix(in.CreatedAt),
			RequestID: rid,
		}
	},
	parse: parseCalls,
}

func (c *Client) flushCalls(ctx context.Context, acct *callbridge.Account, _ string, take func() []CallInput) ([]outcome[*CallCreated], error) {
	return runBatch(ctx, c, acct, callsSpec, take)
}

// parseCalls reads {"errors":[…],"_embedded":{"calls":[{id, entity_id,
// entity_type, request_id}]}} (200, or 400 when every item failed) and a
// 400's validation-errors.
func parseCalls(resp *response, items []entry[CallInput]) (map[string]*CallCreated, map[string]error, []error) {
	var body struct {
		Errors   []itemError `json:"errors"`
		Embedded struct {
			Calls []struct {
				ID         flexInt    `json:"id"`
				EntityID   flexInt    `json:"entity_id"`
				EntityType string     `json:"entity_type"`
				RequestID  flexString `json:"request_id"`
			} `json:"calls"`
		} `json:"_embedded"`
	}
	vals := make(map[string]*CallCreated)
	errs := make(map[string]error)
	if json.Unmarshal(resp.body, &body) != nil {
		return vals, errs, nil
	}
	for _, r := range body.Embedded.Calls {
		rid := string(r.RequestID)
		if rid == "" && len(items) == 1 && len(body.Embedded.Calls) == 1 {
			rid = items[0].rid
		}
		if rid != "" && r.ID != 0 {
			vals[rid] = &CallCreated{NoteID: int64(r.ID), EntityID: int64(r.EntityID), EntityType: PluralEntityType(r.EntityType)}
		}
	}
	var loose []error
	for _, e := range body.Errors {
		if e.RequestID != "" {
			errs[string(e.RequestID)] = itemErr(e)
		} else {
			loose = append(loose, itemErr(e))
		}
	}
	validationErrs(problemOf(resp.body), errs)
	return vals, errs, loose
}

// PluralEntityType maps the singular entity types the Calls API answers with
// ("lead", "contact", "company", "customer") to the plural path segments the
// notes API takes ("leads", …). Plural input is returned as is.
func PluralEntityType(t string) string {
	switch t {
	case "lead":
		return "leads"
	case "contact":
		return "contacts"
	case "company":
		return "companies"
	case "customer":
		return "customers"
	}
	return t
}
