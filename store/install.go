package store

import (
	"context"

	"callbridge"
)

// Install code statuses.
const (
	installPending = "pending"
	installDone    = "done"
	installFailed  = "failed"
)

// CreateInstallCode implements callbridge.Queries. An empty Status is stored
// as "pending". It also sets c.CreatedAt.
func (q *queries) CreateInstallCode(ctx context.Context, c *callbridge.InstallCode) error {
	if c.Code == "" {
		return invalid("Authorization code is required.")
	}
	if c.Status == "" {
		c.Status = installPending
	}
	err := q.tx.QueryRow(ctx, `
		INSERT INTO install_codes (code, referer, state, from_widget, status, error, account_id, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
		RETURNING id`,
		q.db.seal(c.Code), c.Referer, c.State, c.FromWidget, c.Status, c.Error, nullInt(c.AccountID), q.now.UnixMicro()).Scan(&c.ID)
	if err != nil {
		return dbError(err, "Install code")
	}
	c.CreatedAt = q.now
	if _, err := q.tx.InsertJob(ctx, callbridge.InstallArgs{CodeID: c.ID}, nil); err != nil {
		return dbError(err, "Install job")
	}
	return nil
}

// FindInstallCode implements callbridge.Queries.
func (q *queries) FindInstallCode(ctx context.Context, id int64) (*callbridge.InstallCode, error) {
	var c callbridge.InstallCode
	var sealed string
	err := q.tx.QueryRow(ctx, `
		SELECT id, code, referer, state, from_widget, status, error, account_id, created_at
		FROM install_codes WHERE id = $1`, id).
		Scan(&c.ID, &sealed, &c.Referer, &c.State, &c.FromWidget, &c.Status, &c.Error, intCol{&c.AccountID}, tm(&c.CreatedAt))
	if err != nil {
		return nil, dbError(err, "Install code")
	}
	if c.Code, err = q.db.open(sealed); err != nil {
		return nil, err
	}
	return &c, nil
}

// FinishInstallCode implements callbridge.Queries. status is "done" or
// "failed"; accountID is 0 when no account was created.
func (q *queries) FinishInstallCode(ctx context.Context, id int64, status, errMsg string, accountID int64) error {
	switch status {
	case installPending, installDone, installFailed:
	default:
		return invalid("Unknown install status %q.", status)
	}
	if accountID != 0 {
		if err := q.accountExists(ctx, accountID); err != nil {
			return err
		}
	}
	n, err := q.tx.Exec(ctx, `
		UPDATE install_codes SET status = $2, error = $3, account_id = $4, updated_at = $5 WHERE id = $1`,
		id, status, errMsg, nullInt(accountID), q.now.UnixMicro())
	if err != nil {
		return dbError(err, "Install code")
	}
	if n == 0 {
		return notFound("Install code")
	}
	return nil
}
