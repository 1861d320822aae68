-- The column "user" is renamed jid: USER is a reserved word in PostgreSQL,
-- where it silently means the session's role name unless quoted. Both
-- dialects name it jid from here on.
ALTER TABLE last_writer RENAME COLUMN user TO jid; -- only: sqlite
ALTER TABLE links RENAME COLUMN user TO jid; -- only: sqlite
ALTER TABLE link_codes RENAME COLUMN user TO jid; -- only: sqlite
ALTER TABLE last_writer RENAME COLUMN "user" TO jid; -- only: postgres
ALTER TABLE links RENAME COLUMN "user" TO jid; -- only: postgres
ALTER TABLE link_codes RENAME COLUMN "user" TO jid; -- only: postgres
