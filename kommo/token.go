package kommo

import (
	"context"
	"errors"
	"time"

	"callbridge"
)

// pollInterval is how often a process that does not hold the refresh lease
// looks for the new pair.
const pollInterval = 75 * time.Millisecond

// flight is one in-process refresh of an account's pair; concurrent callers
// wait for it instead of refreshing again.
type flight struct {
	done chan struct{}
	tok  *callbridge.Token
	err  error
}

// fresh reports whether t can be used without refreshing first.
func (c *Client) fresh(t *callbridge.Token) bool {
	return t != nil && t.AccessToken != "" && c.now().Add(c.cfg.RefreshBefore).Before(t.ExpiresAt)
}

// remember caches t unless a newer pair is cached already.
func (c *Client) remember(t *callbridge.Token) {
	if t == nil {
		return
	}
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if old := c.tokCache[t.AccountID]; old == nil || old.Version <= t.Version {
		cp := *t
		c.tokCache[t.AccountID] = &cp
	}
}

// accessToken returns a usable pair for acct: the cached one, else the
// stored one, refreshed first when it expires within RefreshBefore.
func (c *Client) accessToken(ctx context.Context, acct *callbridge.Account) (*callbridge.Token, error) {
	c.tokMu.Lock()
	t := c.tokCache[acct.ID]
	c.tokMu.Unlock()
	if t == nil {
		st, err := c.tokens.FindToken(ctx, acct.ID)
		if err != nil {
			return nil, storeError(err)
		}
		st.AccountID = acct.ID
		c.remember(st)
		t = st
	}
	if c.fresh(t) {
		return t, nil
	}
	nt, err := c.refresh(ctx, acct, t.Version, false)
	if err != nil {
		// A refresh that failed for a passing reason does not stop a token
		// that has not expired yet.
		if callbridge.ErrorKind(err) != callbridge.KindPermanent && t.AccessToken != "" && c.now().Before(t.ExpiresAt) {
			c.log.WarnContext(ctx, "kommo: token refresh failed; using the current token until it expires",
				"account", acct.ID, "expires_at", t.ExpiresAt, "error", err)
			return t, nil
		}
		return nil, err
	}
	return nt, nil
}

// refresh returns a pair newer than version stale. Within the process it is
// single-flight per account; across processes the store's refresh lease
// decides who refreshes (see refreshShared). force asks for a new pair even
// when the stored one looks fresh (Kommo refused it with 401).
func (c *Client) refresh(ctx context.Context, acct *callbridge.Account, stale int64, force bool) (*callbridge.Token, error) {
	for round := 0; ; round++ {
		c.tokMu.Lock()
		if t := c.tokCache[acct.ID]; t != nil && t.Version > stale && (force || c.fresh(t)) {
			c.tokMu.Unlock()
			return t, nil
		}
		f := c.flights[acct.ID]
		if f == nil {
			f = &flight{done: make(chan struct{})}
			c.flights[acct.ID] = f
			go c.runFlight(ctx, acct, f, stale, force)
		}
		c.tokMu.Unlock()

		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "kommo: waiting for a token refresh: %v", ctx.Err())
		}
		if f.err != nil {
			return nil, f.err
		}
		// A flight started by another caller for another reason may have
		// kept the pair we were refused; start one of our own, once.
		if f.tok.Version > stale || (!force && c.fresh(f.tok)) || round > 0 {
			return f.tok, nil
		}
	}
}

// runFlight performs an in-process refresh detached from the caller that
// started it, so that other waiters are not failed by its cancellation.
func (c *Client) runFlight(ctx context.Context, acct *callbridge.Account, f *flight, stale int64, force bool) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*c.cfg.LeaseTTL+DefaultRequestTimeout)
	defer cancel()
	f.tok, f.err = c.refreshShared(fctx, acct, stale, force)
	if f.err == nil {
		c.remember(f.tok)
	}
	c.tokMu.Lock()
	delete(c.flights, acct.ID)
	c.tokMu.Unlock()
	close(f.done)
}

// refreshShared is the cross-process protocol. Take the store's lease; the
// holder re-reads the pair, refreshes only if it is still the stale one,
// stores the new pair with RotateToken (a compare-and-swap on Version) and
// releases. A non-holder polls the store until the version changes or the
// lease expires (then it tries to take it).
func (c *Client) refreshShared(ctx context.Context, acct *callbridge.Account, stale int64, force bool) (*callbridge.Token, error) {
	for {
		now := c.now()
		until := now.Add(c.cfg.LeaseTTL)
		st, held, err := c.tokens.AcquireRefreshLease(ctx, acct.ID, c.owner, now, until)
		if err != nil {
			return nil, storeError(err)
		}
		st.AccountID = acct.ID
		if st.Version != stale {
			if force || c.fresh(st) {
				if held {
					c.release(ctx, acct.ID)
				}
				return st, nil
			}
			stale = st.Version // newer, but about to expire as well
		}
		if held {
			if !force && c.fresh(st) {
				c.release(ctx, acct.ID)
				return st, nil
			}
			return c.refreshHeld(ctx, acct, st)
		}
		// Another process is refreshing: wait for its pair.
		for {
			t := time.NewTimer(pollInterval)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, ctx.Err(), "kommo: waiting for another process's token refresh")
			}
			cur, err := c.tokens.FindToken(ctx, acct.ID)
			if err != nil {
				return nil, storeError(err)
			}
			cur.AccountID = acct.ID
			if cur.Version != stale && (force || c.fresh(cur)) {
				return cur, nil
			}
			if cur.Version != stale || cur.LeaseOwner == "" || !c.now().Before(cur.LeaseUntil) {
				break // lease released or expired: try to take it
			}
		}
	}
}

// refreshHeld refreshes st while holding the lease.
func (c *Client) refreshHeld(ctx context.Context, acct *callbridge.Account, st *callbridge.Token) (*callbridge.Token, error) {
	base, err := c.baseURL(acct)
	if err != nil {
		c.release(ctx, acct.ID)
		return nil, err
	}
	// Finish before the lease expires, so that no other process refreshes
	// with the same refresh token meanwhile.
	rctx, cancel := context.WithTimeout(ctx, c.cfg.LeaseTTL*9/10)
	nt, err := c.postToken(rctx, acct.ID, base, map[string]string{
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"grant_type":    "refresh_token",
		"refresh_token": st.RefreshToken,
		"redirect_uri":  c.cfg.RedirectURI,
	})
	cancel()
	if err != nil {
		c.release(ctx, acct.ID)
		if errors.Is(err, errTokenRefused) {
			// Another process may have refreshed with this token and stored
			// its pair after we read ours.
			if cur, ferr := c.tokens.FindToken(ctx, acct.ID); ferr == nil && cur.Version != st.Version {
				c.log.InfoContext(ctx, "kommo: refresh token already used; adopting the pair another process stored", "account", acct.ID)
				cur.AccountID = acct.ID
				return cur, nil
			}
			c.log.ErrorContext(ctx, "kommo: Kommo revoked the account's refresh token; the integration must be reinstalled",
				"account", acct.ID, "error", err)
			return nil, &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Kind: callbridge.KindPermanent,
				Message: "Kommo revoked the account's authorization: the integration must be reinstalled", Err: err}
		}
		// No new pair was received (or it was lost): Kommo keeps the old
		// refresh token valid until the new one is used, so retry later.
		c.log.WarnContext(ctx, "kommo: token refresh failed; will retry with the same refresh token", "account", acct.ID, "error", err)
		if e, ok := errors.AsType[*callbridge.Error](err); ok && e.Kind == callbridge.KindUncertain {
			return nil, &callbridge.Error{Code: e.Code, Kind: callbridge.KindTransient, Message: e.Message, Err: e.Err}
		}
		return nil, err
	}
	nt.AccountID = acct.ID
	// Persist even if the caller went away: the new pair is the only valid one
	// once used.
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer scancel()
	for attempt := 0; ; attempt++ {
		err = c.tokens.RotateToken(sctx, nt, st.Version)
		if err == nil {
			c.log.InfoContext(ctx, "kommo: access token refreshed", "account", acct.ID, "version", nt.Version, "expires_at", nt.ExpiresAt)
			return nt, nil
		}
		if callbridge.ErrorCode(err) == callbridge.ECONFLICT {
			// Someone stored a pair after our lease lapsed; use theirs.
			c.release(sctx, acct.ID)
			cur, ferr := c.tokens.FindToken(sctx, acct.ID)
			if ferr != nil {
				return nil, storeError(ferr)
			}
			c.log.WarnContext(ctx, "kommo: another process stored a pair during our refresh; adopting it", "account", acct.ID)
			cur.AccountID = acct.ID
			return cur, nil
		}
		if attempt == 2 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	c.release(sctx, acct.ID)
	c.log.ErrorContext(ctx, "kommo: cannot store the refreshed pair; discarding it", "account", acct.ID, "error", err)
	return nil, callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: cannot store the refreshed token")
}

func (c *Client) release(ctx context.Context, accountID int64) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := c.tokens.ReleaseRefreshLease(rctx, accountID, c.owner); err != nil {
		c.log.WarnContext(ctx, "kommo: cannot release the refresh lease", "account", accountID, "error", err)
	}
}

// storeError maps a TokenStore error: a missing pair means the account must
// install again; anything else is passed on (the job system retries it).
func storeError(err error) error {
	if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
		return &callbridge.Error{Code: callbridge.EUNAUTHORIZED, Kind: callbridge.KindPermanent,
			Message: "no Kommo authorization is stored for the account", Err: err}
	}
	if _, ok := errors.AsType[*callbridge.Error](err); ok {
		return err
	}
	return callbridge.Transient(callbridge.EUNAVAILABLE, 0, err, "kommo: token store unavailable")
}
