-- PostgreSQL twin of sqlite/011_resend_key.sql (a shared store keeps its
-- resend window in the seen table; the column keeps the schemas alike).
ALTER TABLE sent ADD COLUMN resend_key TEXT NOT NULL DEFAULT '';
