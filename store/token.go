package store

import (
	"context"
	"errors"
	"time"

	"callbridge"
)

// FindToken implements callbridge.Queries.
func (q *queries) FindToken(ctx context.Context, accountID int64) (*callbridge.Token, error) {
	var t callbridge.Token
	var access, refresh string
	err := q.tx.QueryRow(ctx, `
		SELECT account_id, access_token, refresh_token, expires_at, version, lease_owner, lease_until, updated_at
		FROM tokens WHERE account_id = $1`, accountID).
		Scan(&t.AccountID, &access, &refresh, tm(&t.ExpiresAt), &t.Version, &t.LeaseOwner, tm(&t.LeaseUntil), tm(&t.UpdatedAt))
	if err != nil {
		return nil, dbError(err, "Token")
	}
	if t.AccessToken, err = q.db.open(access); err != nil {
		return nil, err
	}
	if t.RefreshToken, err = q.db.open(refresh); err != nil {
		return nil, err
	}
	return &t, nil
}

// SaveToken implements callbridge.Queries. It returns ENOTFOUND when the
// account does not exist.
func (q *queries) SaveToken(ctx context.Context, t *callbridge.Token) error {
	if err := q.accountExists(ctx, t.AccountID); err != nil {
		return err
	}
	var version int64
	err := q.tx.QueryRow(ctx, `
		INSERT INTO tokens (account_id, access_token, refresh_token, expires_at, version, lease_owner, lease_until, updated_at)
		VALUES ($1, $2, $3, $4, 1, '', NULL, $5)
		ON CONFLICT (account_id) DO UPDATE SET
			access_token = excluded.access_token,
			refresh_token = excluded.refresh_token,
			expires_at = excluded.expires_at,
			version = tokens.version + 1,
			lease_owner = '',
			lease_until = NULL,
			updated_at = excluded.updated_at
		RETURNING version`,
		t.AccountID, q.db.seal(t.AccessToken), q.db.seal(t.RefreshToken), usec(t.ExpiresAt), q.now.UnixMicro()).Scan(&version)
	if err != nil {
		return dbError(err, "Token")
	}
	t.Version, t.LeaseOwner, t.LeaseUntil, t.UpdatedAt = version, "", time.Time{}, q.now
	return nil
}

// AcquireRefreshLease implements callbridge.Queries. An owner that already
// holds the lease acquires it again (its lease is extended to until). It
// returns ENOTFOUND when the account has no token.
func (q *queries) AcquireRefreshLease(ctx context.Context, accountID int64, owner string, now, until time.Time) (*callbridge.Token, bool, error) {
	if owner == "" {
		return nil, false, invalid("Lease owner is required.")
	}
	n, err := q.tx.Exec(ctx, `
		UPDATE tokens SET lease_owner = $2, lease_until = $3
		WHERE account_id = $1
		  AND (lease_owner = '' OR lease_owner = $2 OR lease_until IS NULL OR lease_until <= $4)`,
		accountID, owner, usec(until), now.UnixMicro())
	if err != nil {
		return nil, false, dbError(err, "Token")
	}
	t, err := q.FindToken(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	return t, n == 1, nil
}

// RotateToken implements callbridge.Queries. It returns ENOTFOUND when the
// account has no token.
func (q *queries) RotateToken(ctx context.Context, t *callbridge.Token, prevVersion int64) error {
	var version int64
	err := q.tx.QueryRow(ctx, `
		UPDATE tokens SET
			access_token = $3,
			refresh_token = $4,
			expires_at = $5,
			version = version + 1,
			lease_owner = '',
			lease_until = NULL,
			updated_at = $6
		WHERE account_id = $1 AND version = $2
		RETURNING version`,
		t.AccountID, prevVersion, q.db.seal(t.AccessToken), q.db.seal(t.RefreshToken), usec(t.ExpiresAt), q.now.UnixMicro()).Scan(&version)
	if err == nil {
		t.Version, t.LeaseOwner, t.LeaseUntil, t.UpdatedAt = version, "", time.Time{}, q.now
		return nil
	}
	if !errors.Is(err, ErrNoRows) {
		return dbError(err, "Token")
	}
	var exists int
	if err := q.tx.QueryRow(ctx, `SELECT 1 FROM tokens WHERE account_id = $1`, t.AccountID).Scan(&exists); err != nil {
		return dbError(err, "Token")
	}
	return callbridge.Errorf(callbridge.ECONFLICT, "Token was changed by another process.")
}

// ReleaseRefreshLease implements callbridge.Queries.
func (q *queries) ReleaseRefreshLease(ctx context.Context, accountID int64, owner string) error {
	_, err := q.tx.Exec(ctx, `UPDATE tokens SET lease_owner = '', lease_until = NULL WHERE account_id = $1 AND lease_owner = $2`, accountID, owner)
	return dbError(err, "Token")
}
