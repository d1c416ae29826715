package ringcentral

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// JWTGrantType is the OAuth grant type of the JWT bearer flow (RFC 7523).
const JWTGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// tokenPath is the OAuth token endpoint.
const tokenPath = "/restapi/oauth/token"

// Token cache limits.
const (
	tokenMargin     = 2 * time.Minute // refresh this long before expiry
	maxCachedTokens = 1000            // expired entries are dropped above this
	maxAPIBody      = 8 << 20         // bytes of a REST answer read into memory
)

// tokenEntry caches one connection's access token. mu makes fetching
// single-flight per connection.
type tokenEntry struct {
	mu      chan struct{} // a one-slot semaphore, so waiting respects ctx
	access  string        // secret
	expires time.Time
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	OwnerID     string `json:"owner_id"`
}

// oauthError is the token endpoint's error document.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// cacheKey identifies a connection's credentials without holding them.
func cacheKey(conn *callbridge.Connection, cr creds) string {
	sum := sha256.Sum256([]byte(cr.clientID + "\x00" + cr.clientSecret + "\x00" + cr.jwt))
	return strconv.FormatInt(conn.ID, 10) + ":" + hex.EncodeToString(sum[:16])
}

// entry returns the cache entry for a connection's credentials.
func (c *Connector) entry(key string) *tokenEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.tokens[key]; ok {
		return e
	}
	if len(c.tokens) >= maxCachedTokens {
		now := time.Now()
		for k, e := range c.tokens {
			select {
			case e.mu <- struct{}{}:
				if now.After(e.expires) {
					delete(c.tokens, k)
				}
				<-e.mu
			default:
			}
		}
	}
	e := &tokenEntry{mu: make(chan struct{}, 1)}
	c.tokens[key] = e
	return e
}

// accessToken returns a valid access token for conn, exchanging the JWT at
// the token endpoint when the cached one is missing, expiring, or equal to
// stale (a token the API just refused). Concurrent callers for one
// connection share one exchange.
func (c *Connector) accessToken(ctx context.Context, conn *callbridge.Connection, stale string) (string, error) {
	cr, ok := credentials(conn)
	if !ok {
		return "", callbridge.Errorf(callbridge.EUNAUTHORIZED, "The RingCentral connection needs client_id, client_secret and jwt.")
	}
	e := c.entry(cacheKey(conn, cr))
	select {
	case e.mu <- struct{}{}:
	case <-ctx.Done():
		return "", callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "RingCentral authorization was interrupted.")
	}
	defer func() { <-e.mu }()
	if e.access != "" && e.access != stale && time.Now().Add(tokenMargin).Before(e.expires) {
		return e.access, nil
	}
	tok, err := c.exchange(ctx, cr)
	if err != nil {
		e.access = ""
		return "", err
	}
	e.access = tok.AccessToken
	ttl := time.Duration(tok.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = time.Hour
	}
	e.expires = time.Now().Add(ttl)
	return e.access, nil
}

// exchange runs the JWT bearer grant: POST /restapi/oauth/token with HTTP
// Basic client_id:client_secret and grant_type, assertion in the form.
func (c *Connector) exchange(ctx context.Context, cr creds) (*tokenResponse, error) {
	form := url.Values{"grant_type": {JWTGrantType}, "assertion": {cr.jwt}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.apiBase+tokenPath, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the RingCentral token request.", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(cr.clientID, cr.clientSecret)
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, netCause(err), "RingCentral did not answer the token request; please retry.")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral's token answer was cut off; please retry.")
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var tok tokenResponse
		if err := json.Unmarshal(data, &tok); err != nil || tok.AccessToken == "" {
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral sent an unreadable token.")
		}
		return &tok, nil
	case resp.StatusCode == http.StatusTooManyRequests:
		return nil, &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient,
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Message: "RingCentral is rate limiting; please retry."}
	case resp.StatusCode >= 500:
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, errors.New("ringcentral token: HTTP "+strconv.Itoa(resp.StatusCode)), "RingCentral failed; please retry.")
	default:
		var oe oauthError
		_ = json.Unmarshal(data, &oe)
		// The description may quote the request; log only the error code.
		return nil, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "RingCentral refused the client id, secret or JWT.",
			Err: errors.New("ringcentral token: HTTP " + strconv.Itoa(resp.StatusCode) + " " + oe.Error)}
	}
}

// apiErrorBody is the REST API's error document.
type apiErrorBody struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

// api sends one authorized REST request and returns the body of a 2xx
// answer. body, when non-nil, is sent as JSON. A 401 is answered by
// exchanging the JWT again and retrying once. write says whether the request
// changes state at RingCentral: its unknown outcome is KindUncertain.
func (c *Connector) api(ctx context.Context, conn *callbridge.Connection, method, path string, body any, write bool) ([]byte, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not encode the RingCentral request.", Err: err}
		}
	}
	stale := ""
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx, conn, stale)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, method, c.apiBase+path, rd)
		if err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the RingCentral request.", Err: err}
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.client.Do(req)
		if err != nil {
			if write {
				return nil, callbridge.Uncertain(netCause(err), "RingCentral did not answer; the request may or may not have been applied.")
			}
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, netCause(err), "RingCentral did not answer; please retry.")
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIBody))
		resp.Body.Close()
		if err != nil {
			if write {
				return nil, callbridge.Uncertain(err, "RingCentral's answer was cut off; the request may or may not have been applied.")
			}
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "RingCentral's answer was cut off; please retry.")
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			stale = tok // the token was revoked or expired early
			continue
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return data, nil
		}
		return nil, apiError(resp, data, write)
	}
}

// apiError maps a REST error answer to a *callbridge.Error.
func apiError(resp *http.Response, data []byte, write bool) error {
	var doc apiErrorBody
	_ = json.Unmarshal(data, &doc)
	cause := errors.New("ringcentral: HTTP " + strconv.Itoa(resp.StatusCode) + " " + doc.ErrorCode)
	msg := strings.TrimSpace(doc.Message)
	if len(msg) > 300 {
		msg = msg[:300]
	}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		return &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "RingCentral refused the access token.", Err: cause}
	case code == http.StatusForbidden:
		return &callbridge.Error{Code: callbridge.EFORBIDDEN, Message: "RingCentral does not allow this for the JWT's user (permissions?).", Err: cause}
	case code == http.StatusNotFound:
		return &callbridge.Error{Code: callbridge.ENOTFOUND, Message: "RingCentral has no such resource.", Err: cause}
	case code == http.StatusTooManyRequests:
		return &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, Message: "RingCentral is rate limiting; please retry.",
			RetryAfter: retryAfter(resp.Header.Get("Retry-After")), Err: cause}
	case code >= 500:
		if write {
			return callbridge.Uncertain(cause, "RingCentral failed; the request may or may not have been applied.")
		}
		return callbridge.Transient(callbridge.EUNAVAILABLE, 0, cause, "RingCentral failed; please retry.")
	default:
		if msg == "" {
			msg = "the request was refused"
		}
		return &callbridge.Error{Code: callbridge.EINVALID, Message: "RingCentral: " + msg, Err: cause}
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

// netCause strips the URL from a transport error.
func netCause(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok {
		return ue.Err
	}
	return err
}
