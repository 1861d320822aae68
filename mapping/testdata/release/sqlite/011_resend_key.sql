-- The resend window's key of a message sent (see mapping/resend.go), so
-- that a store that keeps the window in memory can rebuild it at open;
-- '' when the message had no stanza id.
ALTER TABLE sent ADD COLUMN resend_key TEXT NOT NULL DEFAULT '';
