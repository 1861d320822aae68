-- The column "user" is renamed jid: USER is a reserved word in PostgreSQL,
-- where it silently means the session's role name unless quoted. Both
-- dialects name it jid from here on.
ALTER TABLE last_writer RENAME COLUMN user TO jid;
ALTER TABLE links RENAME COLUMN user TO jid;
ALTER TABLE link_codes RENAME COLUMN user TO jid;
