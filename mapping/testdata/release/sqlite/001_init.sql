-- Messages from XMPP waiting to be sent to a provider, in arrival order.
CREATE TABLE outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: workers resume after the last id seen
	transport  TEXT    NOT NULL,
	sender     TEXT    NOT NULL, -- full JID of the XMPP sender
	account    TEXT    NOT NULL, -- foreign identity to send from
	remote     TEXT    NOT NULL, -- foreign recipient
	body       TEXT    NOT NULL,
	stanza_id  TEXT    NOT NULL,
	receipt    INTEGER NOT NULL DEFAULT 0, -- the sender asked for XEP-0184
	attempts   INTEGER NOT NULL DEFAULT 0,
	created    INTEGER NOT NULL           -- unix milliseconds
);
CREATE INDEX outbox_transport ON outbox (transport, id);

-- Messages a provider accepted, kept to answer its delivery reports.
CREATE TABLE sent (
	transport  TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	sender     TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	stanza_id  TEXT    NOT NULL,
	receipt    INTEGER NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (transport, remote_id)
);

-- Stanzas waiting to be written to the XMPP server, in order.
CREATE TABLE to_xmpp (
	id         INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: workers resume after the last id seen
	transport  TEXT    NOT NULL,
	stanza     BLOB    NOT NULL,
	created    INTEGER NOT NULL
);
CREATE INDEX to_xmpp_transport ON to_xmpp (transport, id);

-- Provider events already accepted, so a retried webhook is delivered once.
CREATE TABLE seen (
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (transport, key)
) WITHOUT ROWID;

-- Which XMPP user last wrote to a remote contact from a shared account.
CREATE TABLE last_writer (
	transport  TEXT    NOT NULL,
	account    TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	user       TEXT    NOT NULL,
	at         INTEGER NOT NULL,
	PRIMARY KEY (transport, account, remote)
) WITHOUT ROWID;

-- Delivery reports that arrived before the send that they report on was
-- recorded (a provider may call back before its API call returns).
CREATE TABLE early_report (
	transport  TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	text       TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (transport, remote_id, state)
) WITHOUT ROWID;
