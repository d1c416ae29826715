package callbridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// Kommo account webhooks. Kommo posts an account's webhooks (for callbridge:
// unsorted[delete], an incoming lead accepted or declined) to
// {public URL}/kommo/hooks/{token}, where the token names the account and is
// authenticated with HMAC-SHA256 under the server's hook key. Kommo signs
// nothing in these webhooks, so the unguessable token is their
// authentication; it is derived from the key, never stored, and changes only
// with the key (every account must then register its webhook again, which
// the periodic maintenance does).

const hookTokenVersion = 1

// HookPath is the path prefix of Kommo account webhooks.
const HookPath = "/kommo/hooks/"

// SignHookToken returns the webhook token of account accountID (our id).
// key should be at least 32 bytes.
func SignHookToken(key []byte, accountID int64) string {
	var b [1 + 8]byte
	b[0] = hookTokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(accountID))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("callbridge kommo hook"))
	mac.Write(b[:])
	return base64.RawURLEncoding.EncodeToString(append(b[:], mac.Sum(nil)[:16]...))
}

// ParseHookToken verifies token and returns the account it names; a
// malformed or forged token is EUNAUTHORIZED.
func ParseHookToken(key []byte, token string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if len(key) == 0 || err != nil || len(raw) != 9+16 || raw[0] != hookTokenVersion {
		return 0, Errorf(EUNAUTHORIZED, "Invalid webhook address.")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("callbridge kommo hook"))
	mac.Write(raw[:9])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[9:]) {
		return 0, Errorf(EUNAUTHORIZED, "Invalid webhook address.")
	}
	id := int64(binary.BigEndian.Uint64(raw[1:9]))
	if id <= 0 {
		return 0, Errorf(EUNAUTHORIZED, "Invalid webhook address.")
	}
	return id, nil
}

// HookURL returns the address Kommo posts account accountID's webhooks to.
func HookURL(publicURL string, key []byte, accountID int64) string {
	return strings.TrimRight(publicURL, "/") + HookPath + SignHookToken(key, accountID)
}
