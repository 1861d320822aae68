-- PostgreSQL twin of sqlite/010_message_refs.sql.
ALTER TABLE outbox ADD COLUMN origin_id TEXT NOT NULL DEFAULT '';

CREATE TABLE sent_ref (
	transport  TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	sender     TEXT    NOT NULL,
	ref        TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	created    BIGINT  NOT NULL,
	PRIMARY KEY (transport, remote, sender, ref)
);
