package kommo

import (
	"context"
	"sync"
	"time"

	"callbridge"
)

// Limiter paces requests to Kommo. Kommo allows 7 requests per second per
// IP address, answers 429 with retry_after beyond that, and blocks the IP
// (403 on every request) when violations repeat, so a Limiter must hold
// across every account served from one egress IP.
type Limiter interface {
	// Wait blocks until a request for accountID may be sent. accountID 0
	// means no account (OAuth code exchange): only the IP-wide limit
	// applies. It returns an error when ctx ends first, or at once (a
	// *callbridge.Error with ERATELIMIT and RetryAfter) when ctx's deadline
	// comes before the request could be sent.
	Wait(ctx context.Context, accountID int64) error
	// Penalize records that Kommo answered 429 or 403: nothing may be sent
	// for any account before until (the limit is per IP).
	Penalize(until time.Time)
}

// NewLimiter returns an in-process Limiter with one bucket for the egress IP
// and one per account, each refilled at rps requests per second and holding
// at most burst requests. Any one-second window then holds at most
// burst + rps requests; NewLimiter(6, 1), the default, keeps it at 7.
// rps <= 0 selects 6 and burst < 1 selects 1. The limiter uses the wall clock.
func NewLimiter(rps float64, burst int) Limiter {
	if rps <= 0 {
		rps = 6
	}
	burst = max(burst, 1)
	interval := time.Duration(float64(time.Second) / rps)
	return &localLimiter{
		interval: interval,
		tau:      time.Duration(burst-1) * interval,
		accounts: make(map[int64]time.Time),
		window:   make([]time.Time, max(int(rps), 1)),
	}
}

// windowSpan is the sliding window of the per-IP cap: slightly over Kommo's
// one second, so that scheduling delays between our release and Kommo's
// count do not add a request to one of Kommo's windows.
const windowSpan = time.Second + 20*time.Millisecond

// localLimiter implements the generic cell rate algorithm in its scheduling
// form: each bucket keeps a theoretical arrival time (TAT); a request may go
// at s when s >= TAT - tau in every bucket it draws from, and then moves each
// TAT to max(TAT, s) + interval.
type localLimiter struct {
	interval time.Duration
	tau      time.Duration

	mu       sync.Mutex
	ip       time.Time
	accounts map[int64]time.Time
	penalty  time.Time
	// window holds the last ⌊rps⌋ release times for the IP (a ring; next is
	// the oldest). No release may come within windowSpan of the release
	// ⌊rps⌋ releases before it: at most ⌊rps⌋ requests in any window, one
	// fewer than the GCRA alone would allow in a closed one-second window.
	window []time.Time
	next   int
}

// Wait implements Limiter.
func (l *localLimiter) Wait(ctx context.Context, accountID int64) error {
	// No slot is reserved ahead: a waiter sleeps until the earliest time it
	// could go, then checks again against the releases actually made. When
	// the process is starved and timers fire late in a clump, only the first
	// of them goes; the others wait for their turn again, so the releases —
	// and the requests on the wire — stay within the limits.
	for {
		if err := ctx.Err(); err != nil {
			return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: request not sent: %v", err)
		}
		now := time.Now()
		l.mu.Lock()
		at := l.slot(now, accountID)
		if !at.After(now) {
			l.commit(now, accountID)
			l.mu.Unlock()
			return nil
		}
		l.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && dl.Before(at) {
			return &callbridge.Error{Code: callbridge.ERATELIMIT, Kind: callbridge.KindTransient, RetryAfter: at.Sub(now),
				Message: "Kommo's rate limit leaves no room before the deadline"}
		}
		t := time.NewTimer(at.Sub(now))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "kommo: request not sent: %v", ctx.Err())
		}
	}
}

func (l *localLimiter) slot(now time.Time, accountID int64) time.Time {
	at := now
	at = later(at, l.ip.Add(-l.tau))
	if accountID != 0 {
		at = later(at, l.accounts[accountID].Add(-l.tau))
	}
	at = later(at, l.window[l.next].Add(windowSpan))
	return later(at, l.penalty)
}

// commit takes the slot at from the buckets. l.mu is held.
func (l *localLimiter) commit(at time.Time, accountID int64) {
	l.ip = later(l.ip, at).Add(l.interval)
	l.window[l.next] = at
	l.next = (l.next + 1) % len(l.window)
	if accountID == 0 {
		return
	}
	if len(l.accounts) > 4096 {
		for id, tat := range l.accounts {
			if tat.Before(at) {
				delete(l.accounts, id)
			}
		}
	}
	l.accounts[accountID] = later(l.accounts[accountID], at).Add(l.interval)
}

// Penalize implements Limiter.
func (l *localLimiter) Penalize(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.penalty = later(l.penalty, until)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
