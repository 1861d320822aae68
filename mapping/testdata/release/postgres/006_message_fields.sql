-- XEP-0461 replies (the stanza id replied to, and the quoted fallback text),
-- XEP-0066 media URLs (one per line) and XEP-0424 retractions (the stanza id
-- of the message to delete).
ALTER TABLE outbox ADD COLUMN reply_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN quote TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN media TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN retracts TEXT NOT NULL DEFAULT '';
