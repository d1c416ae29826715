package http_test

import (
	"slices"
	"sync"
	"testing"

	cbhttp "callbridge/http"
)

func TestLocalBus(t *testing.T) {
	type msg struct{ bus, account, call int64 }
	var mu sync.Mutex
	var got []msg
	sub := func(bus int64) func(int64, int64) {
		return func(account, call int64) {
			mu.Lock()
			got = append(got, msg{bus, account, call})
			mu.Unlock()
		}
	}
	a := cbhttp.NewLocalBus()
	b, c := a.Peer(), a.Peer()
	a.Subscribe(sub(1))
	b.Subscribe(sub(2))
	c.Subscribe(sub(3))
	alone := cbhttp.NewLocalBus()
	alone.Subscribe(sub(4))

	for _, p := range []struct {
		bus        *cbhttp.LocalBus
		acct, call int64
	}{{a, 10, 1}, {a, 10, 2}, {b, 20, 3}, {alone, 30, 4}} {
		if err := p.bus.Publish(t.Context(), p.acct, p.call); err != nil {
			t.Fatal(err)
		}
	}
	// Every other bus of the hub, in order; never the publisher; nothing
	// from or to a bus of another hub.
	want := []msg{{2, 10, 1}, {3, 10, 1}, {2, 10, 2}, {3, 10, 2}, {1, 20, 3}, {3, 20, 3}}
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
}
