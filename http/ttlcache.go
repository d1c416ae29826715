package http

import (
	"sync"
	"time"
)

// cacheTTL is how long a replica reuses a row it read for a hot path (a
// webhook token's connection and account, the account of a realtime push):
// at hundreds of webhooks a second for one connection, those look-ups were a
// sixth of the database's work. Changes made through this replica (new
// credentials, settings, a disconnect) take effect at once, since it resets
// its caches (Server.accountChanged); changes made through another replica
// within cacheTTL.
const cacheTTL = time.Second

// maxTTLEntries bounds a ttlCache; past it, expired entries are dropped, and
// all of them when none has expired.
const maxTTLEntries = 4096

// ttlCache keeps values read from the store for cacheTTL. Values are shared:
// callers must not modify them. The zero value is ready.
type ttlCache[K comparable, V any] struct {
	mu sync.Mutex
	m  map[K]ttlEntry[V]
}

type ttlEntry[V any] struct {
	val V
	at  time.Time
}

// get returns the value stored for key less than cacheTTL before now.
func (c *ttlCache[K, V]) get(key K, now time.Time) (V, bool) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= cacheTTL || now.Before(e.at) {
		var zero V
		return zero, false
	}
	return e.val, true
}

// put stores val for key as read at now.
func (c *ttlCache[K, V]) put(key K, val V, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxTTLEntries {
		for k, e := range c.m {
			if now.Sub(e.at) >= cacheTTL {
				delete(c.m, k)
			}
		}
	}
	if c.m == nil || len(c.m) >= maxTTLEntries {
		c.m = map[K]ttlEntry[V]{}
	}
	c.m[key] = ttlEntry[V]{val: val, at: now}
}

// forget drops key's value.
func (c *ttlCache[K, V]) forget(key K) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// reset drops every value.
func (c *ttlCache[K, V]) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}
