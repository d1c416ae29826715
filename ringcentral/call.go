package ringcentral

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"callbridge"
)

// ringOutPath places a RingOut for the JWT's user.
const ringOutPath = "/restapi/v1.0/account/~/extension/~/ring-out"

// phoneNumber is RingCentral's {"phoneNumber": …} object.
type phoneNumber struct {
	PhoneNumber string `json:"phoneNumber"`
}

// ringOutRequest is the body of a RingOut.
type ringOutRequest struct {
	From       phoneNumber  `json:"from"`
	To         phoneNumber  `json:"to"`
	CallerID   *phoneNumber `json:"callerId,omitempty"`
	PlayPrompt bool         `json:"playPrompt"`
}

// ringOutResponse is RingCentral's answer to a RingOut.
type ringOutResponse struct {
	ID     flexString `json:"id"`
	Status struct {
		CallStatus string `json:"callStatus"`
	} `json:"status"`
}

// PlaceCall places a click-to-call as a RingOut for the JWT's user (POST
// /restapi/v1.0/account/~/extension/~/ring-out): RingCentral first rings
// from.phoneNumber = req.Agent (the manager's phone: an E.164 number or the
// user's extension number), then connects to.phoneNumber = req.Customer
// (E.164), showing the connection's caller_id when set; playPrompt is false.
// req.StatusURL is not used: the account-wide subscription reports the call
// (origin type RingOut).
//
// The returned ProviderCallID is the RingOut id. RingCentral does not say
// which telephony session a RingOut becomes, so the webhook events of the
// call name its telephonySessionId instead: the two are not joined.
//
// Errors: EINVALID for an agent or customer that is not a phone number, or
// when RingCentral refuses the numbers; EUNAUTHORIZED; EFORBIDDEN (the app
// lacks the RingOut permission); ERATELIMIT; KindUncertain when RingCentral
// may have placed the call without answering.
func (c *Connector) PlaceCall(ctx context.Context, conn *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	agent := strings.TrimSpace(req.Agent)
	if p := callbridge.NormalizePhone(agent, "US"); callbridge.IsPhoneNumber(p) {
		agent = p
	} else if !isDigits(agent) || len(agent) > 10 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The manager's phone must be an E.164 number or an extension number.")
	}
	customer := strings.TrimSpace(req.Customer)
	if !isE164(customer) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The number to call must be in E.164 format, e.g. +14155550100.")
	}
	body := ringOutRequest{From: phoneNumber{agent}, To: phoneNumber{customer}}
	if cid := strings.TrimSpace(conn.Credentials[CredentialCallerID]); cid != "" {
		if !isE164(cid) {
			return nil, callbridge.Errorf(callbridge.EINVALID, "The RingCentral caller_id must be in E.164 format.")
		}
		body.CallerID = &phoneNumber{cid}
	}
	data, err := c.api(ctx, conn, http.MethodPost, ringOutPath, body, true)
	if err != nil {
		return nil, err
	}
	var r ringOutResponse
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" || len(r.ID) > maxIDLen {
		return nil, callbridge.Uncertain(err, "RingCentral's answer named no call; the call may or may not have been placed.")
	}
	return &callbridge.PlacedCall{ProviderCallID: string(r.ID)}, nil
}

// CheckCredentials exchanges the connection's JWT for an access token and
// reads the JWT user's extension (GET /restapi/v1.0/account/~/extension/~).
// It returns EUNAUTHORIZED when RingCentral refuses the client id, secret or
// JWT, and a transient error when RingCentral cannot be reached.
func (c *Connector) CheckCredentials(ctx context.Context, conn *callbridge.Connection) error {
	if _, ok := credentials(conn); !ok {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "The RingCentral connection needs client_id, client_secret and jwt.")
	}
	_, err := c.api(ctx, conn, http.MethodGet, "/restapi/v1.0/account/~/extension/~", nil, false)
	return err
}

// isE164 reports whether s is "+" followed by 8 to 15 digits.
func isE164(s string) bool {
	return len(s) >= 9 && len(s) <= 16 && s[0] == '+' && isDigits(s[1:])
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
