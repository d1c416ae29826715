package twilio

import (
	"crypto/subtle"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// simState is the simulator's mutable part: the calls placed through its
// REST API and its call log. The zero value is ready.
type simState struct {
	mu     sync.Mutex
	placed []PlacedCall
	log    []callResource
}

// PlacedCall is a call created through the simulator's Calls API.
type PlacedCall struct {
	SID  string
	Form url.Values // the form POSTed to Calls.json
	At   time.Time  // when it was placed
}

// PlacedCalls returns the calls placed through APIServer, oldest first.
func (s *Simulator) PlacedCalls() []PlacedCall {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	return slices.Clone(s.state.placed)
}

// placedCall returns the placed call with the given SID.
func (s *Simulator) placedCall(sid string) (PlacedCall, bool) {
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	for _, p := range s.state.placed {
		if p.SID == sid {
			return p, true
		}
	}
	return PlacedCall{}, false
}

// LogCall adds to the simulator's call log (the Calls list of APIServer) the
// call records Twilio keeps once the call spec describes is over: one per
// leg, with its last status, start and end time and duration, exactly as the
// status callbacks of Requests(spec) report them.
func (s *Simulator) LogCall(spec CallSpec) {
	s.logRequests(s.Requests(spec))
}

// logRequests records the legs the status callbacks in reqs describe.
func (s *Simulator) logRequests(reqs []*Request) {
	legs := map[string]*callResource{}
	var order []string
	for _, r := range reqs {
		if r.Kind != "status" && r.Kind != "voice" {
			continue
		}
		f := r.Form
		sid := f.Get("CallSid")
		rec, ok := legs[sid]
		if !ok {
			rec = &callResource{SID: sid, ParentCallSID: f.Get("ParentCallSid"), AccountSID: s.AccountSID,
				To: f.Get("To"), From: f.Get("From"), Direction: f.Get("Direction"), Duration: "0",
				StartTime: r.At.UTC().Format(time.RFC1123Z)}
			legs[sid] = rec
			order = append(order, sid)
		}
		rec.Status = f.Get("CallStatus")
		if terminal(rec.Status) {
			rec.EndTime = r.At.UTC().Format(time.RFC1123Z)
			rec.Duration = f.Get("CallDuration")
		}
	}
	s.state.mu.Lock()
	defer s.state.mu.Unlock()
	for _, sid := range order {
		s.state.log = append(s.state.log, *legs[sid])
	}
}

// APIServer returns a handler that serves the parts of Twilio's REST API
// callbridge uses, under /2010-04-01/Accounts/{AccountSID}, with HTTP Basic
// auth AccountSID:AuthToken (401 and Twilio's error 20003 otherwise):
//
//   - GET .json: the Account resource, status AccountStatus ("active" when
//     empty).
//   - POST /Calls.json: places a call (To, From and one of Url, Twiml or
//     ApplicationSid required, else 400 with error 21201/21603/21205); it is
//     kept for PlacedCalls and PlayPlacedCall and answered 201 with the
//     queued Call resource.
//   - GET /Calls.json: the call log (LogCall, PlayPlacedCall), filtered by
//     StartTime>= and StartTime<= (UTC dates), newest first, PageSize
//     (default 50, at most 1000) per page with next_page_uri.
//   - the recording media of RecordingServer.
//
// Any other path or account is 404.
func (s *Simulator) APIServer() http.Handler {
	rec := s.RecordingServer()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		prefix := "/" + APIVersion + "/Accounts/" + s.AccountSID
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			apiErrorReply(w, http.StatusNotFound, 20404, "The requested resource was not found")
			return
		}
		if strings.HasPrefix(rest, "/Recordings/") {
			rec.ServeHTTP(w, r)
			return
		}
		user, pass, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.AccountSID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(pass), []byte(s.AuthToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
			apiErrorReply(w, http.StatusUnauthorized, 20003, "Authenticate")
			return
		}
		switch {
		case rest == ".json" && r.Method == http.MethodGet:
			status := s.AccountStatus
			if status == "" {
				status = "active"
			}
			writeJSON(w, http.StatusOK, map[string]any{"sid": s.AccountSID, "status": status, "friendly_name": "Simulated account", "type": "Full"})
		case rest == "/Calls.json" && r.Method == http.MethodPost:
			s.createCall(w, r)
		case rest == "/Calls.json" && r.Method == http.MethodGet:
			s.listCalls(w, r, prefix+rest)
		default:
			apiErrorReply(w, http.StatusNotFound, 20404, "The requested resource was not found")
		}
	})
}

func apiErrorReply(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "message": msg,
		"more_info": "https://www.twilio.com/docs/errors/" + strconv.Itoa(code), "status": status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// createCall answers POST Calls.json.
func (s *Simulator) createCall(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		apiErrorReply(w, http.StatusBadRequest, 20001, "Invalid form")
		return
	}
	f := r.PostForm
	switch {
	case f.Get("To") == "":
		apiErrorReply(w, http.StatusBadRequest, 21201, "No 'To' number is specified")
		return
	case f.Get("From") == "":
		apiErrorReply(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case f.Get("Url") == "" && f.Get("Twiml") == "" && f.Get("ApplicationSid") == "":
		apiErrorReply(w, http.StatusBadRequest, 21205, "Url parameter is required.")
		return
	}
	if tw := f.Get("Twiml"); tw != "" {
		if _, err := parseTwiML([]byte(tw)); err != nil {
			apiErrorReply(w, http.StatusBadRequest, 12100, "Document parse failure")
			return
		}
	}
	sid := randomSID("CA")
	now := time.Now().UTC()
	s.state.mu.Lock()
	s.state.placed = append(s.state.placed, PlacedCall{SID: sid, Form: f, At: now})
	s.state.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid": sid, "account_sid": s.AccountSID, "to": f.Get("To"), "from": f.Get("From"),
		"status": "queued", "direction": directionOutboundAPI, "parent_call_sid": nil,
		"date_created": now.Format(time.RFC1123Z), "api_version": APIVersion,
		"uri": "/" + APIVersion + "/Accounts/" + s.AccountSID + "/Calls/" + sid + ".json",
	})
}

// listCalls answers GET Calls.json.
func (s *Simulator) listCalls(w http.ResponseWriter, r *http.Request, path string) {
	q := r.URL.Query()
	from, fromOK := dateParam(q.Get("StartTime>="))
	to, toOK := dateParam(q.Get("StartTime<="))
	if !fromOK || !toOK {
		apiErrorReply(w, http.StatusBadRequest, 20001, "Invalid StartTime")
		return
	}
	size := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			apiErrorReply(w, http.StatusBadRequest, 20001, "Invalid PageSize")
			return
		}
		size = min(n, 1000)
	}
	page, _ := strconv.Atoi(q.Get("Page"))
	page = max(page, 0)

	s.state.mu.Lock()
	var calls []callResource
	for _, c := range s.state.log {
		start := parseTimestamp(c.StartTime, "")
		day := start.Truncate(24 * time.Hour)
		if (!from.IsZero() && day.Before(from)) || (!to.IsZero() && day.After(to)) {
			continue
		}
		calls = append(calls, c)
	}
	s.state.mu.Unlock()
	slices.SortStableFunc(calls, func(a, b callResource) int {
		return parseTimestamp(b.StartTime, "").Compare(parseTimestamp(a.StartTime, ""))
	})
	lo := min(page*size, len(calls))
	hi := min(lo+size, len(calls))
	var next any
	if hi < len(calls) {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("PageSize", strconv.Itoa(size))
		nq.Set("Page", strconv.Itoa(page+1))
		nq.Set("PageToken", "PA"+strconv.Itoa(hi))
		next = path + "?" + nq.Encode()
	}
	out := make([]map[string]any, 0, hi-lo)
	for _, c := range calls[lo:hi] {
		m := map[string]any{"sid": c.SID, "account_sid": c.AccountSID, "to": c.To, "from": c.From,
			"status": c.Status, "direction": c.Direction, "start_time": c.StartTime, "duration": c.Duration,
			"parent_call_sid": nil, "end_time": nil}
		if c.ParentCallSID != "" {
			m["parent_call_sid"] = c.ParentCallSID
		}
		if c.EndTime != "" {
			m["end_time"] = c.EndTime
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, map[string]any{"calls": out, "page": page, "page_size": size,
		"next_page_uri": next, "uri": path + "?" + r.URL.RawQuery})
}

// dateParam reads a YYYY-MM-DD filter; "" is no filter.
func dateParam(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil
}

// twimlNode is one TwiML element.
type twimlNode struct {
	XMLName xml.Name
	Attrs   []xml.Attr  `xml:",any,attr"`
	Nodes   []twimlNode `xml:",any"`
	Text    string      `xml:",chardata"`
}

func (n *twimlNode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parseTwiML reads a <Response> document.
func parseTwiML(doc []byte) (*twimlNode, error) {
	var root twimlNode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return nil, err
	}
	if root.XMLName.Local != "Response" {
		return nil, errors.New("twiml: root is not <Response>")
	}
	return &root, nil
}

// DialOutcome says how a leg the simulator rings ends.
type DialOutcome struct {
	// Answered: a person picks up and talks for Duration seconds. Else Busy,
	// else Failed, else nobody answers within the timeout.
	Answered bool
	Busy     bool
	Failed   bool
	Duration int
}

// Follow plays what Twilio does with twiml, the TwiML callbridge answered to
// a request about the parent leg of spec (its CallSID, Customer and Line; an
// inbound call), starting at at:
//
//   - for a <Dial>, the status callbacks of the leg it creates to its noun
//     (Number, Sip or Client), sent to the noun's statusCallback for the
//     events of its statusCallbackEvent and ending as outcome says, then the
//     request to the <Dial>'s action URL (Kind "action") with
//     DialCallStatus, DialCallSid and DialCallDuration;
//   - for a <Record>, the recording status callback (completed, Duration
//     seconds) to its recordingStatusCallback and the action request;
//   - nothing for <Hangup/> or an empty <Response/>.
//
// Every request is signed with the account's auth token for the URL it is
// sent to. It returns an error for a document that is not TwiML.
func (s *Simulator) Follow(spec CallSpec, twiml []byte, outcome DialOutcome, at time.Time) ([]*Request, error) {
	root, err := parseTwiML(twiml)
	if err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Second)
	parent := &simLeg{s: s, sid: spec.CallSID, dir: directionInbound, from: spec.Customer, to: spec.Line}
	for i := range root.Nodes {
		v := &root.Nodes[i]
		switch v.XMLName.Local {
		case "Dial":
			return s.followDial(parent, v, outcome, at)
		case "Record":
			return s.followRecord(parent, v, outcome, at), nil
		case "Hangup", "Reject":
			return nil, nil
		}
	}
	return nil, nil
}

// nounTarget returns the identity a <Dial> noun rings, as the To of its leg.
func nounTarget(n *twimlNode) string {
	text := strings.TrimSpace(n.Text)
	if n.XMLName.Local == "Client" {
		return "client:" + text
	}
	return text
}

// followDial plays a <Dial> with one noun.
func (s *Simulator) followDial(parent *simLeg, dial *twimlNode, out DialOutcome, at time.Time) ([]*Request, error) {
	var noun *twimlNode
	for i := range dial.Nodes {
		switch dial.Nodes[i].XMLName.Local {
		case "Number", "Sip", "Client":
			noun = &dial.Nodes[i]
		}
		if noun != nil {
			break
		}
	}
	if noun == nil {
		return nil, errors.New("twiml: <Dial> without a noun")
	}
	target := nounTarget(noun)
	caller := dial.attr("callerId")
	if caller == "" {
		caller = parent.from
	}
	timeout := simNoAnswer
	if n, err := strconv.Atoi(dial.attr("timeout")); err == nil && n > 0 {
		timeout = time.Duration(n) * time.Second
	}
	child := &simLeg{s: s, sid: deriveSID("CA", parent.sid, "dial:"+target+":"+at.Format(time.RFC3339)),
		parent: parent.sid, dir: directionOutboundDial, from: caller, to: target}
	reqs, final, talk, ended := s.playLeg(child, noun, out, at, timeout)
	if action := dial.attr("action"); action != "" {
		p := parent.params("in-progress")
		p.Set("DialCallSid", child.sid)
		p.Set("DialCallStatus", final)
		if out.Answered {
			p.Set("DialCallDuration", strconv.Itoa(talk))
		}
		reqs = append(reqs, s.requestFor("action", action, parent, final, p, ended))
	}
	return reqs, nil
}

// playLeg returns the status callbacks of leg as Twilio sends them to the
// noun's statusCallback (subscribed events only), the leg's final status,
// its talk time and when it ended.
func (s *Simulator) playLeg(leg *simLeg, noun *twimlNode, out DialOutcome, at time.Time, timeout time.Duration) ([]*Request, string, int, time.Time) {
	cb := noun.attr("statusCallback")
	events := strings.Fields(noun.attr("statusCallbackEvent"))
	if len(events) == 0 {
		events = []string{"completed"}
	}
	subscribed := func(status string) bool {
		ev := status
		switch status {
		case "in-progress":
			ev = "answered"
		case "completed", "busy", "no-answer", "failed", "canceled":
			ev = "completed"
		}
		return slices.Contains(events, ev)
	}
	type step struct {
		status string
		at     time.Time
		dur    int
	}
	var steps []step
	final, talk := "no-answer", 0
	steps = append(steps, step{"initiated", at, 0})
	switch {
	case out.Failed && !out.Answered && !out.Busy:
		final = "failed"
		steps = append(steps, step{"failed", at.Add(time.Second), 0})
	case out.Answered:
		final, talk = "completed", out.Duration
		ans := at.Add(simRing)
		steps = append(steps, step{"ringing", at.Add(time.Second), 0}, step{"in-progress", ans, 0},
			step{"completed", ans.Add(time.Duration(out.Duration) * time.Second), out.Duration})
	case out.Busy:
		final = "busy"
		steps = append(steps, step{"ringing", at.Add(time.Second), 0}, step{"busy", at.Add(2 * time.Second), 0})
	default:
		steps = append(steps, step{"ringing", at.Add(time.Second), 0}, step{"no-answer", at.Add(timeout), 0})
	}
	var reqs []*Request
	for _, st := range steps {
		if cb == "" || !subscribed(st.status) {
			continue
		}
		p := leg.params(st.status)
		p.Set("CallbackSource", "call-progress-events")
		p.Set("SequenceNumber", strconv.Itoa(leg.seq))
		leg.seq++
		p.Set("Timestamp", st.at.Format(time.RFC1123Z))
		if terminal(st.status) {
			p.Set("CallDuration", strconv.Itoa(st.dur))
		}
		reqs = append(reqs, s.requestFor("status", cb, leg, st.status, p, st.at))
	}
	return reqs, final, talk, steps[len(steps)-1].at
}

// followRecord plays a <Record>: the caller leaves a message of
// out.Duration seconds.
func (s *Simulator) followRecord(parent *simLeg, rec *twimlNode, out DialOutcome, at time.Time) []*Request {
	re := deriveSID("RE", parent.sid, "record:"+at.Format(time.RFC3339))
	recURL := s.recordingBase() + "/" + APIVersion + "/Accounts/" + s.AccountSID + "/Recordings/" + re
	end := at.Add(time.Duration(out.Duration+2) * time.Second)
	var reqs []*Request
	if cb := rec.attr("recordingStatusCallback"); cb != "" {
		p := url.Values{}
		p.Set("AccountSid", s.AccountSID)
		p.Set("CallSid", parent.sid)
		p.Set("RecordingSid", re)
		p.Set("RecordingUrl", recURL)
		p.Set("RecordingStatus", "completed")
		p.Set("RecordingDuration", strconv.Itoa(out.Duration))
		p.Set("RecordingChannels", "1")
		p.Set("RecordingSource", "RecordVerb")
		p.Set("RecordingStartTime", at.Format(time.RFC1123Z))
		p.Set("ErrorCode", "0")
		reqs = append(reqs, s.requestFor("recording", cb, parent, "completed", p, end.Add(simRecordWait)))
	}
	if action := rec.attr("action"); action != "" {
		p := parent.params("in-progress")
		p.Set("RecordingSid", re)
		p.Set("RecordingUrl", recURL)
		p.Set("RecordingDuration", strconv.Itoa(out.Duration))
		p.Set("Digits", "hangup")
		reqs = append(reqs, s.requestFor("action", action, parent, "in-progress", p, end))
	}
	slices.SortStableFunc(reqs, func(a, b *Request) int { return a.At.Compare(b.At) })
	return reqs
}

// recordingBase is the scheme and host of recording URLs.
func (s *Simulator) recordingBase() string {
	base := strings.TrimRight(s.RecordingBase, "/")
	if base == "" {
		base = DefaultAPIBase
	}
	return base
}

// requestFor signs and encodes one webhook sent to u.
func (s *Simulator) requestFor(kind, u string, l *simLeg, status string, p url.Values, at time.Time) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "TwilioProxy/1.1")
	h.Set(SignatureHeader, Sign(s.AuthToken, u, p))
	return &Request{
		Kind: kind, CallSID: l.sid, Status: status, Child: l.parent != "", At: at,
		URL: u, Header: h, Form: p, Body: []byte(p.Encode()),
	}
}

// ClickToCallSpec says how a call placed through APIServer goes.
type ClickToCallSpec struct {
	// Agent is how the manager's leg (the call's To) ends; Answered means
	// the manager picks up, which starts the TwiML.
	Agent DialOutcome
	// Customer is how the <Dial> leg to the customer ends (when the manager
	// answered).
	Customer DialOutcome
	// Start is when the call starts. Default: when it was placed.
	Start time.Time
}

// PlayPlacedCall returns, in sending order, the webhooks Twilio sends for the
// call sid placed through APIServer, and adds its legs to the call log:
// the manager's leg (To of the request) to its StatusCallback for the events
// of StatusCallbackEvent; when the manager answers, the leg of the Twiml's
// <Dial> to the customer (see Follow) and the manager's leg completing after
// it; with Record=true and an answered manager, the recording callback to
// RecordingStatusCallback. It returns an error for an unknown sid.
func (s *Simulator) PlayPlacedCall(sid string, spec ClickToCallSpec) ([]*Request, error) {
	pc, ok := s.placedCall(sid)
	if !ok {
		return nil, errors.New("twilio simulator: no placed call " + sid)
	}
	f := pc.Form
	at := spec.Start
	if at.IsZero() {
		at = pc.At
	}
	at = at.UTC().Truncate(time.Second)
	leg := &simLeg{s: s, sid: sid, dir: directionOutboundAPI, from: f.Get("From"), to: f.Get("To")}
	// The manager's leg: only its first part here; it completes after the
	// customer's leg.
	agentNoun := &twimlNode{XMLName: xml.Name{Local: "Number"}}
	agentNoun.Attrs = []xml.Attr{
		{Name: xml.Name{Local: "statusCallback"}, Value: f.Get("StatusCallback")},
		{Name: xml.Name{Local: "statusCallbackEvent"}, Value: strings.Join(f["StatusCallbackEvent"], " ")},
	}
	timeout := simNoAnswer
	if n, err := strconv.Atoi(f.Get("Timeout")); err == nil && n > 0 {
		timeout = time.Duration(n) * time.Second
	}
	if !spec.Agent.Answered {
		reqs, _, _, _ := s.playLeg(leg, agentNoun, spec.Agent, at, timeout)
		s.logRequests(reqs)
		return reqs, nil
	}
	// The manager answers; the TwiML runs until the <Dial> ends, then the
	// manager's leg completes.
	talkStart := at.Add(simRing)
	var dialReqs []*Request
	end := talkStart.Add(time.Second)
	if tw := f.Get("Twiml"); tw != "" {
		root, err := parseTwiML([]byte(tw))
		if err != nil {
			return nil, err
		}
		for i := range root.Nodes {
			if root.Nodes[i].XMLName.Local != "Dial" {
				continue
			}
			p := &simLeg{s: s, sid: sid, dir: directionOutboundAPI, from: f.Get("From"), to: f.Get("To")}
			dialReqs, err = s.followDial(p, &root.Nodes[i], spec.Customer, talkStart)
			if err != nil {
				return nil, err
			}
			if len(dialReqs) > 0 {
				end = dialReqs[len(dialReqs)-1].At.Add(time.Second)
			}
			break
		}
	}
	agentTalk := int(end.Sub(talkStart) / time.Second)
	agentReqs, _, _, _ := s.playLeg(leg, agentNoun, DialOutcome{Answered: true, Duration: agentTalk}, at, timeout)
	reqs := append(agentReqs, dialReqs...)
	if f.Get("Record") == "true" && f.Get("RecordingStatusCallback") != "" {
		re := deriveSID("RE", sid, "recording")
		p := url.Values{}
		p.Set("AccountSid", s.AccountSID)
		p.Set("CallSid", sid)
		p.Set("RecordingSid", re)
		p.Set("RecordingUrl", s.recordingBase()+"/"+APIVersion+"/Accounts/"+s.AccountSID+"/Recordings/"+re)
		p.Set("RecordingStatus", "completed")
		p.Set("RecordingDuration", strconv.Itoa(agentTalk))
		p.Set("RecordingChannels", "1")
		p.Set("RecordingSource", "OutboundAPI")
		p.Set("RecordingStartTime", talkStart.Format(time.RFC1123Z))
		p.Set("ErrorCode", "0")
		reqs = append(reqs, s.requestFor("recording", f.Get("RecordingStatusCallback"), leg, "completed", p, end.Add(simRecordWait)))
	}
	slices.SortStableFunc(reqs, func(a, b *Request) int { return a.At.Compare(b.At) })
	s.logRequests(reqs)
	return reqs, nil
}
