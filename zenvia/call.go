package zenvia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"callbridge"
)

// apiResponse is Zenvia's standard answer.
type apiResponse struct {
	Status   int             `json:"status"`
	Sucesso  bool            `json:"sucesso"`
	Motivo   flexInt         `json:"motivo"`
	Mensagem string          `json:"mensagem"`
	Dados    json.RawMessage `json:"dados"`
}

// createCall is the body of POST /chamada.
type createCall struct {
	NumeroOrigem  string `json:"numero_origem"`
	NumeroDestino string `json:"numero_destino"`
	GravarAudio   bool   `json:"gravar_audio"`
	BinaDestino   string `json:"bina_destino,omitempty"`
	Tags          string `json:"tags,omitempty"`
}

// api sends one request with the connection's Access-Token and returns the
// standard answer of a successful call. write says whether the request
// changes state: its unknown outcome is KindUncertain.
func (c *Connector) api(ctx context.Context, conn *callbridge.Connection, method, path string, body any, write bool) (*apiResponse, error) {
	tok := token(conn)
	if tok == "" {
		return nil, callbridge.Errorf(callbridge.EUNAUTHORIZED, "The Zenvia connection has no access token.")
	}
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not encode the Zenvia request.", Err: err}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.apiBase+path, rd)
	if err != nil {
		return nil, &callbridge.Error{Code: callbridge.EINTERNAL, Message: "Could not build the Zenvia request.", Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set(AccessTokenHeader, tok)
	resp, err := c.client.Do(req)
	if err != nil {
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err
		}
		if write {
			return nil, callbridge.Uncertain(cause, "Zenvia did not answer; the call may or may not have been placed.")
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, cause, "Zenvia did not answer; please retry.")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if write {
			return nil, callbridge.Uncertain(err, "Zenvia's answer was cut off; the call may or may not have been placed.")
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "Zenvia's answer was cut off; please retry.")
	}
	var r apiResponse
	_ = json.Unmarshal(data, &r)
	status := resp.StatusCode
	if status == http.StatusOK && r.Status >= 400 {
		status = r.Status // some errors come as 200 with the real status inside
	}
	cause := errors.New("zenvia: HTTP " + strconv.Itoa(resp.StatusCode) + " motivo " + strconv.Itoa(int(r.Motivo)))
	msg := strings.TrimSpace(r.Mensagem)
	if len(msg) > 300 {
		msg = msg[:300]
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Message: "Zenvia refused the access token.", Err: cause}
	case status == http.StatusTooManyRequests:
		return nil, &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, Message: "Zenvia is rate limiting; please retry.", Err: cause}
	case status >= 500:
		if write {
			return nil, callbridge.Uncertain(cause, "Zenvia failed; the call may or may not have been placed.")
		}
		return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, cause, "Zenvia failed; please retry.")
	case status >= 200 && status < 300 && r.Sucesso:
		return &r, nil
	case status >= 200 && status < 300:
		if write && msg == "" {
			return nil, callbridge.Uncertain(cause, "Zenvia's answer was unreadable; the call may or may not have been placed.")
		}
		fallthrough
	default:
		if msg == "" {
			msg = "the request was refused"
		}
		return nil, &callbridge.Error{Code: callbridge.EINVALID, Message: "Zenvia: " + msg, Err: cause}
	}
}

// PlaceCall places a click-to-call through the voice API (POST /chamada
// with the Access-Token header): Zenvia rings numero_origem = req.Agent (the
// manager: an E.164 number or an extension number) and, when the manager
// answers, numero_destino = req.Customer (E.164), with gravar_audio true,
// bina_destino the connection's caller_id when set and tags "callbridge".
// req.StatusURL is not used: Zenvia sends call webhooks to the URL set in its
// panel, which must be the connection's webhook URL.
//
// The returned ProviderCallID is the call id (dados.id), the id the webhooks
// name. Errors: EINVALID for bad numbers or when Zenvia refuses the call
// (its mensagem is kept); EUNAUTHORIZED for a wrong token; ERATELIMIT; and a
// KindUncertain error when Zenvia may have placed the call without
// answering.
func (c *Connector) PlaceCall(ctx context.Context, conn *callbridge.Connection, req callbridge.PlaceCallRequest) (*callbridge.PlacedCall, error) {
	agent := strings.TrimSpace(req.Agent)
	if p := callbridge.NormalizePhone(agent, c.country); isE164(p) {
		agent = p
	} else if !isDigits(agent) || len(agent) > 10 {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The manager's phone must be an E.164 number or an extension number.")
	}
	customer := strings.TrimSpace(req.Customer)
	if !isE164(customer) {
		return nil, callbridge.Errorf(callbridge.EINVALID, "The number to call must be in E.164 format, e.g. +5511999999999.")
	}
	body := createCall{NumeroOrigem: agent, NumeroDestino: customer, GravarAudio: true, Tags: "callbridge"}
	if cid := strings.TrimSpace(conn.Credentials[CredentialCallerID]); cid != "" {
		if !isE164(cid) {
			return nil, callbridge.Errorf(callbridge.EINVALID, "The Zenvia caller_id must be in E.164 format.")
		}
		body.BinaDestino = cid
	}
	r, err := c.api(ctx, conn, http.MethodPost, "/chamada", body, true)
	if err != nil {
		return nil, err
	}
	var dados struct {
		ID flexString `json:"id"`
	}
	if err := json.Unmarshal(r.Dados, &dados); err != nil || dados.ID == "" || len(dados.ID) > maxIDLen {
		return nil, callbridge.Uncertain(err, "Zenvia's answer named no call; the call may or may not have been placed.")
	}
	return &callbridge.PlacedCall{ProviderCallID: string(dados.ID)}, nil
}

// CheckCredentials verifies the access token by reading the balance (GET
// /saldo; the account resource is avoided because it echoes the token). It
// returns EUNAUTHORIZED for a refused token and a transient error when
// Zenvia cannot be reached.
func (c *Connector) CheckCredentials(ctx context.Context, conn *callbridge.Connection) error {
	_, err := c.api(ctx, conn, http.MethodGet, "/saldo", nil, false)
	return err
}

// isE164 reports whether s is "+" followed by 8 to 15 digits.
func isE164(s string) bool {
	return len(s) >= 9 && len(s) <= 16 && s[0] == '+' && isDigits(s[1:])
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
