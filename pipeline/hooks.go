package pipeline

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"callbridge"
	"callbridge/kommo"
)

// HookEvents are the Kommo account events callbridge subscribes to:
// "delete_unsorted", an incoming lead accepted or declined.
var HookEvents = []string{"delete_unsorted"}

// DefaultHookCheck is Hooks.Every when 0.
const DefaultHookCheck = 24 * time.Hour

// HookKommo is what Hooks needs of Kommo (implemented by *kommo.Client).
type HookKommo interface {
	ListWebhooks(ctx context.Context, acct *callbridge.Account, destination string) ([]kommo.Webhook, error)
	AddWebhook(ctx context.Context, acct *callbridge.Account, destination string, events []string) (*kommo.Webhook, error)
}

// Hooks registers each account's Kommo webhook for HookEvents at
// callbridge.HookURL(PublicURL, Key, account id), where the http package's
// KommoHook receives it. Kommo allows webhooks to administrators (and on
// its Advanced and Enterprise plans): when it refuses, the incoming lead's
// outcome is learnt by polling instead. The install job and the periodic
// maintenance call Ensure; it is safe for concurrent use.
type Hooks struct {
	Kommo     HookKommo
	PublicURL string
	// Key authenticates hook tokens (callbridge.SignHookToken); the HTTP
	// hook handler must use the same key.
	Key []byte
	// Every is how often one account's registration is checked again
	// (default DefaultHookCheck); a refusal is not retried sooner either.
	Every  time.Duration
	Now    func() time.Time
	Logger *slog.Logger

	mu      sync.Mutex
	checked map[int64]time.Time
}

// Ensure makes sure acct's webhook is registered, checking at most once per
// Every. A nil Hooks, or one without Kommo, PublicURL or Key, does nothing.
func (h *Hooks) Ensure(ctx context.Context, acct *callbridge.Account) error {
	if h == nil || h.Kommo == nil || h.PublicURL == "" || len(h.Key) == 0 || acct == nil || !acct.Active() {
		return nil
	}
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	every := h.Every
	if every <= 0 {
		every = DefaultHookCheck
	}
	h.mu.Lock()
	if h.checked == nil {
		h.checked = map[int64]time.Time{}
	}
	if at, ok := h.checked[acct.ID]; ok && now.Sub(at) < every {
		h.mu.Unlock()
		return nil
	}
	h.checked[acct.ID] = now
	h.mu.Unlock()

	url := callbridge.HookURL(h.PublicURL, h.Key, acct.ID)
	hooks, err := h.Kommo.ListWebhooks(ctx, acct, url)
	if err != nil {
		h.forget(acct.ID, err)
		return err
	}
	for _, w := range hooks {
		if w.Destination == url && !w.Disabled && !slices.ContainsFunc(HookEvents, func(e string) bool { return !slices.Contains(w.Settings, e) }) {
			return nil
		}
	}
	if _, err := h.Kommo.AddWebhook(ctx, acct, url, HookEvents); err != nil {
		h.forget(acct.ID, err)
		return err
	}
	if h.Logger != nil {
		h.Logger.Info("kommo webhook registered", "account_id", acct.ID, "events", HookEvents)
	}
	return nil
}

// forget lets a check that failed for a passing reason run again soon.
func (h *Hooks) forget(accountID int64, err error) {
	if callbridge.ErrorKind(err) == callbridge.KindPermanent {
		return // e.g. not an administrator: wait for the next period
	}
	h.mu.Lock()
	delete(h.checked, accountID)
	h.mu.Unlock()
}
