package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"callbridge"
)

const connectionColumns = `id, account_id, provider, name, token, time_zone, credentials, created_at`

// tokenHash is the lookup key of a webhook token: hex(sha256(token)).
func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func (q *queries) scanConnection(r interface{ Scan(...any) error }) (*callbridge.Connection, error) {
	var c callbridge.Connection
	var token, creds string
	if err := r.Scan(&c.ID, &c.AccountID, &c.Provider, &c.Name, &token, &c.TimeZone, &creds, tm(&c.CreatedAt)); err != nil {
		return nil, err
	}
	var err error
	if c.Token, err = q.db.open(token); err != nil {
		return nil, err
	}
	plain, err := q.db.open(creds)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(plain), &c.Credentials); err != nil {
		return nil, fmt.Errorf("connection %d credentials: %w", c.ID, err)
	}
	return &c, nil
}

// CreateConnection implements callbridge.Queries. A generated token is 32
// random bytes in unpadded base64url. An empty TimeZone is stored as "UTC".
// It returns ENOTFOUND when the account does not exist and ECONFLICT when the
// token is already in use.
func (q *queries) CreateConnection(ctx context.Context, c *callbridge.Connection) error {
	if c.Provider == "" {
		return invalid("Provider is required.")
	}
	if err := q.accountExists(ctx, c.AccountID); err != nil {
		return err
	}
	if c.Token == "" {
		var b [32]byte
		rand.Read(b[:])
		c.Token = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	creds, err := q.sealCredentials(c.Credentials)
	if err != nil {
		return err
	}
	err = q.tx.QueryRow(ctx, `
		INSERT INTO connections (account_id, provider, name, token_hash, token, time_zone, credentials, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		RETURNING id`,
		c.AccountID, c.Provider, c.Name, tokenHash(c.Token), q.db.seal(c.Token), c.TimeZone, creds, q.now.UnixMicro()).Scan(&c.ID)
	if err != nil {
		return dbError(err, "Connection")
	}
	c.CreatedAt = q.now
	return nil
}

// UpdateConnection implements callbridge.Queries. An empty TimeZone is
// stored as "UTC".
func (q *queries) UpdateConnection(ctx context.Context, c *callbridge.Connection) error {
	if c.TimeZone == "" {
		c.TimeZone = "UTC"
	}
	creds, err := q.sealCredentials(c.Credentials)
	if err != nil {
		return err
	}
	var token string
	err = q.tx.QueryRow(ctx, `
		UPDATE connections SET name = $1, time_zone = $2, credentials = $3
		WHERE id = $4 AND account_id = $5
		RETURNING token`,
		c.Name, c.TimeZone, creds, c.ID, c.AccountID).Scan(&token)
	if err != nil {
		return dbError(err, "Connection")
	}
	if c.Token, err = q.db.open(token); err != nil {
		return err
	}
	return nil
}

// sealCredentials encodes credentials (nil as {}) and encrypts them for
// the credentials column.
func (q *queries) sealCredentials(creds map[string]string) (string, error) {
	if creds == nil {
		creds = map[string]string{}
	}
	b, err := json.Marshal(creds)
	if err != nil {
		return "", err
	}
	return q.db.seal(string(b)), nil
}

// FindConnection implements callbridge.Queries.
func (q *queries) FindConnection(ctx context.Context, accountID, id int64) (*callbridge.Connection, error) {
	c, err := q.scanConnection(q.tx.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1 AND account_id = $2`, id, accountID))
	return c, dbError(err, "Connection")
}

// FindConnectionByToken implements callbridge.Queries.
func (q *queries) FindConnectionByToken(ctx context.Context, token string) (*callbridge.Connection, error) {
	if token == "" {
		return nil, notFound("Connection")
	}
	c, err := q.scanConnection(q.tx.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE token_hash = $1`, tokenHash(token)))
	if err != nil {
		return nil, dbError(err, "Connection")
	}
	if subtle.ConstantTimeCompare([]byte(c.Token), []byte(token)) != 1 {
		return nil, notFound("Connection")
	}
	return c, nil
}

// ListConnections implements callbridge.Queries.
func (q *queries) ListConnections(ctx context.Context, accountID int64) ([]*callbridge.Connection, error) {
	rows, err := q.tx.Query(ctx, `SELECT `+connectionColumns+` FROM connections WHERE account_id = $1 ORDER BY id`, accountID)
	if err != nil {
		return nil, dbError(err, "Connections")
	}
	return collect(rows, "Connections", q.scanConnection)
}

// connectionInAccount returns ENOTFOUND unless connection id belongs to
// accountID.
func (q *queries) connectionInAccount(ctx context.Context, accountID, id int64) error {
	var one int
	err := q.tx.QueryRow(ctx, `SELECT 1 FROM connections WHERE id = $1 AND account_id = $2`, id, accountID).Scan(&one)
	return dbError(err, "Connection")
}
