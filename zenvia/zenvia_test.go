package zenvia_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"callbridge"
	"callbridge/zenvia"
)

const (
	accessToken = "zenvia-token-0123456789"
	hookURL     = "https://cb.example.com/webhooks/conn-token"
	agent       = "+5548999990000"
	customer    = "+5510999999999"
)

var (
	received = time.Date(2019, 9, 6, 14, 30, 0, 0, time.UTC)
	t0       = time.Date(2019, 9, 6, 14, 19, 11, 0, time.UTC)
)

func testConn() *callbridge.Connection {
	return &callbridge.Connection{ID: 7, AccountID: 3, Provider: "zenvia", Token: "conn-token",
		Credentials: map[string]string{zenvia.CredentialAccessToken: accessToken}}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := errors.AsType[*callbridge.Error](err)
	if !ok || e.Code != code {
		t.Fatalf("err = %v, want code %s", err, code)
	}
}

func request(body string) *callbridge.WebhookRequest {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return &callbridge.WebhookRequest{URL: hookURL, Method: http.MethodPost, Header: h, Body: []byte(body), ReceivedAt: received}
}

func parse(t *testing.T, conn *callbridge.Connection, body string) []callbridge.CallEvent {
	t.Helper()
	evs, reply, err := zenvia.New(zenvia.Options{}).ParseWebhook(t.Context(), conn, request(body))
	if err != nil {
		t.Fatal(err)
	}
	if reply == nil || reply.Status != http.StatusOK {
		t.Fatalf("reply %+v", reply)
	}
	return evs
}

// The "Fim Chamada" example of Zenvia's documentation: an extension called a
// mobile number that answered.
const fimChamada = `{
  "id": 37721262,
  "data_criacao": "2019-09-06T11:19:11-03:00",
  "ativa": false,
  "url_gravacao": "https://api.evoline.com.br/rec/?id=37721262&x=7a8718b28b&cid=2150",
  "cliente_id": 2150,
  "conta_id": 2150,
  "ramal_id_origem": 62291,
  "tags": null,
  "status_geral": "finalizada",
  "origem": {"data_inicio": null, "numero": "9998", "tipo": "ramal", "status": null, "duracao_segundos": 0,
    "duracao": "00:00:00", "duracao_cobrada_segundos": 0, "duracao_cobrada": "00:00:00", "duracao_falada_segundos": 0,
    "duracao_falada": "00:00:00", "preco": 0, "motivo_desconexao": "indefinido"},
  "destino": {"data_inicio": "2019-09-06T11:19:11-03:00", "numero": "+5510999999999", "tipo": "movel", "status": "atendida",
    "duracao_segundos": 24, "duracao": "00:00:24", "duracao_cobrada_segundos": 60, "duracao_cobrada": "00:01:00",
    "duracao_falada_segundos": 14, "duracao_falada": "00:00:14", "preco": 0.35, "motivo_desconexao": "16. normal"},
  "gravacoes_parciais": []
}`

func TestParseFimChamada(t *testing.T) {
	evs := parse(t, testConn(), fimChamada)
	if len(evs) != 2 {
		t.Fatalf("%d events: %+v", len(evs), evs)
	}
	b, rec := evs[0], evs[1]
	start := time.Date(2019, 9, 6, 14, 19, 11, 0, time.UTC)
	if b.Type != callbridge.EventStatus || b.ProviderCallID != "37721262" || b.LegID != "37721262:destino" || !b.Child ||
		b.Status != callbridge.StatusCompleted || b.Duration != 14 || b.CustomerNumber != customer || b.Direction != callbridge.DirectionOutbound ||
		b.Key != "zenvia:37721262:destino:completed:atendida" || !b.OccurredAt.Equal(start.Add(24*time.Second)) || string(b.Payload) != fimChamada {
		t.Fatalf("customer leg %+v", b)
	}
	if rec.Type != callbridge.EventRecording || rec.Key != "recording:37721262" || rec.RecordingID != "37721262" ||
		rec.RecordingURL != "https://api.evoline.com.br/rec/?id=37721262&x=7a8718b28b&cid=2150" || rec.RecordingDuration != 14 {
		t.Fatalf("recording %+v", rec)
	}
	var call callbridge.Call
	call.Fold(evs)
	if call.Status != callbridge.StatusCompleted || !call.Ended || call.Duration != 14 || call.RecordingURL == "" || call.CustomerNumber != customer {
		t.Fatalf("call %+v", call)
	}
	// The documented recording URL is one RecordingRequest accepts, with no
	// credential attached.
	req, err := zenvia.New(zenvia.Options{}).RecordingRequest(t.Context(), testConn(), rec.RecordingURL)
	if err != nil {
		t.Fatal(err)
	}
	if req.Header.Get(zenvia.AccessTokenHeader) != "" || req.URL.Host != "api.evoline.com.br" {
		t.Fatalf("request %v %v", req.URL, req.Header)
	}
}

func TestParseStatusMapping(t *testing.T) {
	type leg struct{ status, final string }
	statuses := map[string][4]callbridge.Status{ // origem live, origem final, destino live, destino final
		"preparando":    {callbridge.StatusRinging, callbridge.StatusEnded, callbridge.StatusRinging, callbridge.StatusMissed},
		"chamando":      {callbridge.StatusRinging, callbridge.StatusEnded, callbridge.StatusRinging, callbridge.StatusMissed},
		"atendida":      {callbridge.StatusRinging, callbridge.StatusEnded, callbridge.StatusAnswered, callbridge.StatusCompleted},
		"ocupado":       {callbridge.StatusBusy, callbridge.StatusBusy, callbridge.StatusBusy, callbridge.StatusBusy},
		"sem resposta":  {callbridge.StatusMissed, callbridge.StatusMissed, callbridge.StatusMissed, callbridge.StatusMissed},
		"cancelada":     {callbridge.StatusMissed, callbridge.StatusMissed, callbridge.StatusMissed, callbridge.StatusMissed},
		"falha":         {callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed},
		"congestionado": {callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed},
		"não existe":    {callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed},
		"desconhecido":  {callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed, callbridge.StatusFailed},
	}
	for status, want := range statuses {
		for i, geral := range []string{"curso", "finalizada", "curso", "finalizada"} {
			side := "origem"
			if i >= 2 {
				side = "destino"
			}
			t.Run(status+"/"+side+"/"+geral, func(t *testing.T) {
				legs := map[string]string{"origem": `{"numero":"4000","tipo":"ramal","status":null}`,
					"destino": `{"numero":"+5510999999999","tipo":"movel","status":null}`}
				legs[side] = fmt.Sprintf(`{"numero":%q,"tipo":"movel","status":%q,"data_inicio":"2019-09-06T13:48:19-03:00","duracao_segundos":10,"duracao_falada_segundos":4}`,
					map[string]string{"origem": "4000", "destino": "+5510999999999"}[side], status)
				body := fmt.Sprintf(`{"id":37785949,"data_criacao":"2019-09-06T13:48:19-03:00","ativa":%v,"status_geral":%q,"cliente_id":91227,"conta_id":91227,"origem":%s,"destino":%s}`,
					geral != "finalizada", geral, legs["origem"], legs["destino"])
				evs := parse(t, testConn(), body)
				if len(evs) != 1 {
					t.Fatalf("%d events", len(evs))
				}
				e := evs[0]
				if e.Status != want[i] || e.Child != (side == "destino") || e.CustomerNumber != customer ||
					e.Key != "zenvia:37785949:"+side+":"+string(want[i])+":"+strings.ReplaceAll(status, " ", "-") {
					t.Fatalf("event %+v, want %s", e, want[i])
				}
				if side == "origem" && e.Agent != "4000" {
					t.Fatalf("agent %q", e.Agent)
				}
				wantDur := 0
				if e.Status == callbridge.StatusCompleted {
					wantDur = 4
				}
				if e.Duration != wantDur {
					t.Fatalf("duration %d", e.Duration)
				}
				at := time.Date(2019, 9, 6, 16, 48, 19, 0, time.UTC)
				switch {
				case e.Status == callbridge.StatusAnswered:
					at = at.Add(6 * time.Second)
				case e.Status.Terminal():
					at = at.Add(10 * time.Second)
				}
				if !e.OccurredAt.Equal(at) {
					t.Fatalf("OccurredAt %v, want %v", e.OccurredAt, at)
				}
			})
		}
	}
	// Unknown statuses give no event.
	if evs := parse(t, testConn(), `{"id":1,"status_geral":"curso","origem":{"status":"algo novo"},"destino":{"status":null}}`); len(evs) != 0 {
		t.Fatalf("%+v", evs)
	}
}

func TestParseTimes(t *testing.T) {
	sp, err := time.LoadLocation("America/Sao_Paulo")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	// The older webhook: data_criacao in UTC without zone, leg times in the
	// account's local time without zone.
	body := `{"data_criacao":"2019-09-06T17:21:33","origem":{"data_inicio":"2019-09-06T14:21:33","tipo":"movel","ativo":false,
		"data_criacao":"2019-09-06T14:21:34","numero":"+5510999999999","status":"chamando"},"gravar_audio":false,"id":37794869,
		"destino":{"tipo":"movel","numero":"+5510999999999"},"cliente_id":2150,"tags":""}`
	conn := testConn()
	conn.TimeZone = "America/Sao_Paulo"
	evs := parse(t, conn, body)
	if len(evs) != 1 || evs[0].Status != callbridge.StatusRinging || !evs[0].OccurredAt.Equal(time.Date(2019, 9, 6, 14, 21, 33, 0, sp)) {
		t.Fatalf("%+v", evs)
	}
	// Without data_inicio the call's creation (UTC) is used.
	body = strings.Replace(body, `"data_inicio":"2019-09-06T14:21:33",`, "", 1)
	if evs := parse(t, conn, body); !evs[0].OccurredAt.Equal(time.Date(2019, 9, 6, 17, 21, 33, 0, time.UTC)) {
		t.Fatalf("%v", evs[0].OccurredAt)
	}
}

func TestParseAuthenticationAndShapes(t *testing.T) {
	c := zenvia.New(zenvia.Options{})
	scoped := testConn()
	scoped.Credentials[zenvia.CredentialAccountID] = "2150"
	if _, _, err := c.ParseWebhook(t.Context(), scoped, request(fimChamada)); err != nil {
		t.Fatal(err)
	}
	other := testConn()
	other.Credentials[zenvia.CredentialAccountID] = "9999"
	_, _, err := c.ParseWebhook(t.Context(), other, request(fimChamada))
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	_, _, err = c.ParseWebhook(t.Context(), &callbridge.Connection{}, request(fimChamada))
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	for _, bad := range []string{``, `[]`, `{"id":`, `"x"`} {
		_, _, err := c.ParseWebhook(t.Context(), testConn(), request(bad))
		wantCode(t, err, callbridge.EINVALID)
	}
	_, _, err = c.ParseWebhook(t.Context(), testConn(), request(`{"origem":{"status":"chamando"}}`))
	wantCode(t, err, callbridge.EINVALID)
	get := request(fimChamada)
	get.Method = http.MethodGet
	_, _, err = c.ParseWebhook(t.Context(), testConn(), get)
	wantCode(t, err, callbridge.EINVALID)
	// SMS, balance, extension and voicemail webhooks are acknowledged.
	for _, body := range []string{
		`{"id":"37787430","numero_destino":"+5510999999999","status_envio":"entregue"}`,
		`{"saldo":"56.8616"}`,
		`{"data_atendimento":"2019-09-06T14:37:03","id":"37806158","ramal":9000,"status":"atendida","tipo":"ramal"}`,
		`{"id":1411,"ramal_id":87787,"url_gravacao":"https://api.evoline.com.br/recvm/?id=1411&x=094bba9d3a&cid=2150"}`,
	} {
		if evs := parse(t, testConn(), body); len(evs) != 0 {
			t.Fatalf("%s: %+v", body, evs)
		}
	}
}

// api starts a simulator server and a connector using it.
func api(t *testing.T) (*zenvia.Simulator, *zenvia.Connector, *httptest.Server) {
	t.Helper()
	sim := &zenvia.Simulator{AccessToken: accessToken, WebhookURL: hookURL}
	srv := httptest.NewServer(sim.Server())
	t.Cleanup(srv.Close)
	sim.RecordingBase = srv.URL
	return sim, zenvia.New(zenvia.Options{APIBase: srv.URL, HTTPClient: srv.Client(), RecordingHosts: []string{srv.URL}}), srv
}

func TestPlaceCall(t *testing.T) {
	sim, c, _ := api(t)
	conn := testConn()
	conn.Credentials[zenvia.CredentialCallerID] = "+554832830151"
	placed, err := c.PlaceCall(t.Context(), conn, callbridge.PlaceCallRequest{Agent: "48 99999-0000", Customer: customer, StatusURL: hookURL})
	if err != nil {
		t.Fatal(err)
	}
	calls := sim.Calls()
	if len(calls) != 1 || strconv.FormatInt(calls[0].ID, 10) != placed.ProviderCallID {
		t.Fatalf("placed %+v calls %+v", placed, calls)
	}
	r := calls[0].Request
	if r["numero_origem"] != agent || r["numero_destino"] != customer || r["gravar_audio"] != true ||
		r["bina_destino"] != "+554832830151" || r["tags"] != "callbridge" {
		t.Fatalf("request %v", r)
	}
	// An extension as the manager.
	if _, err := c.PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: "4000", Customer: customer}); err != nil {
		t.Fatal(err)
	}
	for _, req := range []callbridge.PlaceCallRequest{{Agent: "", Customer: customer}, {Agent: "ana", Customer: customer},
		{Agent: agent, Customer: "10999999999"}} {
		_, err := c.PlaceCall(t.Context(), testConn(), req)
		wantCode(t, err, callbridge.EINVALID)
	}
	wrong := testConn()
	wrong.Credentials[zenvia.CredentialAccessToken] = "wrong"
	_, err = c.PlaceCall(t.Context(), wrong, callbridge.PlaceCallRequest{Agent: agent, Customer: customer})
	wantCode(t, err, callbridge.EUNAUTHORIZED)
	if len(sim.Calls()) != 2 {
		t.Fatalf("%d calls", len(sim.Calls()))
	}
	// A refusal inside a 200 keeps Zenvia's message; a 5xx is uncertain.
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":400,"sucesso":false,"motivo":8,"mensagem":"numero_destino invalido","dados":null}`))
	}))
	defer refuse.Close()
	_, err = zenvia.New(zenvia.Options{APIBase: refuse.URL}).PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: agent, Customer: customer})
	wantCode(t, err, callbridge.EINVALID)
	if !strings.Contains(callbridge.ErrorMessage(err), "numero_destino invalido") {
		t.Fatalf("message %q", callbridge.ErrorMessage(err))
	}
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer down.Close()
	_, err = zenvia.New(zenvia.Options{APIBase: down.URL}).PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: agent, Customer: customer})
	if callbridge.ErrorKind(err) != callbridge.KindUncertain {
		t.Fatalf("err %v", err)
	}
}

func TestCheckCredentials(t *testing.T) {
	_, c, _ := api(t)
	if err := c.CheckCredentials(t.Context(), testConn()); err != nil {
		t.Fatal(err)
	}
	wrong := testConn()
	wrong.Credentials[zenvia.CredentialAccessToken] = "wrong"
	wantCode(t, c.CheckCredentials(t.Context(), wrong), callbridge.EUNAUTHORIZED)
	wantCode(t, c.CheckCredentials(t.Context(), &callbridge.Connection{}), callbridge.EUNAUTHORIZED)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	defer down.Close()
	err := zenvia.New(zenvia.Options{APIBase: down.URL}).CheckCredentials(t.Context(), testConn())
	if callbridge.ErrorCode(err) != callbridge.EUNAVAILABLE || callbridge.ErrorKind(err) != callbridge.KindTransient {
		t.Fatalf("err %v", err)
	}
}

// store keeps the first event of each key, as callbridge's store does.
func store(evs []callbridge.CallEvent) []callbridge.CallEvent {
	seen := map[string]bool{}
	var out []callbridge.CallEvent
	for _, e := range evs {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e)
		}
	}
	return out
}

func foldOrders(t *testing.T, evs []callbridge.CallEvent) *callbridge.Call {
	t.Helper()
	var first *callbridge.Call
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 12 {
		order := slices.Clone(evs)
		switch i {
		case 0:
		case 1:
			slices.Reverse(order)
		default:
			rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
			order = append(order, order[:rng.IntN(len(order)+1)]...)
		}
		c := &callbridge.Call{}
		c.Fold(store(order))
		if first == nil {
			first = c
			continue
		}
		if fmt.Sprintf("%+v", *c) != fmt.Sprintf("%+v", *first) {
			t.Fatalf("order %d folds to\n%+v\nwant\n%+v", i, *c, *first)
		}
	}
	return first
}

// Click-to-call end to end: placed through the API, played by the
// simulator, delivered over HTTP (with Zenvia's repeated realtime
// webhooks), folded in any order.
func TestSimulatorFold(t *testing.T) {
	tests := []struct {
		name     string
		spec     zenvia.CallSpec
		status   callbridge.Status
		duration int
		rec      bool
	}{
		{"answered", zenvia.CallSpec{AgentAnswered: true, Answered: true, Duration: 61, Recording: true}, callbridge.StatusCompleted, 61, true},
		{"customer no answer", zenvia.CallSpec{AgentAnswered: true}, callbridge.StatusMissed, 0, false},
		{"customer busy", zenvia.CallSpec{AgentAnswered: true, Busy: true}, callbridge.StatusBusy, 0, false},
		{"customer failed", zenvia.CallSpec{AgentAnswered: true, Failed: true}, callbridge.StatusFailed, 0, false},
		{"manager no answer", zenvia.CallSpec{}, callbridge.StatusMissed, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, c, srv := api(t)
			placed, err := c.PlaceCall(t.Context(), testConn(), callbridge.PlaceCallRequest{Agent: agent, Customer: customer})
			if err != nil {
				t.Fatal(err)
			}
			id, _ := strconv.ParseInt(placed.ProviderCallID, 10, 64)
			spec := tt.spec
			spec.Start = t0
			hooks, err := sim.PlayCall(id, spec)
			if err != nil {
				t.Fatal(err)
			}
			// Deliver through HTTP to a receiver running the connector.
			var evs []callbridge.CallEvent
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				got, reply, err := c.ParseWebhook(r.Context(), testConn(), &callbridge.WebhookRequest{URL: hookURL, Method: r.Method, Header: r.Header, Body: body, ReceivedAt: time.Now()})
				if err != nil {
					http.Error(w, err.Error(), http.StatusBadRequest)
					return
				}
				evs = append(evs, got...)
				w.WriteHeader(reply.Status)
			}))
			defer recv.Close()
			sim.Target = recv.URL
			for _, h := range append(hooks, hooks[0]) { // a realtime webhook repeated
				resp, err := sim.Send(t.Context(), h)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("webhook refused: %d", resp.StatusCode)
				}
			}
			for _, e := range evs {
				if e.ProviderCallID != placed.ProviderCallID {
					t.Fatalf("event %s names %s", e.Key, e.ProviderCallID)
				}
			}
			call := foldOrders(t, evs)
			if call.Status != tt.status || !call.Ended || call.Duration != tt.duration || call.CustomerNumber != customer ||
				call.Agent != agent || call.Direction != callbridge.DirectionOutbound || (call.RecordingURL != "") != tt.rec {
				t.Fatalf("call %+v", *call)
			}
			// Before the final webhook the manager answering is not a
			// conversation.
			if len(hooks) > 2 {
				var live []callbridge.CallEvent
				for _, h := range hooks[:2] {
					got, _, err := c.ParseWebhook(t.Context(), testConn(), h.WebhookRequest(h.At))
					if err != nil {
						t.Fatal(err)
					}
					live = append(live, got...)
				}
				if lc := foldOrders(t, live); lc.Answered() || lc.Ended {
					t.Fatalf("live call %+v", *lc)
				}
			}
			if tt.rec {
				req, err := c.RecordingRequest(t.Context(), testConn(), call.RecordingURL)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Range", "bytes=0-9")
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusPartialContent || string(body) != string(zenvia.RecordingAudio(placed.ProviderCallID)[:10]) {
					t.Fatalf("recording %d %q", resp.StatusCode, body)
				}
			}
		})
	}
}

func TestRecordingRequestRefuses(t *testing.T) {
	c := zenvia.New(zenvia.Options{})
	const q = "?id=37721262&x=7a8718b28b&cid=2150"
	for _, u := range []string{
		"http://api.evoline.com.br/rec/" + q,
		"https://evil.com/rec/" + q,
		"https://api.evoline.com.br.evil.com/rec/" + q,
		"https://api.evoline.com.br@evil.com/rec/" + q,
		"https://u:p@api.evoline.com.br/rec/" + q,
		"https://evil.com#@api.evoline.com.br/rec/" + q,
		"https://api.evoline.com.br:8443/rec/" + q,
		"https://api.evoline.com.br/rec/" + q + "#f",
		"https://api.evoline.com.br/rec/../chamada/1" + q,
		"https://api.evoline.com.br/rec" + q,
		"https://api.evoline.com.br/saldo" + q,
		"https://api.evoline.com.br/rec/?id=1&x=2&cid=3&url=https://evil.com",
		"https://api.evoline.com.br/rec/?id=1&id=2",
		"https://api.evoline.com.br/rec/?x=2",
		"https://api.evoline.com.br/rec/?id=../1",
		"https://api.evoline.com.br/rec/?id=%2F1",
		"ftp://api.evoline.com.br/rec/" + q,
		"",
	} {
		if _, err := c.RecordingRequest(t.Context(), testConn(), u); callbridge.ErrorCode(err) != callbridge.EFORBIDDEN {
			t.Errorf("%q: %v", u, err)
		}
	}
	for _, u := range []string{"https://api.evoline.com.br/rec/" + q, "https://API.Evoline.com.br/recvm/?id=1411&x=094bba9d3a&cid=2150"} {
		if _, err := c.RecordingRequest(t.Context(), testConn(), u); err != nil {
			t.Errorf("%q: %v", u, err)
		}
	}
}

func FuzzParseWebhook(f *testing.F) {
	sim := &zenvia.Simulator{AccessToken: accessToken, WebhookURL: hookURL}
	for _, spec := range []zenvia.CallSpec{{AgentAnswered: true, Answered: true, Duration: 3, Recording: true}, {}, {AgentAnswered: true, Busy: true}} {
		spec.Agent, spec.Customer, spec.Start = agent, customer, t0
		for _, h := range sim.Webhooks(spec) {
			f.Add(h.Body)
		}
	}
	f.Add([]byte(fimChamada))
	f.Add([]byte(`{"id":"x","origem":{"status":"atendida","duracao_segundos":"12","duracao_falada_segundos":-4},"destino":{"status":"atendida","data_inicio":"bad"},"status_geral":"finalizada"}`))
	f.Add([]byte(`{"id":1e30,"destino":{"status":"ocupado","numero":12345},"url_gravacao":"javascript:alert(1)"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	c := zenvia.New(zenvia.Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		evs, reply, err := c.ParseWebhook(t.Context(), testConn(), &callbridge.WebhookRequest{URL: hookURL, Method: http.MethodPost, Header: http.Header{}, Body: body, ReceivedAt: received})
		if err != nil {
			e, ok := errors.AsType[*callbridge.Error](err)
			if !ok || (e.Code != callbridge.EINVALID && e.Code != callbridge.EUNAUTHORIZED) || evs != nil || reply != nil {
				t.Fatalf("err %v evs %v reply %v", err, evs, reply)
			}
			return
		}
		if reply == nil || reply.Status != http.StatusOK {
			t.Fatalf("reply %+v", reply)
		}
		for _, e := range evs {
			if e.Key == "" || len(e.Key) > 200 || e.ProviderCallID == "" || len(e.ProviderCallID) > 200 || e.LegID == "" {
				t.Fatalf("ids %+v", e)
			}
			if e.Duration < 0 || e.RecordingDuration < 0 || (!e.OccurredAt.IsZero() && e.OccurredAt.Location() != time.UTC) {
				t.Fatalf("event %+v", e)
			}
			if e.Type == callbridge.EventStatus && e.Status == callbridge.StatusUnknown {
				t.Fatal("status event without status")
			}
		}
	})
}
