package http_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	nethttp "net/http"

	"callbridge"
	cbhttp "callbridge/http"
	"callbridge/kommo"
	"callbridge/sqlite"
	"callbridge/sqlite/sqlitetest"
)

type recordedLeads struct {
	mu  sync.Mutex
	got []callbridge.IncomingLeadOutcome
}

func (r *recordedLeads) ResolveIncomingLeads(_ context.Context, _ *callbridge.Account, os []callbridge.IncomingLeadOutcome) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, os...)
	return nil
}

func TestKommoHook(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	ctx := t.Context()
	acct := &callbridge.Account{KommoID: 30000007, Subdomain: "acme"}
	if err := db.UpsertAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	key := []byte("hook-key-0123456789abcdef0123456")
	leads := &recordedLeads{}
	mux := nethttp.NewServeMux()
	mux.Handle(cbhttp.KommoHookPattern, &cbhttp.KommoHook{Accounts: db, Leads: leads, Key: key})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	post := func(path string, form url.Values) int {
		resp, err := nethttp.PostForm(srv.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	good := callbridge.HookURL("", key, acct.ID)
	// What Kommo (and the emulator) sends when a manager accepts.
	form := url.Values{
		"unsorted[delete][0][uid]":                        {"u-1"},
		"unsorted[delete][0][action]":                     {"accept"},
		"unsorted[delete][0][category]":                   {"sip"},
		"unsorted[delete][0][modified_user_id]":           {"8000001"},
		"unsorted[delete][0][accept_result][leads][0]":    {"40000002"},
		"unsorted[delete][0][accept_result][contacts][0]": {"10000003"},
		"unsorted[delete][1][uid]":                        {"u-2"},
		"unsorted[delete][1][action]":                     {"decline"},
		"unsorted[delete][1][decline_result][leads][0]":   {"40000005"},
		"unsorted[delete][2][uid]":                        {"u-3"},
		"unsorted[delete][2][action]":                     {"link"},
		"account[id]":                                     {"30000007"},
		"account[subdomain]":                              {"acme"},
	}
	if code := post(good, form); code != 200 {
		t.Fatalf("hook: %d", code)
	}
	want := []callbridge.IncomingLeadOutcome{
		{UID: "u-1", Action: "accept", LeadIDs: []int64{40000002}, ContactIDs: []int64{10000003}, UserID: 8000001, Source: "webhook"},
		{UID: "u-2", Action: "decline", LeadIDs: []int64{40000005}, Source: "webhook"},
	}
	leads.mu.Lock()
	got := leads.got
	for i := range got {
		got[i].At = time.Time{}
	}
	leads.mu.Unlock()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("outcomes\n%+v\nwant\n%+v", got, want)
	}

	otherAcct := callbridge.HookURL("", key, acct.ID+1)
	forged := good[:len(good)-2] + "AA"
	for name, tc := range map[string]struct {
		path string
		form url.Values
		code int
	}{
		"ForgedToken":    {forged, form, 401},
		"NoToken":        {"/kommo/hooks/x", form, 401},
		"UnknownAccount": {otherAcct, form, 401},
		"OtherKommoID":   {good, url.Values{"account[id]": {"1"}}, 403},
		"OtherEvents":    {good, url.Values{"leads[status][0][id]": {"1"}}, 200},
	} {
		if code := post(tc.path, tc.form); code != tc.code {
			t.Errorf("%s: %d, want %d", name, code, tc.code)
		}
	}
	if n := len(leads.got); n != 2 {
		t.Fatalf("%d outcomes recorded after refused hooks", n)
	}
	if err := db.SetAccountStatus(ctx, acct.ID, callbridge.AccountDisconnected); err != nil {
		t.Fatal(err)
	}
	if code := post(good, form); code != 410 {
		t.Fatalf("disconnected account: %d", code)
	}
}

func FuzzParseUnsortedDelete(f *testing.F) {
	f.Add("unsorted%5Bdelete%5D%5B0%5D%5Buid%5D=u&unsorted%5Bdelete%5D%5B0%5D%5Baction%5D=accept&unsorted%5Bdelete%5D%5B0%5D%5Baccept_result%5D%5Bleads%5D%5B0%5D=5")
	f.Add("unsorted[delete][-1][uid]=x&unsorted[delete][99999999999][uid]=y")
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		for _, o := range cbhttp.ParseUnsortedDelete(form, time.Time{}) {
			if o.UID == "" || (o.Action != "accept" && o.Action != "decline") {
				t.Fatalf("bad outcome %+v", o)
			}
			for _, id := range append(append(o.LeadIDs, o.ContactIDs...), o.CompanyIDs...) {
				if id <= 0 {
					t.Fatalf("bad id in %+v", o)
				}
			}
		}
	})
}

// rulesKommo answers the settings endpoints' Kommo questions.
type rulesKommo struct {
	users     []kommo.User
	pipelines []kommo.Pipeline
}

func (k *rulesKommo) ListUsers(context.Context, *callbridge.Account) ([]kommo.User, error) {
	return k.users, nil
}

func (k *rulesKommo) ListPipelines(context.Context, *callbridge.Account) ([]kommo.Pipeline, error) {
	return k.pipelines, nil
}

func TestWidgetSettingsRules(t *testing.T) {
	db := sqlitetest.Open(t, sqlite.Options{})
	ctx := t.Context()
	acct := &callbridge.Account{KommoID: 41000009, Subdomain: "rules"}
	if err := db.UpsertAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	k := &rulesKommo{
		users: []kommo.User{{ID: 501, Name: "Admin", IsAdmin: true}, {ID: 502, Name: "Sales"}},
		pipelines: []kommo.Pipeline{
			{ID: 7, Name: "Sales", IsMain: true, Statuses: []kommo.Status{{ID: 70, Name: "Incoming", Type: 1}, {ID: 71, Name: "Qualified"}, {ID: 142, Name: "Won"}, {ID: 143, Name: "Lost"}}},
			{ID: 8, Name: "Support", Statuses: []kommo.Status{{ID: 80, Name: "Incoming", Type: 1}, {ID: 81, Name: "Open"}, {ID: 142}, {ID: 143}}},
		},
	}
	s := &cbhttp.Server{Addr: "127.0.0.1:0", Store: db, Ingester: nopIngester{}, ClientID: testClientID, ClientSecret: testClientSecret, Kommo: k}
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	put := func(user int64, st callbridge.Settings) (int, string, callbridge.Settings) {
		b, _ := json.Marshal(st)
		req, _ := nethttp.NewRequest("PUT", s.URL()+"/api/widget/settings", strings.NewReader(string(b)))
		now := time.Now()
		var jti [8]byte
		_, _ = rand.Read(jti[:])
		req.Header.Set("X-Auth-Token", signJWT(hs256, map[string]any{"iss": "https://rules.kommo.com", "jti": fmt.Sprintf("%x", jti),
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(), "account_id": acct.KommoID, "user_id": user,
			"client_uuid": testClientID}, testClientSecret))
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Settings callbridge.Settings
			Error    struct{ Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Error.Message, out.Settings
	}
	rules := func(r callbridge.RuleSettings) callbridge.Settings { return callbridge.Settings{Rules: r} }
	for name, tc := range map[string]struct {
		in   callbridge.Settings
		want string // in the error message
	}{
		"UnknownMode":       {rules(callbridge.RuleSettings{UnknownInbound: "ignore"}), "rules.unknown_inbound"},
		"UnknownInternal":   {rules(callbridge.RuleSettings{InternalCalls: "drop"}), "rules.internal_calls"},
		"UnknownPipeline":   {rules(callbridge.RuleSettings{NewLead: callbridge.LeadTarget{PipelineID: 9}}), "rules.new_lead: Kommo has no pipeline 9"},
		"StageOfOtherPipe":  {rules(callbridge.RuleSettings{NewLead: callbridge.LeadTarget{PipelineID: 8, StatusID: 71}}), `pipeline "Support" has no stage 71`},
		"StageOfMainPipe":   {rules(callbridge.RuleSettings{KnownContactLead: callbridge.KnownContactRule{StatusID: 81}}), `pipeline "Sales" has no stage 81`},
		"ClosedStage":       {rules(callbridge.RuleSettings{NewLead: callbridge.LeadTarget{StatusID: 142}}), "closed stage"},
		"IncomingStage":     {rules(callbridge.RuleSettings{AcceptStatusID: 70}), "incoming-leads stage"},
		"UnsortedPipeline":  {callbridge.Settings{UnsortedPipelineID: 99}, "unsorted_pipeline_id: Kommo has no pipeline 99"},
		"AcceptInPipeline":  {callbridge.Settings{UnsortedPipelineID: 8, Rules: callbridge.RuleSettings{AcceptStatusID: 71}}, "rules.accept_status_id"},
		"UnknownUser":       {callbridge.Settings{Extensions: map[string]string{"999": "101"}}, "no user 999"},
		"TaskDue":           {rules(callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{DueMinutes: -1}}), "due_minutes"},
		"TaskAssignee":      {rules(callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{AssignTo: "boss"}}), "assign_to"},
		"TaskText":          {rules(callbridge.RuleSettings{MissedCallTask: callbridge.TaskRule{Text: "a\nb"}}), "text"},
		"TaskLinkTo":        {rules(callbridge.RuleSettings{DroppedCallTask: callbridge.TaskRule{LinkTo: "deal"}}), "rules.dropped_call_task.link_to must be lead or contact"},
		"RoutingFallback":   {callbridge.Settings{Routing: callbridge.RoutingSettings{Fallback: "10\t1"}}, "routing.fallback"},
		"RoutingTooLong":    {callbridge.Settings{Routing: callbridge.RoutingSettings{Fallback: strings.Repeat("1", 201)}}, "routing.fallback"},
		"Retention":         {rules(callbridge.RuleSettings{Recordings: callbridge.RecordingRule{RetentionHours: 10000}}), "retention_hours"},
		"BlockedNotANumber": {rules(callbridge.RuleSettings{BlockedNumbers: []string{"spam"}}), `"spam" is not a phone number`},
	} {
		code, msg, _ := put(501, tc.in)
		if code != 400 || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: %d %q, want 400 with %q", name, code, msg, tc.want)
		}
	}
	in := callbridge.Settings{Country: "US", UnsortedPipelineID: 8, Extensions: map[string]string{"502": "101"}, Rules: callbridge.RuleSettings{
		UnknownInbound: callbridge.UnknownContactAndLead, AcceptAnswered: true, AcceptStatusID: 81,
		NewLead: callbridge.LeadTarget{PipelineID: 7, StatusID: 71}, KnownContactLead: callbridge.KnownContactRule{Enabled: true, StatusID: 71},
		MissedCallTask:  callbridge.TaskRule{Enabled: true, DueMinutes: 15, AssignTo: callbridge.AssignCalled, LinkTo: callbridge.LinkContact},
		DroppedCallTask: callbridge.TaskRule{Enabled: true, LinkTo: callbridge.LinkLead},
		BlockedNumbers:  []string{"(415) 555-0100", "+1 415 555 0100"}, OwnNumbers: []string{"415-555-0000"},
	}, Routing: callbridge.RoutingSettings{Disabled: true, Fallback: " 200 ", Voicemail: true}}
	code, msg, stored := put(501, in)
	if code != 200 {
		t.Fatalf("valid settings refused: %d %q", code, msg)
	}
	if !reflect.DeepEqual(stored.Rules.BlockedNumbers, []string{"+14155550100"}) || stored.Rules.OwnNumbers[0] != "+14155550000" {
		t.Fatalf("numbers not normalised: %+v", stored.Rules)
	}
	got, _ := db.FindAccount(ctx, acct.ID)
	if got.Settings.Rules.NewLead.StatusID != 71 || !got.Settings.Rules.MissedCallTask.Enabled ||
		got.Settings.Rules.MissedCallTask.LinkTo != callbridge.LinkContact || got.Settings.Rules.DroppedCallTask.LinkTo != callbridge.LinkLead {
		t.Fatalf("stored rules %+v", got.Settings.Rules)
	}
	if want := (callbridge.RoutingSettings{Disabled: true, Fallback: "200", Voicemail: true}); got.Settings.Routing != want {
		t.Fatalf("stored routing %+v, want %+v", got.Settings.Routing, want)
	}
	if code, _, _ := put(502, in); code != 403 {
		t.Fatalf("a manager wrote the rules: %d", code)
	}
}

type nopIngester struct{}

func (nopIngester) Ingest(context.Context, *callbridge.Connection, []callbridge.CallEvent) error {
	return nil
}
func (nopIngester) SaveResult(context.Context, *callbridge.Account, callbridge.ResultInput) (*callbridge.Call, error) {
	return nil, callbridge.Errorf(callbridge.ENOTFOUND, "no")
}
