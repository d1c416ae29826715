package http

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"callbridge"
)

// RealtimeStore is what the realtime channel needs of the database when
// several replicas share it. *postgres.DB and *sqlite.DB implement it
// (store.DB's realtime methods). Times are the calling replica's clock.
type RealtimeStore interface {
	// FindCall loads a call another replica published (scoped by account).
	FindCall(ctx context.Context, accountID, id int64) (*callbridge.Call, error)
	// ClaimRealtime records key until the time until and reports whether
	// this call made the claim (false: an unexpired claim exists).
	ClaimRealtime(ctx context.Context, key string, now, until time.Time) (bool, error)
	// PutRealtimePresence records the replica's users in present (account
	// id → Kommo user ids) until the time until and removes those in
	// absent, in one transaction.
	PutRealtimePresence(ctx context.Context, replica string, present, absent map[int64][]int64, until time.Time) error
	// ReplaceRealtimePresence makes present the replica's whole presence.
	ReplaceRealtimePresence(ctx context.Context, replica string, present map[int64][]int64, until time.Time) error
	// TouchRealtimePresence extends the replica's records until the time
	// until and returns how many it has.
	TouchRealtimePresence(ctx context.Context, replica string, until time.Time) (int64, error)
	// RealtimePresent reports whether any replica has an unexpired record
	// of the user of the account.
	RealtimePresent(ctx context.Context, accountID, userID int64, now time.Time) (bool, error)
	// PurgeRealtime deletes expired records and claims.
	PurgeRealtime(ctx context.Context, now time.Time) (int64, error)
}

// Presence defaults.
const (
	// DefaultPresenceInterval is how often a replica refreshes the presence
	// records of its connected users.
	DefaultPresenceInterval = 10 * time.Second
	// storeTimeout bounds each realtime query of the store.
	storeTimeout = 5 * time.Second
)

// rtUser is a Kommo user of an account (our account id).
type rtUser struct{ accountID, userID int64 }

// rtPresence keeps this replica's presence records in step with its
// connections. One goroutine (presenceLoop) makes every write, so writes
// never race each other: each one makes the database match the connections
// as they are when it starts. A new connection waits (storeTimeout at most)
// for a write that started after it registered before it says hello, so
// that once a widget is greeted, every replica deciding a fallback sees it.
type rtPresence struct {
	replica string
	wake    chan struct{} // capacity 1: coalesces changes

	mu        sync.Mutex
	want      uint64        // changes asked for
	flushed   uint64        // changes written (or given up on)
	flushedCh chan struct{} // closed at each write

	// Owned by presenceLoop.
	written  map[rtUser]bool // the records the database holds, as far as known
	needFull bool            // written is not known: replace everything
}

// changed tells the writer that the connections changed.
func (p *rtPresence) changed() uint64 {
	p.mu.Lock()
	p.want++
	gen := p.want
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return gen
}

// awaitPresence records a change and waits until it is written, storeTimeout
// at most. Without a store it returns at once.
func (rt *Realtime) awaitPresence() {
	p := rt.presence
	if p == nil {
		return
	}
	gen := p.changed()
	timer := time.NewTimer(storeTimeout)
	defer timer.Stop()
	for {
		p.mu.Lock()
		done, ch := p.flushed >= gen, p.flushedCh
		p.mu.Unlock()
		if done {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			return
		case <-rt.done:
			return
		}
	}
}

// presenceChanged records a change without waiting.
func (rt *Realtime) presenceChanged() {
	if rt.presence != nil {
		rt.presence.changed()
	}
}

// presenceLoop writes presence changes as they come and, every
// PresenceInterval, refreshes the records and purges expired records and
// claims of every replica.
func (rt *Realtime) presenceLoop() {
	defer rt.wg.Done()
	p := rt.presence
	tick := time.NewTicker(rt.cfg.PresenceInterval)
	defer tick.Stop()
	for {
		heartbeat := false
		select {
		case <-rt.done:
			return
		case <-p.wake:
		case <-tick.C:
			heartbeat = true
		}
		p.mu.Lock()
		gen := p.want
		p.mu.Unlock()
		rt.writePresence(heartbeat)
		p.mu.Lock()
		p.flushed = max(p.flushed, gen)
		close(p.flushedCh)
		p.flushedCh = make(chan struct{})
		p.mu.Unlock()
	}
}

// localUsers returns the users with a connection on this replica.
func (rt *Realtime) localUsers() map[rtUser]bool {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := map[rtUser]bool{}
	for acct, users := range rt.conns {
		for u, cs := range users {
			if len(cs) > 0 {
				out[rtUser{acct, u}] = true
			}
		}
	}
	return out
}

func byAccount(users map[rtUser]bool) map[int64][]int64 {
	out := map[int64][]int64{}
	for u := range users {
		out[u.accountID] = append(out[u.accountID], u.userID)
	}
	return out
}

// writePresence makes the database's records of this replica match its
// connections (none while its bus reports that it is not listening). On a
// heartbeat it first extends every record; a count that does not match what
// it wrote (records purged while this replica could not reach the
// database), like any failed write, makes it replace the replica's records
// whole.
func (rt *Realtime) writePresence(heartbeat bool) {
	p := rt.presence
	st := rt.cfg.Store
	now := rt.now()
	until := now.Add(rt.cfg.PresenceTTL)
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	deaf := false
	if l, ok := rt.bus.(interface{ Listening() bool }); ok {
		deaf = !l.Listening()
	}
	if heartbeat && !p.needFull && !deaf {
		n, err := st.TouchRealtimePresence(ctx, p.replica, until)
		if err != nil || n != int64(len(p.written)) {
			p.needFull = true
		}
	}
	desired := rt.localUsers()
	if deaf {
		// This replica does not hear other replicas' calls: its users
		// count as absent, so that the ingesting replica falls back to
		// Kommo's notification. They are back at the first write after
		// the bus reconnects.
		desired = map[rtUser]bool{}
	}
	if p.needFull {
		if err := st.ReplaceRealtimePresence(ctx, p.replica, byAccount(desired), until); err != nil {
			rt.log.Warn("realtime: presence not recorded", slog.String("replica", p.replica), slog.String("error", err.Error()))
			return
		}
		p.written, p.needFull = desired, false
	} else {
		add, del := map[rtUser]bool{}, map[rtUser]bool{}
		for u := range desired {
			if !p.written[u] {
				add[u] = true
			}
		}
		for u := range p.written {
			if !desired[u] {
				del[u] = true
			}
		}
		if len(add)+len(del) > 0 {
			if err := st.PutRealtimePresence(ctx, p.replica, byAccount(add), byAccount(del), until); err != nil {
				p.needFull = true
				rt.log.Warn("realtime: presence not recorded", slog.String("replica", p.replica), slog.String("error", err.Error()))
				return
			}
			p.written = desired
		}
	}
	if heartbeat {
		if _, err := st.PurgeRealtime(ctx, now); err != nil {
			rt.log.Info("realtime: purge of expired presence failed", slog.String("error", err.Error()))
		}
	}
}

// dropPresence removes this replica's records (when it closes).
func (rt *Realtime) dropPresence() {
	if rt.presence == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := rt.cfg.Store.ReplaceRealtimePresence(ctx, rt.presence.replica, nil, rt.now()); err != nil {
		rt.log.Warn("realtime: presence not removed; it expires by itself", slog.String("replica", rt.presence.replica),
			slog.String("error", err.Error()))
	}
}

// presentAnywhere reports whether the user of the account has a widget
// connection on this replica or, with a store, an unexpired presence record
// of any replica.
func (rt *Realtime) presentAnywhere(ctx context.Context, accountID, userID int64) (bool, error) {
	if rt.Connected(accountID, userID) > 0 {
		return true, nil
	}
	if rt.cfg.Store == nil {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, storeTimeout)
	defer cancel()
	return rt.cfg.Store.RealtimePresent(ctx, accountID, userID, rt.now())
}
