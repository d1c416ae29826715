package twilio_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"callbridge"
	"callbridge/twilio"
)

const recPath = "/2010-04-01/Accounts/" + testSID + "/Recordings/"

func TestRecordingRequest(t *testing.T) {
	c := twilio.New(twilio.Options{})
	tests := []struct{ in, want string }{
		{"https://api.twilio.com" + recPath + "RE0123456789abcdef0123456789abcdef", "https://api.twilio.com" + recPath + "RE0123456789abcdef0123456789abcdef.mp3"},
		{"https://api.twilio.com" + recPath + "RE1.mp3", "https://api.twilio.com" + recPath + "RE1.mp3"},
		{"https://api.twilio.com" + recPath + "RE1.wav", "https://api.twilio.com" + recPath + "RE1.wav"},
		{"https://API.Twilio.com" + recPath + "RE1", "https://API.Twilio.com" + recPath + "RE1.mp3"},
		{"  https://api.twilio.com" + recPath + "RE1  ", "https://api.twilio.com" + recPath + "RE1.mp3"},
	}
	for _, tt := range tests {
		req, err := c.RecordingRequest(t.Context(), testConn(), tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if req.Method != http.MethodGet || req.URL.String() != tt.want {
			t.Errorf("%s: %s %s, want GET %s", tt.in, req.Method, req.URL, tt.want)
		}
		want := "Basic " + base64.StdEncoding.EncodeToString([]byte(testSID+":"+testToken))
		if got := req.Header.Get("Authorization"); got != want {
			t.Errorf("%s: Authorization = %q", tt.in, got)
		}
		if req.Context() != t.Context() {
			t.Errorf("request does not carry the caller's context")
		}
	}
}

func TestRecordingRequestRefuses(t *testing.T) {
	c := twilio.New(twilio.Options{RecordingHosts: []string{"api.twilio.com", "http://127.0.0.1:9999"}})
	const other = "AC99999999999999999999999999999999"
	refused := []string{
		"",
		"not a url",
		"/2010-04-01/Accounts/" + testSID + "/Recordings/RE1",                     // relative
		"http://api.twilio.com" + recPath + "RE1",                                 // plain http to Twilio
		"ftp://api.twilio.com" + recPath + "RE1",                                  // other scheme
		"https://evil.com" + recPath + "RE1",                                      // other host
		"https://api.twilio.com.evil.com" + recPath + "RE1",                       // suffix trick
		"https://evilapi.twilio.com" + recPath + "RE1",                            // other subdomain
		"https://api.twilio.com:443" + recPath + "RE1",                            // not an exact host[:port]
		"https://api.twilio.com:8443" + recPath + "RE1",                           // other port
		"https://api.twilio.com@evil.com" + recPath + "RE1",                       // userinfo trick
		"https://user:pass@api.twilio.com" + recPath + "RE1",                      // any userinfo
		"https://evil.com#@api.twilio.com" + recPath + "RE1",                      // fragment trick
		"https://evil.com\\@api.twilio.com" + recPath + "RE1",                     // backslash trick
		"https://api.twilio.com/2010-04-01/Accounts/" + other + "/Recordings/RE1", // other account
		"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "x/Recordings/RE1",
		"https://api.twilio.com" + recPath + "../../" + other + "/Recordings/RE1",
		"https://api.twilio.com" + recPath + "RE1/../../../Accounts/" + other + "/Recordings/RE1",
		"https://api.twilio.com" + recPath + "%2e%2e/%2e%2e/" + other + "/Recordings/RE1",
		"https://api.twilio.com" + recPath + "RE1%2F..",
		"https://api.twilio.com" + recPath,                                     // no recording
		"https://api.twilio.com" + recPath + "CA1",                             // not a recording SID
		"https://api.twilio.com" + recPath + "RE1.json",                        // metadata, not media
		"https://api.twilio.com" + recPath + "RE1.mp3.exe",                     // double extension
		"https://api.twilio.com" + recPath + "RE1?x=1",                         // query
		"https://api.twilio.com" + recPath + "RE1#frag",                        // fragment
		"https://api.twilio.com" + recPath + "RE-1",                            // not a SID
		"https://api.twilio.com/2010-04-01/Accounts/" + testSID + "/Calls/CA1", // not Recordings
		"https://127.0.0.1:9999" + recPath + "RE1",                             // listed as http only
		"http://127.0.0.1:9998" + recPath + "RE1",                              // other port
		"http://localhost:9999" + recPath + "RE1",                              // other spelling
	}
	for _, u := range refused {
		req, err := c.RecordingRequest(t.Context(), testConn(), u)
		if err == nil {
			t.Errorf("%q: accepted as %s", u, req.URL)
			continue
		}
		if code := callbridge.ErrorCode(err); code != callbridge.EFORBIDDEN {
			t.Errorf("%q: code %s", u, code)
		}
	}
	// Controls on the same connector.
	for _, u := range []string{"https://api.twilio.com" + recPath + "RE1", "http://127.0.0.1:9999" + recPath + "RE1"} {
		if _, err := c.RecordingRequest(t.Context(), testConn(), u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
	// A connection without credentials fetches nothing.
	_, err := c.RecordingRequest(t.Context(), &callbridge.Connection{}, "https://api.twilio.com"+recPath+"RE1")
	wantCode(t, err, callbridge.EFORBIDDEN)
}

// Default options allow only api.twilio.com.
func TestRecordingRequestDefaultHosts(t *testing.T) {
	c := twilio.New(twilio.Options{})
	if _, err := c.RecordingRequest(t.Context(), testConn(), "http://127.0.0.1:9999"+recPath+"RE1"); callbridge.ErrorCode(err) != callbridge.EFORBIDDEN {
		t.Fatalf("err = %v", err)
	}
}

func TestRecordingServerEndToEnd(t *testing.T) {
	sim := &twilio.Simulator{AccountSID: testSID, AuthToken: testToken}
	srv := httptest.NewServer(sim.RecordingServer())
	defer srv.Close()
	c := twilio.New(twilio.Options{RecordingHosts: []string{srv.URL}}) // "http://127.0.0.1:port"
	const re = "RE0123456789abcdef0123456789abcdef"
	want := twilio.RecordingAudio(re)

	req, err := c.RecordingRequest(t.Context(), testConn(), srv.URL+recPath+re)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) || resp.Header.Get("Content-Type") != "audio/mpeg" ||
		resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("status %d, %d bytes, headers %v", resp.StatusCode, len(got), resp.Header)
	}

	// Range request.
	req, _ = c.RecordingRequest(t.Context(), testConn(), srv.URL+recPath+re)
	req.Header.Set("Range", "bytes=100-199")
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want[100:200]) ||
		resp.Header.Get("Content-Range") != "bytes 100-199/16384" {
		t.Fatalf("range: status %d, %d bytes, headers %v", resp.StatusCode, len(got), resp.Header)
	}

	// Wrong credentials, other account, other paths.
	wrong := testConn()
	wrong.Credentials[twilio.CredentialAuthToken] = "wrong"
	req, _ = c.RecordingRequest(t.Context(), wrong, srv.URL+recPath+re)
	if code := status(t, srv, req); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", code)
	}
	noAuth, _ := http.NewRequest(http.MethodGet, srv.URL+recPath+re+".mp3", nil)
	if code := status(t, srv, noAuth); code != http.StatusUnauthorized {
		t.Errorf("no auth: %d", code)
	}
	for _, p := range []string{
		"/2010-04-01/Accounts/AC99999999999999999999999999999999/Recordings/" + re + ".mp3",
		recPath + re + ".wav",
		recPath + "CA1.mp3",
		"/",
	} {
		r, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		r.SetBasicAuth(testSID, testToken)
		if code := status(t, srv, r); code != http.StatusNotFound {
			t.Errorf("%s: %d", p, code)
		}
	}
	post, _ := http.NewRequest(http.MethodPost, srv.URL+recPath+re+".mp3", strings.NewReader(""))
	post.SetBasicAuth(testSID, testToken)
	if code := status(t, srv, post); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", code)
	}
}

func status(t *testing.T, srv *httptest.Server, req *http.Request) int {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestRecordingAudioDeterministic(t *testing.T) {
	a, b, c := twilio.RecordingAudio("RE1"), twilio.RecordingAudio("RE1"), twilio.RecordingAudio("RE2")
	if len(a) != 16<<10 || !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("len %d, same %v, distinct %v", len(a), bytes.Equal(a, b), !bytes.Equal(a, c))
	}
}
