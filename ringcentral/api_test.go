package ringcentral_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
	"callbridge/ringcentral"
)

// platform starts a simulated RingCentral platform and a connector using it
// for both the API and the media host.
func platform(t *testing.T) (*ringcentral.Simulator, *ringcentral.Connector, *httptest.Server) {
	t.Helper()
	sim := newSim(t)
	srv := httptest.NewServer(sim.Server())
	t.Cleanup(srv.Close)
	sim.MediaBase = srv.URL
	c := ringcentral.New(ringcentral.Options{APIBase: srv.URL, MediaHosts: []string{srv.URL}, HTTPClient: srv.Client()})
	return sim, c, srv
}

func TestOAuthTokenIsCachedAndRefreshed(t *testing.T) {
	sim, c, _ := platform(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- c.CheckCredentials(t.Context(), testConn()) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := sim.TokenExchanges(); n != 1 {
		t.Fatalf("%d token exchanges for concurrent calls, want 1", n)
	}
	// A revoked token is exchanged again once, and the call succeeds.
	sim.RevokeTokens()
	if _, err := c.ListExtensions(t.Context(), testConn()); err != nil {
		t.Fatal(err)
	}
	if n := sim.TokenExchanges(); n != 2 {
		t.Fatalf("%d token exchanges after a revocation, want 2", n)
	}
	// Another connection has its own token.
	other := testConn()
	other.ID = 99
	if err := c.CheckCredentials(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	if n := sim.TokenExchanges(); n != 3 {
		t.Fatalf("%d token exchanges, want 3", n)
	}
}

func TestCheckCredentials(t *testing.T) {
	_, c, srv := platform(t)
	for _, k := range []string{ringcentral.CredentialClientID, ringcentral.CredentialClientSecret, ringcentral.CredentialJWT} {
		conn := testConn()
		conn.Credentials[k] = conn.Credentials[k] + "x"
		wantCode(t, c.CheckCredentials(t.Context(), conn), callbridge.EUNAUTHORIZED)
		delete(conn.Credentials, k)
		wantCode(t, c.CheckCredentials(t.Context(), conn), callbridge.EUNAUTHORIZED)
	}
	// A failing token endpoint is transient, a 429 carries Retry-After.
	for _, tt := range []struct {
		status int
		code   string
	}{{http.StatusBadGateway, callbridge.EUNAVAILABLE}, {http.StatusTooManyRequests, callbridge.ERATELIMIT}} {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(tt.status)
		}))
		err := ringcentral.New(ringcentral.Options{APIBase: bad.URL}).CheckCredentials(t.Context(), testConn())
		bad.Close()
		wantCode(t, err, tt.code)
		if callbridge.ErrorKind(err) != callbridge.KindTransient {
			t.Fatalf("%d: kind %v", tt.status, callbridge.ErrorKind(err))
		}
		if tt.code == callbridge.ERATELIMIT && callbridge.RetryAfter(err) != 30*time.Second {
			t.Fatalf("retry after %v", callbridge.RetryAfter(err))
		}
	}
	_ = srv
}

// receiver serves callbridge's side of the webhook: the connector behind
// EchoValidationToken, as the HTTP layer should be wired.
func receiver(t *testing.T, c *ringcentral.Connector, echo bool) (*httptest.Server, *[]callbridge.CallEvent) {
	t.Helper()
	var mu sync.Mutex
	var got []callbridge.CallEvent
	h := http.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &callbridge.WebhookRequest{URL: hookURL, Method: r.Method, Header: r.Header, Body: body, ReceivedAt: time.Now()}
		evs, reply, err := c.ParseWebhook(r.Context(), testConn(), req)
		if err != nil {
			http.Error(w, callbridge.ErrorMessage(err), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, evs...)
		mu.Unlock()
		w.WriteHeader(reply.Status)
	}))
	if echo {
		h = ringcentral.EchoValidationToken(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, &got
}

func TestEnsureSubscription(t *testing.T) {
	sim, c, _ := platform(t)
	recv, got := receiver(t, c, true)
	sim.Target = recv.URL
	sim.VerificationToken = "" // notifications use the subscription's token

	sub, err := c.EnsureSubscription(t.Context(), testConn(), hookURL)
	if err != nil {
		t.Fatal(err)
	}
	subs := sim.Subscriptions()
	if !sub.Created || len(subs) != 1 || subs[0].ID != sub.ID || subs[0].Address != hookURL ||
		subs[0].VerificationToken != verifyToken(t) || len(subs[0].EventFilters) != 1 ||
		subs[0].EventFilters[0] != ringcentral.TelephonySessionsFilter ||
		time.Until(sub.ExpiresAt) < 6*24*time.Hour {
		t.Fatalf("subscription %+v, simulator %+v", sub, subs)
	}
	// Idempotent.
	again, err := c.EnsureSubscription(t.Context(), testConn(), hookURL)
	if err != nil || again.ID != sub.ID || again.Created || again.Renewed || len(sim.Subscriptions()) != 1 {
		t.Fatalf("again %+v %v", again, err)
	}
	// Notifications now flow to the receiver and verify.
	for _, n := range sim.Notifications(ringcentral.CallSpec{Customer: customer, Line: line, Agent: agentExt, Answered: true, Duration: 5}) {
		resp, err := sim.Send(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("notification refused: %d", resp.StatusCode)
		}
	}
	if call := foldOrders(t, *got); call.Status != callbridge.StatusCompleted {
		t.Fatalf("call %+v", *call)
	}
	// Close to expiry: renewed.
	sim.SetSubscription(sub.ID, "", time.Now().Add(time.Hour))
	renewed, err := c.EnsureSubscription(t.Context(), testConn(), hookURL)
	if err != nil || !renewed.Renewed || renewed.ID != sub.ID || sim.Subscriptions()[0].Renewals != 1 {
		t.Fatalf("renewed %+v %v", renewed, err)
	}
	// Blacklisted: replaced.
	sim.SetSubscription(sub.ID, "Blacklisted", time.Time{})
	fresh, err := c.EnsureSubscription(t.Context(), testConn(), hookURL)
	subs = sim.Subscriptions()
	if err != nil || !fresh.Created || fresh.ID == sub.ID || len(subs) != 1 || subs[0].ID != fresh.ID {
		t.Fatalf("after blacklist %+v %v %+v", fresh, err, subs)
	}
	// Another address is another subscription; bad URLs are refused.
	if _, err := c.EnsureSubscription(t.Context(), testConn(), hookURL+"2"); err != nil {
		t.Fatal(err)
	}
	if len(sim.Subscriptions()) != 2 {
		t.Fatalf("%d subscriptions", len(sim.Subscriptions()))
	}
	for _, u := range []string{"", "/webhooks/x", "ftp://cb.example.com/x", "https://u:p@cb.example.com/x"} {
		_, err := c.EnsureSubscription(t.Context(), testConn(), u)
		wantCode(t, err, callbridge.EINVALID)
	}
}

// Without the echo the handshake fails and RingCentral refuses the
// subscription.
func TestEnsureSubscriptionHandshakeFails(t *testing.T) {
	sim, c, _ := platform(t)
	recv, _ := receiver(t, c, false)
	sim.Target = recv.URL
	_, err := c.EnsureSubscription(t.Context(), testConn(), hookURL)
	wantCode(t, err, callbridge.EINVALID)
	if len(sim.Subscriptions()) != 0 {
		t.Fatal("subscription created")
	}
}

func TestListExtensions(t *testing.T) {
	sim, c, _ := platform(t)
	sim.Extensions = nil
	for i := range 1205 {
		sim.Extensions = append(sim.Extensions, callbridge.Extension{ID: fmt.Sprint(400000000 + i), Number: fmt.Sprint(100 + i), Name: fmt.Sprint("User ", i)})
	}
	exts, err := c.ListExtensions(t.Context(), testConn())
	if err != nil {
		t.Fatal(err)
	}
	if len(exts) != 1205 || exts[0] != sim.Extensions[0] || exts[1204] != sim.Extensions[1204] {
		t.Fatalf("%d extensions, first %+v", len(exts), exts[0])
	}
}

// History joins the webhook events: same ProviderCallID, same outcome.
func TestListCallHistory(t *testing.T) {
	sim, c, _ := platform(t)
	specs := []ringcentral.CallSpec{
		{SessionID: "s-1", Answered: true, Duration: 42, Recording: true},
		{SessionID: "s-2"},
		{SessionID: "s-3", Voicemail: true, Duration: 10},
		{SessionID: "s-4", Busy: true},
		{SessionID: "s-5", Direction: callbridge.DirectionOutbound, Answered: true, Duration: 95},
		{SessionID: "s-6", Direction: callbridge.DirectionOutbound, Failed: true},
		{SessionID: "s-7", Direction: callbridge.DirectionOutbound, RingOut: true, Answered: true, Duration: 12},
	}
	webhook := map[string][]callbridge.CallEvent{}
	for i := range specs {
		s := &specs[i]
		s.Customer, s.Line, s.Agent, s.AgentPhone, s.Start = customer, line, agentExt, agentPhone, t0.Add(time.Duration(i)*time.Minute)
		sim.LogCall(*s)
		webhook[s.SessionID] = events(t, c, sim.Notifications(*s))
	}
	hist, err := c.ListCallHistory(t.Context(), testConn(), t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(specs) {
		t.Fatalf("%d history events", len(hist))
	}
	for _, h := range hist {
		w := webhook[h.ProviderCallID]
		if w == nil {
			t.Fatalf("history names unknown call %s", h.ProviderCallID)
		}
		wc := foldOrders(t, w)
		hc := foldOrders(t, []callbridge.CallEvent{h})
		both := foldOrders(t, append([]callbridge.CallEvent{h}, w...))
		for _, got := range []*callbridge.Call{hc, both} {
			if got.Status != wc.Status || got.Direction != wc.Direction || got.CustomerNumber != wc.CustomerNumber ||
				(wc.Answered() && got.Agent != wc.Agent) || !got.Ended {
				t.Errorf("%s: history folds to %s/%s/%s/%s, webhooks to %s/%s/%s/%s", h.ProviderCallID,
					got.Status, got.Direction, got.CustomerNumber, got.Agent, wc.Status, wc.Direction, wc.CustomerNumber, wc.Agent)
			}
		}
		// The call log knows the duration the session events lack.
		if wc.Answered() && both.Duration == 0 {
			t.Errorf("%s: no duration", h.ProviderCallID)
		}
		if h.ProviderCallID == "s-1" {
			if h.RecordingURL == "" || both.RecordingURL == "" {
				t.Errorf("recording %q", h.RecordingURL)
			}
			if both.Duration != 42 {
				t.Errorf("duration %d", both.Duration)
			}
		}
	}
	// The range is exact.
	hist, err = c.ListCallHistory(t.Context(), testConn(), t0.Add(90*time.Second), t0.Add(4*time.Minute))
	if err != nil || len(hist) != 2 {
		t.Fatalf("%d events in range, %v", len(hist), err)
	}
	_, err = c.ListCallHistory(t.Context(), testConn(), t0, t0)
	wantCode(t, err, callbridge.EINVALID)
}

func TestPlaceCall(t *testing.T) {
	sim, c, _ := platform(t)
	conn := testConn()
	conn.Credentials[ringcentral.CredentialCallerID] = line
	placed, err := c.PlaceCall(t.Context(), conn, callbridge.PlaceCallRequest{Agent: "(415) 555-0199", Customer: customer, StatusURL: hookURL})
	if err != nil {
		t.Fatal(err)
	}
	ros := sim.RingOuts()
	if len(ros) != 1 || ros[0].ID != placed.ProviderCallID || ros[0].From != agentPhone || ros[0].To != customer || ros[0].CallerID != line || ros[0].Bearer == "" {
		t.Fatalf("placed %+v, ringouts %+v", placed, ros)
	}
	// An extension number is a valid "from".
	if _, err := c.PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: "101", Customer: customer}); err != nil {
		t.Fatal(err)
	}
	for _, req := range []callbridge.PlaceCallRequest{
		{Agent: "", Customer: customer},
		{Agent: "alice", Customer: customer},
		{Agent: agentPhone, Customer: "4083388064"},
	} {
		_, err := c.PlaceCall(t.Context(), testConn(), req)
		wantCode(t, err, callbridge.EINVALID)
	}
	bad := testConn()
	bad.Credentials[ringcentral.CredentialJWT] = "wrong"
	_, err = c.PlaceCall(t.Context(), bad, callbridge.PlaceCallRequest{Agent: agentPhone, Customer: customer})
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	if len(sim.RingOuts()) != 2 {
		t.Fatalf("%d ringouts", len(sim.RingOuts()))
	}
	// A 5xx after sending is uncertain.
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/restapi/oauth/token" {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"access_token":"t","expires_in":3600}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	_, err = ringcentral.New(ringcentral.Options{APIBase: down.URL}).PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: agentPhone, Customer: customer})
	if callbridge.ErrorKind(err) != callbridge.KindUncertain {
		t.Fatalf("err %v", err)
	}
}

func TestRecordingRequest(t *testing.T) {
	sim, c, srv := platform(t)
	ns := sim.Notifications(ringcentral.CallSpec{Customer: customer, Line: line, Agent: agentExt, Answered: true, Duration: 5, Recording: true, Start: t0})
	var recURL, recID string
	for _, e := range events(t, c, ns) {
		if e.RecordingURL != "" {
			recURL, recID = e.RecordingURL, e.RecordingID
		}
	}
	if !strings.HasPrefix(recURL, srv.URL+"/restapi/v1.0/account/"+account+"/recording/") {
		t.Fatalf("recording URL %q", recURL)
	}
	req, err := c.RecordingRequest(t.Context(), testConn(), recURL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") || req.Method != http.MethodGet {
		t.Fatalf("request %+v", req.Header)
	}
	req.Header.Set("Range", "bytes=10-19")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(body) != string(ringcentral.RecordingAudio(recID)[10:20]) ||
		resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	// Without the token the media host refuses.
	plain, _ := http.NewRequest(http.MethodGet, recURL, nil)
	resp, err = srv.Client().Do(plain)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
}

func TestRecordingRequestRefuses(t *testing.T) {
	c := ringcentral.New(ringcentral.Options{APIBase: "http://127.0.0.1:1"}) // never reached: every URL is refused first
	const path = "/restapi/v1.0/account/809646016/recording/1662272004/content"
	ok := "https://media.ringcentral.com" + path
	for _, u := range []string{
		"http://media.ringcentral.com" + path,             // plain http
		"https://evil.com" + path,                         // other host
		"https://media.ringcentral.com.evil.com" + path,   // suffix trick
		"https://evilmedia.ringcentral.com" + path,        // other subdomain
		"https://platform.ringcentral.com" + path,         // not the media host
		"https://media.ringcentral.com:8443" + path,       // other port
		"https://media.ringcentral.com@evil.com" + path,   // userinfo trick
		"https://user:pw@media.ringcentral.com" + path,    // any userinfo
		"https://evil.com#@media.ringcentral.com" + path,  // fragment trick
		"https://evil.com\\@media.ringcentral.com" + path, // backslash trick
		ok + "?x=1", // query
		ok + "#f",   // fragment
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/recording/1662272004",             // metadata, not content
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/recording/../../../oauth/token",   // traversal
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/recording/%2e%2e/content",         // encoded traversal
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/message-store/1/content/2",        // other resource
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/recording/1662272004/content/x",   // extra segment
		"https://media.ringcentral.com/restapi/v2.0/account/809646016/recording/1662272004/content",     // other version
		"https://media.ringcentral.com/restapi/v1.0/account/80964 6016/recording/1662272004/content",    // bad account
		"https://media.ringcentral.com/restapi/v1.0/account/809646016/recording/1662272004.mp3/content", // bad id
		"ftp://media.ringcentral.com" + path,
		"//media.ringcentral.com" + path,
		"",
	} {
		if _, err := c.RecordingRequest(context.Background(), testConn(), u); callbridge.ErrorCode(err) != callbridge.EFORBIDDEN {
			t.Errorf("%q: %v", u, err)
		}
	}
}
