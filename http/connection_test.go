package http_test

import (
	"encoding/json"
	"strings"
	"testing"

	"callbridge"
)

func TestCreateConnection(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		body := `{"provider":"fake","name":"Main line","credentials":{"secret":"brand-new-secret","user":"u1"},"time_zone":"America/Sao_Paulo"}`
		rec := e.do(widgetRequest("POST", "/api/widget/connections", widgetToken(acmeKommoID), body))
		if rec.Code != 201 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		id := int64(v["id"].(float64))
		stored, err := e.store.FindConnection(t.Context(), 1, id)
		if err != nil {
			t.Fatalf("connection not stored for the token's account: %v", err)
		}
		if stored.Provider != "fake" || stored.Name != "Main line" || stored.TimeZone != "America/Sao_Paulo" || stored.Credentials["secret"] != "brand-new-secret" {
			t.Fatalf("stored %+v", stored)
		}
		if v["provider"] != "fake" || v["name"] != "Main line" || v["webhook_url"] != testPublicURL+"/webhooks/"+stored.Token {
			t.Fatalf("response %v", v)
		}
		if strings.Contains(rec.Body.String(), "brand-new-secret") || strings.Contains(rec.Body.String(), "credentials") {
			t.Fatalf("response carries credentials: %s", rec.Body)
		}
		e.assertNotLogged("brand-new-secret", stored.Token)
	})

	t.Run("Defaults", func(t *testing.T) {
		e := newEnv(t)
		rec := e.do(widgetRequest("POST", "/api/widget/connections", widgetToken(acmeKommoID), `{"provider":"fake","credentials":{"secret":"s"}}`))
		if rec.Code != 201 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		var v map[string]any
		json.Unmarshal(rec.Body.Bytes(), &v)
		if v["name"] != "fake" || v["time_zone"] != "UTC" {
			t.Fatalf("defaults: %v", v)
		}
	})

	for _, tc := range []struct{ name, body, message string }{
		{"NoProvider", `{"credentials":{"secret":"s"}}`, "provider is required"},
		{"UnknownProvider", `{"provider":"nope","credentials":{"secret":"s"}}`, "provider must be one of: fake"},
		{"MissingRequiredCredential", `{"provider":"fake","credentials":{"user":"u"}}`, "credentials.secret is required"},
		{"EmptyCredential", `{"provider":"fake","credentials":{"secret":" "}}`, "credentials.secret must not be empty"},
		{"NoCredentials", `{"provider":"fake"}`, "credentials.secret is required"},
		{"BadTimeZone", `{"provider":"fake","credentials":{"secret":"s"},"time_zone":"Mars/Olympus"}`, "time_zone must be an IANA time zone"},
		{"LocalTimeZone", `{"provider":"fake","credentials":{"secret":"s"},"time_zone":"Local"}`, "time_zone must be an IANA time zone"},
		{"LongName", `{"provider":"fake","credentials":{"secret":"s"},"name":"` + strings.Repeat("n", 101) + `"}`, "name must be at most 100"},
		{"CredentialsNotObject", `{"provider":"fake","credentials":"secret"}`, "credentials must be a JSON object"},
	} {
		t.Run("Invalid/"+tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(widgetRequest("POST", "/api/widget/connections", widgetToken(acmeKommoID), tc.body))
			assertError(t, rec, 400, callbridge.EINVALID)
			if !strings.Contains(rec.Body.String(), tc.message) {
				t.Fatalf("message %s does not say %q", rec.Body, tc.message)
			}
			conns, _ := e.store.ListConnections(t.Context(), 1)
			if len(conns) != 1 {
				t.Fatalf("invalid connection stored (%d connections)", len(conns))
			}
		})
	}
}

func TestListConnections(t *testing.T) {
	e := newEnv(t)
	e.do(widgetRequest("POST", "/api/widget/connections", widgetToken(acmeKommoID), `{"provider":"fake","name":"Second","credentials":{"secret":"second-secret"}}`))
	rec := e.do(widgetRequest("GET", "/api/widget/connections", widgetToken(acmeKommoID), ""))
	if rec.Code != 200 {
		t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
	}
	raw := rec.Body.String()
	for _, secret := range []string{providerSecret, "second-secret", "AC-user", "credentials"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("list contains %q: %s", secret, raw)
		}
	}
	var body struct {
		Connections []struct {
			ID         int64
			Provider   string
			Name       string
			WebhookURL string `json:"webhook_url"`
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Connections) != 2 {
		t.Fatalf("got %d connections, want the account's 2: %s", len(body.Connections), raw)
	}
	if c := body.Connections[0]; c.ID != 11 || c.Name != "Acme line" || c.WebhookURL != testPublicURL+"/webhooks/"+acmeToken {
		t.Fatalf("first connection %+v", c)
	}
	if strings.Contains(raw, otherToken) || strings.Contains(raw, "Other line") {
		t.Fatalf("another account's connection listed: %s", raw)
	}
}
