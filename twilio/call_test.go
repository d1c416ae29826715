package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/twilio"
)

const callerID = "+14155550111"

func c2cConn() *callbridge.Connection {
	c := testConn()
	c.Credentials[twilio.CredentialCallerID] = callerID
	return c
}

// apiSim starts a simulator serving the REST API and a connector using it.
func apiSim(t *testing.T) (*twilio.Simulator, *twilio.Connector) {
	t.Helper()
	sim := newSim()
	srv := httptest.NewServer(sim.APIServer())
	t.Cleanup(srv.Close)
	return sim, twilio.New(twilio.Options{APIBase: srv.URL, HTTPClient: srv.Client(), DialTimeout: 25 * time.Second})
}

func TestPlaceCallRequest(t *testing.T) {
	sim, c := apiSim(t)
	placed, err := c.PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
	if err != nil {
		t.Fatal(err)
	}
	calls := sim.PlacedCalls()
	if len(calls) != 1 || calls[0].SID != placed.ProviderCallID || !strings.HasPrefix(placed.ProviderCallID, "CA") {
		t.Fatalf("placed %+v, simulator saw %+v", placed, calls)
	}
	f := calls[0].Form
	cb := hookURL + "?cb_flow=c2c"
	if f.Get("To") != agentSIP || f.Get("From") != callerID || f.Get("StatusCallback") != cb ||
		f.Get("StatusCallbackMethod") != "POST" || !slices.Equal(f["StatusCallbackEvent"], []string{"initiated", "ringing", "answered", "completed"}) ||
		f.Get("Record") != "true" || f.Get("RecordingStatusCallback") != cb || f.Get("Timeout") != "25" {
		t.Fatalf("form %v", f)
	}
	root := readTwiML(t, []byte(f.Get("Twiml")))
	dial := root.Nodes[0]
	if dial.XMLName.Local != "Dial" || dial.attr("callerId") != callerID || dial.attr("timeout") != "25" ||
		dial.Nodes[0].XMLName.Local != "Number" || strings.TrimSpace(dial.Nodes[0].Text) != customer ||
		dial.Nodes[0].attr("statusCallback") != cb {
		t.Fatalf("twiml %s", f.Get("Twiml"))
	}

	// A phone-number agent is normalised; the status URL keeps its query.
	if _, err := c.PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: "(415) 555-0199", Customer: customer, StatusURL: hookURL + "?x=1"}); err != nil {
		t.Fatal(err)
	}
	f = sim.PlacedCalls()[1].Form
	if f.Get("To") != "+14155550199" || f.Get("StatusCallback") != hookURL+"?cb_flow=c2c&x=1" {
		t.Fatalf("form %v", f)
	}
}

func TestPlaceCallRefuses(t *testing.T) {
	sim, c := apiSim(t)
	good := callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL}
	noCaller := testConn()
	tests := []struct {
		name string
		conn *callbridge.Connection
		req  callbridge.PlaceCallRequest
		code string
	}{
		{"no caller id", noCaller, good, callbridge.EINVALID},
		{"no agent", c2cConn(), callbridge.PlaceCallRequest{Customer: customer, StatusURL: hookURL}, callbridge.EINVALID},
		{"agent not a number", c2cConn(), callbridge.PlaceCallRequest{Agent: "alice", Customer: customer, StatusURL: hookURL}, callbridge.EINVALID},
		{"customer not E.164", c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: "4155550100", StatusURL: hookURL}, callbridge.EINVALID},
		{"relative status URL", c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: "/webhooks/x"}, callbridge.EINVALID},
		{"status URL with user info", c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: "https://u:p@cb.example.com/w"}, callbridge.EINVALID},
		{"wrong token", func() *callbridge.Connection {
			c := c2cConn()
			c.Credentials[twilio.CredentialAuthToken] = "wrong"
			return c
		}(), good, callbridge.EUNAUTHORIZED},
		{"no credentials", &callbridge.Connection{Credentials: map[string]string{twilio.CredentialCallerID: callerID}}, good, callbridge.EUNAUTHORIZED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PlaceCall(t.Context(), tt.conn, tt.req)
			wantCode(t, err, tt.code)
		})
	}
	if n := len(sim.PlacedCalls()); n != 0 {
		t.Fatalf("%d calls placed", n)
	}
}

// A failure after the request was sent may have placed the call: the error
// says so, so the caller does not ring the manager twice.
func TestPlaceCallUncertain(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
		}))
		c := twilio.New(twilio.Options{APIBase: srv.URL})
		_, err := c.PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
		srv.Close()
		if callbridge.ErrorKind(err) != callbridge.KindUncertain {
			t.Fatalf("%d: %v", status, err)
		}
	}
	// A dropped connection too.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hj, _ := w.(http.Hijacker)
		conn, _, _ := hj.Hijack()
		conn.Close()
	}))
	defer srv.Close()
	_, err := twilio.New(twilio.Options{APIBase: srv.URL}).PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
	if callbridge.ErrorKind(err) != callbridge.KindUncertain {
		t.Fatalf("dropped: %v", err)
	}
	// A refused request (400) is permanent and carries Twilio's message.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"code":21211,"message":"Invalid 'To' Phone Number","status":400}`))
	}))
	defer bad.Close()
	_, err = twilio.New(twilio.Options{APIBase: bad.URL}).PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
	wantCode(t, err, callbridge.EINVALID)
	if callbridge.ErrorKind(err) != callbridge.KindPermanent || !strings.Contains(callbridge.ErrorMessage(err), "Invalid 'To'") {
		t.Fatalf("err %v", err)
	}
}

// The webhooks of a placed call fold to the customer's outcome, with the
// manager as Agent.
func TestPlaceCallWebhooksFold(t *testing.T) {
	tests := []struct {
		name     string
		spec     twilio.ClickToCallSpec
		status   callbridge.Status
		duration int
		rec      bool
	}{
		{"customer answers", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{Answered: true}, Customer: twilio.DialOutcome{Answered: true, Duration: 73}},
			callbridge.StatusCompleted, 73, true},
		{"customer does not answer", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{Answered: true}, Customer: twilio.DialOutcome{}},
			callbridge.StatusMissed, 0, true},
		{"customer busy", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{Answered: true}, Customer: twilio.DialOutcome{Busy: true}},
			callbridge.StatusBusy, 0, true},
		{"customer unreachable", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{Answered: true}, Customer: twilio.DialOutcome{Failed: true}},
			callbridge.StatusFailed, 0, true},
		{"manager does not answer", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{}},
			callbridge.StatusMissed, 0, false},
		{"manager busy", twilio.ClickToCallSpec{Agent: twilio.DialOutcome{Busy: true}},
			callbridge.StatusMissed, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c := apiSim(t)
			placed, err := c.PlaceCall(t.Context(), c2cConn(), callbridge.PlaceCallRequest{Agent: agentSIP, Customer: customer, StatusURL: hookURL})
			if err != nil {
				t.Fatal(err)
			}
			spec := tt.spec
			spec.Start = t0
			reqs, err := sim.PlayPlacedCall(placed.ProviderCallID, spec)
			if err != nil {
				t.Fatal(err)
			}
			evs := events(t, reqs)
			for _, e := range evs {
				if e.ProviderCallID != placed.ProviderCallID {
					t.Fatalf("event %s names %s", e.Key, e.ProviderCallID)
				}
			}
			call := foldOrders(t, evs)
			if call.Status != tt.status || !call.Ended || call.Duration != tt.duration || call.Direction != callbridge.DirectionOutbound ||
				call.Agent != agentSIP || call.LineNumber != callerID || (call.RecordingURL != "") != tt.rec {
				t.Fatalf("call %+v", *call)
			}
			if tt.status != callbridge.StatusMissed || spec.Agent.Answered {
				if call.CustomerNumber != customer {
					t.Fatalf("customer %q", call.CustomerNumber)
				}
			}
			// Until the customer answers, the manager picking up is not a
			// conversation.
			var early []callbridge.CallEvent
			for _, e := range evs {
				if !e.Child {
					early = append(early, e)
				}
			}
			if c := foldOrders(t, early); c.Answered() {
				t.Fatalf("manager's leg alone folds to %s", c.Status)
			}
		})
	}
}

func TestCheckCredentials(t *testing.T) {
	sim, c := apiSim(t)
	if err := c.CheckCredentials(t.Context(), testConn()); err != nil {
		t.Fatal(err)
	}
	wrong := testConn()
	wrong.Credentials[twilio.CredentialAuthToken] = "wrong"
	wantCode(t, c.CheckCredentials(t.Context(), wrong), callbridge.EUNAUTHORIZED)
	other := testConn()
	other.Credentials[twilio.CredentialAccountSID] = "AC99999999999999999999999999999999"
	wantCode(t, c.CheckCredentials(t.Context(), other), callbridge.EUNAUTHORIZED)
	notAC := testConn()
	notAC.Credentials[twilio.CredentialAccountSID] = "SK0123456789abcdef0123456789abcdef"
	wantCode(t, c.CheckCredentials(t.Context(), notAC), callbridge.EUNAUTHORIZED)
	sim.AccountStatus = "suspended"
	wantCode(t, c.CheckCredentials(t.Context(), testConn()), callbridge.EFORBIDDEN)

	limited := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer limited.Close()
	err := twilio.New(twilio.Options{APIBase: limited.URL}).CheckCredentials(t.Context(), testConn())
	wantCode(t, err, callbridge.ERATELIMIT)
	if callbridge.RetryAfter(err) != 7*time.Second || callbridge.ErrorKind(err) != callbridge.KindTransient {
		t.Fatalf("err %v", err)
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	err = twilio.New(twilio.Options{APIBase: down.URL}).CheckCredentials(t.Context(), testConn())
	if callbridge.ErrorCode(err) != callbridge.EUNAVAILABLE || callbridge.ErrorKind(err) != callbridge.KindTransient {
		t.Fatalf("err %v", err)
	}
}

// The simulator's API refuses what Twilio refuses.
func TestSimulatorAPIServer(t *testing.T) {
	sim := newSim()
	srv := httptest.NewServer(sim.APIServer())
	defer srv.Close()
	post := func(user, pass string, form url.Values) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/2010-04-01/Accounts/"+testSID+"/Calls.json", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(user, pass)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	ok := url.Values{"To": {customer}, "From": {callerID}, "Url": {"https://example.com/twiml"}}
	if code := post(testSID, testToken, ok); code != http.StatusCreated {
		t.Fatalf("create: %d", code)
	}
	if code := post(testSID, "wrong", ok); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	for _, drop := range []string{"To", "From", "Url"} {
		f := url.Values{}
		for k, v := range ok {
			if k != drop {
				f[k] = v
			}
		}
		if code := post(testSID, testToken, f); code != http.StatusBadRequest {
			t.Fatalf("without %s: %d", drop, code)
		}
	}
	if code := post(testSID, testToken, url.Values{"To": {customer}, "From": {callerID}, "Twiml": {"<Response><Dial>"}}); code != http.StatusBadRequest {
		t.Fatalf("bad twiml: %d", code)
	}
	if n := len(sim.PlacedCalls()); n != 1 {
		t.Fatalf("%d placed", n)
	}
	if _, err := sim.PlayPlacedCall("CAunknown", twilio.ClickToCallSpec{}); err == nil {
		t.Fatal("played an unknown call")
	}
}
