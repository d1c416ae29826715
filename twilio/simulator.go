package twilio

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Simulator plays Twilio's side of calls: it produces the signed webhooks
// Twilio would send for a call (Requests), delivers them (Send), serves
// recording media the way api.twilio.com does (RecordingServer) and the REST
// API of click-to-call and call history (APIServer, PlayPlacedCall), and
// plays the legs a TwiML answer creates (Follow). Its exported fields are
// read-only once it is in use; it is then safe for concurrent use. It must
// not be copied after first use.
type Simulator struct {
	// AccountSID and AuthToken are the simulated account's credentials; use
	// the same values in the callbridge connection.
	AccountSID, AuthToken string
	// WebhookURL is the public URL callbridge validates signatures against,
	// e.g. "https://cb.example.com/webhooks/{token}". Every request is signed
	// for it.
	WebhookURL string
	// Target, when set, is where requests are actually delivered. If its path
	// is empty or "/", it replaces only the scheme and host of WebhookURL
	// (e.g. "http://127.0.0.1:8080"); otherwise it is the full URL.
	Target string
	// RecordingBase is the scheme and host of recording URLs in recording
	// callbacks. Default DefaultAPIBase; point it at a server running
	// RecordingServer (e.g. an httptest.Server URL) to fetch the audio.
	RecordingBase string
	// HTTPClient sends requests. Default: a client with a 30 s timeout.
	HTTPClient *http.Client
	// AccountStatus is the status APIServer reports for the account:
	// "active" (when empty), "suspended" or "closed".
	AccountStatus string

	state simState // placed calls and call log; see simulator_api.go
}

// CallSpec describes one simulated call.
type CallSpec struct {
	// CallSID is the (parent) call's SID. Default: a random "CA…" SID.
	CallSID string
	// Direction is DirectionInbound (a customer calls Line; the default) or
	// DirectionOutbound (a REST API call from Line to Customer).
	Direction callbridge.Direction
	// Customer and Line are E.164 numbers; Agent is the manager's side of a
	// <Dial> leg (a phone number, "sip:…" or "client:…").
	Customer, Line, Agent string
	// Outcome: Answered (a person answered), else Busy, else Failed, else
	// nobody answered. For an inbound call without DialLeg these describe the
	// parent leg only, whose "answer" is Twilio's application.
	Answered bool
	Busy     bool
	Failed   bool
	// Duration is the conversation length in seconds (when Answered).
	Duration int
	// Recording adds a completed recording callback after an answered call.
	Recording bool
	// DialLeg (inbound only) adds the child outbound-dial leg Twilio creates
	// when the call's TwiML <Dial>s the Agent; the outcome is then the child
	// leg's.
	DialLeg bool
	// Start is when the call arrives. Default: now.
	Start time.Time
}

// Request is one webhook Twilio would send.
type Request struct {
	// Kind is "voice" (the voice URL request of an inbound call), "status"
	// (a status callback) or "recording" (a recording status callback).
	Kind string
	// CallSID is the leg the request is about; Status its CallStatus, or the
	// RecordingStatus for a recording callback.
	CallSID, Status string
	// Child is true for a request about the <Dial> leg.
	Child bool
	// At is when Twilio sends it on the simulated clock.
	At time.Time
	// URL is the URL the request is signed for (Simulator.WebhookURL).
	URL string
	// Header carries Content-Type, User-Agent and X-Twilio-Signature.
	Header http.Header
	// Form holds the parameters; Body is their encoding as sent.
	Form url.Values
	Body []byte
}

// WebhookRequest returns r as callbridge's HTTP layer would hand it to a
// connector, received at receivedAt.
func (r *Request) WebhookRequest(receivedAt time.Time) *callbridge.WebhookRequest {
	return &callbridge.WebhookRequest{
		URL:        r.URL,
		Method:     http.MethodPost,
		Header:     r.Header.Clone(),
		Body:       bytes.Clone(r.Body),
		ReceivedAt: receivedAt,
	}
}

// Simulated timings.
const (
	simRing       = 5 * time.Second  // until a person answers
	simNoAnswer   = 20 * time.Second // <Dial> and API timeouts
	simRecordWait = 3 * time.Second  // recording ready after hang-up
)

// leg builds the requests of one call leg.
type simLeg struct {
	s                *Simulator
	sid, parent, dir string
	from, to         string
	seq              int
}

// status returns a status callback of the leg (CallbackSource
// call-progress-events), numbered in sending order.
func (l *simLeg) status(status string, at time.Time, duration int, sipCode string) *Request {
	p := l.params(status)
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", strconv.Itoa(l.seq))
	l.seq++
	p.Set("Timestamp", at.UTC().Format(time.RFC1123Z))
	if terminal(status) {
		p.Set("CallDuration", strconv.Itoa(duration))
		p.Set("Duration", strconv.Itoa((duration+59)/60)) // billed minutes
		if sipCode != "" {
			p.Set("SipResponseCode", sipCode)
		}
	}
	return l.s.request("status", l, status, p, at)
}

// params returns the fields common to all of a leg's voice webhooks.
func (l *simLeg) params(status string) url.Values {
	p := url.Values{}
	p.Set("AccountSid", l.s.AccountSID)
	p.Set("ApiVersion", APIVersion)
	p.Set("CallSid", l.sid)
	p.Set("CallStatus", status)
	p.Set("Direction", l.dir)
	p.Set("From", l.from)
	p.Set("To", l.to)
	p.Set("Caller", l.from)
	p.Set("Called", l.to)
	if l.parent != "" {
		p.Set("ParentCallSid", l.parent)
	}
	return p
}

func terminal(status string) bool {
	switch status {
	case "completed", "busy", "no-answer", "canceled", "failed":
		return true
	}
	return false
}

// Requests returns, in sending order, the webhooks Twilio sends for spec: for
// an inbound call the voice URL request, then the status callbacks of every
// leg (all of initiated, ringing, answered and completed subscribed) with
// SequenceNumber, Timestamp and, on terminal statuses, CallDuration; then, for
// an answered call with Recording, the recording status callback. Every
// request is signed with Sign for WebhookURL.
//
// Inbound, DialLeg: parent inbound leg ringing → in-progress (the TwiML runs)
// → child outbound-dial leg to Agent initiated → ringing → in-progress →
// completed (or busy / failed / no-answer) → parent completed.
// Outbound: one outbound-api leg from Line to Customer, initiated → ringing →
// in-progress → completed (or busy / failed / no-answer).
func (s *Simulator) Requests(spec CallSpec) []*Request {
	t0 := spec.Start
	if t0.IsZero() {
		t0 = time.Now()
	}
	t0 = t0.UTC().Truncate(time.Second)
	sid := spec.CallSID
	if sid == "" {
		sid = randomSID("CA")
	}
	var out []*Request
	var end time.Time       // when the conversation ended
	var recordSid string    // the leg whose recording is reported
	var recordSource string // RecordingSource
	answered := false

	switch spec.Direction {
	case callbridge.DirectionOutbound:
		l := &simLeg{s: s, sid: sid, dir: directionOutboundAPI, from: spec.Line, to: spec.Customer}
		out = append(out, l.status("initiated", t0, 0, ""))
		if spec.Failed && !spec.Answered && !spec.Busy {
			out = append(out, l.status("failed", t0.Add(time.Second), 0, "500"))
			break
		}
		out = append(out, l.status("ringing", t0.Add(time.Second), 0, ""))
		switch {
		case spec.Answered:
			answered = true
			ans := t0.Add(simRing)
			end = ans.Add(time.Duration(spec.Duration) * time.Second)
			out = append(out, l.status("in-progress", ans, 0, ""), l.status("completed", end, spec.Duration, "200"))
			recordSid, recordSource = sid, "OutboundAPI"
		case spec.Busy:
			out = append(out, l.status("busy", t0.Add(2*time.Second), 0, "486"))
		default:
			out = append(out, l.status("no-answer", t0.Add(simNoAnswer), 0, "487"))
		}

	default: // inbound
		l := &simLeg{s: s, sid: sid, dir: directionInbound, from: spec.Customer, to: spec.Line}
		out = append(out, s.request("voice", l, "ringing", l.params("ringing"), t0))
		out = append(out, l.status("ringing", t0, 0, ""))
		if !spec.DialLeg {
			switch {
			case spec.Answered:
				answered = true
				end = t0.Add(time.Duration(spec.Duration) * time.Second)
				out = append(out, l.status("in-progress", t0.Add(time.Second), 0, ""),
					l.status("completed", end.Add(time.Second), spec.Duration, "200"))
				recordSid, recordSource = sid, "RecordVerb"
			case spec.Busy:
				out = append(out, l.status("busy", t0.Add(time.Second), 0, "486"))
			case spec.Failed:
				out = append(out, l.status("failed", t0.Add(time.Second), 0, "500"))
			default: // the caller hung up before the application answered
				out = append(out, l.status("canceled", t0.Add(simRing), 0, "487"))
			}
			break
		}
		out = append(out, l.status("in-progress", t0.Add(time.Second), 0, ""))
		c := &simLeg{s: s, sid: deriveSID("CA", sid, "dial"), parent: sid, dir: directionOutboundDial, from: spec.Customer, to: spec.Agent}
		out = append(out, c.status("initiated", t0.Add(time.Second), 0, ""))
		var hangup time.Time // when the child leg ended
		switch {
		case spec.Failed && !spec.Answered && !spec.Busy:
			hangup = t0.Add(2 * time.Second)
			out = append(out, c.status("failed", hangup, 0, "500"))
		case spec.Answered:
			answered = true
			out = append(out, c.status("ringing", t0.Add(2*time.Second), 0, ""))
			ans := t0.Add(simRing)
			end = ans.Add(time.Duration(spec.Duration) * time.Second)
			hangup = end
			out = append(out, c.status("in-progress", ans, 0, ""), c.status("completed", end, spec.Duration, "200"))
			recordSid, recordSource = sid, "DialVerb"
		case spec.Busy:
			hangup = t0.Add(3 * time.Second)
			out = append(out, c.status("ringing", t0.Add(2*time.Second), 0, ""), c.status("busy", hangup, 0, "486"))
		default:
			hangup = t0.Add(simNoAnswer)
			out = append(out, c.status("ringing", t0.Add(2*time.Second), 0, ""), c.status("no-answer", hangup, 0, "487"))
		}
		parentEnd := hangup.Add(time.Second)
		out = append(out, l.status("completed", parentEnd, int(parentEnd.Sub(t0)/time.Second), "200"))
	}

	if spec.Recording && answered {
		re := deriveSID("RE", sid, "recording")
		base := strings.TrimRight(s.RecordingBase, "/")
		if base == "" {
			base = DefaultAPIBase
		}
		p := url.Values{}
		p.Set("AccountSid", s.AccountSID)
		p.Set("CallSid", recordSid)
		p.Set("RecordingSid", re)
		p.Set("RecordingUrl", base+"/"+APIVersion+"/Accounts/"+s.AccountSID+"/Recordings/"+re)
		p.Set("RecordingStatus", "completed")
		p.Set("RecordingDuration", strconv.Itoa(spec.Duration))
		p.Set("RecordingChannels", "1")
		p.Set("RecordingSource", recordSource)
		p.Set("RecordingStartTime", end.Add(-time.Duration(spec.Duration)*time.Second).Format(time.RFC1123Z))
		p.Set("ErrorCode", "0")
		r := s.request("recording", &simLeg{sid: recordSid}, "completed", p, end.Add(simRecordWait))
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b *Request) int { return a.At.Compare(b.At) })
	return out
}

// request signs and encodes one webhook.
func (s *Simulator) request(kind string, l *simLeg, status string, p url.Values, at time.Time) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "TwilioProxy/1.1")
	h.Set(SignatureHeader, Sign(s.AuthToken, s.WebhookURL, p))
	return &Request{
		Kind: kind, CallSID: l.sid, Status: status, Child: l.parent != "", At: at,
		URL: s.WebhookURL, Header: h, Form: p, Body: []byte(p.Encode()),
	}
}

// Send delivers r by HTTP POST to Target (or WebhookURL) and returns the
// response; the caller closes its body.
func (s *Simulator) Send(ctx context.Context, r *Request) (*http.Response, error) {
	dst, err := s.destination(r.URL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dst, bytes.NewReader(r.Body))
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

// destination applies Target to a signed URL.
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

// RecordingServer returns a handler that serves recording media like
// api.twilio.com: GET or HEAD
// /2010-04-01/Accounts/{AccountSID}/Recordings/{RE…}.mp3 with HTTP Basic auth
// AccountSID:AuthToken answers RecordingAudio(sid) as audio/mpeg, with Range
// support and Accept-Ranges: bytes. Wrong credentials get 401, any other path
// or account 404.
func (s *Simulator) RecordingServer() http.Handler {
	modTime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.AccountSID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(s.AuthToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, "/"+APIVersion+"/Accounts/"+s.AccountSID+"/Recordings/")
		sid, ok2 := strings.CutSuffix(name, ".mp3")
		if !ok || !ok2 || !strings.HasPrefix(sid, "RE") || !isSID(sid) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		w.Header().Set("Accept-Ranges", "bytes")
		http.ServeContent(w, r, name, modTime, bytes.NewReader(RecordingAudio(sid)))
	})
}

// RecordingAudio returns the fake audio the simulator serves for a recording:
// 16 KiB that depend only on sid (an ID3 tag header followed by bytes from a
// SHA-256 chain), so tests can compare what they fetched.
func RecordingAudio(sid string) []byte {
	const size = 16 << 10
	out := make([]byte, 0, size)
	out = append(out, "ID3\x04\x00\x00\x00\x00\x00\x00"...)
	block := sha256.Sum256([]byte("callbridge-twilio-simulator:" + sid))
	for len(out) < size {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:size]
}

// randomSID returns prefix followed by 32 random hex digits.
func randomSID(prefix string) string {
	var b [16]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// deriveSID returns prefix followed by 32 hex digits derived from sid and
// label: the same call always gets the same child and recording SIDs.
func deriveSID(prefix, sid, label string) string {
	sum := sha256.Sum256([]byte(sid + "/" + label))
	return prefix + hex.EncodeToString(sum[:16])
}
