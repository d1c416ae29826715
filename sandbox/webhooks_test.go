package sandbox_test

import (
	"net/http"
	"net/url"
	"testing"

	"callbridge/sandbox"
)

func TestAccountWebhooksAPI(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.WebhookURL = "" })
	r := e.seed(sandbox.SeedAccount{Users: []sandbox.SeedUser{{Ref: "admin", Admin: true}, {Ref: "mgr"}}})
	admin, mgr := e.token(r.ID, 0), e.token(r.ID, r.Users["mgr"])
	dest := e.in.srv.URL + "/kommo/hooks/tok"

	if s, _ := e.api("POST", "/api/v4/webhooks", mgr.Access, map[string]any{"destination": dest, "settings": []string{"delete_unsorted"}}); s != http.StatusForbidden {
		t.Fatalf("a manager registered a webhook: %d", s)
	}
	if s, _ := e.api("POST", "/api/v4/webhooks", admin.Access, map[string]any{"destination": "ftp://x", "settings": []string{"delete_unsorted"}}); s != http.StatusBadRequest {
		t.Fatalf("bad destination: %d", s)
	}
	if s, _ := e.api("GET", "/api/v4/webhooks", admin.Access, nil); s != http.StatusNoContent {
		t.Fatalf("no webhooks yet: %d", s)
	}
	for range 2 { // registering again replaces the settings
		s, body := e.api("POST", "/api/v4/webhooks", admin.Access, map[string]any{"destination": dest, "settings": []string{"delete_unsorted"}})
		if s != http.StatusOK || str(get(body, "destination")) != dest || str(get(body, "settings", 0)) != "delete_unsorted" {
			t.Fatalf("register: %d %v", s, body)
		}
	}
	s, body := e.api("GET", "/api/v4/webhooks?filter[destination]="+url.QueryEscape(dest), admin.Access, nil)
	if s != http.StatusOK || len(get(body, "_embedded", "webhooks").([]any)) != 1 {
		t.Fatalf("list: %d %v", s, body)
	}

	// An incoming lead declined: the registered destination gets the webhook.
	s, body = e.api("POST", "/api/v4/leads/unsorted/sip", admin.Access, []any{sip("src-w", "+1 415 555 0188")})
	if s != http.StatusOK {
		t.Fatalf("create: %d %v", s, body)
	}
	uid := str(get(body, "_embedded", "unsorted", 0, "uid"))
	if err := e.emu.DeclineUnsorted(uid, 0); err != nil {
		t.Fatal(err)
	}
	got := e.in.wait(t, "/kommo/hooks/tok", 1)
	form, _ := url.ParseQuery(got[0].Body)
	if form.Get("unsorted[delete][0][uid]") != uid || form.Get("unsorted[delete][0][action]") != "decline" ||
		form.Get("account[id]") != itoa(r.ID) {
		t.Fatalf("webhook body %v", form)
	}
	if hooks := e.emu.State().Account(r.ID).Webhooks; len(hooks) != 1 || hooks[0].Destination != dest {
		t.Fatalf("state webhooks %+v", hooks)
	}
	if s, _ := e.api("DELETE", "/api/v4/webhooks", admin.Access, map[string]any{"destination": dest}); s != http.StatusNoContent {
		t.Fatalf("delete: %d", s)
	}
	if s, _ := e.api("GET", "/api/v4/webhooks", admin.Access, nil); s != http.StatusNoContent {
		t.Fatalf("after delete: %d", s)
	}
}
