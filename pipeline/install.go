package pipeline

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"callbridge"
	"callbridge/kommo"
)

// CodeLifetime is how long Kommo's authorization codes can be exchanged.
const CodeLifetime = 20 * time.Minute

// Exchanger is what installation needs of Kommo (implemented by *kommo.Client).
type Exchanger interface {
	ExchangeCode(ctx context.Context, referer, code string) (*callbridge.Token, string, error)
	AccountInfo(ctx context.Context, baseURL, accessToken string) (*kommo.AccountInfo, error)
}

// InstallWorker exchanges a persisted authorization code for tokens and
// creates or updates the account. The code was stored by the install hook
// before it answered Kommo, so a slow exchange never loses an installation.
type InstallWorker struct {
	river.WorkerDefaults[callbridge.InstallArgs]

	Store callbridge.Store
	Kommo Exchanger
	// Hooks, when set, registers the new account's Kommo webhook (best
	// effort: the periodic maintenance tries again).
	Hooks  *Hooks
	Now    func() time.Time
	Logger *slog.Logger
}

// Work implements river.Worker.
func (w *InstallWorker) Work(ctx context.Context, job *river.Job[callbridge.InstallArgs]) error {
	log := w.Logger
	if log == nil {
		log = slog.Default()
	}
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	code, err := w.Store.FindInstallCode(ctx, job.Args.CodeID)
	if err != nil {
		if callbridge.ErrorCode(err) == callbridge.ENOTFOUND {
			return river.JobCancel(err)
		}
		return err
	}
	if code.Status == "done" || code.Status == "failed" {
		return nil
	}
	giveUp := func(err error) error {
		log.Error("install failed", "code_id", code.ID, "referer", code.Referer, "error", err)
		if ferr := w.Store.FinishInstallCode(ctx, code.ID, "failed", callbridge.ErrorMessage(err), 0); ferr != nil {
			return ferr
		}
		return river.JobCancel(err)
	}
	if now.Sub(code.CreatedAt) > CodeLifetime {
		return giveUp(callbridge.Errorf(callbridge.EGONE, "The authorization code expired before it could be exchanged."))
	}
	tok, baseURL, err := w.Kommo.ExchangeCode(ctx, code.Referer, code.Code)
	if err != nil {
		if callbridge.ErrorKind(err) == callbridge.KindPermanent {
			return giveUp(err)
		}
		return err
	}
	// The code is spent now: a failure below cannot be retried by exchanging
	// it again, so the account lookup is retried here, within the job.
	var info *kommo.AccountInfo
	for attempt := 0; ; attempt++ {
		info, err = w.Kommo.AccountInfo(ctx, baseURL, tok.AccessToken)
		if err == nil {
			break
		}
		if callbridge.ErrorKind(err) == callbridge.KindPermanent || attempt == 5 {
			return giveUp(err)
		}
		wait := max(callbridge.RetryAfter(err), time.Duration(1<<attempt)*time.Second)
		select {
		case <-ctx.Done():
			return giveUp(ctx.Err())
		case <-time.After(min(wait, 30*time.Second)):
		}
	}
	var acctID int64
	err = w.Store.InTx(ctx, func(q callbridge.Queries) error {
		acct := &callbridge.Account{KommoID: info.ID, Subdomain: info.Subdomain, BaseURL: baseURL, Status: callbridge.AccountActive}
		if err := q.UpsertAccount(ctx, acct); err != nil {
			return err
		}
		tok.AccountID = acct.ID
		if err := q.SaveToken(ctx, tok); err != nil {
			return err
		}
		acctID = acct.ID
		return q.FinishInstallCode(ctx, code.ID, "done", "", acct.ID)
	})
	if err != nil {
		return err
	}
	log.Info("account installed", "account_id", acctID, "kommo_account_id", info.ID, "subdomain", info.Subdomain)
	if w.Hooks != nil {
		if acct, err := w.Store.FindAccount(ctx, acctID); err == nil {
			if err := w.Hooks.Ensure(ctx, acct); err != nil {
				log.Warn("Kommo webhook not registered; incoming leads are polled instead", "account_id", acctID,
					"error", callbridge.ErrorMessage(err))
			}
		}
	}
	return nil
}
