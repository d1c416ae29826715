package http

import (
	"context"
	"sync"
	"time"

	"callbridge"
)

// webhookTargetTTL is how long a replica reuses the connection and account a
// webhook token named: at hundreds of webhooks a second for one connection,
// the two look-ups per webhook were a sixth of the database's work. Changes
// made through this replica (new credentials, settings, a disconnect) take
// effect at once; changes made through another replica within this time.
const webhookTargetTTL = time.Second

// maxWebhookTargets bounds the cache; past it, expired entries are dropped,
// and all of them when none has expired.
const maxWebhookTargets = 4096

// webhookTargets caches webhook targets by token. The zero value is ready.
type webhookTargets struct {
	mu sync.Mutex
	m  map[string]webhookTarget
}

type webhookTarget struct {
	conn *callbridge.Connection // never modified
	acct *callbridge.Account    // never modified
	at   time.Time
}

// find returns the connection the token names and its account, read from
// the store at most webhookTargetTTL before now.
func (c *webhookTargets) find(ctx context.Context, store callbridge.Store, token string, now time.Time) (*callbridge.Connection, *callbridge.Account, error) {
	c.mu.Lock()
	t, ok := c.m[token]
	c.mu.Unlock()
	if ok && now.Sub(t.at) < webhookTargetTTL && now.Sub(t.at) >= 0 {
		return t.conn, t.acct, nil
	}
	conn, err := store.FindConnectionByToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	acct, err := store.FindAccount(ctx, conn.AccountID)
	if err != nil {
		return conn, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxWebhookTargets {
		for k, t := range c.m {
			if now.Sub(t.at) >= webhookTargetTTL {
				delete(c.m, k)
			}
		}
	}
	if c.m == nil || len(c.m) >= maxWebhookTargets {
		c.m = map[string]webhookTarget{}
	}
	c.m[token] = webhookTarget{conn: conn, acct: acct, at: now}
	return conn, acct, nil
}

// reset forgets every target: a connection or an account changed.
func (c *webhookTargets) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// accountChanged tells the caches of this replica that an account's
// settings, status or connections changed.
func (s *Server) accountChanged(accountID int64) {
	s.targets.reset()
	s.Realtime.ForgetAccount(accountID)
}
