package http

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Widget tokens. Kommo's widget calls our API with $authorizedAjax, which adds
// an X-Auth-Token header: a JWT signed HS256 with the integration's client
// secret, naming the account and the user. This file only verifies such
// tokens; callbridge never issues them.

// Limits of widget token verification.
const (
	// MaxWidgetTokenBytes bounds the length of an X-Auth-Token.
	MaxWidgetTokenBytes = 8 << 10
	// WidgetTokenLeeway is the clock skew tolerated on exp, nbf and iat.
	WidgetTokenLeeway = 60 * time.Second
	// maxJTI bounds the jti claim (it is part of result dedupe keys).
	maxJTI = 128
)

// WidgetClaims are the verified claims of a Kommo widget token.
type WidgetClaims struct {
	Issuer     string    // iss: the Kommo account's address
	Audience   string    // aud: from the integration's redirect URI
	ID         string    // jti: the token's unique id (at most 128 bytes)
	IssuedAt   time.Time // iat; zero if absent
	NotBefore  time.Time // nbf; zero if absent
	ExpiresAt  time.Time // exp; always set
	AccountID  int64     // account_id: Kommo's account id, > 0
	UserID     int64     // user_id: the Kommo user, > 0
	ClientUUID string    // client_uuid: the integration's client id, if present
}

// WidgetTokenOptions say what ParseWidgetToken accepts besides a valid
// signature.
type WidgetTokenOptions struct {
	// Secret is the integration's client secret (the HS256 key). Required.
	Secret []byte
	// ClientID, when set, must equal the client_uuid claim when the token has
	// one.
	ClientID string
	// Audience, when set, must equal the aud claim.
	Audience string
	// Now is the verification time.
	Now time.Time
}

// ParseWidgetToken verifies a Kommo widget token and returns its claims. The
// token must be a compact JWS of at most MaxWidgetTokenBytes whose header
// names alg HS256 (alg none, RS256 and every other algorithm are refused,
// as are headers with crit), with a valid HMAC-SHA256 signature under
// opts.Secret (compared in constant time), an exp not more than
// WidgetTokenLeeway in the past, nbf and iat not more than the leeway in the
// future, positive account_id and user_id, and matching client_uuid and aud
// when opts asks for them. Every failure is an EUNAUTHORIZED *callbridge.Error.
func ParseWidgetToken(token string, opts WidgetTokenOptions) (*WidgetClaims, error) {
	invalid := func(msg string) error {
		return callbridge.Errorf(callbridge.EUNAUTHORIZED, "%s", msg)
	}
	if len(opts.Secret) == 0 {
		return nil, invalid("Widget tokens cannot be verified: the integration secret is not configured.")
	}
	if token == "" {
		return nil, invalid("Missing X-Auth-Token.")
	}
	if len(token) > MaxWidgetTokenBytes {
		return nil, invalid("Malformed widget token.")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid("Malformed widget token.")
	}
	enc := base64.RawURLEncoding.Strict()
	rawHeader, err1 := enc.DecodeString(parts[0])
	rawClaims, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, invalid("Malformed widget token.")
	}

	var header struct {
		Alg  *string         `json:"alg"`
		Typ  *string         `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if err := json.Unmarshal(rawHeader, &header); err != nil || header.Alg == nil {
		return nil, invalid("Malformed widget token.")
	}
	if *header.Alg != "HS256" {
		return nil, invalid("Widget token algorithm must be HS256.")
	}
	if header.Crit != nil {
		return nil, invalid("Widget token has unsupported critical headers.")
	}
	if header.Typ != nil && !strings.EqualFold(*header.Typ, "JWT") {
		return nil, invalid("Malformed widget token.")
	}

	mac := hmac.New(sha256.New, opts.Secret)
	mac.Write([]byte(parts[0]))
	mac.Write([]byte{'.'})
	mac.Write([]byte(parts[1]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, invalid("Invalid widget token signature.")
	}

	// The signature is good; read the claims strictly all the same.
	var raw struct {
		Iss        any             `json:"iss"`
		Aud        json.RawMessage `json:"aud"`
		Jti        any             `json:"jti"`
		Iat        json.RawMessage `json:"iat"`
		Nbf        json.RawMessage `json:"nbf"`
		Exp        json.RawMessage `json:"exp"`
		AccountID  json.RawMessage `json:"account_id"`
		UserID     json.RawMessage `json:"user_id"`
		ClientUUID any             `json:"client_uuid"`
	}
	if err := json.Unmarshal(rawClaims, &raw); err != nil {
		return nil, invalid("Malformed widget token claims.")
	}
	c := &WidgetClaims{}
	var ok bool
	if c.Issuer, ok = optString(raw.Iss); !ok {
		return nil, invalid("Malformed widget token claims.")
	}
	if c.ID, ok = optString(raw.Jti); !ok || len(c.ID) > maxJTI {
		return nil, invalid("Malformed widget token claims.")
	}
	if c.ClientUUID, ok = optString(raw.ClientUUID); !ok {
		return nil, invalid("Malformed widget token claims.")
	}
	auds, ok := audiences(raw.Aud)
	if !ok {
		return nil, invalid("Malformed widget token claims.")
	}
	if len(auds) > 0 {
		c.Audience = auds[0]
	}

	if c.ExpiresAt, ok = numericDate(raw.Exp); !ok || c.ExpiresAt.IsZero() {
		return nil, invalid("Widget token has no valid expiry.")
	}
	if c.NotBefore, ok = numericDate(raw.Nbf); !ok {
		return nil, invalid("Malformed widget token claims.")
	}
	if c.IssuedAt, ok = numericDate(raw.Iat); !ok {
		return nil, invalid("Malformed widget token claims.")
	}
	now := opts.Now
	if now.After(c.ExpiresAt.Add(WidgetTokenLeeway)) {
		return nil, invalid("Widget token expired.")
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(WidgetTokenLeeway)) {
		return nil, invalid("Widget token is not valid yet.")
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(WidgetTokenLeeway)) {
		return nil, invalid("Widget token is issued in the future.")
	}

	if c.AccountID, ok = positiveID(raw.AccountID); !ok {
		return nil, invalid("Widget token has no valid account_id.")
	}
	if c.UserID, ok = positiveID(raw.UserID); !ok {
		return nil, invalid("Widget token has no valid user_id.")
	}
	if opts.ClientID != "" && c.ClientUUID != "" && !hmac.Equal([]byte(c.ClientUUID), []byte(opts.ClientID)) {
		return nil, invalid("Widget token is for another integration.")
	}
	if opts.Audience != "" {
		match := false
		for _, a := range auds {
			match = match || a == opts.Audience
		}
		if !match {
			return nil, invalid("Widget token is for another audience.")
		}
	}
	return c, nil
}

// optString accepts an absent/null claim ("") or a JSON string.
func optString(v any) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}

// audiences reads aud, which RFC 7519 allows as a string or an array of
// strings.
func audiences(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, true
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err == nil {
		return many, true
	}
	return nil, false
}

// numericDate reads a NumericDate (seconds since the epoch, possibly
// fractional). Absent or null gives the zero time; anything else that is not
// a finite number within ±10^11 s is refused.
func numericDate(raw json.RawMessage) (time.Time, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return time.Time{}, true
	}
	if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
		return time.Time{}, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

// positiveID reads an id claim given as a JSON integer or a string of digits.
func positiveID(raw json.RawMessage) (int64, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	s := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, false
		}
	}
	if s == "" || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}
