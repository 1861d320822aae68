-- The sender marked the message XEP-0333 markable: the "received" chat
-- marker goes with the XEP-0184 receipt.
ALTER TABLE outbox ADD COLUMN markable BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sent ADD COLUMN markable BOOLEAN NOT NULL DEFAULT FALSE;
