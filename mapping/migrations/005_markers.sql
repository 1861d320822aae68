-- The sender marked the message XEP-0333 markable: the "received" chat
-- marker goes with the XEP-0184 receipt.
ALTER TABLE outbox ADD COLUMN markable INTEGER NOT NULL DEFAULT 0; -- only: sqlite
ALTER TABLE sent ADD COLUMN markable INTEGER NOT NULL DEFAULT 0; -- only: sqlite
ALTER TABLE outbox ADD COLUMN markable BOOLEAN NOT NULL DEFAULT FALSE; -- only: postgres
ALTER TABLE sent ADD COLUMN markable BOOLEAN NOT NULL DEFAULT FALSE; -- only: postgres
