-- callbridge schema for SQLite. Times are unix microseconds (UTC), NULL for
-- "never"; booleans are 0/1; JSON is TEXT; columns noted "sealed" hold
-- secret.Box output. Keep in step with ../../postgres/migrations.

-- +goose Up
CREATE TABLE accounts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kommo_id   INTEGER NOT NULL UNIQUE,
    subdomain  TEXT    NOT NULL DEFAULT '',
    base_url   TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL,
    settings   TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE tokens (
    account_id    INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    access_token  TEXT    NOT NULL, -- sealed
    refresh_token TEXT    NOT NULL, -- sealed
    expires_at    INTEGER,
    version       INTEGER NOT NULL,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE install_codes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT    NOT NULL, -- sealed
    referer     TEXT    NOT NULL DEFAULT '',
    state       TEXT    NOT NULL DEFAULT '',
    from_widget INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL DEFAULT 'pending',
    error       TEXT    NOT NULL DEFAULT '',
    account_id  INTEGER REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE connections (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider    TEXT    NOT NULL,
    name        TEXT    NOT NULL DEFAULT '',
    token_hash  TEXT    NOT NULL UNIQUE, -- hex(sha256(token))
    token       TEXT    NOT NULL,        -- sealed
    time_zone   TEXT    NOT NULL DEFAULT 'UTC',
    credentials TEXT    NOT NULL,        -- sealed JSON object
    created_at  INTEGER NOT NULL
);
CREATE INDEX connections_account_id_idx ON connections (account_id, id);

CREATE TABLE calls (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    uid                  TEXT    NOT NULL UNIQUE,
    account_id           INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id        INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    provider_call_id     TEXT    NOT NULL,
    direction            TEXT    NOT NULL DEFAULT '',
    status               TEXT    NOT NULL DEFAULT '',
    ended                INTEGER NOT NULL DEFAULT 0,
    customer_number      TEXT    NOT NULL DEFAULT '',
    customer_tail        TEXT    NOT NULL DEFAULT '', -- last 10 digits, for search
    line_number          TEXT    NOT NULL DEFAULT '',
    agent                TEXT    NOT NULL DEFAULT '',
    duration             INTEGER NOT NULL DEFAULT 0,
    started_at           INTEGER,
    answered_at          INTEGER,
    ended_at             INTEGER,
    recording_id         TEXT    NOT NULL DEFAULT '',
    recording_url        TEXT    NOT NULL DEFAULT '',
    result               TEXT, -- JSON CallResult
    version              INTEGER NOT NULL DEFAULT 0,
    kommo_state          TEXT    NOT NULL DEFAULT '',
    kommo_attempt        INTEGER NOT NULL DEFAULT 0,
    kommo_intent_at      INTEGER,
    kommo_entity_type    TEXT    NOT NULL DEFAULT '',
    kommo_entity_id      INTEGER NOT NULL DEFAULT 0,
    kommo_note_id        INTEGER NOT NULL DEFAULT 0,
    kommo_unsorted_uid   TEXT    NOT NULL DEFAULT '',
    kommo_text           TEXT    NOT NULL DEFAULT '',
    kommo_call_status    INTEGER NOT NULL DEFAULT 0,
    kommo_duration       INTEGER NOT NULL DEFAULT 0,
    kommo_link           TEXT    NOT NULL DEFAULT '',
    kommo_synced_version INTEGER NOT NULL DEFAULT 0,
    kommo_synced_at      INTEGER,
    kommo_last_error     TEXT    NOT NULL DEFAULT '',
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    UNIQUE (connection_id, provider_call_id)
);
CREATE INDEX calls_account_id_idx ON calls (account_id, id);
CREATE INDEX calls_customer_tail_idx ON calls (account_id, customer_tail, id);

CREATE TABLE events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id         INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    connection_id      INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    event_type         TEXT    NOT NULL,
    event_key          TEXT    NOT NULL,
    provider_call_id   TEXT    NOT NULL,
    leg_id             TEXT    NOT NULL DEFAULT '',
    child              INTEGER NOT NULL DEFAULT 0,
    status             TEXT    NOT NULL DEFAULT '',
    direction          TEXT    NOT NULL DEFAULT '',
    customer_number    TEXT    NOT NULL DEFAULT '',
    line_number        TEXT    NOT NULL DEFAULT '',
    agent              TEXT    NOT NULL DEFAULT '',
    duration           INTEGER NOT NULL DEFAULT 0,
    recording_id       TEXT    NOT NULL DEFAULT '',
    recording_url      TEXT    NOT NULL DEFAULT '',
    recording_duration INTEGER NOT NULL DEFAULT 0,
    result             TEXT, -- JSON CallResult
    occurred_at        INTEGER,
    seq                INTEGER NOT NULL DEFAULT 0,
    received_at        INTEGER,
    payload            BLOB    NOT NULL, -- at most 16 KiB, credentials redacted
    UNIQUE (connection_id, event_key)
);
CREATE INDEX events_call_idx ON events (connection_id, provider_call_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE calls;
DROP TABLE connections;
DROP TABLE install_codes;
DROP TABLE tokens;
DROP TABLE accounts;
