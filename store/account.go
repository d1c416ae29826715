package store

import (
	"context"
	"encoding/json"
	"fmt"

	"callbridge"
)

const accountColumns = `id, kommo_id, subdomain, base_url, status, settings, created_at, updated_at`

func scanAccount(r interface{ Scan(...any) error }) (*callbridge.Account, error) {
	var a callbridge.Account
	var settings string
	if err := r.Scan(&a.ID, &a.KommoID, &a.Subdomain, &a.BaseURL, &a.Status, &settings, tm(&a.CreatedAt), tm(&a.UpdatedAt)); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(settings), &a.Settings); err != nil {
		return nil, fmt.Errorf("account %d settings: %w", a.ID, err)
	}
	return &a, nil
}

// UpsertAccount implements callbridge.Queries. An empty Status is stored as
// active. It also sets a.Settings to the stored settings.
func (q *queries) UpsertAccount(ctx context.Context, a *callbridge.Account) error {
	if a.KommoID <= 0 {
		return invalid("Kommo account id is required.")
	}
	switch a.Status {
	case "":
		a.Status = callbridge.AccountActive
	case callbridge.AccountActive, callbridge.AccountDisconnected:
	default:
		return invalid("Unknown account status %q.", a.Status)
	}
	// Zero settings keep the stored ones (or store "{}" for a new account).
	settings, err := json.Marshal(a.Settings)
	if err != nil {
		return err
	}
	zero, _ := json.Marshal(callbridge.Settings{})
	keep := string(settings) == string(zero)
	row := q.tx.QueryRow(ctx, `
		INSERT INTO accounts (kommo_id, subdomain, base_url, status, settings, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (kommo_id) DO UPDATE SET
			subdomain = excluded.subdomain,
			base_url = excluded.base_url,
			status = excluded.status,
			settings = CASE WHEN $7 THEN accounts.settings ELSE excluded.settings END,
			updated_at = excluded.updated_at
		RETURNING `+accountColumns,
		a.KommoID, a.Subdomain, a.BaseURL, string(a.Status), string(settings), q.now.UnixMicro(), keep)
	stored, err := scanAccount(row)
	if err != nil {
		return dbError(err, "Account")
	}
	*a = *stored
	return nil
}

// FindAccount implements callbridge.Queries.
func (q *queries) FindAccount(ctx context.Context, id int64) (*callbridge.Account, error) {
	a, err := scanAccount(q.tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
	return a, dbError(err, "Account")
}

// FindAccountByKommoID implements callbridge.Queries.
func (q *queries) FindAccountByKommoID(ctx context.Context, kommoID int64) (*callbridge.Account, error) {
	a, err := scanAccount(q.tx.QueryRow(ctx, `SELECT `+accountColumns+` FROM accounts WHERE kommo_id = $1`, kommoID))
	return a, dbError(err, "Account")
}

// ListAccounts implements callbridge.Queries.
func (q *queries) ListAccounts(ctx context.Context) ([]*callbridge.Account, error) {
	rows, err := q.tx.Query(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
	if err != nil {
		return nil, dbError(err, "Accounts")
	}
	return collect(rows, "Accounts", scanAccount)
}

// SetAccountStatus implements callbridge.Queries.
func (q *queries) SetAccountStatus(ctx context.Context, id int64, status callbridge.AccountStatus) error {
	switch status {
	case callbridge.AccountActive, callbridge.AccountDisconnected:
	default:
		return invalid("Unknown account status %q.", status)
	}
	n, err := q.tx.Exec(ctx, `UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3`, string(status), q.now.UnixMicro(), id)
	if err != nil {
		return dbError(err, "Account")
	}
	if n == 0 {
		return notFound("Account")
	}
	return nil
}

// UpdateAccountSettings implements callbridge.Queries.
func (q *queries) UpdateAccountSettings(ctx context.Context, id int64, s callbridge.Settings) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	n, err := q.tx.Exec(ctx, `UPDATE accounts SET settings = $1, updated_at = $2 WHERE id = $3`, string(b), q.now.UnixMicro(), id)
	if err != nil {
		return dbError(err, "Account")
	}
	if n == 0 {
		return notFound("Account")
	}
	return nil
}

// accountExists returns ENOTFOUND unless account id exists. Statements that
// reference an account check first, so that a missing account is reported
// without a foreign key violation, which would abort a PostgreSQL
// transaction.
func (q *queries) accountExists(ctx context.Context, id int64) error {
	var one int
	err := q.tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1`, id).Scan(&one)
	return dbError(err, "Account")
}

// collect scans all rows with scan and closes them.
func collect[T any](rows Rows, what string, scan func(interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, dbError(err, what)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err, what)
	}
	return out, nil
}
