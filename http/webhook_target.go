package http

import (
	"context"
	"time"

	"callbridge"
)

// webhookTarget is what a webhook token names.
type webhookTarget struct {
	conn *callbridge.Connection // never modified
	acct *callbridge.Account    // never modified
}

// lookupTarget returns the connection the token names and its account,
// read from the store at most cacheTTL before now.
func (s *Server) lookupTarget(ctx context.Context, token string, now time.Time) (*callbridge.Connection, *callbridge.Account, error) {
	if t, ok := s.targets.get(token, now); ok {
		return t.conn, t.acct, nil
	}
	conn, err := s.Store.FindConnectionByToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	acct, err := s.Store.FindAccount(ctx, conn.AccountID)
	if err != nil {
		return conn, nil, err
	}
	s.targets.put(token, webhookTarget{conn, acct}, now)
	return conn, acct, nil
}

// accountChanged tells the caches of this replica that an account's
// settings, status or connections changed.
func (s *Server) accountChanged(accountID int64) {
	s.targets.reset()
	s.Realtime.ForgetAccount(accountID)
}
