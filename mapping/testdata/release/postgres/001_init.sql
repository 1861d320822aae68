-- PostgreSQL twin of sqlite/001_init.sql: same tables, columns and meaning.
-- Integers are BIGINT (SQLite's INTEGER is 64-bit), flags BOOLEAN, blobs
-- BYTEA; an identity column never hands out an id twice, like AUTOINCREMENT.

-- Messages from XMPP waiting to be sent to a provider, in arrival order.
CREATE TABLE outbox (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused: workers resume after the last id seen
	transport  TEXT    NOT NULL,
	sender     TEXT    NOT NULL, -- full JID of the XMPP sender
	account    TEXT    NOT NULL, -- foreign identity to send from
	remote     TEXT    NOT NULL, -- foreign recipient
	body       TEXT    NOT NULL,
	stanza_id  TEXT    NOT NULL,
	receipt    BOOLEAN NOT NULL DEFAULT FALSE, -- the sender asked for XEP-0184
	attempts   BIGINT  NOT NULL DEFAULT 0,
	created    BIGINT  NOT NULL               -- unix milliseconds
);
CREATE INDEX outbox_transport ON outbox (transport, id);

-- Messages a provider accepted, kept to answer its delivery reports.
CREATE TABLE sent (
	transport  TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	sender     TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	stanza_id  TEXT    NOT NULL,
	receipt    BOOLEAN NOT NULL,
	created    BIGINT  NOT NULL,
	PRIMARY KEY (transport, remote_id)
);

-- Stanzas waiting to be written to the XMPP server, in order.
CREATE TABLE to_xmpp (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- never reused: workers resume after the last id seen
	transport  TEXT    NOT NULL,
	stanza     BYTEA   NOT NULL,
	created    BIGINT  NOT NULL
);
CREATE INDEX to_xmpp_transport ON to_xmpp (transport, id);

-- Provider events already accepted, so a retried webhook is delivered once.
CREATE TABLE seen (
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	created    BIGINT  NOT NULL,
	PRIMARY KEY (transport, key)
);

-- Which XMPP user last wrote to a remote contact from a shared account.
CREATE TABLE last_writer (
	transport  TEXT    NOT NULL,
	account    TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	"user"     TEXT    NOT NULL, -- renamed jid by 004
	at         BIGINT  NOT NULL,
	PRIMARY KEY (transport, account, remote)
);

-- Delivery reports that arrived before the send that they report on was
-- recorded (a provider may call back before its API call returns).
CREATE TABLE early_report (
	transport  TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created    BIGINT  NOT NULL,
	PRIMARY KEY (transport, remote_id, state)
);
