package declarative

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"callbridge"
)

// exotelRequests plays Exotel.
//
// Inbound: the Connect applet's dynamic URL (GET /incoming with CallSid,
// CallFrom, CallTo, Direction=incoming, Created), whose answer says whom to
// dial; then the Passthru applet after Connect (GET /passthru with
// DialCallStatus, DialCallDuration — ringing plus conversation, as Exotel
// counts it — DialWhomNumber, RecordingUrl, StartTime, EndTime and CallType).
//
// Outbound (Connect two numbers, From = Agent first, To = Customer): the
// StatusCallback (POST /status, JSON) for the answered event when the
// customer answers, then the terminal event with Status, ConversationDuration,
// Legs, StartTime, EndTime and RecordingUrl.
//
// Numbers are written as Exotel writes Indian numbers ("0" and ten digits);
// times are naive, in TimeZone (default Asia/Kolkata). With a webhook_secret
// in Credentials every URL carries ?secret=….
func (s *Simulator) exotelRequests(spec CallSpec) []*Request {
	t0, sid := spec.Start, spec.CallID
	var out []*Request
	base := url.Values{}
	if sec := s.cred("webhook_secret"); sec != "" {
		base.Set("secret", sec)
	}
	ring := simRing
	var end time.Time
	status := "no-answer"
	switch {
	case spec.Answered:
		status = "completed"
		end = t0.Add(ring + time.Duration(spec.Duration)*time.Second)
	case spec.Busy:
		status = "busy"
		end = t0.Add(3 * time.Second)
	case spec.Failed:
		status = "failed"
		end = t0.Add(2 * time.Second)
	default:
		end = t0.Add(simNoAnswer)
	}
	recURL := ""
	if spec.Recording && spec.Answered {
		recURL = s.RecordingURL(sid)
	}

	if spec.Direction == callbridge.DirectionOutbound {
		payload := map[string]any{
			"CallSid": sid, "DateCreated": s.naive(t0), "To": national(spec.Customer),
			"From": national(spec.Agent), "PhoneNumberSid": national(s.callerID(spec)),
			"StartTime": s.naive(t0), "Direction": "outbound-api", "CustomField": "",
		}
		if spec.Answered {
			a := clone(payload)
			a["EventType"] = "answered"
			a["Status"] = "in-progress"
			a["DateUpdated"] = s.naive(t0.Add(ring))
			out = append(out, s.exotelJSON("status", base, a, t0.Add(ring), sid, "in-progress"))
		}
		t := clone(payload)
		t["EventType"] = "terminal"
		t["Status"] = status
		t["DateUpdated"] = s.naive(end.Add(time.Second))
		t["EndTime"] = s.naive(end)
		conv := 0
		if spec.Answered {
			conv = spec.Duration
		}
		t["ConversationDuration"] = conv
		agentLeg := map[string]any{"OnCallDuration": int(end.Sub(t0) / time.Second), "Status": "completed", "AnsweredBy": "NA"}
		custLeg := map[string]any{"OnCallDuration": conv, "Status": status, "AnsweredBy": "NA"}
		if spec.Failed && !spec.Answered && !spec.Busy {
			agentLeg["Status"], agentLeg["OnCallDuration"] = "failed", 0
		}
		t["Legs"] = []any{agentLeg, custLeg}
		t["RecordingUrl"] = recURL
		if recURL == "" {
			t["RecordingUrl"] = nil
		}
		return append(out, s.exotelJSON("status", base, t, end.Add(time.Second), sid, status))
	}

	q := url.Values{}
	for k, v := range base {
		q[k] = v
	}
	q.Set("CallSid", sid)
	q.Set("CallFrom", national(spec.Customer))
	q.Set("CallTo", national(spec.Line))
	q.Set("Direction", "incoming")
	q.Set("Created", s.naive(t0))
	q.Set("DialCallDuration", "0")
	q.Set("StartTime", s.naive(t0))
	q.Set("EndTime", "1970-01-01 05:30:00")
	q.Set("CallType", "call-attempt")
	q.Set("From", q.Get("CallFrom"))
	q.Set("To", q.Get("CallTo"))
	q.Set("CurrentTime", s.naive(t0))
	out = append(out, s.exotelGet("incoming", q, t0, sid, "ringing"))

	p := url.Values{}
	for k, v := range q {
		p[k] = v
	}
	dialDur := 0
	callType := "incomplete"
	switch {
	case spec.Answered:
		dialDur = int(ring/time.Second) + spec.Duration
		callType = "completed"
	case spec.Busy, spec.Failed:
		callType = "incomplete"
	default:
		dialDur = int(simNoAnswer / time.Second)
		callType = "client-hangup"
	}
	p.Set("DialCallStatus", status)
	p.Set("DialCallDuration", strconv.Itoa(dialDur))
	p.Set("DialWhomNumber", national(spec.Agent))
	p.Set("CallType", callType)
	p.Set("EndTime", s.naive(end))
	p.Set("CurrentTime", s.naive(end.Add(time.Second)))
	if recURL != "" {
		p.Set("RecordingUrl", recURL)
	}
	return append(out, s.exotelGet("passthru", p, end.Add(time.Second), sid, status))
}

func (s *Simulator) callerID(spec CallSpec) string {
	if spec.Line != "" {
		return spec.Line
	}
	return s.cred("caller_id")
}

func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+8)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// exotelGet is one GET webhook of a flow applet.
func (s *Simulator) exotelGet(path string, q url.Values, at time.Time, id, status string) *Request {
	h := http.Header{}
	h.Set("User-Agent", "Exotel")
	h.Set("Exotel-Version", "1.0")
	return &Request{Kind: path, CallID: id, Status: status, At: at, Method: http.MethodGet, URL: s.hook(path, q), Header: h}
}

// exotelJSON is one StatusCallback POST with a JSON body.
func (s *Simulator) exotelJSON(path string, q url.Values, payload map[string]any, at time.Time, id, status string) *Request {
	b, _ := json.Marshal(payload)
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Exotel")
	return &Request{Kind: path, CallID: id, Status: status, At: at, Method: http.MethodPost, URL: s.hook(path, q), Header: h, Body: b}
}
