package declarative

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"callbridge"
)

// telzioRequests plays Telzio: call_created, call_answered (when answered)
// and call_ended events (POST /events) with X-Telzio-Event-Type, in JSON or
// form (Format), authenticated with the Bearer token (webhook_token) or, if
// only a user name and password are set, Basic auth. Times are naive, in
// TimeZone (default UTC), with seven fractional digits as Telzio writes them.
// Inbound calls go from Customer to Line and are answered by Agent; outbound
// calls go from Agent (a Telzio user) to Customer.
func (s *Simulator) telzioRequests(spec CallSpec) []*Request {
	t0, id := spec.Start, spec.CallID
	from, to := spec.Customer, spec.Line
	dir := "inbound"
	if spec.Direction == callbridge.DirectionOutbound {
		from, to, dir = spec.Agent, spec.Customer, "outbound"
	}
	date := func(t time.Time) string { return t.In(s.loc()).Format("2006-01-02T15:04:05.0000000") }
	event := func(typ string, at time.Time, extra map[string]any) *Request {
		p := map[string]any{"EventType": typ, "call_id": id, "direction": dir, "from": from, "from_cnam": "",
			"to": to, "rate": 0.0, "date": date(at)}
		for k, v := range extra {
			p[k] = v
		}
		return s.telzioPost(typ, p, at, id)
	}
	out := []*Request{event("call_created", t0, nil)}
	var end time.Time
	ended := map[string]any{"duration": 0}
	switch {
	case spec.Answered:
		ans := t0.Add(simRing)
		extra := map[string]any{}
		if dir == "inbound" {
			extra["answered_by"] = spec.Agent
		}
		out = append(out, event("call_answered", ans, extra))
		end = ans.Add(time.Duration(spec.Duration) * time.Second)
		ended["duration"] = spec.Duration
		ended["hangup_cause"] = "normal_clearing"
		if dir == "inbound" {
			ended["answered_by"] = spec.Agent
		}
		if spec.Recording {
			ended["recording_url"] = s.RecordingURL(id)
		}
	case spec.Busy:
		end = t0.Add(3 * time.Second)
		ended["hangup_cause"] = "user_busy"
	case spec.Failed:
		end = t0.Add(2 * time.Second)
		ended["hangup_cause"] = "failed"
	default:
		end = t0.Add(simNoAnswer)
		ended["hangup_cause"] = "no_answer"
	}
	return append(out, event("call_ended", end, ended))
}

// telzioPost encodes one event and adds the configured authentication.
func (s *Simulator) telzioPost(typ string, p map[string]any, at time.Time, id string) *Request {
	h := http.Header{}
	h.Set("X-Telzio-Event-Type", typ)
	var body []byte
	if s.Format == "form" {
		f := url.Values{}
		for k, v := range p {
			switch v := v.(type) {
			case string:
				f.Set(k, v)
			case int:
				f.Set(k, strconv.Itoa(v))
			case float64:
				f.Set(k, strconv.FormatFloat(v, 'f', 1, 64))
			}
		}
		body = []byte(f.Encode())
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		body, _ = json.Marshal(p)
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	if tok := s.cred("webhook_token"); tok != "" {
		h.Set("Authorization", "Bearer "+tok)
	} else if u := s.cred("webhook_username"); u != "" {
		r := &http.Request{Header: http.Header{}}
		r.SetBasicAuth(u, s.cred("webhook_password"))
		h.Set("Authorization", r.Header.Get("Authorization"))
	}
	return &Request{Kind: "events", CallID: id, Status: typ, At: at, Method: http.MethodPost, URL: s.hook("events", nil), Header: h, Body: body}
}
