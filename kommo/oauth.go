package kommo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"callbridge"
)

// refererPattern matches an account host: one DNS label under one of
// Kommo's API domains.
var refererPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:kommo\.com|amocrm\.com|amocrm\.ru)$`)

// ValidateReferer checks the referer Kommo sends with an authorization code
// ("acme.kommo.com") and returns it lowercased. Only a single-label subdomain
// of kommo.com, amocrm.com or amocrm.ru is accepted — no scheme, port, path,
// user info or trailing dot — because the client secret is sent there.
// "www" is refused: it is not an account. Errors are EINVALID.
func ValidateReferer(referer string) (string, error) {
	host := strings.ToLower(referer)
	if !refererPattern.MatchString(host) || strings.HasPrefix(host, "www.") {
		return "", callbridge.Errorf(callbridge.EINVALID, "kommo: the referer is not a Kommo account address")
	}
	return host, nil
}

// tokenAnswer is the body of POST /oauth2/access_token.
type tokenAnswer struct {
	TokenType    string  `json:"token_type"`
	ExpiresIn    flexInt `json:"expires_in"`
	AccessToken  string  `json:"access_token"`
	RefreshToken string  `json:"refresh_token"`
	ServerTime   flexInt `json:"server_time"`
}

// errTokenRefused marks a 400 or 401 from the token endpoint: the code or
// refresh token is expired, already used or revoked.
var errTokenRefused = errors.New("kommo: token endpoint refused the grant")

// ExchangeCode exchanges an authorization code for an OAuth pair (grant
// authorization_code). The token endpoint is Config.BaseURL when set,
// otherwise https://{referer}, and then referer must pass ValidateReferer.
// It returns the pair (Version 0, not stored) and the account's API base URL.
// A refused code is EINVALID (permanent); a code sent without an answer is
// KindUncertain (Kommo may have consumed it).
func (c *Client) ExchangeCode(ctx context.Context, referer, code string) (*callbridge.Token, string, error) {
	if code == "" {
		return nil, "", callbridge.Errorf(callbridge.EINVALID, "kommo: empty authorization code")
	}
	base := c.cfg.BaseURL
	if base == "" {
		host, err := ValidateReferer(referer)
		if err != nil {
			return nil, "", err
		}
		base = "https://" + host
	}
	tok, err := c.postToken(ctx, 0, base, map[string]string{
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"grant_type":    "authorization_code",
		"code":          code,
		"redirect_uri":  c.cfg.RedirectURI,
	})
	if errors.Is(err, errTokenRefused) {
		return nil, "", &callbridge.Error{Code: callbridge.EINVALID, Kind: callbridge.KindPermanent,
			Message: "Kommo refused the authorization code (expired or already used)", Err: err}
	}
	if err != nil {
		return nil, "", err
	}
	return tok, base, nil
}

// postToken calls the token endpoint. A 400 or 401 returns an error wrapping
// errTokenRefused.
func (c *Client) postToken(ctx context.Context, accountID int64, base string, form map[string]string) (*callbridge.Token, error) {
	req := &request{method: http.MethodPost, route: "POST /oauth2/access_token", path: "/oauth2/access_token", body: form}
	resp, err := c.send(ctx, accountID, base, "", req)
	if err != nil {
		return nil, err
	}
	if resp.status == http.StatusBadRequest || resp.status == http.StatusUnauthorized {
		p := problemOf(resp.body)
		return nil, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Kind: callbridge.KindPermanent,
			Message: "Kommo refused the grant: " + p.message(http.StatusText(resp.status)),
			Err:     fmt.Errorf("%w (%d)", errTokenRefused, resp.status)}
	}
	if err := c.check(req, resp); err != nil {
		return nil, err
	}
	var a tokenAnswer
	if err := json.Unmarshal(resp.body, &a); err != nil || a.AccessToken == "" || a.RefreshToken == "" {
		return nil, callbridge.Uncertain(err, "kommo: unreadable token answer")
	}
	exp := time.Duration(a.ExpiresIn) * time.Second
	if exp <= 0 {
		exp = 24 * time.Hour
	}
	return &callbridge.Token{
		AccountID:    accountID,
		AccessToken:  a.AccessToken,
		RefreshToken: a.RefreshToken,
		ExpiresAt:    c.now().Add(exp).UTC(),
	}, nil
}

// AccountInfo is the account an access token belongs to.
type AccountInfo struct {
	ID        int64  // Kommo's account id
	Name      string // the account's name
	Subdomain string // e.g. "acme" for acme.kommo.com
}

// AccountInfo reads GET /api/v4/account with an explicit access token (for
// an install, before the pair is stored). baseURL is ignored when
// Config.BaseURL is set. It does not refresh: a 401 is EUNAUTHORIZED.
func (c *Client) AccountInfo(ctx context.Context, baseURL, accessToken string) (*AccountInfo, error) {
	base := c.cfg.BaseURL
	if base == "" {
		base = strings.TrimRight(baseURL, "/")
		host, ok := strings.CutPrefix(base, "https://")
		if _, err := ValidateReferer(host); !ok || err != nil {
			return nil, callbridge.Errorf(callbridge.EINVALID, "kommo: the base URL is not a Kommo address")
		}
	}
	req := &request{method: http.MethodGet, route: "GET /api/v4/account", path: "/api/v4/account"}
	resp, err := c.send(ctx, 0, base, accessToken, req)
	if err != nil {
		return nil, err
	}
	if err := c.check(req, resp); err != nil {
		return nil, err
	}
	var a struct {
		ID        flexInt `json:"id"`
		Name      string  `json:"name"`
		Subdomain string  `json:"subdomain"`
	}
	if err := decode(req, resp, &a); err != nil {
		return nil, err
	}
	if a.ID == 0 {
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, nil, "kommo: the account answer has no id")
	}
	return &AccountInfo{ID: int64(a.ID), Name: a.Name, Subdomain: a.Subdomain}, nil
}
