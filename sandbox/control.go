package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"callbridge"
)

// FaultsRequest is the JSON body of POST /sandbox/faults. Durations are Go
// duration strings ("250ms", "1s"); StormFor starts a storm lasting that
// long from now.
type FaultsRequest struct {
	Latency         string     `json:"latency,omitempty"`
	Jitter          string     `json:"jitter,omitempty"`
	ErrorRate       float64    `json:"error_rate,omitempty"`
	ErrorAfterRate  float64    `json:"error_after_rate,omitempty"`
	DropRate        float64    `json:"drop_rate,omitempty"`
	RateLimitRate   float64    `json:"rate_limit_rate,omitempty"`
	StormRetryAfter string     `json:"storm_retry_after,omitempty"`
	StormFor        string     `json:"storm_for,omitempty"`
	StormUntil      *time.Time `json:"storm_until,omitempty"`
	OAuth           bool       `json:"oauth,omitempty"`
	Endpoints       []string   `json:"endpoints,omitempty"`
	MaxFaults       int        `json:"max_faults,omitempty"`
}

// faults converts the request; now anchors StormFor.
func (fr FaultsRequest) faults(now time.Time) (Faults, error) {
	f := Faults{ErrorRate: fr.ErrorRate, ErrorAfterRate: fr.ErrorAfterRate, DropRate: fr.DropRate,
		RateLimitRate: fr.RateLimitRate, OAuth: fr.OAuth, Endpoints: fr.Endpoints, MaxFaults: fr.MaxFaults}
	for _, d := range []struct {
		s   string
		dst *time.Duration
	}{{fr.Latency, &f.Latency}, {fr.Jitter, &f.Jitter}, {fr.StormRetryAfter, &f.StormRetryAfter}} {
		if d.s == "" {
			continue
		}
		v, err := time.ParseDuration(d.s)
		if err != nil || v < 0 {
			return Faults{}, callbridge.Errorf(callbridge.EINVALID, "sandbox: invalid duration %q", d.s)
		}
		*d.dst = v
	}
	if fr.StormUntil != nil {
		f.StormUntil = *fr.StormUntil
	}
	if fr.StormFor != "" {
		v, err := time.ParseDuration(fr.StormFor)
		if err != nil || v < 0 {
			return Faults{}, callbridge.Errorf(callbridge.EINVALID, "sandbox: invalid storm_for %q", fr.StormFor)
		}
		f.StormUntil = now.Add(v)
	}
	for _, r := range []float64{f.ErrorRate, f.ErrorAfterRate, f.DropRate, f.RateLimitRate} {
		if r < 0 || r > 1 {
			return Faults{}, callbridge.Errorf(callbridge.EINVALID, "sandbox: rates must be between 0 and 1")
		}
	}
	return f, nil
}

// serveControl serves the /sandbox/ controls (JSON). They are never rate
// limited, faulted or counted.
func (e *Emulator) serveControl(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/sandbox"), "/"), "/")
	route := r.Method + " " + strings.Join(segs, "/")
	switch {
	case route == "POST seed":
		var d SeedData
		if !readJSON(w, r, &d) {
			return
		}
		res, err := e.Seed(d)
		respondControl(w, res, err)
	case route == "POST faults":
		var fr FaultsRequest
		if !readJSON(w, r, &fr) {
			return
		}
		f, err := fr.faults(e.now())
		if err == nil {
			e.SetFaults(f)
		}
		respondControl(w, map[string]any{"ok": true}, err)
	case route == "POST install":
		var req struct {
			AccountID int64  `json:"account_id"`
			UserID    int64  `json:"user_id"`
			State     string `json:"state"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		e.mu.Lock()
		if e.st.host == "" {
			e.st.host = r.Host
		}
		e.mu.Unlock()
		code, accountID, err := e.install(r.Context(), req.AccountID, req.UserID, req.State)
		if err != nil && code != "" {
			// Delivery failed but the code is valid: report both.
			respondControl(w, map[string]any{"code": code, "account_id": accountID, "delivery_error": err.Error()}, nil)
			return
		}
		respondControl(w, map[string]any{"code": code, "account_id": accountID}, err)
	case route == "POST uninstall":
		var req struct {
			AccountID int64 `json:"account_id"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		respondControl(w, map[string]any{"ok": true}, e.Uninstall(r.Context(), req.AccountID))
	case len(segs) == 3 && segs[0] == "unsorted" && r.Method == http.MethodPost && (segs[2] == "accept" || segs[2] == "decline"):
		var req struct {
			UserID   int64 `json:"user_id"`
			StatusID int64 `json:"status_id"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		var err error
		if segs[2] == "accept" {
			err = e.AcceptUnsorted(segs[1], req.UserID, req.StatusID)
		} else {
			err = e.DeclineUnsorted(segs[1], req.UserID)
		}
		respondControl(w, map[string]any{"ok": true}, err)
	case len(segs) == 2 && segs[0] == "notes" && r.Method == http.MethodPatch:
		id, err := strconv.ParseInt(segs[1], 10, 64)
		if err != nil {
			respondControl(w, nil, callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: note %q not found", segs[1]))
			return
		}
		var req struct {
			Text       *string        `json:"text"`
			CallResult *string        `json:"call_result"`
			Params     map[string]any `json:"params"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		params := map[string]any{}
		for k, v := range req.Params {
			params[k] = v
		}
		if req.Text != nil {
			params["text"] = *req.Text
		}
		if req.CallResult != nil {
			params["call_result"] = *req.CallResult
		}
		n, err := e.EditNote(id, params)
		respondControl(w, n, err)
	case len(segs) == 2 && segs[0] == "accounts" && r.Method == http.MethodPatch:
		id, _ := strconv.ParseInt(segs[1], 10, 64)
		var req struct {
			PaymentRequired bool `json:"payment_required"`
		}
		if !readJSON(w, r, &req) {
			return
		}
		respondControl(w, map[string]any{"ok": true}, e.SetPaymentRequired(id, req.PaymentRequired))
	case route == "GET state":
		respondControl(w, e.State(), nil)
	case route == "GET stats":
		respondControl(w, e.Stats(), nil)
	case route == "GET widget-token":
		q := r.URL.Query()
		accountID, err1 := strconv.ParseInt(q.Get("account_id"), 10, 64)
		userID, err2 := strconv.ParseInt(q.Get("user_id"), 10, 64)
		var ttl time.Duration
		var err3 error
		if s := q.Get("ttl"); s != "" {
			ttl, err3 = time.ParseDuration(s)
		}
		if err1 != nil || err2 != nil || err3 != nil {
			respondControl(w, nil, callbridge.Errorf(callbridge.EINVALID, "sandbox: account_id and user_id are required integers; ttl is a duration"))
			return
		}
		respondControl(w, map[string]any{"token": e.WidgetToken(accountID, userID, ttl)}, nil)
	case route == "POST reset":
		e.Reset()
		respondControl(w, map[string]any{"ok": true}, nil)
	default:
		respondControl(w, nil, callbridge.Errorf(callbridge.ENOTFOUND, "sandbox: no control %s %s", r.Method, r.URL.Path))
	}
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err == nil && len(strings.TrimSpace(string(body))) > 0 {
		err = json.Unmarshal(body, v)
	}
	if err != nil {
		respondControl(w, nil, callbridge.Errorf(callbridge.EINVALID, "sandbox: invalid JSON body: %v", err))
		return false
	}
	return true
}

// respondControl writes v as JSON, or err as {"error": message} with the
// status of its code.
func respondControl(w http.ResponseWriter, v any, err error) {
	if err != nil {
		status := http.StatusInternalServerError
		switch callbridge.ErrorCode(err) {
		case callbridge.EINVALID:
			status = http.StatusBadRequest
		case callbridge.ENOTFOUND:
			status = http.StatusNotFound
		case callbridge.EUNAVAILABLE:
			status = http.StatusBadGateway
		}
		writeJSON(w, status, "application/json", map[string]any{"error": callbridge.ErrorMessage(err)})
		return
	}
	writeJSON(w, http.StatusOK, "application/json", v)
}
