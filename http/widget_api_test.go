package http_test

import (
	"fmt"
	"strings"
	"testing"

	"callbridge"
)

type apiError struct {
	Error struct{ Code, Message string }
}

func TestWidgetSettings(t *testing.T) {
	e := newWidgetEnv(t)
	admin, sales := e.token(wAcctA, wAdmin), e.token(wAcctA, wSales)

	t.Run("ReadAsManager", func(t *testing.T) {
		var out map[string]any
		if code := e.call("GET", "/api/widget/settings", sales, nil, &out); code != 200 {
			t.Fatalf("GET: %d", code)
		}
		if out["is_admin"] != false || out["connections"] != nil || out["users"] != nil {
			t.Fatalf("a manager sees admin data: %v", out)
		}
		provs := out["providers"].([]any)
		p := provs[0].(map[string]any)
		if p["name"] != "fakevoip" || p["click_to_call"] != true || p["extensions"] != true || p["checks_credentials"] != true {
			t.Fatalf("providers %v", provs)
		}
	})
	t.Run("ReadAsAdmin", func(t *testing.T) {
		var out struct {
			IsAdmin     bool `json:"is_admin"`
			Connections []struct {
				ID         int64
				WebhookURL string `json:"webhook_url"`
			}
			Users []struct{ ID int64 }
		}
		if code := e.call("GET", "/api/widget/settings", admin, nil, &out); code != 200 {
			t.Fatalf("GET: %d", code)
		}
		if !out.IsAdmin || len(out.Connections) != 1 || out.Connections[0].ID != e.conns[wAcctA].ID || len(out.Users) != 2 {
			t.Fatalf("admin view %+v", out)
		}
	})
	t.Run("WriteNeedsAdmin", func(t *testing.T) {
		var out apiError
		if code := e.call("PUT", "/api/widget/settings", sales, callbridge.Settings{Country: "BR"}, &out); code != 403 {
			t.Fatalf("manager PUT: %d", code)
		}
	})
	t.Run("Validation", func(t *testing.T) {
		for name, st := range map[string]callbridge.Settings{
			"Country":       {Country: "Brazil"},
			"Language":      {Language: "de"},
			"UserKey":       {Extensions: map[string]string{"bob": "101"}},
			"DuplicateExt":  {Extensions: map[string]string{"501": "101", "502": " 101"}},
			"ControlChar":   {Extensions: map[string]string{"501": "10\n1"}},
			"PrefsUserKey":  {Users: map[string]callbridge.WidgetPrefs{"-1": {}}},
			"NegativePipes": {UnsortedPipelineID: -1},
		} {
			var out apiError
			if code := e.call("PUT", "/api/widget/settings", admin, st, &out); code != 400 || out.Error.Message == "" {
				t.Errorf("%s: %d %+v", name, code, out)
			}
		}
	})
	t.Run("Write", func(t *testing.T) {
		tr := true
		in := callbridge.Settings{Country: "br", Language: "pt", Extensions: map[string]string{"501": " 101 ", "502": ""},
			Widget: callbridge.WidgetPrefs{QualityRating: &tr}}
		var out struct {
			Settings callbridge.Settings
		}
		if code := e.call("PUT", "/api/widget/settings", admin, in, &out); code != 200 {
			t.Fatalf("PUT: %d", code)
		}
		got, _ := e.db.FindAccount(t.Context(), e.accounts[wAcctA].ID)
		if got.Settings.Country != "BR" || got.Settings.Extensions["501"] != "101" || len(got.Settings.Extensions) != 1 ||
			got.Settings.Widget.QualityRating == nil || !*got.Settings.Widget.QualityRating {
			t.Fatalf("stored settings %+v", got.Settings)
		}
	})
	t.Run("Extensions", func(t *testing.T) {
		var out struct {
			Supported  bool
			Extensions []callbridge.Extension
		}
		if code := e.call("GET", "/api/widget/extensions", sales, nil, &out); code != 200 || !out.Supported || len(out.Extensions) != 1 {
			t.Fatalf("extensions: %d %+v", code, out)
		}
		if code := e.call("GET", fmt.Sprintf("/api/widget/extensions?connection_id=%d", e.conns[wAcctB].ID), sales, nil, nil); code != 404 {
			t.Fatalf("another account's connection: %d", code)
		}
	})
}

func TestWidgetSetup(t *testing.T) {
	e := newWidgetEnv(t)
	admin := e.token(wAcctB, wAdmin)
	count := func() int {
		cs, _ := e.db.ListConnections(t.Context(), e.accounts[wAcctB].ID)
		return len(cs)
	}
	before := count()

	var bad apiError
	if code := e.call("POST", "/api/widget/setup", admin, map[string]any{"provider": "fakevoip", "credentials": map[string]string{"key": "wrong"}}, &bad); code != 400 {
		t.Fatalf("wrong credentials: %d", code)
	}
	if !strings.Contains(bad.Error.Message, "refused these credentials") || !strings.Contains(bad.Error.Message, "API key is wrong") {
		t.Fatalf("message %q", bad.Error.Message)
	}
	if count() != before {
		t.Fatal("a connection was stored with wrong credentials")
	}
	if code := e.call("POST", "/api/widget/setup", e.token(wAcctB, wSales), map[string]any{"provider": "fakevoip", "credentials": map[string]string{"key": "good-key"}}, nil); code != 403 {
		t.Fatalf("manager setup: %d, want 403", code)
	}
	var out struct {
		Created    bool
		Connection struct{ ID int64 }
	}
	// The same credentials as the existing connection: reused.
	if code := e.call("POST", "/api/widget/setup", admin, map[string]any{"provider": "fakevoip", "credentials": map[string]string{"key": "good-key"}}, &out); code != 200 || out.Created {
		t.Fatalf("same credentials: %d %+v", code, out)
	}
	if out.Connection.ID != e.conns[wAcctB].ID || count() != before {
		t.Fatalf("reused %d, want %d", out.Connection.ID, e.conns[wAcctB].ID)
	}

	// New credentials for the same provider replace the connection's,
	// keeping its id and webhook URL.
	var upd struct {
		Created, Updated bool
		Connection       struct {
			ID         int64
			WebhookURL string `json:"webhook_url"`
		}
	}
	if code := e.call("POST", "/api/widget/setup", admin, map[string]any{"provider": "fakevoip", "name": "Main line",
		"credentials": map[string]string{"key": "good-key-2"}}, &upd); code != 200 || upd.Created || !upd.Updated {
		t.Fatalf("new credentials: %d %+v", code, upd)
	}
	if upd.Connection.ID != e.conns[wAcctB].ID || count() != before || !strings.HasSuffix(upd.Connection.WebhookURL, "/webhooks/"+e.conns[wAcctB].Token) {
		t.Fatalf("updated %+v, want connection %d with its webhook URL", upd.Connection, e.conns[wAcctB].ID)
	}
	stored, err := e.db.FindConnection(t.Context(), e.accounts[wAcctB].ID, e.conns[wAcctB].ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Credentials["key"] != "good-key-2" || stored.Name != "Main line" || stored.Token != e.conns[wAcctB].Token {
		t.Fatalf("stored %+v", stored)
	}
	if c, err := e.db.FindConnectionByToken(t.Context(), e.conns[wAcctB].Token); err != nil || c.ID != stored.ID {
		t.Fatalf("the webhook token no longer finds the connection: %v", err)
	}
}

func TestWidgetPlaceCall(t *testing.T) {
	e := newWidgetEnv(t)
	var out struct {
		ConnectionID   int64  `json:"connection_id"`
		ProviderCallID string `json:"provider_call_id"`
		CustomerNumber string `json:"customer_number"`
	}
	if code := e.call("POST", "/api/widget/calls", e.token(wAcctA, wSales), map[string]any{"phone": "(415) 555-0100"}, &out); code != 201 {
		t.Fatalf("place: %d", code)
	}
	if out.ConnectionID != e.conns[wAcctA].ID || out.ProviderCallID == "" || out.CustomerNumber != "+14155550100" {
		t.Fatalf("answer %+v", out)
	}
	p := e.provider.placedCalls()
	if len(p) != 1 || p[0].Agent != "+15550000502" || p[0].Customer != "+14155550100" || !strings.HasSuffix(p[0].StatusURL, "/webhooks/"+e.conns[wAcctA].Token) {
		t.Fatalf("placed %+v", p)
	}
	var bad apiError
	if code := e.call("POST", "/api/widget/calls", e.token(wAcctA, 999), map[string]any{"phone": "+14155550100"}, &bad); code != 400 || !strings.Contains(bad.Error.Message, "No extension") {
		t.Fatalf("user without an extension: %d %+v", code, bad)
	}
	if code := e.call("POST", "/api/widget/calls", e.token(wAcctA, wSales), map[string]any{"phone": "abc"}, &bad); code != 400 {
		t.Fatalf("not a number: %d", code)
	}
}

func TestWidgetCallLists(t *testing.T) {
	e := newWidgetEnv(t)
	tok := e.token(wAcctA, wSales)
	type view struct {
		ID       int64
		Status   string
		Position int
		Version  int64
		Total    int
		Done     int
		Entries  []callbridge.CallListEntry
	}
	var created struct {
		CallList view `json:"call_list"`
		Skipped  []int
	}
	entries := []map[string]any{
		{"phone": "+14155550100", "name": "Ann", "entity_type": "contacts", "entity_id": 1},
		{"phone": "not a number"},
		{"phone": "(415) 555-0100"}, // the same number again
		{"phone": "+14155550000", "name": "Refused"},
		{"phone": "+14155550102", "name": "Cy"},
	}
	if code := e.call("POST", "/api/widget/calllists", tok, map[string]any{"name": "Today", "interval": 3, "entries": entries}, &created); code != 201 {
		t.Fatalf("create: %d", code)
	}
	l := created.CallList
	if l.Total != 3 || fmt.Sprint(created.Skipped) != "[1 2]" || l.Status != "active" {
		t.Fatalf("created %+v skipped %v", l, created.Skipped)
	}
	act := func(action string, version int64) (int, view, string) {
		var out struct {
			CallList view `json:"call_list"`
			Error    any
			Call     *struct{ ProviderCallID string } `json:"call"`
		}
		code := e.call("POST", fmt.Sprintf("/api/widget/calllists/%d/%s", l.ID, action), tok, map[string]any{"version": version}, &out)
		msg := ""
		if s, ok := out.Error.(string); ok {
			msg = s
		}
		return code, out.CallList, msg
	}

	code, v, _ := act("dial", l.Version)
	if code != 200 || v.Position != 1 || v.Entries[0].State != callbridge.EntryDialed || v.Entries[0].ProviderCallID == "" {
		t.Fatalf("dial: %d %+v", code, v)
	}
	// A second tab with the old version cannot dial again.
	if code, _, _ := act("dial", l.Version); code != 409 {
		t.Fatalf("stale dial: %d, want 409", code)
	}
	if n := len(e.provider.placedCalls()); n != 1 {
		t.Fatalf("%d calls placed, want 1", n)
	}
	// The provider refuses the next number: the entry fails, the list goes on.
	code, v, msg := act("dial", v.Version)
	if code != 200 || v.Entries[1].State != callbridge.EntryFailed || !strings.Contains(msg, "cannot call") || v.Position != 2 {
		t.Fatalf("refused dial: %d %q %+v", code, msg, v)
	}
	if code, v, _ = act("pause", v.Version); code != 200 || v.Status != "paused" {
		t.Fatalf("pause: %d %+v", code, v)
	}
	if code, _, _ := act("dial", v.Version); code != 400 {
		t.Fatalf("dial while paused: %d", code)
	}
	// A reload finds the open list where it was.
	var open struct {
		CallList *view `json:"call_list"`
	}
	if e.call("GET", "/api/widget/calllists/open", tok, nil, &open); open.CallList == nil || open.CallList.Position != 2 || open.CallList.Status != "paused" {
		t.Fatalf("open list %+v", open.CallList)
	}
	if code, v, _ = act("resume", v.Version); code != 200 || v.Status != "active" {
		t.Fatalf("resume: %d", code)
	}
	if code, v, _ = act("skip", v.Version); code != 200 || v.Status != "done" || v.Done != 3 {
		t.Fatalf("skip last: %d %+v", code, v)
	}
	if e.call("GET", "/api/widget/calllists/open", tok, nil, &open); open.CallList != nil {
		t.Fatalf("a done list is open: %+v", open.CallList)
	}
	// Another user of the same account does not see it.
	if code := e.call("GET", fmt.Sprintf("/api/widget/calllists/%d", l.ID), e.token(wAcctA, wAdmin), nil, nil); code != 404 {
		t.Fatalf("another user's list: %d", code)
	}
}
