package sandbox

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Faults are failures injected into API requests (/api/, and /oauth2/ when
// OAuth is set; never /sandbox/). Rates are probabilities in [0, 1] drawn
// from the generator seeded by Config.Seed, so a sequential test sees the
// same faults on every run. The zero value injects nothing.
//
// For each eligible request, in order: a storm or an injected 429 answers at
// once; then Latency+Jitter is waited; then ErrorRate answers 5xx without
// handling the request. Otherwise the request is handled, and for writes
// (POST, PATCH, DELETE) ErrorAfterRate replaces the answer with a 5xx and
// DropRate closes the connection without any answer: the write is applied
// either way. A read picked by DropRate gets its connection closed without
// being handled.
type Faults struct {
	// Latency is added before every eligible request is handled; Jitter adds
	// a uniformly random extra in [0, Jitter).
	Latency time.Duration
	Jitter  time.Duration
	// ErrorRate answers 500, 502, 503 or 504 before handling: nothing changes.
	ErrorRate float64
	// ErrorAfterRate applies a write and then answers 5xx (an uncertain
	// outcome for the client).
	ErrorAfterRate float64
	// DropRate is accept-then-drop: a write is applied, then the connection is
	// closed without any response.
	DropRate float64
	// RateLimitRate answers a 429 with retry_after = StormRetryAfter and
	// penalises the client IP like a real violation (requests sent during the
	// penalty count toward the 403 block).
	RateLimitRate float64
	// StormRetryAfter is the retry_after of injected 429s and storms (default
	// Config.RetryAfter).
	StormRetryAfter time.Duration
	// StormUntil makes every eligible request answer 429 until that time (by
	// Config.Now). Storm 429s carry retry_after = StormRetryAfter when set,
	// else the time left in the storm; they do not penalise the IP.
	StormUntil time.Time
	// OAuth extends the faults to /oauth2/ requests.
	OAuth bool
	// Endpoints, when not empty, limits faults to requests whose "METHOD
	// /path" or "/path" starts with one of its entries, e.g.
	// "POST /api/v4/calls" or "/api/v4/leads/notes".
	Endpoints []string
	// MaxFaults, when positive, stops injecting after that many injected
	// 429s, 5xx and drops (latency is not counted).
	MaxFaults int
}

// SetFaults replaces the injected faults. Faults{} turns them off.
func (e *Emulator) SetFaults(f Faults) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.st.faults = f
	e.st.faultsUsed = 0
}

// plan is what the faults decided for one request.
type plan struct {
	storm       bool
	inject429   bool
	retryAfter  time.Duration
	delay       time.Duration
	errBefore   bool
	errAfter    bool
	drop        bool
	errorStatus int
}

var errorStatuses = [...]int{500, 502, 503, 504}

func isWrite(method string) bool {
	return method == http.MethodPost || method == http.MethodPatch || method == http.MethodDelete || method == http.MethodPut
}

// planFaults decides the faults of one eligible request. Called with mu held.
// Every eligible request draws the same number of random values so that the
// sequence does not depend on which faults fired.
func (e *Emulator) planFaults(r *http.Request, ip string, now time.Time) plan {
	w := e.st
	f := w.faults
	var p plan
	if len(f.Endpoints) > 0 {
		full := r.Method + " " + r.URL.Path
		match := false
		for _, ep := range f.Endpoints {
			if strings.HasPrefix(full, ep) || strings.HasPrefix(r.URL.Path, ep) {
				match = true
				break
			}
		}
		if !match {
			return p
		}
	}
	stormAfter := f.StormRetryAfter
	if stormAfter <= 0 {
		stormAfter = e.cfg.RetryAfter
	}
	if now.Before(f.StormUntil) {
		p.storm = true
		p.retryAfter = f.StormRetryAfter
		if p.retryAfter <= 0 {
			p.retryAfter = f.StormUntil.Sub(now)
		}
		return p
	}
	rl, eb, ea, dr, jit, st := w.rng.Float64(), w.rng.Float64(), w.rng.Float64(), w.rng.Float64(), w.rng.Float64(), w.rng.IntN(len(errorStatuses))
	p.errorStatus = errorStatuses[st]
	p.delay = f.Latency
	if f.Jitter > 0 {
		p.delay += time.Duration(jit * float64(f.Jitter))
	}
	if f.MaxFaults > 0 && w.faultsUsed >= f.MaxFaults {
		return p
	}
	write := isWrite(r.Method)
	switch {
	case rl < f.RateLimitRate:
		p.inject429, p.retryAfter = true, stormAfter
		e.penalise(ip, now, stormAfter)
	case eb < f.ErrorRate:
		p.errBefore = true
	case write && ea < f.ErrorAfterRate:
		p.errAfter = true
	case dr < f.DropRate:
		p.drop = true
	default:
		return p
	}
	w.faultsUsed++
	return p
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// drop closes the client's connection without a response.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	// HTTP/2 or a wrapper that cannot hijack: abort the response.
	panic(http.ErrAbortHandler)
}

func serverError(w http.ResponseWriter, status int) {
	problem(w, status, "Internal error, please retry later", map[string]any{"trace_id": "sandbox-fault"})
}
