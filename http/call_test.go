package http_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
)

func TestGetCall(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		c, _ := e.store.FindCall(t.Context(), 1, 101)
		c.RecordingURL = "https://provider.example/rec/RE1.mp3?secret=1"
		c.Result = &callbridge.CallResult{Text: "Wants a quote", CallStatus: 4, UserID: 8320148, SavedAt: testNow}
		e.store.setCall(c)

		rec := e.do(widgetRequest("GET", "/api/widget/calls/uid-acme-1", widgetToken(acmeKommoID), ""))
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		var body struct {
			Call map[string]any `json:"call"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		v := body.Call
		if v["uid"] != "uid-acme-1" || v["direction"] != "inbound" || v["status"] != "completed" ||
			v["customer_number"] != "+14155550100" || v["line_number"] != "+14155550199" || v["duration"] != float64(42) {
			t.Fatalf("view: %v", v)
		}
		if k, _ := v["kommo"].(map[string]any); k["entity_type"] != "leads" || k["entity_id"] != float64(555) || k["synced"] != true {
			t.Fatalf("kommo: %v", v["kommo"])
		}
		if r, _ := v["result"].(map[string]any); r["text"] != "Wants a quote" || r["call_status"] != float64(4) {
			t.Fatalf("result: %v", v["result"])
		}
		link, _ := v["recording_url"].(string)
		if !strings.HasPrefix(link, testPublicURL+"/rec/") {
			t.Fatalf("recording_url=%q", link)
		}
		acct, call, err := callbridge.ParseRecordingToken(recordingKey, strings.TrimPrefix(link, testPublicURL+"/rec/"), testNow)
		if err != nil || acct != 1 || call != 101 {
			t.Fatalf("recording link names account=%d call=%d err=%v", acct, call, err)
		}
		if _, _, err := callbridge.ParseRecordingToken(recordingKey, strings.TrimPrefix(link, testPublicURL+"/rec/"), testNow.Add(2*time.Hour)); err == nil {
			t.Fatal("recording link does not expire")
		}
		if s := rec.Body.String(); strings.Contains(s, "provider.example") || strings.Contains(s, "\"id\"") || strings.Contains(s, "connection") {
			t.Fatalf("view leaks internals: %s", s)
		}
	})
	t.Run("OtherAccountsCall", func(t *testing.T) {
		e := newEnv(t)
		assertError(t, e.do(widgetRequest("GET", "/api/widget/calls/uid-other-1", widgetToken(acmeKommoID), "")), 404, callbridge.ENOTFOUND)
		// The owner sees it.
		if rec := e.do(widgetRequest("GET", "/api/widget/calls/uid-other-1", widgetToken(otherKommoID), "")); rec.Code != 200 {
			t.Fatalf("owner: %d %s", rec.Code, rec.Body)
		}
	})
	t.Run("Unknown", func(t *testing.T) {
		e := newEnv(t)
		assertError(t, e.do(widgetRequest("GET", "/api/widget/calls/nope", widgetToken(acmeKommoID), "")), 404, callbridge.ENOTFOUND)
	})
}

func TestSaveResult(t *testing.T) {
	t.Run("ByUID", func(t *testing.T) {
		e := newEnv(t)
		body := `{"call_uid":"uid-acme-1","text":"Call back tomorrow","call_status":2,"entity_type":"contacts","entity_id":77}`
		rec := e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body))
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		in, acct, ok := e.ingester.lastResult()
		if !ok || acct != 1 {
			t.Fatalf("SaveResult not called for account 1 (ok=%v acct=%d)", ok, acct)
		}
		sum := sha256.Sum256([]byte(body))
		wantKey := "4b1e2c6a-7d3f-4e8b-9a10-2f3c4d5e6f70:" + hex.EncodeToString(sum[:])
		want := callbridge.ResultInput{
			CallUID: "uid-acme-1",
			Result: callbridge.CallResult{Text: "Call back tomorrow", CallStatus: 2, EntityType: "contacts", EntityID: 77,
				UserID: 8320148, SavedAt: testNow},
			Key: wantKey,
		}
		if in != want {
			t.Fatalf("SaveResult got\n%+v\nwant\n%+v", in, want)
		}
		var resp struct {
			Call struct {
				UID    string
				Result struct{ Text string }
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Call.UID != "uid-acme-1" || resp.Call.Result.Text != "Call back tomorrow" {
			t.Fatalf("response %s (%v)", rec.Body, err)
		}
		// A retry of the same request carries the same key.
		e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body))
		if again, _, _ := e.ingester.lastResult(); again.Key != wantKey {
			t.Fatalf("retry key %q, want %q", again.Key, wantKey)
		}
		e.assertNotLogged("Call back tomorrow")
	})

	t.Run("ByProviderCallID", func(t *testing.T) {
		e := newEnv(t)
		body := `{"connection_id":11,"provider_call_id":"CA-not-seen-yet","text":"","call_status":6}`
		rec := e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body))
		if rec.Code != 200 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		in, _, _ := e.ingester.lastResult()
		if in.ConnectionID != 11 || in.ProviderCallID != "CA-not-seen-yet" || in.CallUID != "" || in.Result.CallStatus != 6 {
			t.Fatalf("SaveResult got %+v", in)
		}
	})

	t.Run("OtherAccountsCall", func(t *testing.T) {
		e := newEnv(t)
		body := `{"call_uid":"uid-other-1","text":"x"}`
		assertError(t, e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body)), 404, callbridge.ENOTFOUND)
	})

	t.Run("IngesterFails", func(t *testing.T) {
		e := newEnv(t)
		e.ingester.resultErr = callbridge.Transient(callbridge.EUNAVAILABLE, time.Second, fmt.Errorf("db busy"), "Busy.")
		assertError(t, e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), `{"call_uid":"uid-acme-1","text":"x"}`)), 503, callbridge.EUNAVAILABLE)
	})

	t.Run("Oversized", func(t *testing.T) {
		e := newEnv(t)
		body := `{"call_uid":"uid-acme-1","text":"` + strings.Repeat("x", 70<<10) + `"}`
		assertError(t, e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body)), 413, callbridge.ETOOLARGE)
		if _, _, ok := e.ingester.lastResult(); ok {
			t.Fatal("oversized result saved")
		}
	})

	maxText := strings.Repeat("é", cbhttp.MaxResultText) // 4000 characters, 8000 bytes
	for _, tc := range []struct {
		name, body, message string
	}{
		{"NotJSON", `text=hello`, "JSON object"},
		{"Trailing", `{"call_uid":"uid-acme-1","text":"x"} {}`, "single JSON object"},
		{"WrongType", `{"call_uid":"uid-acme-1","call_status":"4"}`, "call_status must be a JSON number"},
		{"NoCall", `{"text":"x"}`, "Name the call"},
		{"BothWays", `{"call_uid":"uid-acme-1","connection_id":11,"provider_call_id":"CA1","text":"x"}`, "not both"},
		{"ConnectionWithoutProviderID", `{"connection_id":11,"text":"x"}`, "provider_call_id is required"},
		{"ProviderIDWithoutConnection", `{"provider_call_id":"CA1","text":"x"}`, "connection_id must be a positive id"},
		{"NegativeConnection", `{"connection_id":-1,"provider_call_id":"CA1","text":"x"}`, "connection_id must be a positive id"},
		{"OtherAccountsConnection", `{"connection_id":21,"provider_call_id":"CA1","text":"x"}`, "connection_id does not name a connection of this account"},
		{"LongUID", `{"call_uid":"` + strings.Repeat("u", 201) + `","text":"x"}`, "call_uid must be at most 200"},
		{"TextTooLong", `{"call_uid":"uid-acme-1","text":"` + maxText + `a"}`, "text must be at most 4000 characters"},
		{"StatusTooHigh", `{"call_uid":"uid-acme-1","call_status":8}`, "call_status must be between 0"},
		{"StatusNegative", `{"call_uid":"uid-acme-1","call_status":-1}`, "call_status must be between 0"},
		{"BadEntityType", `{"call_uid":"uid-acme-1","text":"x","entity_type":"tasks","entity_id":5}`, "entity_type must be one of"},
		{"EntityIDWithoutType", `{"call_uid":"uid-acme-1","text":"x","entity_id":5}`, "entity_type is required"},
		{"EntityTypeWithoutID", `{"call_uid":"uid-acme-1","text":"x","entity_type":"leads"}`, "entity_id must be a positive id"},
		{"Empty", `{"call_uid":"uid-acme-1"}`, "Nothing to save"},
	} {
		t.Run("Invalid/"+tc.name, func(t *testing.T) {
			e := newEnv(t)
			rec := e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), tc.body))
			assertError(t, rec, 400, callbridge.EINVALID)
			if !strings.Contains(rec.Body.String(), tc.message) {
				t.Fatalf("message %s does not say %q", rec.Body, tc.message)
			}
			if _, _, ok := e.ingester.lastResult(); ok {
				t.Fatal("invalid result saved")
			}
		})
	}

	t.Run("MaxTextAccepted", func(t *testing.T) {
		e := newEnv(t)
		body := `{"call_uid":"uid-acme-1","text":"` + maxText + `","call_status":7}`
		if rec := e.do(widgetRequest("POST", "/api/widget/calls/result", widgetToken(acmeKommoID), body)); rec.Code != 200 {
			t.Fatalf("status=%d body=%.200s", rec.Code, rec.Body)
		}
	})
}
