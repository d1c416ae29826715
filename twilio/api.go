package twilio

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Dial timeouts (Options.DialTimeout).
const (
	defaultDialTimeout = 20 * time.Second
	maxDialTimeout     = 600 * time.Second
)

// maxAPIBody bounds a REST response body read into memory (4 MiB).
const maxAPIBody = 4 << 20

// apiErrorBody is Twilio's REST error document.
type apiErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Status  int    `json:"status"`
}

// api sends one authenticated REST request to Twilio and returns the body of
// a 2xx response. form, when non-nil, is sent as an
// application/x-www-form-urlencoded body. write says whether the request
// changes state at Twilio: a write whose outcome is unknown (network error,
// 5xx) is KindUncertain, a read is KindTransient.
func (c *Connector) api(ctx context.Context, conn *callbridge.Connection, method, path string, form url.Values, write bool) ([]byte, error) {
	sid, token := credentials(conn)
	if !isSID(sid) || token == "" {
		return nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Twilio connection has no credentials.")
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiBase+path, body)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the Twilio request.", Err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(sid, token)
	resp, err := c.client.Do(req)
	if err != nil {
		// The URL carries no secret, but keep only the cause.
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err
		}
		if write {
			return nil, callbridge.Uncertain(cause, "Twilio did not answer; the call may or may not have been placed.")
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, cause, "Twilio did not answer; please retry.")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
	if err != nil {
		if write {
			return nil, callbridge.Uncertain(err, "Twilio's answer was cut off; the call may or may not have been placed.")
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "Twilio's answer was cut off; please retry.")
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	return nil, apiError(resp, data, write)
}

// apiError maps a Twilio REST error response to a *callbridge.Error.
func apiError(resp *http.Response, data []byte, write bool) error {
	var doc apiErrorBody
	_ = json.Unmarshal(data, &doc)
	cause := errors.New("twilio: HTTP " + strconv.Itoa(resp.StatusCode) + " code " + strconv.Itoa(doc.Code))
	msg := strings.TrimSpace(doc.Message)
	if len(msg) > 300 {
		msg = msg[:300]
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "Twilio refused the account SID or auth token.", Err: cause}
	case code == http.StatusForbidden:
		return &callbridge.Error{Code: callbridge.EFORBIDDEN, Message: "Twilio does not allow this request for the account.", Err: cause}
	case code == http.StatusNotFound:
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "Twilio has no such resource.", Err: cause}
	case code == http.StatusTooManyRequests:
		return &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, Message: "Twilio is rate limiting; please retry.",
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Err: cause}
	case code >= 500:
		if write {
			return callbridge.Uncertain(cause, "Twilio failed; the call may or may not have been placed.")
		}
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, cause, "Twilio failed; please retry.")
	default:
		if msg == "" {
			msg = "Twilio refused the request."
		}
		return &callbridge.Error{Code: callbridge.EINVALID, Message: "Twilio: " + msg, Err: cause}
	}
}

// retryAfter reads a Retry-After header in seconds; 0 when absent or bad.
func retryAfter(s string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(min(n, 3600)) * time.Second
}

// accountPath returns the REST path prefix of the connection's account.
func accountPath(sid string) string {
	return "/" + APIVersion + "/Accounts/" + sid
}

// accountResource is the part of Twilio's Account resource callbridge reads.
type accountResource struct {
	SID    string `json:"sid"`
	Status string `json:"status"` // active, suspended or closed
}

// CheckCredentials verifies the connection's account SID and auth token by
// fetching the Account resource (GET /2010-04-01/Accounts/{sid}.json). It
// returns an *callbridge.Error with EUNAUTHORIZED when Twilio refuses them or
// does not know the account, EFORBIDDEN when the account is suspended or
// closed, and EUNAVAILABLE (transient) when Twilio cannot be reached.
func (c *Connector) CheckCredentials(ctx context.Context, conn *callbridge.Connection) error {
	sid, _ := credentials(conn)
	if !strings.HasPrefix(sid, "AC") || !isSID(sid) {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Twilio account SID must start with AC.")
	}
	data, err := c.api(ctx, conn, http.MethodGet, accountPath(sid)+".json", nil, false)
	if err != nil {
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			return &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "Twilio does not know this account SID.", Err: err}
		}
		return err
	}
	var acct accountResource
	if err := json.Unmarshal(data, &acct); err != nil {
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "Twilio sent an unreadable account.")
	}
	if acct.SID != sid {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "Twilio answered for another account.")
	}
	if acct.Status != "" && acct.Status != "active" {
		return callbridge.Errorf(callbridge.EFORBIDDEN, "The Twilio account is %s.", acct.Status)
	}
	return nil
}

var _ callbridge.CredentialChecker = (*Connector)(nil)
