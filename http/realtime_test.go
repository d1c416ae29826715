package http_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/kommo"
)

func TestRealtimeTenancy(t *testing.T) {
	e := newWidgetEnv(t)
	ticketA, _ := e.ticket(wAcctA, wAdmin)
	a, code := e.dialWS(ticketA)
	if code != 101 {
		t.Fatalf("handshake: %d", code)
	}
	if m := a.next(t); m["type"] != "hello" {
		t.Fatalf("first message %v, want hello", m)
	}
	waitFor(t, "registration", func() bool { return e.rt.Connected(e.accounts[wAcctA].ID, wAdmin) == 1 })

	// Account B's call for the same Kommo user id (501 in B) must not reach
	// account A's widget. The worker is single, so B's call is processed
	// before A's marker call, and a leaked message would arrive first.
	e.ingest(wAcctB, "B-1", callbridge.StatusRinging, "+15550000501", "+14155550111")
	e.ingest(wAcctA, "A-1", callbridge.StatusRinging, "+15550000501", "+14155550100")
	m := a.nextCall(t)
	if m.Call.ProviderCallID != "A-1" || m.Call.CustomerNumber != "+14155550100" {
		t.Fatalf("account A's widget received %+v, want only A-1", m.Call)
	}
	// B's user was not connected: Kommo's own notification for B's user.
	waitFor(t, "fallback for account B", func() bool {
		for _, n := range e.kommo.notifications() {
			if n.AccountID == e.accounts[wAcctB].ID && n.Phone == "+14155550111" && slices.Equal(n.Users, []int64{wAdmin}) {
				return true
			}
		}
		return false
	})
	for _, n := range e.kommo.notifications() {
		if n.AccountID == e.accounts[wAcctA].ID {
			t.Fatalf("a fallback was sent for account A although its user is connected: %+v", n)
		}
	}

	t.Run("TicketSingleUse", func(t *testing.T) {
		if _, code := e.dialWS(ticketA); code != 401 {
			t.Fatalf("reused ticket: %d, want 401", code)
		}
		if _, code := e.dialWS("forged-ticket"); code != 401 {
			t.Fatalf("forged ticket: %d, want 401", code)
		}
	})
	t.Run("TicketExpires", func(t *testing.T) {
		tk, _ := e.ticket(wAcctA, wAdmin)
		e.advance(time.Minute)
		if _, code := e.dialWS(tk); code != 401 {
			t.Fatalf("expired ticket: %d, want 401", code)
		}
	})
	t.Run("WidgetAPI", func(t *testing.T) {
		tokB := e.token(wAcctB, wAdmin)
		// B's token cannot dial through A's connection.
		if code := e.call("POST", "/api/widget/calls", tokB, map[string]any{"phone": "+14155550100", "connection_id": e.conns[wAcctA].ID}, nil); code != 400 {
			t.Fatalf("dial through another account's connection: %d, want 400", code)
		}
		// B's token cannot see or act on A's call list.
		var created struct {
			CallList struct{ ID, Version int64 } `json:"call_list"`
		}
		if code := e.call("POST", "/api/widget/calllists", e.token(wAcctA, wAdmin), map[string]any{"entries": []map[string]any{{"phone": "+14155550100"}}}, &created); code != 201 {
			t.Fatalf("create list: %d", code)
		}
		path := fmt.Sprintf("/api/widget/calllists/%d", created.CallList.ID)
		if code := e.call("GET", path, tokB, nil, nil); code != 404 {
			t.Fatalf("B read A's call list: %d, want 404", code)
		}
		if code := e.call("POST", path+"/stop", tokB, map[string]any{"version": created.CallList.Version}, nil); code != 404 {
			t.Fatalf("B stopped A's call list: %d, want 404", code)
		}
		// B's settings write lands in B only.
		var got struct{ Settings callbridge.Settings }
		if code := e.call("POST", "/api/widget/settings", tokB, callbridge.Settings{Country: "BR"}, &got); code != 200 {
			t.Fatalf("B settings: %d", code)
		}
		acctA, _ := e.db.FindAccount(t.Context(), e.accounts[wAcctA].ID)
		if acctA.Settings.Country != "" || acctA.Settings.Extensions["501"] == "" {
			t.Fatalf("account A's settings changed: %+v", acctA.Settings)
		}
	})
}

func TestRealtimePush(t *testing.T) {
	e := newWidgetEnv(t)
	e.kommo.contacts[fmt.Sprint(wAcctA)+"+14155550100"] = []kommo.Contact{{ID: 77, Name: "Ann Client"}, {ID: 70, Name: "Older Ann"}}
	admin, _ := e.dialWS(mustTicket(e, wAcctA, wAdmin))
	sales, _ := e.dialWS(mustTicket(e, wAcctA, wSales))
	waitFor(t, "registration", func() bool {
		return e.rt.Connected(e.accounts[wAcctA].ID, wAdmin) == 1 && e.rt.Connected(e.accounts[wAcctA].ID, wSales) == 1
	})

	t.Run("UnknownAgentRingsEveryone", func(t *testing.T) {
		e.ingest(wAcctA, "C-1", callbridge.StatusRinging, "", "+14155550100")
		for _, c := range []*wsClient{admin, sales} {
			m := c.nextCall(t)
			if m.Phase != "ringing" || m.UserID != 0 || m.Call.ProviderCallID != "C-1" {
				t.Fatalf("message %+v", m)
			}
			if m.Caller == nil || m.Caller.Name != "Older Ann" || m.Caller.Link != "/contacts/detail/70" {
				t.Fatalf("caller %+v, want the oldest contact", m.Caller)
			}
			if !m.Prefs.RingSound || !m.Prefs.ResultWindow || m.Prefs.OpenCard {
				t.Fatalf("default prefs %+v", m.Prefs)
			}
		}
		// The agent becomes known (the dial leg rings the sales manager); the
		// call is answered and ends: both widgets hear of it, the message
		// names the sales manager.
		e.ingest(wAcctA, "C-1", callbridge.StatusAnswered, "+15550000502", "+14155550100")
		e.ingest(wAcctA, "C-1", callbridge.StatusCompleted, "+15550000502", "+14155550100")
		for _, c := range []*wsClient{admin, sales} {
			for _, phase := range []string{"answered", "ended"} {
				m := c.nextCall(t)
				if m.Phase != phase || m.UserID != wSales {
					t.Fatalf("got %s for user %d, want %s for %d", m.Phase, m.UserID, phase, wSales)
				}
			}
		}
	})

	t.Run("MappedAgentRingsOnlyTheManager", func(t *testing.T) {
		e.ingest(wAcctA, "C-2", callbridge.StatusRinging, "+15550000501", "+16505550123")
		e.ingest(wAcctA, "C-3", callbridge.StatusRinging, "+15550000502", "+16505550124")
		m := admin.nextCall(t)
		if m.Call.ProviderCallID != "C-2" || m.UserID != wAdmin {
			t.Fatalf("admin got %+v", m)
		}
		if m.Caller == nil || !m.Caller.Unknown || m.Caller.CreateLink != "/contacts/add/?phone=%2B16505550123" {
			t.Fatalf("unknown caller %+v", m.Caller)
		}
		if m := sales.nextCall(t); m.Call.ProviderCallID != "C-3" {
			t.Fatalf("sales got %+v, want only C-3", m.Call)
		}
		// A provider's retry changes nothing and pushes nothing.
		e.ingest(wAcctA, "C-2", callbridge.StatusRinging, "+15550000501", "+16505550123")
		e.ingest(wAcctA, "C-2", callbridge.StatusMissed, "+15550000501", "+16505550123")
		if m := admin.nextCall(t); m.Phase != "ended" || m.Call.Status != callbridge.StatusMissed {
			t.Fatalf("after the retry: %+v", m)
		}
	})

	t.Run("UserPrefs", func(t *testing.T) {
		var out struct{ Prefs cbhttp.EffectivePrefs }
		f := false
		tr := true
		if code := e.call("POST", "/api/widget/prefs", e.token(wAcctA, wSales), callbridge.WidgetPrefs{RingSound: &f, OpenCard: &tr}, &out); code != 200 {
			t.Fatalf("prefs: %d", code)
		}
		if out.Prefs.RingSound || !out.Prefs.OpenCard {
			t.Fatalf("prefs answer %+v", out.Prefs)
		}
		e.ingest(wAcctA, "C-4", callbridge.StatusRinging, "+15550000502", "+16505550125")
		if m := sales.nextCall(t); m.Prefs.RingSound || !m.Prefs.OpenCard {
			t.Fatalf("pushed prefs %+v", m.Prefs)
		}
	})

	t.Run("NoFallbackForAnUnmappedAgent", func(t *testing.T) {
		// Nobody to name: Kommo's notification would go to every user of the
		// account for every call, so none is sent. The mapped call after it
		// (the worker is single) proves the first was processed.
		e.ingest(wAcctB, "D-1", callbridge.StatusRinging, "", "+16505550199")
		e.ingest(wAcctB, "D-2", callbridge.StatusRinging, "+15550000502", "+16505550198")
		waitFor(t, "fallback for the mapped manager", func() bool {
			for _, n := range e.kommo.notifications() {
				if n.AccountID == e.accounts[wAcctB].ID && n.Phone == "+16505550198" && slices.Equal(n.Users, []int64{wSales}) {
					return true
				}
			}
			return false
		})
		for _, n := range e.kommo.notifications() {
			if n.Phone == "+16505550199" {
				t.Fatalf("Kommo notification sent for a call with no mapped manager: %+v", n)
			}
		}
	})

	t.Run("SlowCallerLookup", func(t *testing.T) {
		e.kommo.mu.Lock()
		e.kommo.delay = 5 * time.Second
		e.kommo.mu.Unlock()
		defer func() {
			e.kommo.mu.Lock()
			e.kommo.delay = 0
			e.kommo.mu.Unlock()
		}()
		e.ingest(wAcctA, "C-5", callbridge.StatusRinging, "+15550000501", "+14155550100")
		m := admin.nextCall(t)
		if m.Call.ProviderCallID != "C-5" || m.Caller == nil || m.Caller.Name != "" || m.Caller.Number != "+14155550100" {
			t.Fatalf("popup after a lookup timeout: %+v %+v", m.Call, m.Caller)
		}
	})
}

func mustTicket(e *wenv, acct, user int64) string {
	tk, _ := e.ticket(acct, user)
	return tk
}

func TestRealtimeDisconnectedAccount(t *testing.T) {
	e := newWidgetEnv(t)
	tk := mustTicket(e, wAcctA, wAdmin)
	if err := e.db.SetAccountStatus(t.Context(), e.accounts[wAcctA].ID, callbridge.AccountDisconnected); err != nil {
		t.Fatal(err)
	}
	if _, code := e.dialWS(tk); code != 410 {
		t.Fatalf("disconnected account: %d, want 410", code)
	}
	if code := e.call("POST", "/api/widget/realtime/ticket", e.token(wAcctA, wAdmin), nil, nil); code != 410 {
		t.Fatalf("ticket for a disconnected account: %d, want 410", code)
	}
}
