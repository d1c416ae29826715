package http_test

import (
	"bytes"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"callbridge"
)

var audio = bytes.Repeat([]byte("0123456789"), 100) // 1000 bytes

// recordingEnv is an env whose call 101 has a recording on an upstream
// provider server that requires the connection's credentials.
func recordingEnv(t *testing.T) (*env, *httptest.Server, *rangeLog) {
	t.Helper()
	seenRanges := &rangeLog{}
	upstream := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != "AC-user" || pass != providerSecret {
			nethttp.Error(w, "unauthorized", 401)
			return
		}
		seenRanges.add(r.Header.Get("Range"))
		switch r.URL.Path {
		case "/rec/RE1.mp3":
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Header().Set("Set-Cookie", "provider-session=abc")
			w.Header().Set("X-Provider-Internal", "yes")
			nethttp.ServeContent(w, r, "RE1.mp3", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(audio))
		case "/rec/broken.mp3":
			nethttp.Error(w, "boom", 500)
		default:
			nethttp.NotFound(w, r)
		}
	}))
	t.Cleanup(upstream.Close)
	u, _ := url.Parse(upstream.URL)

	e := newEnv(t)
	e.connector.allowHost = u.Host
	e.server.HTTPClient = upstream.Client()
	e.handler = e.server.Handler()
	c, _ := e.store.FindCall(t.Context(), 1, 101)
	c.RecordingURL = upstream.URL + "/rec/RE1.mp3"
	e.store.setCall(c)
	return e, upstream, seenRanges
}

// rangeLog records the Range headers the upstream saw.
type rangeLog struct {
	mu sync.Mutex
	v  []string
}

func (l *rangeLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.v = append(l.v, s)
}

func (l *rangeLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.v...)
}

func recLink(accountID, callID int64, exp time.Time) string {
	return "/rec/" + callbridge.SignRecordingToken(recordingKey, accountID, callID, exp)
}

func TestRecording(t *testing.T) {
	t.Run("Full", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		rec := e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil))
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), audio) {
			t.Fatalf("status=%d len=%d", rec.Code, rec.Body.Len())
		}
		h := rec.Header()
		if h.Get("Accept-Ranges") != "bytes" || h.Get("Content-Type") != "audio/mpeg" || h.Get("Content-Length") != "1000" {
			t.Fatalf("headers %v", h)
		}
		if h.Get("Set-Cookie") != "" || h.Get("X-Provider-Internal") != "" {
			t.Fatalf("provider headers passed through: %v", h)
		}
		e.assertNotLogged(providerSecret, "AC-user")
	})

	t.Run("Range", func(t *testing.T) {
		e, _, ranges := recordingEnv(t)
		req := httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)
		req.Header.Set("Range", "bytes=10-19")
		rec := e.do(req)
		if rec.Code != 206 {
			t.Fatalf("status=%d body=%s", rec.Code, rec.Body)
		}
		h := rec.Header()
		if h.Get("Content-Range") != "bytes 10-19/1000" || h.Get("Content-Length") != "10" || h.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("headers %v", h)
		}
		if !bytes.Equal(rec.Body.Bytes(), audio[10:20]) {
			t.Fatalf("body %q", rec.Body)
		}
		if got := ranges.all(); len(got) != 1 || got[0] != "bytes=10-19" {
			t.Fatalf("upstream saw Range %q", got)
		}
		if strings.Contains(rec.Body.String()+strings.Join(rec.Header().Values("Www-Authenticate"), ""), providerSecret) {
			t.Fatal("credentials in the response")
		}
	})

	t.Run("UnsatisfiableRange", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		req := httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)
		req.Header.Set("Range", "bytes=5000-6000")
		rec := e.do(req)
		if rec.Code != 416 || rec.Header().Get("Accept-Ranges") != "bytes" {
			t.Fatalf("status=%d headers=%v", rec.Code, rec.Header())
		}
	})

	t.Run("OverTheNetwork", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		srv := httptest.NewServer(e.handler)
		defer srv.Close()
		req, _ := nethttp.NewRequest("GET", srv.URL+recLink(1, 101, testNow.Add(time.Hour)), nil)
		req.Header.Set("Range", "bytes=990-")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != "bytes 990-999/1000" || !bytes.Equal(b, audio[990:]) {
			t.Fatalf("status=%d Content-Range=%q body=%q", resp.StatusCode, resp.Header.Get("Content-Range"), b)
		}
	})

	t.Run("Forged", func(t *testing.T) {
		e, _, ranges := recordingEnv(t)
		link := recLink(1, 101, testNow.Add(time.Hour))
		b := []byte(link)
		b[len(b)-3] ^= 1
		assertError(t, e.do(httptest.NewRequest("GET", string(b), nil)), 401, callbridge.EUNAUTHORIZED)
		other := "/rec/" + callbridge.SignRecordingToken([]byte("some other key of thirty-two b!!"), 1, 101, testNow.Add(time.Hour))
		assertError(t, e.do(httptest.NewRequest("GET", other, nil)), 401, callbridge.EUNAUTHORIZED)
		assertError(t, e.do(httptest.NewRequest("GET", "/rec/garbage", nil)), 401, callbridge.EUNAUTHORIZED)
		if len(ranges.all()) != 0 {
			t.Fatal("forged link reached the provider")
		}
	})

	t.Run("Expired", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(-time.Second)), nil)), 410, callbridge.EGONE)
	})

	t.Run("NoKeyConfigured", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		e.server.RecordingKey = nil
		e.handler = e.server.Handler()
		link := "/rec/" + callbridge.SignRecordingToken(nil, 1, 101, testNow.Add(time.Hour))
		assertError(t, e.do(httptest.NewRequest("GET", link, nil)), 401, callbridge.EUNAUTHORIZED)
	})

	t.Run("ConnectorRefuses", func(t *testing.T) {
		e, _, ranges := recordingEnv(t)
		c, _ := e.store.FindCall(t.Context(), 1, 101)
		c.RecordingURL = "http://169.254.169.254/latest/meta-data/"
		e.store.setCall(c)
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)), 403, callbridge.EFORBIDDEN)
		if len(ranges.all()) != 0 {
			t.Fatal("refused URL was fetched")
		}
	})

	t.Run("NoRecordingYet", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		c, _ := e.store.FindCall(t.Context(), 1, 101)
		c.RecordingURL = ""
		e.store.setCall(c)
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)), 404, callbridge.ENOTFOUND)
	})

	t.Run("CallOfAnotherAccount", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		// A valid link for account 1 naming account 2's call.
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 201, testNow.Add(time.Hour)), nil)), 404, callbridge.ENOTFOUND)
	})

	t.Run("DisconnectedAccount", func(t *testing.T) {
		e, _, _ := recordingEnv(t)
		e.store.SetAccountStatus(t.Context(), 1, callbridge.AccountDisconnected)
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)), 410, callbridge.EGONE)
	})

	t.Run("UpstreamFails", func(t *testing.T) {
		e, upstream, _ := recordingEnv(t)
		c, _ := e.store.FindCall(t.Context(), 1, 101)
		c.RecordingURL = upstream.URL + "/rec/broken.mp3"
		e.store.setCall(c)
		rec := e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil))
		assertError(t, rec, 503, callbridge.EUNAVAILABLE)
		if strings.Contains(rec.Body.String(), "boom") {
			t.Fatal("provider body passed through")
		}
		c.RecordingURL = upstream.URL + "/rec/missing.mp3"
		e.store.setCall(c)
		assertError(t, e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil)), 404, callbridge.ENOTFOUND)
	})

	t.Run("UpstreamDown", func(t *testing.T) {
		e, upstream, _ := recordingEnv(t)
		upstream.Close()
		rec := e.do(httptest.NewRequest("GET", recLink(1, 101, testNow.Add(time.Hour)), nil))
		assertError(t, rec, 503, callbridge.EUNAVAILABLE)
		e.assertNotLogged(providerSecret)
	})
}
