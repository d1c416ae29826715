package kommo_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"callbridge/kommo"
)

// The default limiter releases at most ⌊rps⌋ requests in any window of a
// little over one second — one fewer than a 6/s GCRA alone allows in a closed
// one-second window (its 7th release lands at exactly +1 s) — so scheduling
// delays between our release and Kommo's count cannot push Kommo's window
// over 7. Fake time (synctest) makes the release times exact.
func TestLimiterWindowCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		lim := kommo.NewLimiter(6, 1)
		var mu sync.Mutex
		var times []time.Time
		var wg sync.WaitGroup
		for g := 0; g < 24; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := lim.Wait(context.Background(), int64(g%3)+1); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				times = append(times, time.Now())
				mu.Unlock()
			}()
		}
		wg.Wait()
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i := range times {
			n := 0
			for j := i; j < len(times) && times[j].Sub(times[i]) <= time.Second+10*time.Millisecond; j++ {
				n++
			}
			if n > 6 {
				t.Fatalf("%d releases within 1.01 s starting at release %d (offset %v)", n, i, times[i].Sub(times[0]))
			}
		}
		if got, want := times[len(times)-1].Sub(times[0]), 3*time.Second; got < want {
			t.Fatalf("24 releases took %v, want at least %v", got, want)
		}
	})
}
