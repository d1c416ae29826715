-- The call-handling rules' state per call (callbridge.CallRules as JSON) and
-- the AI artifacts of events. rules_due_at is CallRules.DueAt, for the sweep
-- that wakes calls whose rules are due. Keep in step with
-- ../../sqlite/migrations/00004_call_rules.sql.

-- +goose Up
ALTER TABLE calls ADD COLUMN rules TEXT; -- JSON callbridge.CallRules; NULL = none yet
ALTER TABLE calls ADD COLUMN rules_due_at BIGINT;
CREATE INDEX calls_rules_due_idx ON calls (rules_due_at) WHERE rules_due_at IS NOT NULL;
CREATE INDEX calls_unsorted_uid_idx ON calls (account_id, kommo_unsorted_uid) WHERE kommo_unsorted_uid <> '';
ALTER TABLE events ADD COLUMN ai_summary TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN transcript TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE events DROP COLUMN transcript;
ALTER TABLE events DROP COLUMN ai_summary;
DROP INDEX calls_unsorted_uid_idx;
DROP INDEX calls_rules_due_idx;
ALTER TABLE calls DROP COLUMN rules_due_at;
ALTER TABLE calls DROP COLUMN rules;
