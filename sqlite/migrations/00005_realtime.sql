-- The widget's realtime channel across replicas (http.Realtime with a
-- Store): which Kommo users hold a widget connection on which replica, and
-- the one-time claims that make a realtime ticket single-use and a call's
-- Kommo fallback notification (POST /api/v2/events) decided once. Both are
-- short-lived: rows carry their expiry (unix microseconds, the replicas'
-- clocks) and any replica purges expired ones. Keep in step with
-- ../../postgres/migrations/00005_realtime.sql.

-- +goose Up
CREATE TABLE realtime_presence (
    account_id INTEGER NOT NULL, -- our account id
    user_id    INTEGER NOT NULL, -- Kommo user id
    replica    TEXT    NOT NULL, -- the process holding the connection(s)
    expires_at INTEGER NOT NULL, -- refreshed by the replica's heartbeat
    PRIMARY KEY (account_id, user_id, replica)
);
CREATE INDEX realtime_presence_replica_idx ON realtime_presence (replica);
CREATE INDEX realtime_presence_expires_idx ON realtime_presence (expires_at);

CREATE TABLE realtime_claims (
    key        TEXT    PRIMARY KEY, -- e.g. 'ticket:<nonce>', 'fallback:<call id>'
    expires_at INTEGER NOT NULL
);
CREATE INDEX realtime_claims_expires_idx ON realtime_claims (expires_at);

-- +goose Down
DROP TABLE realtime_claims;
DROP TABLE realtime_presence;
