package sandbox

import (
	"net"
	"net/http"
	"time"
)

// window holds the arrival times of the last second, oldest first.
type window struct {
	times []time.Time
	head  int
}

// add records an arrival at now and returns how many arrivals fall in
// (now-1s, now], this one included.
func (w *window) add(now time.Time) int {
	cut := now.Add(-time.Second)
	for w.head < len(w.times) && !w.times[w.head].After(cut) {
		w.head++
	}
	if w.head > 64 && w.head*2 > len(w.times) {
		n := copy(w.times, w.times[w.head:])
		w.times = w.times[:n]
		w.head = 0
	}
	w.times = append(w.times, now)
	return len(w.times) - w.head
}

// ipState is the limiter's state for one client IP.
type ipState struct {
	win          window
	penaltyUntil time.Time // zero when not penalised
	violations   int       // requests received during the current penalty
	blocked      bool
}

// rejection is the limiter's answer to a request it refuses.
type rejection struct {
	status     int // 429 or 403
	retryAfter time.Duration
}

func (r *rejection) write(w http.ResponseWriter) {
	if r.status == http.StatusForbidden {
		problem(w, http.StatusForbidden, "Access from your IP address has been blocked for repeated violations of the request limits.", nil)
		return
	}
	tooMany(w, r.retryAfter)
}

// clientIP is the IP of the request's peer (RemoteAddr); proxies' headers
// are ignored, as Kommo sees the connection's address.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// admit counts a request arriving at now from ip (for accountID, 0 when the
// token names none) and decides whether the limiter refuses it. Called with
// mu held.
func (e *Emulator) admit(ip string, accountID int64, now time.Time) *rejection {
	w := e.st
	s := w.ips[ip]
	if s == nil {
		s = &ipState{}
		w.ips[ip] = s
	}
	n := s.win.add(now)
	if n > w.stats.MaxPerSecondByIP[ip] {
		w.stats.MaxPerSecondByIP[ip] = n
	}
	if accountID != 0 {
		aw := w.acctWin[accountID]
		if aw == nil {
			aw = &window{}
			w.acctWin[accountID] = aw
		}
		if m := aw.add(now); m > w.stats.MaxPerSecondByAccount[accountID] {
			w.stats.MaxPerSecondByAccount[accountID] = m
		}
	}
	if s.blocked {
		return &rejection{status: http.StatusForbidden}
	}
	if !s.penaltyUntil.IsZero() {
		if now.Before(s.penaltyUntil) {
			s.violations++
			if s.violations > e.cfg.BlockAfter {
				s.blocked = true
				return &rejection{status: http.StatusForbidden}
			}
			return &rejection{status: http.StatusTooManyRequests, retryAfter: s.penaltyUntil.Sub(now)}
		}
		s.penaltyUntil, s.violations = time.Time{}, 0
	}
	if n-1 >= e.cfg.RateLimit {
		s.penaltyUntil = now.Add(e.cfg.RetryAfter)
		return &rejection{status: http.StatusTooManyRequests, retryAfter: e.cfg.RetryAfter}
	}
	return nil
}

// penalise starts a penalty for ip as a real 429 would (injected 429s).
// Called with mu held.
func (e *Emulator) penalise(ip string, now time.Time, d time.Duration) {
	s := e.st.ips[ip]
	if s == nil {
		s = &ipState{}
		e.st.ips[ip] = s
	}
	if until := now.Add(d); until.After(s.penaltyUntil) {
		s.penaltyUntil = until
	}
}
