package declarative

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"callbridge"
)

// Simulator plays a built-in provider's side of calls: it produces the
// webhooks the provider would send for a call, in the provider's real format
// and correctly signed (Requests), delivers them (Send), and serves recording
// media with the provider's authentication and Range support
// (RecordingServer). Its fields are read-only once it is in use; it is then
// safe for concurrent use.
type Simulator struct {
	// Provider is the built-in definition's name: "plivo", "exotel",
	// "ozonetel" or "telzio".
	Provider string
	// Credentials are the simulated account's configuration values; use the
	// same map as the callbridge connection's Credentials. NewSimulator fills
	// in test values (SimulatorCredentials).
	Credentials map[string]string
	// WebhookURL is the connection's webhook URL, e.g.
	// "https://cb.example.com/webhooks/{token}"; sections' paths are appended
	// to it and requests are signed for the result.
	WebhookURL string
	// Target, when set, is where requests are delivered: with an empty or "/"
	// path it replaces only the scheme and host of the signed URL (e.g.
	// "http://127.0.0.1:8080"); otherwise it is the full URL.
	Target string
	// RecordingBase is the scheme and host of recording URLs in webhooks.
	// Default: the provider's own recording host. Point it at a server
	// running RecordingServer to fetch the audio.
	RecordingBase string
	// TimeZone is the IANA zone of the provider's zone-less times. Default:
	// the definition's zone (UTC for Plivo and Telzio, Asia/Kolkata for
	// Exotel and Ozonetel).
	TimeZone string
	// Format is Telzio's webhook format, "json" (default) or "form".
	Format string
	// HTTPClient sends requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
}

// SimulatedProviders lists the providers Simulator plays.
func SimulatedProviders() []string { return []string{"exotel", "ozonetel", "plivo", "telzio"} }

// SimulatorCredentials returns test configuration values for a simulated
// provider (nil for an unknown one). They are not secrets: use them only
// with simulators.
func SimulatorCredentials(provider string) map[string]string {
	switch provider {
	case "plivo":
		return map[string]string{"auth_id": "MASIMULATOR0000000001", "auth_token": "plivo-simulator-auth-token-0001", "caller_id": "+14155550000"}
	case "exotel":
		return map[string]string{"account_sid": "simulator1", "api_key": "exotel-sim-key", "api_token": "exotel-sim-token", "caller_id": "+918044550000", "record": "true"}
	case "ozonetel":
		return map[string]string{"api_key": "KKSIMULATOR0000000000000000000001", "username": "sim_user", "campaign_name": "Sim_Campaign"}
	case "telzio":
		return map[string]string{"webhook_token": "telzio-simulator-bearer-token", "api_username": "sim", "api_password": "telzio-sim-password"}
	}
	return nil
}

// NewSimulator returns a simulator of a built-in provider sending to
// webhookURL, with SimulatorCredentials.
func NewSimulator(provider, webhookURL string) (*Simulator, error) {
	creds := SimulatorCredentials(provider)
	if creds == nil {
		return nil, callbridge.Errorf(callbridge.EINVALID, "No simulator for provider %q (simulated: %s).", provider, strings.Join(SimulatedProviders(), ", "))
	}
	return &Simulator{Provider: provider, Credentials: creds, WebhookURL: strings.TrimRight(webhookURL, "/")}, nil
}

// CallSpec describes one simulated call.
type CallSpec struct {
	// CallID is the provider's id of the logical call (the call UUID, SID or
	// UCID). Default: a random one.
	CallID string
	// Direction is DirectionInbound (a customer calls Line; the default) or
	// DirectionOutbound (click-to-call: the provider rings Agent, then
	// Customer).
	Direction callbridge.Direction
	// Customer and Line are E.164 numbers; Agent is the manager's side (a
	// number, a SIP URI, or the provider's agent id).
	Customer, Line, Agent string
	// Outcome: Answered (a conversation took place), else Busy, else Failed,
	// else nobody answered.
	Answered bool
	Busy     bool
	Failed   bool
	// Duration is the conversation length in seconds (when Answered).
	Duration int
	// Recording adds the recording of an answered call.
	Recording bool
	// Start is when the call begins. Default: now.
	Start time.Time
}

// Request is one webhook the provider would send.
type Request struct {
	// Kind is the callback section it is for ("incoming", "status", "dial",
	// "dial-action", "recording", "passthru", "events", …).
	Kind string
	// CallID is the leg it is about; Status the provider's status word.
	CallID, Status string
	// Child is true for a request about a leg the provider created from the
	// logical call (Plivo's Dial B leg).
	Child bool
	// At is when the provider sends it on the simulated clock.
	At time.Time
	// Method and URL are the request line; requests are signed for URL.
	Method, URL string
	Header      http.Header
	Body        []byte
}

// WebhookRequest returns r as callbridge's HTTP layer would hand it to a
// connector, received at receivedAt.
func (r *Request) WebhookRequest(receivedAt time.Time) *callbridge.WebhookRequest {
	return &callbridge.WebhookRequest{
		URL: r.URL, Method: r.Method, Header: r.Header.Clone(), Body: bytes.Clone(r.Body), ReceivedAt: receivedAt,
	}
}

// Simulated timings.
const (
	simRing     = 5 * time.Second  // until a person answers
	simNoAnswer = 30 * time.Second // ring timeout
	simRecWait  = 3 * time.Second  // recording ready after hang-up
)

// Requests returns, in sending order, the webhooks the provider sends for
// spec (see the provider files for each scenario). It returns nil for a
// provider the simulator does not play.
func (s *Simulator) Requests(spec CallSpec) []*Request {
	t0 := spec.Start
	if t0.IsZero() {
		t0 = time.Now()
	}
	spec.Start = t0.UTC().Truncate(time.Second)
	if spec.CallID == "" {
		spec.CallID = randomID(s.Provider)
	}
	if spec.Direction == "" {
		spec.Direction = callbridge.DirectionInbound
	}
	var out []*Request
	switch s.Provider {
	case "plivo":
		out = s.plivoRequests(spec)
	case "exotel":
		out = s.exotelRequests(spec)
	case "ozonetel":
		out = s.ozonetelRequests(spec)
	case "telzio":
		out = s.telzioRequests(spec)
	default:
		return nil
	}
	slices.SortStableFunc(out, func(a, b *Request) int { return a.At.Compare(b.At) })
	return out
}

// Send delivers r to Target (or its URL) and returns the response; the
// caller closes its body.
func (s *Simulator) Send(ctx context.Context, r *Request) (*http.Response, error) {
	dst, err := s.destination(r.URL)
	if err != nil {
		return nil, err
	}
	var body *bytes.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	var req *http.Request
	if body != nil {
		req, err = http.NewRequestWithContext(ctx, r.Method, dst, body)
	} else {
		req, err = http.NewRequestWithContext(ctx, r.Method, dst, nil)
	}
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	client := s.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	return client.Do(req)
}

func (s *Simulator) destination(signed string) (string, error) {
	if s.Target == "" {
		return signed, nil
	}
	t, err := url.Parse(s.Target)
	if err != nil {
		return "", err
	}
	if t.Path != "" && t.Path != "/" {
		return s.Target, nil
	}
	u, err := url.Parse(signed)
	if err != nil {
		return "", err
	}
	u.Scheme, u.Host = t.Scheme, t.Host
	return u.String(), nil
}

// hook returns the webhook URL of a section path with query parameters.
func (s *Simulator) hook(path string, q url.Values) string {
	u := strings.TrimRight(s.WebhookURL, "/")
	if path != "" {
		u += "/" + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

func (s *Simulator) cred(name string) string { return s.Credentials[name] }

// loc is the provider's zone for naive times.
func (s *Simulator) loc() *time.Location {
	tz := s.TimeZone
	if tz == "" {
		switch s.Provider {
		case "exotel", "ozonetel":
			tz = "Asia/Kolkata"
		}
	}
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			return l
		}
	}
	return time.UTC
}

// naive formats t without a zone in the provider's zone.
func (s *Simulator) naive(t time.Time) string { return t.In(s.loc()).Format(time.DateTime) }

// recordingBase returns the origin of recording URLs.
func (s *Simulator) recordingBase() string {
	if s.RecordingBase != "" {
		return strings.TrimRight(s.RecordingBase, "/")
	}
	switch s.Provider {
	case "plivo":
		return "https://media.plivo.com"
	case "exotel":
		return "https://recordings.exotel.com"
	case "ozonetel":
		return "http://recordings.kookoo.in"
	case "telzio":
		return "https://recordings.telzio.com"
	}
	return ""
}

// recordingPath returns the path of a recording and the id the server serves
// it under.
func (s *Simulator) recordingPath(id string) string {
	switch s.Provider {
	case "plivo":
		return "/v1/Account/" + s.cred("auth_id") + "/Recording/" + id + ".mp3"
	case "exotel":
		return "/exotelrecordings/" + s.cred("account_sid") + "/" + id + ".mp3"
	case "ozonetel":
		return "/" + s.cred("username") + "/" + id + ".mp3"
	case "telzio":
		return "/recordings/" + id + ".mp3"
	}
	return "/" + id + ".mp3"
}

// RecordingURL returns the URL the simulator puts in webhooks for the
// recording id.
func (s *Simulator) RecordingURL(id string) string { return s.recordingBase() + s.recordingPath(id) }

// RecordingServer returns a handler that serves recordings like the
// provider: GET or HEAD of a recording path (RecordingURL) answers
// RecordingAudio(id) as audio/mpeg with Range support and Accept-Ranges:
// bytes. Plivo, Exotel and Telzio require HTTP Basic auth with the
// connection's credentials (401 otherwise); Ozonetel's recordings are public.
// Unknown paths get 404.
func (s *Simulator) RecordingServer() http.Handler {
	modTime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var user, pass string
		switch s.Provider {
		case "plivo":
			user, pass = s.cred("auth_id"), s.cred("auth_token")
		case "exotel":
			user, pass = s.cred("api_key"), s.cred("api_token")
		case "telzio":
			user, pass = s.cred("api_username"), s.cred("api_password")
		}
		if user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(user)) != 1 || subtle.ConstantTimeCompare([]byte(p), []byte(pass)) != 1 {
				w.Header().Set("WWW-Authenticate", `Basic realm="recordings"`)
				http.Error(w, "authentication required", http.StatusUnauthorized)
				return
			}
		}
		prefix := strings.TrimSuffix(s.recordingPath("\x00"), "\x00.mp3")
		name, ok := strings.CutPrefix(r.URL.Path, prefix)
		id, ok2 := strings.CutSuffix(name, ".mp3")
		if !ok || !ok2 || id == "" || strings.ContainsAny(id, "/\\") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Header().Set("Accept-Ranges", "bytes")
		http.ServeContent(w, r, id+".mp3", modTime, bytes.NewReader(RecordingAudio(id)))
	})
}

// RecordingAudio returns the fake audio the simulators serve for a
// recording: 16 KiB that depend only on id (an ID3 header, then a SHA-256
// chain), so tests can compare what they fetched.
func RecordingAudio(id string) []byte {
	const size = 16 << 10
	out := make([]byte, 0, size)
	out = append(out, "ID3\x04\x00\x00\x00\x00\x00\x00"...)
	block := sha256.Sum256([]byte("callbridge-declarative-simulator:" + id))
	for len(out) < size {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:size]
}

// randomID returns a fresh call id in the provider's style.
func randomID(provider string) string {
	var b [16]byte
	rand.Read(b[:])
	return styleID(provider, hex.EncodeToString(b[:]))
}

// deriveID returns an id derived from a call id and a label: the same call
// always gets the same leg and recording ids.
func deriveID(provider, id, label string) string {
	sum := sha256.Sum256([]byte(id + "/" + label))
	return styleID(provider, hex.EncodeToString(sum[:16]))
}

// styleID shapes 32 hex digits like the provider's ids: UUIDs for Plivo and
// Telzio, hex SIDs for Exotel, digits for Ozonetel's UCIDs.
func styleID(provider, h string) string {
	switch provider {
	case "plivo", "telzio":
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	case "ozonetel":
		var b strings.Builder
		for i := 0; i < 16; i++ {
			fmt.Fprintf(&b, "%d", h[i]%10)
		}
		return "9" + b.String()[1:]
	}
	return h
}

// national returns a number as an Indian provider writes it: "0" and the
// ten-digit national number for +91 numbers, the digits otherwise.
func national(e164 string) string {
	d := strings.TrimPrefix(e164, "+")
	if strings.HasPrefix(d, "91") && len(d) == 12 {
		return "0" + d[2:]
	}
	return d
}
