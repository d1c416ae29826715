package callbridge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"time"
)

// Recording links. Kommo receives a link to callbridge, never the provider's
// URL: GET /rec/{token} streams the audio from the provider with the
// provider's credentials. The token names the account and call and expires;
// it is authenticated with HMAC-SHA256 under the server's recording key.

const recordingTokenVersion = 1

// SignRecordingToken returns an unguessable, expiring token for the recording
// of call callID of account accountID. key should be at least 32 bytes.
func SignRecordingToken(key []byte, accountID, callID int64, exp time.Time) string {
	var b [1 + 8 + 8 + 8]byte
	b[0] = recordingTokenVersion
	binary.BigEndian.PutUint64(b[1:], uint64(accountID))
	binary.BigEndian.PutUint64(b[9:], uint64(callID))
	binary.BigEndian.PutUint64(b[17:], uint64(exp.Unix()))
	mac := hmac.New(sha256.New, key)
	mac.Write(b[:])
	sig := mac.Sum(nil)[:16]
	return base64.RawURLEncoding.EncodeToString(append(b[:], sig...))
}

// ParseRecordingToken verifies token and returns the account and call it
// names. It returns EUNAUTHORIZED for a malformed or forged token and EGONE for
// an expired one.
func ParseRecordingToken(key []byte, token string, now time.Time) (accountID, callID int64, err error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 25+16 || raw[0] != recordingTokenVersion {
		return 0, 0, Errorf(EUNAUTHORIZED, "Invalid recording link.")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(raw[:25])
	if !hmac.Equal(mac.Sum(nil)[:16], raw[25:]) {
		return 0, 0, Errorf(EUNAUTHORIZED, "Invalid recording link.")
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[17:25])), 0)
	if now.After(exp) {
		return 0, 0, Errorf(EGONE, "This recording link has expired.")
	}
	return int64(binary.BigEndian.Uint64(raw[1:9])), int64(binary.BigEndian.Uint64(raw[9:17])), nil
}
