package zenvia

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"callbridge"
)

// Simulator is a fake Zenvia voice API: it places calls (POST /chamada),
// answers the balance (GET /saldo), serves recordings like
// api.evoline.com.br (GET /rec/, with Range) — all from Server — and
// produces the call webhooks Zenvia sends for a call (Webhooks, Send). Its
// exported fields are read-only once it is in use; it is then safe for
// concurrent use. It must not be copied after first use.
type Simulator struct {
	// AccessToken is the token the API accepts.
	AccessToken string
	// AccountID is the conta_id and cliente_id of webhooks. Default 2150.
	AccountID int64
	// WebhookURL is where webhooks go (the URL configured in Zenvia's
	// panel); Target, when set, replaces its scheme and host (empty path)
	// or the whole URL.
	WebhookURL, Target string
	// RecordingBase is the scheme and host of url_gravacao. Default
	// "https://api.evoline.com.br".
	RecordingBase string
	// HTTPClient sends webhooks. Default: a client with a 10 s timeout.
	HTTPClient *http.Client

	mu     sync.Mutex
	nextID int64
	calls  []SimCall
}

// SimCall is a call placed through the simulator.
type SimCall struct {
	ID      int64
	Request map[string]any // the JSON body of POST /chamada
}

// Calls returns the calls placed through Server, oldest first.
func (s *Simulator) Calls() []SimCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *Simulator) accountID() int64 {
	if s.AccountID == 0 {
		return 2150
	}
	return s.AccountID
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// answer writes Zenvia's standard answer.
func answer(w http.ResponseWriter, status int, ok bool, motivo int, msg string, dados any) {
	writeJSON(w, status, map[string]any{"status": status, "sucesso": ok, "motivo": motivo, "mensagem": msg, "dados": dados})
}

// Server returns the simulated API. POST /chamada and GET /saldo need the
// Access-Token header (else 401 with sucesso false, motivo 30); POST
// /chamada needs numero_origem and numero_destino (else 400, motivo 8) and
// answers dados.id. GET /rec/?id=…&x=…&cid=… serves RecordingAudio(id) as
// audio/mpeg with Range support when x is the recording's signature (else
// 404); it needs no token.
func (s *Simulator) Server() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/rec/" && r.Method == http.MethodGet {
			q := r.URL.Query()
			id := q.Get("id")
			if id == "" || !hmac.Equal([]byte(q.Get("x")), []byte(s.recordingSig(id))) {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "audio/mpeg")
			w.Header().Set("Accept-Ranges", "bytes")
			http.ServeContent(w, r, id+".mp3", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), bytes.NewReader(RecordingAudio(id)))
			return
		}
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(AccessTokenHeader)), []byte(s.AccessToken)) != 1 || s.AccessToken == "" {
			answer(w, http.StatusUnauthorized, false, 30, "Token de acesso inválido", nil)
			return
		}
		switch {
		case r.URL.Path == "/saldo" && r.Method == http.MethodGet:
			answer(w, http.StatusOK, true, 0, "saldo atual", map[string]any{"saldo": 100.0})
		case r.URL.Path == "/chamada" && r.Method == http.MethodPost:
			var body map[string]any
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
				answer(w, http.StatusBadRequest, false, 8, "dados inválidos", nil)
				return
			}
			o, _ := body["numero_origem"].(string)
			d, _ := body["numero_destino"].(string)
			if o == "" || d == "" {
				answer(w, http.StatusBadRequest, false, 8, "numero_origem e numero_destino são obrigatórios", nil)
				return
			}
			s.mu.Lock()
			s.nextID++
			id := 37721000 + s.nextID
			s.calls = append(s.calls, SimCall{ID: id, Request: body})
			s.mu.Unlock()
			answer(w, http.StatusOK, true, 0, "chamada criada com sucesso", map[string]any{"id": id})
		default:
			answer(w, http.StatusNotFound, false, 404, "recurso não encontrado", nil)
		}
	})
}

// recordingSig signs a recording id for its URL.
func (s *Simulator) recordingSig(id string) string {
	mac := hmac.New(sha256.New, []byte("zenvia-sim:"+s.AccessToken))
	mac.Write([]byte(id))
	return hex.EncodeToString(mac.Sum(nil))[:10]
}

// RecordingURL returns the url_gravacao of call id.
func (s *Simulator) RecordingURL(id int64) string {
	base := s.RecordingBase
	if base == "" {
		base = "https://api.evoline.com.br"
	}
	q := url.Values{"id": {strconv.FormatInt(id, 10)}, "x": {s.recordingSig(strconv.FormatInt(id, 10))}, "cid": {strconv.FormatInt(s.accountID(), 10)}}
	return base + "/rec/?" + q.Encode()
}

// RecordingAudio returns the fake audio served for recording id: 16 KiB that
// depend only on id.
func RecordingAudio(id string) []byte {
	const size = 16 << 10
	out := make([]byte, 0, size)
	out = append(out, "ID3\x04\x00\x00\x00\x00\x00\x00"...)
	block := sha256.Sum256([]byte("callbridge-zenvia-simulator:" + id))
	for len(out) < size {
		out = append(out, block[:]...)
		block = sha256.Sum256(block[:])
	}
	return out[:size]
}

// CallSpec describes one simulated two-leg call.
type CallSpec struct {
	// ID is the call id. Default: the id of the last call placed through
	// Server, else 37721262.
	ID int64
	// Agent (leg A, numero_origem) and Customer (leg B, numero_destino).
	// Default: the numbers of the placed call ID.
	Agent, Customer string
	// AgentAnswered: the manager picks up leg A; else nobody answers it.
	AgentAnswered bool
	// Customer's outcome when the manager answered: Answered, else Busy,
	// else Failed, else nobody answers.
	Answered, Busy, Failed bool
	// Duration is the conversation length in seconds.
	Duration int
	// Recording: url_gravacao is set on the final webhook of an answered
	// call (as with gravar_audio true).
	Recording bool
	// Start is when the call is created. Default: now.
	Start time.Time
}

// Webhook is one call webhook Zenvia sends.
type Webhook struct {
	At     time.Time
	Final  bool // "Fim Chamada" rather than "Status Tempo Real"
	URL    string
	Header http.Header
	Body   []byte
}

// WebhookRequest returns w as callbridge's HTTP layer would hand it to the
// connector, received at receivedAt.
func (w *Webhook) WebhookRequest(receivedAt time.Time) *callbridge.WebhookRequest {
	return &callbridge.WebhookRequest{URL: w.URL, Method: http.MethodPost, Header: w.Header.Clone(), Body: bytes.Clone(w.Body), ReceivedAt: receivedAt}
}

// Send delivers w by HTTP POST and returns the response; the caller closes
// its body.
func (s *Simulator) Send(ctx context.Context, w *Webhook) (*http.Response, error) {
	dst := w.URL
	if s.Target != "" {
		t, err := url.Parse(s.Target)
		if err != nil {
			return nil, err
		}
		if t.Path != "" && t.Path != "/" {
			dst = s.Target
		} else if u, err := url.Parse(w.URL); err == nil {
			u.Scheme, u.Host = t.Scheme, t.Host
			dst = u.String()
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dst, bytes.NewReader(w.Body))
	if err != nil {
		return nil, err
	}
	req.Header = w.Header.Clone()
	client := s.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return client.Do(req)
}

// zone is Brasília time, in which Zenvia writes its times.
var zone = time.FixedZone("-03", -3*3600)

// legJSON renders a leg.
func legJSON(numero, tipo, status string, start time.Time, total, talk int, motivo string) map[string]any {
	m := map[string]any{"numero": numero, "tipo": tipo, "data_inicio": nil, "status": nil,
		"duracao_segundos": total, "duracao": clock(total), "duracao_cobrada_segundos": nil, "duracao_cobrada": nil,
		"duracao_falada_segundos": nil, "duracao_falada": nil, "preco": nil, "motivo_desconexao": motivo}
	if status != "" {
		m["status"] = status
	}
	if !start.IsZero() {
		m["data_inicio"] = start.In(zone).Format(time.RFC3339)
	}
	if talk > 0 || status == "atendida" {
		m["duracao_falada_segundos"] = talk
		m["duracao_falada"] = clock(talk)
	}
	return m
}

// clock formats seconds as HH:MM:SS.
func clock(n int) string {
	return time.Time{}.Add(time.Duration(n) * time.Second).Format("15:04:05")
}

// phoneType guesses tipo from a number.
func phoneType(n string) string {
	switch {
	case len(n) <= 6:
		return "ramal"
	case len(n) >= 14:
		return "movel"
	}
	return "fixo"
}

// Webhooks returns, in sending order, the call webhooks Zenvia sends for
// spec: "Status Tempo Real" (status_geral curso) when leg A rings, when the
// manager answers and leg B rings, and when the customer answers; then "Fim
// Chamada" (status_geral finalizada, ativa false) with each leg's final
// status, durations and motivo_desconexao, and url_gravacao when recorded.
func (s *Simulator) Webhooks(spec CallSpec) []*Webhook {
	s.mu.Lock()
	if spec.ID == 0 && len(s.calls) > 0 {
		c := s.calls[len(s.calls)-1]
		spec.ID = c.ID
	}
	for _, c := range s.calls {
		if c.ID == spec.ID {
			if spec.Agent == "" {
				spec.Agent, _ = c.Request["numero_origem"].(string)
			}
			if spec.Customer == "" {
				spec.Customer, _ = c.Request["numero_destino"].(string)
			}
		}
	}
	s.mu.Unlock()
	if spec.ID == 0 {
		spec.ID = 37721262
	}
	t0 := spec.Start
	if t0.IsZero() {
		t0 = time.Now()
	}
	t0 = t0.UTC().Truncate(time.Second)
	var out []*Webhook
	emit := func(at time.Time, final bool, origem, destino map[string]any, rec string) {
		body := map[string]any{"id": spec.ID, "data_criacao": t0.In(zone).Format(time.RFC3339), "ativa": !final,
			"url_gravacao": nil, "cliente_id": s.accountID(), "conta_id": s.accountID(), "ramal_id_origem": nil, "tags": "callbridge",
			"status_geral": "curso", "origem": origem, "destino": destino, "gravacoes_parciais": []any{}}
		if final {
			body["status_geral"] = "finalizada"
		}
		if rec != "" {
			body["url_gravacao"] = rec
		}
		data, _ := json.Marshal(body)
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("User-Agent", "Zenvia-Voice-Webhook")
		out = append(out, &Webhook{At: at, Final: final, URL: s.WebhookURL, Header: h, Body: data})
	}
	aT, bT := phoneType(spec.Agent), phoneType(spec.Customer)
	ringA := t0.Add(time.Second)
	emit(ringA, false, legJSON(spec.Agent, aT, "chamando", ringA, 1, 0, "indefinido"),
		legJSON(spec.Customer, bT, "preparando", time.Time{}, 0, 0, "indefinido"), "")
	if !spec.AgentAnswered {
		end := ringA.Add(30 * time.Second)
		emit(end, true, legJSON(spec.Agent, aT, "sem resposta", ringA, 30, 0, "18. sem resposta"),
			legJSON(spec.Customer, bT, "", time.Time{}, 0, 0, "indefinido"), "")
		return out
	}
	ansA := ringA.Add(4 * time.Second)
	ringB := ansA.Add(time.Second)
	emit(ringB, false, legJSON(spec.Agent, aT, "atendida", ringA, 5, 1, "indefinido"),
		legJSON(spec.Customer, bT, "chamando", ringB, 0, 0, "indefinido"), "")
	var bStatus, motivo string
	var bTotal, talk int
	switch {
	case spec.Answered:
		ansB := ringB.Add(6 * time.Second)
		emit(ansB, false, legJSON(spec.Agent, aT, "atendida", ringA, 11, 7, "indefinido"),
			legJSON(spec.Customer, bT, "atendida", ringB, 6, 0, "indefinido"), "")
		bStatus, motivo, bTotal, talk = "atendida", "16. normal", 6+spec.Duration, spec.Duration
	case spec.Busy:
		bStatus, motivo, bTotal = "ocupado", "17. ocupado", 3
	case spec.Failed:
		bStatus, motivo, bTotal = "falha", "1. telefone não existe", 1
	default:
		bStatus, motivo, bTotal = "sem resposta", "18. sem resposta", 30
	}
	end := ringB.Add(time.Duration(bTotal) * time.Second)
	rec := ""
	if spec.Recording && spec.Answered {
		rec = s.RecordingURL(spec.ID)
	}
	aTotal := int(end.Sub(ringA) / time.Second)
	emit(end.Add(2*time.Second), true, legJSON(spec.Agent, aT, "atendida", ringA, aTotal, aTotal-4, "16. normal"),
		legJSON(spec.Customer, bT, bStatus, ringB, bTotal, talk, motivo), rec)
	return out
}

// errUnknownCall is returned for a call the simulator did not place.
var errUnknownCall = errors.New("zenvia simulator: unknown call")

// PlayCall returns the webhooks of the call id placed through Server.
func (s *Simulator) PlayCall(id int64, spec CallSpec) ([]*Webhook, error) {
	s.mu.Lock()
	found := slices.ContainsFunc(s.calls, func(c SimCall) bool { return c.ID == id })
	s.mu.Unlock()
	if !found {
		return nil, errUnknownCall
	}
	spec.ID = id
	return s.Webhooks(spec), nil
}
