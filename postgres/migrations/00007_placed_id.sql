-- The id a provider's call-placing API answered for a call whose webhooks
-- name it otherwise (callbridge.Call.PlacedID, e.g. Plivo's request_uuid):
-- a result the widget saves against that id reaches the call. Keep in step
-- with ../../sqlite/migrations/00007_placed_id.sql.

-- +goose Up
ALTER TABLE calls ADD COLUMN placed_id TEXT NOT NULL DEFAULT '';
CREATE INDEX calls_placed_idx ON calls (connection_id, placed_id) WHERE placed_id <> '';

-- +goose Down
DROP INDEX calls_placed_idx;
ALTER TABLE calls DROP COLUMN placed_id;
