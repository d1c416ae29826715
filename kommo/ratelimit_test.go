package kommo_test

import (
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"callbridge"
	"callbridge/kommo"
)

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	var mu sync.Mutex
	var arrivals []time.Time
	var n atomic.Int64
	e := newEnv(t, func(c *kommo.Config) { c.Limiter = kommo.NewLimiter(50, 1) })
	e.f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		if n.Add(1) == 1 {
			problemJSON(w, 429, `{"title":"Too Many Requests","type":"https://httpstatus.es/429","status":429,"detail":"You have sent too many requests in a given amount of time. Please try again later.","retry_after":1}`)
			return
		}
		halJSON(w, 200, `{"_embedded":{"pipelines":[]}}`)
	})
	ce := asErr(t, opGet.run(t.Context(), e))
	if ce.Code != callbridge.ERATELIMIT || ce.Kind != callbridge.KindTransient || ce.RetryAfter != time.Second {
		t.Fatalf("got %v retry %v, want transient ERATELIMIT after 1s", ce, ce.RetryAfter)
	}
	// Every account is paused: the limit is per IP.
	other := &callbridge.Account{ID: testAccount + 1}
	a, r := e.f.addAccount(other.ID)
	e.store.SaveToken(t.Context(), &callbridge.Token{AccountID: other.ID, AccessToken: a, RefreshToken: r, ExpiresAt: time.Now().Add(time.Hour)})
	if _, err := e.c.ListPipelines(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 2 {
		t.Fatalf("%d requests, want 2", len(arrivals))
	}
	if gap := arrivals[1].Sub(arrivals[0]); gap < time.Second {
		t.Errorf("second request arrived %v after the 429, want >= retry_after (1s)", gap)
	}
}

func TestTooManyRequestsRetryAfterSources(t *testing.T) {
	cases := []struct {
		name   string
		header string
		ctype  string
		body   string
		want   time.Duration
	}{
		{"json body", "", "application/problem+json", `{"title":"Too Many Requests","status":429,"retry_after":300}`, 300 * time.Second},
		{"json body wins over header", "5", "application/problem+json", `{"status":429,"retry_after":"120"}`, 120 * time.Second},
		{"header", "7", "text/html", `<html>Too Many Requests</html>`, 7 * time.Second},
		{"non-json body", "", "text/html", `<html>Too Many Requests</html>`, 60 * time.Second},
		{"empty body", "", "", ``, 60 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lim := &recLimiter{}
			e := newEnv(t, func(c *kommo.Config) { c.Limiter = lim })
			e.f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				if tc.ctype != "" {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.WriteHeader(429)
				io.WriteString(w, tc.body)
			})
			before := time.Now()
			ce := asErr(t, opGet.run(t.Context(), e))
			if ce.Code != callbridge.ERATELIMIT || ce.RetryAfter != tc.want {
				t.Fatalf("got %v retry %v, want ERATELIMIT after %v", ce, ce.RetryAfter, tc.want)
			}
			p := lim.got()
			if len(p) != 1 || p[0].Before(before.Add(tc.want)) || p[0].After(time.Now().Add(tc.want)) {
				t.Errorf("penalties %v, want one until now+%v", p, tc.want)
			}
		})
	}
}

func TestLimiterWaitFailsFastWhenPenaltyOutlastsDeadline(t *testing.T) {
	l := kommo.NewLimiter(6, 1)
	l.Penalize(time.Now().Add(time.Hour))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := l.Wait(ctx, 1)
	ce := asErr(t, err)
	if ce.Code != callbridge.ERATELIMIT || ce.Kind != callbridge.KindTransient || ce.RetryAfter < 59*time.Minute {
		t.Fatalf("got %v retry %v, want ERATELIMIT with ~1h RetryAfter", ce, ce.RetryAfter)
	}
	if ctx.Err() != nil {
		t.Error("Wait blocked until the deadline instead of failing at once")
	}
}

func TestLimiterPenaltyDelaysWaitersAlreadyQueued(t *testing.T) {
	l := kommo.NewLimiter(2, 1) // slots every 500 ms
	if err := l.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Time, 1)
	go func() {
		l.Wait(context.Background(), 2) // queued for the next slot, ~500 ms away
		done <- time.Now()
	}()
	time.Sleep(50 * time.Millisecond)
	until := time.Now().Add(1200 * time.Millisecond)
	l.Penalize(until)
	if at := <-done; at.Before(until) {
		t.Errorf("a waiter went %v before the penalty ended", until.Sub(at))
	}
}

// maxInWindow returns the most arrivals in any window [t, t+w).
func maxInWindow(times []time.Time, w time.Duration) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	most, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= w {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

func TestDefaultLimiterKeepsEveryWindowUnderKommoLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes ~5 s")
	}
	e := newEnv(t, func(c *kommo.Config) { c.Limiter = nil }) // the default, NewLimiter(6, 1)
	var mu sync.Mutex
	var arrivals []time.Time
	e.f.handle("GET /api/v4/leads/pipelines", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrivals = append(arrivals, time.Now())
		mu.Unlock()
		halJSON(w, 200, `{"_embedded":{"pipelines":[]}}`)
	})
	accts := make([]*callbridge.Account, 3)
	for i := range accts {
		accts[i] = &callbridge.Account{ID: int64(100 + i)}
		a, r := e.f.addAccount(accts[i].ID)
		e.store.SaveToken(t.Context(), &callbridge.Token{AccountID: accts[i].ID, AccessToken: a, RefreshToken: r, ExpiresAt: time.Now().Add(time.Hour)})
	}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			if _, err := e.c.ListPipelines(t.Context(), accts[i%len(accts)]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 30 {
		t.Fatalf("%d requests arrived, want 30", len(arrivals))
	}
	if most := maxInWindow(arrivals, time.Second); most > 7 {
		t.Errorf("%d requests arrived within one second; Kommo allows 7", most)
	}
}

func TestLimiterBurstBound(t *testing.T) {
	// With rate r and burst b, a one-second window holds at most b + r.
	l := kommo.NewLimiter(20, 3)
	var times []time.Time
	for range 40 {
		if err := l.Wait(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		times = append(times, time.Now())
	}
	if most := maxInWindow(times, time.Second); most > 23 {
		t.Errorf("%d in one second, want <= 23", most)
	}
}
