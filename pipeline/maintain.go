package pipeline

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
)

// DefaultHistoryWindow is how far back reconciliation reads providers' call
// history on each run.
const DefaultHistoryWindow = 2 * time.Hour

// MaintainInterval is how often the leader runs MaintainWorker.
const MaintainInterval = 10 * time.Minute

// MaintainWorker keeps every connection of every active account healthy:
//
//   - reconciliation: calls from the provider's call history (HistoryLister)
//     are ingested like webhooks. They name the same provider call ids, so a
//     call seen both ways is still one call, logged once; a call whose
//     webhooks were lost is logged now.
//   - subscriptions: providers that deliver webhooks through an API
//     subscription (WebhookSubscriber) get it created or renewed.
//   - Kommo webhooks: each account's account webhook for incoming leads
//     (Hooks) is registered when missing.
//
// A failure on one connection is logged and does not stop the others.
type MaintainWorker struct {
	river.WorkerDefaults[callbridge.MaintainArgs]

	Store      callbridge.Store
	Ingester   *Ingester
	Connectors map[string]callbridge.Connector
	PublicURL  string
	// HistoryWindow is how far back to read; default DefaultHistoryWindow.
	HistoryWindow time.Duration
	// Hooks, when set, registers the accounts' Kommo webhooks.
	Hooks  *Hooks
	Now    func() time.Time
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *MaintainWorker) Work(ctx context.Context, job *river.Job[callbridge.MaintainArgs]) error {
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	window := w.HistoryWindow
	if window <= 0 {
		window = DefaultHistoryWindow
	}
	accounts, err := w.Store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	for _, acct := range accounts {
		if !acct.Active() {
			continue
		}
		if err := w.Hooks.Ensure(ctx, acct); err != nil {
			log.Warn("maintain: Kommo webhook not registered; incoming leads are polled instead", "account_id", acct.ID,
				"error", callbridge.ErrorMessage(err))
		}
		conns, err := w.Store.ListConnections(ctx, acct.ID)
		if err != nil {
			return err
		}
		for _, conn := range conns {
			c := w.Connectors[conn.Provider]
			if c == nil {
				continue
			}
			if s, ok := c.(callbridge.WebhookSubscriber); ok {
				url := strings.TrimRight(w.PublicURL, "/") + "/webhooks/" + conn.Token
				if err := s.EnsureWebhook(ctx, conn, url); err != nil {
					log.Warn("maintain: webhook subscription failed", "account_id", acct.ID, "connection_id", conn.ID, "error", err)
				}
			}
			if h, ok := c.(callbridge.HistoryLister); ok {
				n, err := w.reconcile(ctx, h, conn, now.Add(-window), now)
				if err != nil {
					log.Warn("maintain: reconciliation failed", "account_id", acct.ID, "connection_id", conn.ID, "error", err)
				} else if n > 0 {
					log.Info("maintain: reconciled call history", "account_id", acct.ID, "connection_id", conn.ID, "events", n)
				}
			}
		}
	}
	return nil
}

// reconcile ingests one connection's call history between since and until.
func (w *MaintainWorker) reconcile(ctx context.Context, h callbridge.HistoryLister, conn *callbridge.Connection, since, until time.Time) (int, error) {
	events, err := h.ListCallHistory(ctx, conn, since, until)
	if err != nil || len(events) == 0 {
		return 0, err
	}
	for i := range events {
		if events[i].ReceivedAt.IsZero() {
			events[i].ReceivedAt = until
		}
	}
	return len(events), w.Ingester.Ingest(ctx, conn, events)
}
