package zenvia

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// Webhook limits.
const (
	maxIDLen     = 40   // call ids
	maxNumberLen = 64   // numbers
	maxURLLen    = 2048 // recording URLs
)

// flexString reads a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return err
		}
		*f = flexString(n.String())
	}
	return nil
}

// flexInt reads a JSON number or numeric string; anything else is 0.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	if s.UnmarshalJSON(b) != nil {
		*f = 0
		return nil
	}
	n, err := strconv.ParseFloat(string(s), 64)
	if err != nil || n < 0 || n > 1e9 {
		n = 0
	}
	*f = flexInt(n)
	return nil
}

// callWebhook is a Zenvia call webhook ("Status Tempo Real", "Fim
// Chamada", and the older "Eventos em Tempo Real de Chamada").
type callWebhook struct {
	ID          flexString `json:"id"`
	DataCriacao string     `json:"data_criacao"`
	Ativa       *bool      `json:"ativa"`
	URLGravacao string     `json:"url_gravacao"`
	ClienteID   flexString `json:"cliente_id"`
	ContaID     flexString `json:"conta_id"`
	StatusGeral string     `json:"status_geral"`
	Origem      *leg       `json:"origem"`
	Destino     *leg       `json:"destino"`
}

// leg is the origem or destino object.
type leg struct {
	DataInicio            string  `json:"data_inicio"`
	Numero                string  `json:"numero"`
	Tipo                  string  `json:"tipo"`
	Status                string  `json:"status"`
	DuracaoSegundos       flexInt `json:"duracao_segundos"`
	DuracaoFaladaSegundos flexInt `json:"duracao_falada_segundos"`
	MotivoDesconexao      string  `json:"motivo_desconexao"`
}

// ParseWebhook maps a Zenvia call webhook to events.
//
// Authentication: Zenvia signs nothing, so the connection's unguessable
// webhook URL (checked by the HTTP layer) is what authenticates the request.
// When the connection has an account_id credential, a webhook whose conta_id
// (or cliente_id) differs is refused with EUNAUTHORIZED. A body that is not a
// JSON object is EINVALID; a JSON object without origem or destino (SMS,
// balance, extension and voicemail webhooks) is acknowledged with no events;
// a call webhook without id is EINVALID.
//
// A call webhook gives an event per leg that has a status. The call is
// outbound: origem (leg A, rung first) is the manager's leg, the parent
// (Agent its numero); destino (leg B) is the customer's leg, a child. Both
// carry CustomerNumber, destino's numero (known even when leg B never rang). While the call runs (status_geral criada or
// curso): preparando and chamando are ringing; atendida is answered on the
// customer's leg but only ringing on the manager's (the customer has not
// answered yet). Once status_geral is finalizada (or ativa is false): atendida
// is completed on the customer's leg (Duration its duracao_falada_segundos)
// and ended on the manager's; preparando and chamando are ended on the
// manager's leg and missed on the customer's. Anywhere: ocupado is busy; sem
// resposta and cancelada are missed; falha, congestionado, não existe and
// desconhecido are failed. Unknown statuses give no event.
//
// Key is "zenvia:" + id + ":" + origem|destino + ":" + the mapped status +
// ":" + Zenvia's status (lowercased, spaces as dashes), so the repeated
// "Status Tempo Real" of one state is stored once. OccurredAt is
// derived from the leg's data_inicio (else data_criacao) plus its durations;
// times without a zone are read in conn.TimeZone for leg times and as UTC
// for data_criacao (Zenvia documents it as UTC). A url_gravacao adds an
// EventRecording (Key "recording:" + id). Payload is the raw body.
func (c *Connector) ParseWebhook(_ context.Context, conn *callbridge.Connection, req *callbridge.WebhookRequest) ([]callbridge.CallEvent, *callbridge.WebhookReply, error) {
	if conn == nil || req == nil {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Missing webhook request.")
	}
	if req.Method != "" && req.Method != http.MethodPost {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Zenvia webhooks must be POST requests.")
	}
	if token(conn) == "" {
		return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Zenvia connection has no access token.")
	}
	var w callWebhook
	if err := json.Unmarshal(req.Body, &w); err != nil {
		return nil, nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "The webhook body is not a Zenvia JSON object.", Err: err}
	}
	if want := strings.TrimSpace(conn.Credentials[CredentialAccountID]); want != "" {
		got := string(w.ContaID)
		if got == "" {
			got = string(w.ClienteID)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return nil, nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The webhook is for another Zenvia account.")
		}
	}
	reply := &callbridge.WebhookReply{Status: http.StatusOK}
	if w.Origem == nil && w.Destino == nil {
		return nil, reply, nil
	}
	id := strings.TrimSpace(string(w.ID))
	if id == "" || len(id) > maxIDLen {
		return nil, nil, callbridge.Errorf(callbridge.EINVALID, "Missing or over-long call id.")
	}
	final := strings.EqualFold(strings.TrimSpace(w.StatusGeral), "finalizada") ||
		(w.StatusGeral == "" && w.Ativa != nil && !*w.Ativa)
	created := parseTime(w.DataCriacao, "")
	payload := bytes.Clone(req.Body)
	customer := ""
	if w.Destino != nil && len(strings.TrimSpace(w.Destino.Numero)) <= maxNumberLen {
		customer = callbridge.NormalizePhone(w.Destino.Numero, c.country)
	}
	var out []callbridge.CallEvent
	for _, side := range []struct {
		name  string
		l     *leg
		child bool
	}{{"origem", w.Origem, false}, {"destino", w.Destino, true}} {
		if side.l == nil {
			continue
		}
		st, ok := legStatus(side.l.Status, side.child, final)
		if !ok {
			continue
		}
		l := side.l
		ev := callbridge.CallEvent{Type: callbridge.EventStatus, ProviderCallID: id, LegID: id + ":" + side.name,
			Child: side.child, Status: st, Direction: callbridge.DirectionOutbound,
			Key: "zenvia:" + id + ":" + side.name + ":" + string(st) + ":" + keyPart(side.l.Status), ReceivedAt: req.ReceivedAt, Payload: payload}
		ev.CustomerNumber = customer
		if side.child {
			if st == callbridge.StatusCompleted {
				ev.Duration = int(l.DuracaoFaladaSegundos)
			}
		} else if n := strings.TrimSpace(l.Numero); len(n) <= maxNumberLen {
			ev.Agent = callbridge.NormalizePhone(n, c.country)
		}
		ev.OccurredAt = legTime(l, st, created, conn.TimeZone)
		out = append(out, ev)
	}
	if u := strings.TrimSpace(w.URLGravacao); u != "" && len(u) <= maxURLLen {
		out = append(out, callbridge.CallEvent{Type: callbridge.EventRecording, Key: "recording:" + id, ProviderCallID: id,
			LegID: id, RecordingID: id, RecordingURL: u, RecordingDuration: recordingDuration(w.Destino),
			OccurredAt: legTime(w.Destino, callbridge.StatusEnded, created, conn.TimeZone), ReceivedAt: req.ReceivedAt, Payload: payload})
	}
	return out, reply, nil
}

// keyPart is a leg's raw status for an event key: lowercased, spaces as
// dashes.
func keyPart(raw string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(raw)), " ", "-")
}

// recordingDuration is the customer's talk time, when known.
func recordingDuration(l *leg) int {
	if l == nil {
		return 0
	}
	return int(l.DuracaoFaladaSegundos)
}

// legStatus maps a leg status. ok is false for no status or an unknown one.
func legStatus(raw string, customer, final bool) (callbridge.Status, bool) {
	switch strings.ToLower(strings.TrimSpace(raw)) {
	case "preparando", "chamando":
		switch {
		case !final:
			return callbridge.StatusRinging, true
		case customer:
			return callbridge.StatusMissed, true
		}
		return callbridge.StatusEnded, true
	case "atendida":
		switch {
		case customer && final:
			return callbridge.StatusCompleted, true
		case customer:
			return callbridge.StatusAnswered, true
		case final:
			return callbridge.StatusEnded, true
		}
		return callbridge.StatusRinging, true
	case "ocupado":
		return callbridge.StatusBusy, true
	case "sem resposta", "cancelada":
		return callbridge.StatusMissed, true
	case "falha", "congestionado", "não existe", "nao existe", "desconhecido":
		return callbridge.StatusFailed, true
	}
	return callbridge.StatusUnknown, false
}

// legTime is when a leg reached st: its start (data_inicio, else the call's
// creation) for ringing, plus the ring time for answered, plus its whole
// duration for a final status. Zero when no time is known.
func legTime(l *leg, st callbridge.Status, created time.Time, tz string) time.Time {
	if l == nil {
		return created
	}
	base := parseTime(l.DataInicio, tz)
	if base.IsZero() {
		base = created
	}
	if base.IsZero() {
		return time.Time{}
	}
	total, talk := time.Duration(l.DuracaoSegundos)*time.Second, time.Duration(l.DuracaoFaladaSegundos)*time.Second
	switch {
	case st == callbridge.StatusAnswered && total >= talk:
		return base.Add(total - talk)
	case st.Terminal():
		return base.Add(total)
	}
	return base
}

// parseTime reads an ISO 8601 time; one without a zone is read in the IANA
// zone tz (UTC when empty or unknown). Zero for "" or an unreadable value.
func parseTime(s, tz string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC()
	}
	loc := time.UTC
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	for _, l := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
