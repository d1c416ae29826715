package ringcentral

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"callbridge"
)

// CallSpec describes one simulated call.
type CallSpec struct {
	// SessionID is the telephonySessionId. Default: a random "s-…" id.
	SessionID string
	// Direction is DirectionInbound (a customer calls Line; the default) or
	// DirectionOutbound (the manager calls Customer from Line).
	Direction callbridge.Direction
	// RingOut (outbound only) places the call as a RingOut: RingCentral
	// first rings the manager's phone AgentPhone, then the customer.
	RingOut bool
	// Customer and Line are E.164 numbers; Agent is the manager's extension
	// id; AgentPhone the manager's own phone for RingOut.
	Customer, Line, Agent, AgentPhone string
	// ViaIVR (inbound) lets an IVR extension (IVR) answer first and pass
	// the caller on to the manager.
	ViaIVR bool
	IVR    string
	// Outcome: Answered, else Busy, else Failed, else Voicemail (inbound),
	// else nobody answered.
	Answered, Busy, Failed, Voicemail bool
	// Duration is the conversation (or voicemail) length in seconds.
	Duration int
	// Recording adds a recording to the answered manager's party.
	Recording bool
	// Start is when the call starts. Default: now.
	Start time.Time
}

// Notification is one webhook RingCentral sends.
type Notification struct {
	// At is when it is sent on the simulated clock; Sequence its sequence.
	At       time.Time
	Sequence int64
	// PartyID and Status say which party changed to which status code.
	PartyID, Status string
	// URL is where it goes; Header carries Content-Type, User-Agent and
	// Verification-Token; Body is the JSON notification.
	URL    string
	Header http.Header
	Body   []byte
}

// WebhookRequest returns n as callbridge's HTTP layer would hand it to the
// connector, received at receivedAt.
func (n *Notification) WebhookRequest(receivedAt time.Time) *callbridge.WebhookRequest {
	return &callbridge.WebhookRequest{URL: n.URL, Method: http.MethodPost, Header: n.Header.Clone(),
		Body: bytes.Clone(n.Body), ReceivedAt: receivedAt}
}

// Send delivers n by HTTP POST (through Target when set) and returns the
// response; the caller closes its body.
func (s *Simulator) Send(ctx context.Context, n *Notification) (*http.Response, error) {
	dst, err := s.destination(n.URL)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dst, bytes.NewReader(n.Body))
	if err != nil {
		return nil, err
	}
	req.Header = n.Header.Clone()
	return s.client().Do(req)
}

// delivery returns the address and verification token notifications use:
// the newest active subscription's, else WebhookURL and VerificationToken.
func (s *Simulator) delivery() (string, string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.subs) - 1; i >= 0; i-- {
		if sub := s.subs[i]; sub.Status == "Active" {
			return sub.Address, sub.VerificationToken, sub.ID
		}
	}
	return s.WebhookURL, s.VerificationToken, "00000000-0000-0000-0000-000000000000"
}

// simParty is one party of a simulated session.
type simParty struct {
	id, direction, ext string
	from, to           map[string]any
}

// session builds the notifications of one simulated session.
type session struct {
	s         *Simulator
	spec      CallSpec
	id, legID string // telephonySessionId and legacy sessionId
	origin    string
	seq       int64
	url, tok  string
	subID     string
	out       []*Notification
}

// emit adds the notification of party p reaching code.
func (ss *session) emit(p *simParty, code, reason string, missed bool, recs []map[string]any, at time.Time) {
	ss.seq++
	status := map[string]any{"code": code, "rcc": false}
	if reason != "" {
		status["reason"] = reason
	}
	pm := map[string]any{"accountId": ss.s.accountID(), "id": p.id, "direction": p.direction, "to": p.to, "from": p.from,
		"status": status, "park": map[string]any{}, "missedCall": missed, "standAlone": false, "muted": false}
	if p.ext != "" {
		pm["extensionId"] = p.ext
	}
	if len(recs) > 0 {
		pm["recordings"] = recs
	}
	event := "/restapi/v1.0/account/" + ss.s.accountID() + "/telephony/sessions"
	if p.ext != "" {
		event = "/restapi/v1.0/account/" + ss.s.accountID() + "/extension/" + p.ext + "/telephony/sessions"
	}
	body := map[string]any{
		"uuid": strconv.FormatUint(hashUint(ss.id, strconv.FormatInt(ss.seq, 10)), 10), "event": event,
		"timestamp": at.Add(70 * time.Millisecond).Format("2006-01-02T15:04:05.000Z"), "subscriptionId": ss.subID,
		"ownerId": ss.s.accountID(),
		"body": map[string]any{"sequence": ss.seq, "sessionId": ss.legID, "telephonySessionId": ss.id, "serverId": "10.13.22.28.TAM",
			"eventTime": at.Format("2006-01-02T15:04:05.000Z"), "origin": map[string]any{"type": ss.origin},
			"parties": []any{pm}},
	}
	data, _ := json.Marshal(body)
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	h.Set("Accept", "application/json")
	h.Set("User-Agent", "RingCentral-Webhook/8.3")
	if ss.tok != "" {
		h.Set(VerificationTokenHeader, ss.tok)
	}
	ss.out = append(ss.out, &Notification{At: at, Sequence: ss.seq, PartyID: p.id, Status: code, URL: ss.url, Header: h, Body: data})
}

// hashUint derives a number from its inputs.
func hashUint(parts ...string) uint64 {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return binary.BigEndian.Uint64(h.Sum(nil)) >> 12
}

// specDefaults fills a spec's defaults.
func (s *Simulator) specDefaults(spec CallSpec) CallSpec {
	if spec.SessionID == "" {
		spec.SessionID = randomHex("s-", 16)
	}
	if spec.Start.IsZero() {
		spec.Start = time.Now()
	}
	spec.Start = spec.Start.UTC().Truncate(time.Millisecond)
	if spec.IVR == "" {
		spec.IVR = "62242421016"
	}
	if spec.Agent == "" {
		spec.Agent = "1"
	}
	return spec
}

// recordingID derives a recording id from the session.
func recordingID(sess string) string { return strconv.FormatUint(hashUint(sess, "recording"), 10) }

// Notifications returns, in sending order, the telephony-session
// notifications RingCentral sends for spec to the subscription's address
// (see delivery), with sequence numbers 1, 2, … and a Verification-Token
// header. The sequences follow captured sessions:
//
//   - inbound: the caller's party (Outbound, no extension) Setup; with
//     ViaIVR an IVR party Setup, the caller Answered (the IVR picked up)
//     and the IVR Disconnected; the manager's party (Inbound, extension
//     Agent) Setup, Proceeding, then Answered (and the caller Answered) and
//     Disconnected; or Disconnected TargetBusy / InternalError; or VoiceMail
//     (missedCall) with the caller Answered by voicemail; or Disconnected
//     with missedCall; the caller Disconnected last.
//   - outbound: the manager's party (Outbound, extension Agent) Setup, the
//     customer's party (Inbound) Proceeding, the manager Proceeding, then
//     both Answered and Disconnected, or the customer Disconnected
//     TargetBusy / InvalidNumber / NoAnswer and the manager Disconnected.
//   - RingOut: origin RingOut; the manager's leg (to AgentPhone, extension
//     Agent) Proceeding and Answered, the customer's leg Proceeding, then as
//     outbound.
//
// A recording appears on the manager's party (the customer's for RingOut)
// while answered (active) and on its Disconnected (inactive).
func (s *Simulator) Notifications(spec CallSpec) []*Notification {
	spec = s.specDefaults(spec)
	address, tok, subID := s.delivery()
	ss := &session{s: s, spec: spec, id: spec.SessionID, legID: strconv.FormatUint(hashUint(spec.SessionID, "legacy"), 10),
		origin: "Call", url: address, tok: tok, subID: subID}
	pid := func(n int) string {
		return "p-" + hex.EncodeToString([]byte(spec.SessionID))[:min(32, 2*len(spec.SessionID))] + "-" + strconv.Itoa(n)
	}
	t0 := spec.Start
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	sec := func(base time.Time, n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	recOn := func(active bool) []map[string]any {
		if !spec.Recording {
			return nil
		}
		return []map[string]any{{"id": recordingID(spec.SessionID), "active": active}}
	}

	switch {
	case spec.Direction == callbridge.DirectionOutbound && spec.RingOut:
		ss.origin = "RingOut"
		agent := &simParty{id: pid(1), direction: "Inbound", ext: spec.Agent,
			to:   map[string]any{"phoneNumber": spec.AgentPhone, "extensionId": spec.Agent},
			from: map[string]any{"phoneNumber": spec.Line}}
		cust := &simParty{id: pid(2), direction: "Inbound",
			to: map[string]any{"phoneNumber": spec.Customer}, from: map[string]any{"phoneNumber": spec.Line}}
		ss.emit(agent, "Proceeding", "", false, nil, t0)
		picked := sec(t0, 4)
		ss.emit(agent, "Answered", "", false, nil, picked)
		ss.emit(cust, "Proceeding", "", false, nil, picked.Add(300*time.Millisecond))
		end := s.outboundOutcome(ss, agent, cust, picked, recOn, true)
		ss.emit(agent, "Disconnected", "", false, nil, end.Add(20*time.Millisecond))
	case spec.Direction == callbridge.DirectionOutbound:
		agent := &simParty{id: pid(1), direction: "Outbound", ext: spec.Agent,
			to:   map[string]any{"phoneNumber": spec.Customer},
			from: map[string]any{"phoneNumber": spec.Line, "extensionId": spec.Agent, "deviceId": "210074565016"}}
		cust := &simParty{id: pid(2), direction: "Inbound",
			to:   map[string]any{"phoneNumber": spec.Customer},
			from: map[string]any{"phoneNumber": spec.Line, "name": "Manager", "extensionId": spec.Agent}}
		ss.emit(agent, "Setup", "", false, nil, t0)
		ss.emit(cust, "Proceeding", "", false, nil, ms(40))
		ss.emit(agent, "Proceeding", "", false, nil, sec(t0, 3))
		end := s.outboundOutcome(ss, agent, cust, t0, recOn, false)
		ss.emit(agent, "Disconnected", "", false, recOn(false), end.Add(20*time.Millisecond))
	default:
		caller := &simParty{id: pid(1), direction: "Outbound",
			to: map[string]any{"phoneNumber": spec.Line}, from: map[string]any{"phoneNumber": spec.Customer}}
		mgr := &simParty{id: pid(3), direction: "Inbound", ext: spec.Agent,
			to:   map[string]any{"phoneNumber": spec.Line, "name": "Manager", "extensionId": spec.Agent},
			from: map[string]any{"phoneNumber": spec.Customer}}
		ss.emit(caller, "Setup", "", false, nil, t0)
		base := t0
		callerAnswered := false
		if spec.ViaIVR {
			ivr := &simParty{id: pid(2), direction: "Inbound", ext: spec.IVR,
				to:   map[string]any{"phoneNumber": spec.Line, "name": "IVR Menu 1001", "extensionId": spec.IVR},
				from: map[string]any{"phoneNumber": spec.Customer}}
			ss.emit(ivr, "Setup", "", false, nil, ms(25))
			ss.emit(caller, "Answered", "", false, nil, ms(120))
			callerAnswered = true
			base = sec(t0, 8)
			ss.emit(ivr, "Disconnected", "", false, nil, base)
		}
		ss.emit(mgr, "Setup", "", false, nil, base.Add(30*time.Millisecond))
		ss.emit(mgr, "Proceeding", "", false, nil, base.Add(60*time.Millisecond))
		var end time.Time
		switch {
		case spec.Answered:
			ans := sec(base, 6)
			ss.emit(mgr, "Answered", "", false, recOn(true), ans)
			if !callerAnswered {
				ss.emit(caller, "Answered", "", false, nil, ans.Add(15*time.Millisecond))
			}
			end = sec(ans, spec.Duration)
			ss.emit(mgr, "Disconnected", "", false, recOn(false), end)
		case spec.Busy:
			end = sec(base, 1)
			ss.emit(mgr, "Disconnected", "TargetBusy", false, nil, end)
		case spec.Failed:
			end = sec(base, 1)
			ss.emit(mgr, "Disconnected", "InternalError", false, nil, end)
		case spec.Voicemail:
			vm := sec(base, 20)
			ss.emit(mgr, "VoiceMail", "", true, nil, vm)
			if !callerAnswered {
				ss.emit(caller, "Answered", "", false, nil, vm.Add(10*time.Millisecond))
			}
			end = sec(vm, spec.Duration)
			ss.emit(mgr, "Disconnected", "", true, nil, end)
		default:
			end = sec(base, 20)
			ss.emit(mgr, "Disconnected", "", true, nil, end)
		}
		ss.emit(caller, "Disconnected", "", !spec.Answered, nil, end.Add(10*time.Millisecond))
	}
	return ss.out
}

// outboundOutcome emits the customer's leg of an outbound call from its
// ringing to its end and returns when it ended.
func (s *Simulator) outboundOutcome(ss *session, agent, cust *simParty, t0 time.Time, recOn func(bool) []map[string]any, ringOut bool) time.Time {
	spec := ss.spec
	custRec := func(active bool) []map[string]any {
		if ringOut {
			return recOn(active)
		}
		return nil
	}
	switch {
	case spec.Answered:
		ans := t0.Add(7 * time.Second)
		ss.emit(cust, "Answered", "", false, custRec(true), ans)
		if !ringOut {
			ss.emit(agent, "Answered", "", false, recOn(true), ans.Add(28*time.Millisecond))
		}
		end := ans.Add(time.Duration(spec.Duration) * time.Second)
		ss.emit(cust, "Disconnected", "", false, custRec(false), end)
		return end
	case spec.Busy:
		end := t0.Add(4 * time.Second)
		ss.emit(cust, "Disconnected", "TargetBusy", false, nil, end)
		return end
	case spec.Failed:
		end := t0.Add(3500 * time.Millisecond)
		ss.emit(cust, "Disconnected", "InvalidNumber", false, nil, end)
		return end
	default:
		end := t0.Add(30 * time.Second)
		ss.emit(cust, "Disconnected", "NoAnswer", false, nil, end)
		return end
	}
}

// LogCall adds to the call log the record RingCentral keeps for spec once it
// is over: telephonySessionId, start time, duration, direction, result
// (Accepted, Busy, Call Failed, Voicemail or Missed), from and to with the
// manager's extension id, and the recording when answered and recorded.
func (s *Simulator) LogCall(spec CallSpec) {
	spec = s.specDefaults(spec)
	result, dur := "Missed", 20
	switch {
	case spec.Answered:
		result, dur = "Accepted", spec.Duration
	case spec.Busy:
		result, dur = "Busy", 1
	case spec.Failed:
		result, dur = "Call Failed", 1
	case spec.Voicemail && spec.Direction != callbridge.DirectionOutbound:
		result, dur = "Voicemail", spec.Duration+20
	}
	rec := map[string]any{
		"uri": "https://platform.ringcentral.com/restapi/v1.0/account/" + s.accountID() + "/call-log/L" + strconv.FormatUint(hashUint(spec.SessionID), 36),
		"id":  "L" + strconv.FormatUint(hashUint(spec.SessionID), 36), "sessionId": strconv.FormatUint(hashUint(spec.SessionID, "legacy"), 10),
		"telephonySessionId": spec.SessionID, "startTime": spec.Start.Format("2006-01-02T15:04:05.000Z"), "duration": dur,
		"type": "Voice", "action": "Phone Call", "result": result, "extension": map[string]any{"id": json.Number(numericOr(spec.Agent))},
	}
	if spec.Direction == callbridge.DirectionOutbound {
		rec["direction"] = "Outbound"
		rec["from"] = map[string]any{"phoneNumber": spec.Line, "extensionId": spec.Agent, "name": "Manager"}
		rec["to"] = map[string]any{"phoneNumber": spec.Customer}
		if spec.RingOut {
			rec["action"] = "RingOut Web"
		}
	} else {
		rec["direction"] = "Inbound"
		rec["from"] = map[string]any{"phoneNumber": spec.Customer, "name": "CALLER"}
		rec["to"] = map[string]any{"phoneNumber": spec.Line, "extensionId": spec.Agent, "name": "Manager"}
	}
	if spec.Answered && spec.Recording {
		id := recordingID(spec.SessionID)
		rec["recording"] = map[string]any{"id": id, "type": "Automatic",
			"uri":        "https://platform.ringcentral.com/restapi/v1.0/account/" + s.accountID() + "/recording/" + id,
			"contentUri": s.mediaBase() + "/restapi/v1.0/account/" + s.accountID() + "/recording/" + id + "/content"}
	}
	s.mu.Lock()
	s.callLog = append(s.callLog, rec)
	s.mu.Unlock()
}
