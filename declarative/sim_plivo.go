package declarative

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// plivoRequests plays Plivo.
//
// Inbound: the answer URL request (/incoming, CallStatus=ringing), whose
// answer dials the Agent; the Dial's callbackUrl events for the B leg
// (/dial: answer, then hangup with DialBLegDuration and
// DialBLegHangupCause NORMAL_CLEARING, USER_BUSY, NO_ANSWER or
// UNALLOCATED_NUMBER); the Dial's action (/dial-action, DialStatus); the
// application's hangup URL for the A leg (/status, CallStatus=completed);
// and, for a recorded answered call, the Record callback (/recording).
//
// Outbound (click-to-call as callbridge places it): the A leg calls the
// Agent (ring URL /status?cb_…, CallStatus=ringing; answer URL /answer?cb_…,
// in-progress), the answer dials the Customer (B leg events on /dial?cb_…,
// /dial-action?cb_…), then the A leg's hangup (/status?cb_…, completed). A
// Failed outbound call is the A leg failing (the manager's phone could not
// be reached). Numbers are sent without "+", as Plivo does.
func (s *Simulator) plivoRequests(spec CallSpec) []*Request {
	t0, a := spec.Start, spec.CallID
	b := deriveID("plivo", a, "b-leg")
	var out []*Request
	var q url.Values // click-to-call parameters on every URL
	plus := func(n string) string { return strings.TrimPrefix(n, "+") }
	aLeg := func(status string) url.Values {
		p := url.Values{}
		p.Set("CallUUID", a)
		p.Set("CallStatus", status)
		p.Set("BillRate", "0.0085")
		if spec.Direction == callbridge.DirectionOutbound {
			p.Set("Direction", "outbound")
			p.Set("From", plus(s.cred("caller_id")))
			p.Set("To", plus(spec.Agent))
			p.Set("RequestUUID", deriveID("plivo", a, "request"))
			p.Set("ALegRequestUUID", p.Get("RequestUUID"))
		} else {
			p.Set("Direction", "inbound")
			p.Set("From", plus(spec.Customer))
			p.Set("To", plus(spec.Line))
			p.Set("CallerName", "")
		}
		return p
	}
	dialed, dialFrom := spec.Agent, spec.Customer
	if spec.Direction == callbridge.DirectionOutbound {
		q = url.Values{}
		q.Set(paramTo, spec.Customer)
		q.Set(paramFrom, spec.Agent)
		q.Set(paramExt, spec.Agent)
		dialed, dialFrom = spec.Customer, s.cred("caller_id")
		p := aLeg("ringing")
		p.Set("Event", "Ring")
		out = append(out, s.plivoPost("status", q, p, t0, a, "ringing", false))
		if spec.Failed && !spec.Answered && !spec.Busy {
			p := aLeg("failed")
			p.Set("Event", "Hangup")
			p.Set("HangupCause", "UNALLOCATED_NUMBER")
			p.Set("HangupCauseName", "Invalid Destination Address")
			p.Set("Duration", "0")
			p.Set("BillDuration", "0")
			p.Set("StartTime", s.naive(t0))
			p.Set("EndTime", s.naive(t0.Add(time.Second)))
			return append(out, s.plivoPost("status", q, p, t0.Add(time.Second), a, "failed", false))
		}
		ans := aLeg("in-progress")
		ans.Set("Event", "StartApp")
		out = append(out, s.plivoPost("answer", q, ans, t0.Add(3*time.Second), a, "in-progress", false))
		t0 = t0.Add(3 * time.Second)
	} else {
		p := aLeg("ringing")
		p.Set("Event", "StartApp")
		out = append(out, s.plivoPost("incoming", nil, p, t0, a, "ringing", false))
	}

	dial := func(action string, at time.Time, extra url.Values) *Request {
		p := url.Values{}
		p.Set("CallUUID", a)
		p.Set("DialAction", action)
		p.Set("Event", map[string]string{"answer": "DialAnswer", "hangup": "DialHangup"}[action])
		p.Set("DialALegUUID", a)
		p.Set("DialBLegUUID", b)
		p.Set("DialBLegStatus", action)
		p.Set("DialBLegFrom", plus(dialFrom))
		p.Set("DialBLegTo", plus(dialed))
		p.Set("DialBLegPosition", "1")
		for k, v := range extra {
			p[k] = v
		}
		return s.plivoPost("dial", q, p, at, b, action, true)
	}
	hangupB := func(at time.Time, dur int, cause string) *Request {
		x := url.Values{}
		x.Set("DialBLegDuration", strconv.Itoa(dur))
		x.Set("DialBLegBillDuration", strconv.Itoa(dur))
		x.Set("DialBLegHangupCause", cause)
		return dial("hangup", at, x)
	}
	var end time.Time
	dialStatus, cause := "completed", "NORMAL_CLEARING"
	switch {
	case spec.Answered:
		ans := t0.Add(simRing)
		end = ans.Add(time.Duration(spec.Duration) * time.Second)
		out = append(out, dial("answer", ans, nil), hangupB(end, spec.Duration, cause))
	case spec.Busy:
		end = t0.Add(3 * time.Second)
		dialStatus, cause = "busy", "USER_BUSY"
		out = append(out, hangupB(end, 0, cause))
	case spec.Failed:
		end = t0.Add(2 * time.Second)
		dialStatus, cause = "failed", "UNALLOCATED_NUMBER"
		out = append(out, hangupB(end, 0, cause))
	default:
		end = t0.Add(simNoAnswer)
		dialStatus, cause = "no-answer", "NO_ANSWER"
		out = append(out, hangupB(end, 0, cause))
	}
	act := url.Values{}
	act.Set("CallUUID", a)
	act.Set("DialStatus", dialStatus)
	act.Set("DialALegUUID", a)
	if spec.Answered || spec.Busy || spec.Failed {
		act.Set("DialBLegUUID", b)
	}
	act.Set("DialHangupCause", cause)
	act.Set("DialRingStatus", strconv.FormatBool(!spec.Failed))
	act.Set("DialBLegTo", plus(dialed))
	out = append(out, s.plivoPost("dial-action", q, act, end.Add(200*time.Millisecond), a, dialStatus, true))

	hang := end.Add(time.Second)
	p := aLeg("completed")
	p.Set("Event", "Hangup")
	p.Set("HangupCause", "NORMAL_CLEARING")
	p.Set("HangupCauseName", "Normal Hangup")
	p.Set("HangupSource", "Caller")
	total := int(hang.Sub(spec.Start) / time.Second)
	p.Set("Duration", strconv.Itoa(total))
	p.Set("BillDuration", strconv.Itoa(total))
	p.Set("StartTime", s.naive(spec.Start))
	p.Set("AnswerTime", s.naive(spec.Start.Add(time.Second)))
	p.Set("EndTime", s.naive(hang))
	path := "status"
	out = append(out, s.plivoPost(path, q, p, hang, a, "completed", false))

	if spec.Recording && spec.Answered {
		rec := deriveID("plivo", a, "recording")
		r := url.Values{}
		r.Set("CallUUID", a)
		r.Set("RecordUrl", s.RecordingURL(rec))
		r.Set("RecordingID", rec)
		r.Set("RecordingDuration", strconv.Itoa(spec.Duration))
		r.Set("RecordingDurationMs", strconv.Itoa(spec.Duration*1000))
		startMs := end.Add(-time.Duration(spec.Duration) * time.Second).UnixMilli()
		r.Set("RecordingStartMs", strconv.FormatInt(startMs, 10))
		r.Set("RecordingEndMs", strconv.FormatInt(end.UnixMilli(), 10))
		out = append(out, s.plivoPost("recording", q, r, hang.Add(simRecWait), a, "completed", false))
	}
	return out
}

// plivoPost signs and encodes one Plivo webhook (form POST, V3 signature).
func (s *Simulator) plivoPost(path string, q, p url.Values, at time.Time, id, status string, child bool) *Request {
	u := s.hook(path, q)
	nonce := nonceFor(u, p)
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("User-Agent", "PlivoHTTP/1.0")
	h.Set(PlivoNonceHeader, nonce)
	h.Set(PlivoSignatureHeader, SignPlivoV3(s.cred("auth_token"), http.MethodPost, u, p, nonce))
	return &Request{Kind: path, CallID: id, Status: status, Child: child, At: at, Method: http.MethodPost, URL: u, Header: h, Body: []byte(p.Encode())}
}

// nonceFor derives a 20-digit nonce from a request, like Plivo's numeric
// nonces; deterministic so that retries of one request are identical.
func nonceFor(u string, p url.Values) string {
	h := deriveID("exotel", u, p.Encode())
	var b strings.Builder
	for i := 0; i < 20; i++ {
		b.WriteByte('0' + h[i]%10)
	}
	return b.String()
}
