package http

import (
	"context"
	"slices"
	"sync"
)

// RealtimeBus carries committed calls from the replica that committed them
// to the other replicas sharing the database, so that each can push the
// call to the widgets connected to it. Messages carry ids only, never phone
// numbers or names: a receiver loads the call through its RealtimeStore.
//
// Implementations: LocalBus (in-process; the default, one process) and
// postgres.Notifier (PostgreSQL LISTEN/NOTIFY).
type RealtimeBus interface {
	// Publish tells the other replicas that the call (our account id, call
	// id) changed. It returns when the message is on its way; delivery is
	// at most once (a replica that is reconnecting to the bus misses it).
	Publish(ctx context.Context, accountID, callID int64) error
	// Subscribe registers fn for the calls other replicas publish (never
	// this bus's own). Messages of one publisher arrive in the order it
	// published them. fn must not block: it holds up every later message.
	Subscribe(fn func(accountID, callID int64))
}

// LocalBus is the in-process RealtimeBus. A bus from NewLocalBus alone has
// no other replica to reach: Publish does nothing, which is right for one
// process (SQLite), where the Realtime pushes its own commits itself. Peer
// returns another bus on the same hub, a second "replica" in the same
// process, which tests use to run several Realtimes on one database. A
// LocalBus is safe for concurrent use.
type LocalBus struct {
	hub *localHub

	mu   sync.Mutex
	subs []func(accountID, callID int64)
}

type localHub struct {
	mu    sync.Mutex
	buses []*LocalBus
}

var _ RealtimeBus = (*LocalBus)(nil)

// NewLocalBus returns a bus with no peers.
func NewLocalBus() *LocalBus {
	h := &localHub{}
	b := &LocalBus{hub: h}
	h.buses = []*LocalBus{b}
	return b
}

// Peer returns a new bus on b's hub: what any bus of the hub publishes
// reaches the subscribers of every other bus of the hub.
func (b *LocalBus) Peer() *LocalBus {
	p := &LocalBus{hub: b.hub}
	b.hub.mu.Lock()
	b.hub.buses = append(b.hub.buses, p)
	b.hub.mu.Unlock()
	return p
}

// Publish implements RealtimeBus: it calls the subscribers of the hub's
// other buses before it returns. It never fails.
func (b *LocalBus) Publish(ctx context.Context, accountID, callID int64) error {
	b.hub.mu.Lock()
	peers := slices.Clone(b.hub.buses)
	b.hub.mu.Unlock()
	for _, p := range peers {
		if p == b {
			continue
		}
		p.mu.Lock()
		subs := slices.Clone(p.subs)
		p.mu.Unlock()
		for _, fn := range subs {
			fn(accountID, callID)
		}
	}
	return nil
}

// Subscribe implements RealtimeBus.
func (b *LocalBus) Subscribe(fn func(accountID, callID int64)) {
	b.mu.Lock()
	b.subs = append(b.subs, fn)
	b.mu.Unlock()
}
