-- Lines of call-note texts callbridge sent without learning whether Kommo
-- applied them (callbridge.KommoRecord.Unconfirmed): the next update must
-- recognise them as its own, not as a manager's edit. Keep in step with
-- ../../postgres/migrations/00006_kommo_unconfirmed.sql.

-- +goose Up
ALTER TABLE calls ADD COLUMN kommo_unconfirmed TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE calls DROP COLUMN kommo_unconfirmed;
