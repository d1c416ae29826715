package twilio_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"testing"

	"callbridge/twilio"
)

// hmacSHA1 is the test's own signature primitive: base64(HMAC-SHA1(key, data)).
// Tests build the signed string by hand, so they do not share code with Sign.
func hmacSHA1(key, data string) string {
	m := hmac.New(sha1.New, []byte(key))
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// The example of Twilio's webhook security documentation (also used by the
// helper libraries' tests): auth token 12345.
func TestSignDocumentedVector(t *testing.T) {
	params := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	const want = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	if got := twilio.Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
	if !twilio.ValidSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", params, want) {
		t.Fatal("ValidSignature refused the documented vector")
	}
}

// Twilio's JSON example: the bodySHA256 of the documented body.
func TestBodySHA256DocumentedVector(t *testing.T) {
	body := []byte(`{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}`)
	if got, want := sha256Hex(body), "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"; got != want {
		t.Fatalf("sha256 = %s, want %s", got, want)
	}
}

func TestSignOrderAndRepeatedKeys(t *testing.T) {
	const u = "https://cb.example.com/webhooks/tok?x=1"
	tests := []struct {
		name   string
		params url.Values
		signed string // what Twilio concatenates after the URL
	}{
		{"empty", nil, ""},
		{"byte order: upper case first", url.Values{"b": {"1"}, "B": {"2"}, "a": {"3"}}, "B2a3b1"},
		{"repeated key: sorted values", url.Values{"To": {"+2", "+1"}}, "To+1To+2"},
		{"repeated key: distinct values once", url.Values{"X": {"b", "a", "b"}, "A": {"z"}}, "AzXaXb"},
		{"empty value", url.Values{"Empty": {""}, "F": {"v"}}, "EmptyFv"},
		{"unicode", url.Values{"CallerName": {"José Ñ"}}, "CallerNameJosé Ñ"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := hmacSHA1("secret", u+tt.signed)
			if got := twilio.Sign("secret", u, tt.params); got != want {
				t.Fatalf("Sign = %s, want %s", got, want)
			}
			if !twilio.ValidSignature("secret", u, tt.params, want) {
				t.Fatal("ValidSignature refused its own signature")
			}
		})
	}
}

func TestValidSignatureRefuses(t *testing.T) {
	params := url.Values{"CallSid": {"CA1"}, "CallStatus": {"ringing"}}
	const u = "https://cb.example.com/webhooks/tok?a=1"
	sig := twilio.Sign("secret", u, params)

	tests := []struct {
		name   string
		token  string
		url    string
		params url.Values
		sig    string
	}{
		{"wrong token", "other", u, params, sig},
		{"empty token", "", u, params, sig},
		{"empty signature", "secret", u, params, ""},
		{"other scheme", "secret", "http://cb.example.com/webhooks/tok?a=1", params, sig},
		{"other port", "secret", "https://cb.example.com:8443/webhooks/tok?a=1", params, sig},
		{"other host", "secret", "https://evil.example.com/webhooks/tok?a=1", params, sig},
		{"other path", "secret", "https://cb.example.com/webhooks/tok2?a=1", params, sig},
		{"other query", "secret", "https://cb.example.com/webhooks/tok?a=2", params, sig},
		{"query dropped", "secret", "https://cb.example.com/webhooks/tok", params, sig},
		{"trailing slash", "secret", "https://cb.example.com/webhooks/tok/?a=1", params, sig},
		{"tampered value", "secret", u, url.Values{"CallSid": {"CA2"}, "CallStatus": {"ringing"}}, sig},
		{"extra param", "secret", u, url.Values{"CallSid": {"CA1"}, "CallStatus": {"ringing"}, "X": {""}}, sig},
		{"missing param", "secret", u, url.Values{"CallSid": {"CA1"}}, sig},
		{"truncated signature", "secret", u, params, sig[:len(sig)-1]},
		{"signature case", "secret", u, params, flipCase(sig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if twilio.ValidSignature(tt.token, tt.url, tt.params, tt.sig) {
				t.Fatal("accepted")
			}
		})
	}
	if !twilio.ValidSignature("secret", u, params, sig) {
		t.Fatal("control: refused the right signature")
	}
}

func flipCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 32
		case 'A' <= c && c <= 'Z':
			b[i] = c + 32
		}
	}
	return string(b)
}

// Twilio signs with or without the scheme's default port; both spellings are
// the same endpoint, and Twilio's libraries accept either.
func TestValidSignatureDefaultPort(t *testing.T) {
	params := url.Values{"CallSid": {"CA1"}}
	tests := []struct{ signedFor, receivedAt string }{
		{"https://cb.example.com:443/w?q=1", "https://cb.example.com/w?q=1"},
		{"https://cb.example.com/w?q=1", "https://cb.example.com:443/w?q=1"},
		{"http://cb.example.com:80/w", "http://cb.example.com/w"},
		{"http://cb.example.com/w", "http://cb.example.com:80/w"},
	}
	for _, tt := range tests {
		sig := hmacSHA1("secret", tt.signedFor+"CallSidCA1")
		if !twilio.ValidSignature("secret", tt.receivedAt, params, sig) {
			t.Errorf("signed for %s, refused at %s", tt.signedFor, tt.receivedAt)
		}
	}
	// Only the default port is interchangeable.
	refused := []struct{ signedFor, receivedAt string }{
		{"https://cb.example.com:80/w", "https://cb.example.com/w"},
		{"http://cb.example.com:443/w", "http://cb.example.com/w"},
		{"https://cb.example.com/w", "https://cb.example.com:8443/w"},
		{"https://cb.example.com:8443/w", "https://cb.example.com/w"},
	}
	for _, tt := range refused {
		sig := hmacSHA1("secret", tt.signedFor+"CallSidCA1")
		if twilio.ValidSignature("secret", tt.receivedAt, params, sig) {
			t.Errorf("signed for %s, accepted at %s", tt.signedFor, tt.receivedAt)
		}
	}
}
