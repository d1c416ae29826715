-- Call lists of the Kommo widget (callbridge.CallList). Entries are a JSON
-- array of callbridge.CallListEntry. Keep in step with
-- ../../postgres/migrations/00002_call_lists.sql.

-- +goose Up
CREATE TABLE call_lists (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL, -- Kommo user id
    name       TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    interval_s INTEGER NOT NULL DEFAULT 0,
    entries    TEXT    NOT NULL, -- JSON array
    version    INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX call_lists_user_idx ON call_lists (account_id, user_id, status, id);

-- +goose Down
DROP TABLE call_lists;
