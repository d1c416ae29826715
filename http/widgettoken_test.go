package http_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
)

func parseOpts() cbhttp.WidgetTokenOptions {
	return cbhttp.WidgetTokenOptions{Secret: []byte(testClientSecret), ClientID: testClientID, Now: testNow}
}

func TestParseWidgetToken(t *testing.T) {
	t.Run("Claims", func(t *testing.T) {
		c, err := cbhttp.ParseWidgetToken(widgetToken(acmeKommoID), parseOpts())
		if err != nil {
			t.Fatal(err)
		}
		want := cbhttp.WidgetClaims{
			Issuer: "https://acme.kommo.com", Audience: "https://cb.example.com", ID: "4b1e2c6a-7d3f-4e8b-9a10-2f3c4d5e6f70",
			IssuedAt: testNow.Add(-5 * time.Second), NotBefore: testNow.Add(-5 * time.Second), ExpiresAt: testNow.Add(5 * time.Minute),
			AccountID: acmeKommoID, UserID: 8320148, ClientUUID: testClientID,
		}
		if *c != want {
			t.Fatalf("got  %+v\nwant %+v", *c, want)
		}
	})
	t.Run("AudienceArrayAndFractionalDates", func(t *testing.T) {
		claims := with(with(widgetClaims(acmeKommoID), "aud", []string{"https://a.example", "https://cb.example.com"}), "exp", float64(testNow.Unix())+30.5)
		opts := parseOpts()
		opts.Audience = "https://cb.example.com"
		c, err := cbhttp.ParseWidgetToken(signJWT(hs256, claims, testClientSecret), opts)
		if err != nil {
			t.Fatal(err)
		}
		if want := testNow.Add(30*time.Second + 500*time.Millisecond); !c.ExpiresAt.Equal(want) {
			t.Fatalf("exp=%v, want %v", c.ExpiresAt, want)
		}
	})
	t.Run("LeewayBoundary", func(t *testing.T) {
		tok := signJWT(hs256, with(widgetClaims(acmeKommoID), "exp", testNow.Unix()), testClientSecret)
		opts := parseOpts()
		opts.Now = testNow.Add(cbhttp.WidgetTokenLeeway)
		if _, err := cbhttp.ParseWidgetToken(tok, opts); err != nil {
			t.Fatalf("at exp+leeway: %v", err)
		}
		opts.Now = testNow.Add(cbhttp.WidgetTokenLeeway + time.Second)
		if _, err := cbhttp.ParseWidgetToken(tok, opts); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
			t.Fatalf("after exp+leeway: %v", err)
		}
	})
	t.Run("BadClaimTypes", func(t *testing.T) {
		for _, claims := range []map[string]any{
			with(widgetClaims(acmeKommoID), "exp", "soon"),
			with(widgetClaims(acmeKommoID), "exp", 1e300),
			with(widgetClaims(acmeKommoID), "iss", 5),
			with(widgetClaims(acmeKommoID), "jti", strings.Repeat("j", 129)),
			with(widgetClaims(acmeKommoID), "account_id", 1.5),
			with(widgetClaims(acmeKommoID), "account_id", "12a"),
			with(widgetClaims(acmeKommoID), "user_id", 0),
			with(widgetClaims(acmeKommoID), "aud", 7),
		} {
			if _, err := cbhttp.ParseWidgetToken(signJWT(hs256, claims, testClientSecret), parseOpts()); callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
				t.Errorf("claims %v accepted (err=%v)", claims, err)
			}
		}
	})
}

// FuzzParseWidgetToken checks that the parser never panics and accepts only
// tokens that are HS256-signed with the secret, unexpired, and name an
// account and a user.
func FuzzParseWidgetToken(f *testing.F) {
	valid := widgetClaims(acmeKommoID)
	f.Add(widgetToken(acmeKommoID))
	f.Add(signJWT(map[string]any{"alg": "none"}, valid, testClientSecret))
	f.Add(signJWT(map[string]any{"alg": "RS256"}, valid, testClientSecret))
	f.Add(signJWT(hs256, with(valid, "exp", 1e300), testClientSecret))
	f.Add(signJWT(hs256, with(valid, "account_id", "123"), testClientSecret))
	f.Add("")
	f.Add("..")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJIUzI1NiJ9..")
	f.Add(strings.Repeat(".", 100))
	f.Fuzz(func(t *testing.T, token string) {
		c, err := cbhttp.ParseWidgetToken(token, parseOpts())
		if err != nil {
			if callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
				t.Fatalf("error code %q for %q", callbridge.ErrorCode(err), token)
			}
			return
		}
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts", len(parts))
		}
		mac := hmac.New(sha256.New, []byte(testClientSecret))
		mac.Write([]byte(parts[0] + "." + parts[1]))
		if parts[2] != base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) {
			t.Fatalf("accepted a token without a valid signature: %q", token)
		}
		header, _ := base64.RawURLEncoding.DecodeString(parts[0])
		if !strings.Contains(string(header), `"HS256"`) {
			t.Fatalf("accepted header %s", header)
		}
		if c.AccountID <= 0 || c.UserID <= 0 || c.ExpiresAt.IsZero() || testNow.After(c.ExpiresAt.Add(cbhttp.WidgetTokenLeeway)) {
			t.Fatalf("accepted claims %+v", c)
		}
	})
}

// FuzzParseWidgetTokenClaims signs arbitrary header and claims JSON with the
// right secret, so the fuzzer explores the parser past the signature check.
func FuzzParseWidgetTokenClaims(f *testing.F) {
	f.Add([]byte(`{"alg":"HS256","typ":"JWT"}`), []byte(`{"exp":1772619930,"account_id":31000001,"user_id":5}`))
	f.Add([]byte(`{"alg":"none"}`), []byte(`{"exp":1772619930,"account_id":31000001,"user_id":5}`))
	f.Add([]byte(`{"alg":"HS256","crit":["x"]}`), []byte(`{"exp":1772619930,"account_id":"31000001","user_id":"5"}`))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(`{"exp":1.7726199305e9,"nbf":null,"iat":-1,"aud":["a","b"],"account_id":1,"user_id":1}`))
	f.Add([]byte(`{"alg":"HS256"}`), []byte(`{"exp":1e400,"account_id":1,"user_id":1}`))
	f.Fuzz(func(t *testing.T, header, claims []byte) {
		signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
		mac := hmac.New(sha256.New, []byte(testClientSecret))
		mac.Write([]byte(signing))
		token := signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		opts := parseOpts()
		opts.Now = time.Unix(1772619900, 0)
		c, err := cbhttp.ParseWidgetToken(token, opts)
		if err != nil {
			if callbridge.ErrorCode(err) != callbridge.EUNAUTHORIZED {
				t.Fatalf("error code %q", callbridge.ErrorCode(err))
			}
			return
		}
		if !strings.Contains(string(header), `"HS256"`) {
			t.Fatalf("accepted header %s", header)
		}
		if c.AccountID <= 0 || c.UserID <= 0 || c.ExpiresAt.IsZero() || opts.Now.After(c.ExpiresAt.Add(cbhttp.WidgetTokenLeeway)) {
			t.Fatalf("accepted claims %+v from %s", c, claims)
		}
		if !c.NotBefore.IsZero() && c.NotBefore.After(opts.Now.Add(cbhttp.WidgetTokenLeeway)) {
			t.Fatalf("accepted nbf %v", c.NotBefore)
		}
		if c.ClientUUID != "" && c.ClientUUID != testClientID {
			t.Fatalf("accepted client_uuid %q", c.ClientUUID)
		}
	})
}
