-- Remote contacts linked to XMPP users one by one (Telegram chats).
CREATE TABLE links (
	transport  TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	user       TEXT    NOT NULL, -- bare JID
	name       TEXT    NOT NULL, -- the chat's title or the person's name, if known
	static     INTEGER NOT NULL, -- 1: from the config, 0: linked with a code
	asked      INTEGER NOT NULL DEFAULT 0, -- the contact has asked the user to subscribe
	created    INTEGER NOT NULL,
	PRIMARY KEY (transport, remote)
) WITHOUT ROWID;
CREATE INDEX links_user ON links (transport, user);

-- One-time codes that link a remote contact to the user who asked for them.
CREATE TABLE link_codes (
	transport  TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	user       TEXT    NOT NULL,
	expires    INTEGER NOT NULL,
	PRIMARY KEY (transport, code)
) WITHOUT ROWID;

-- Transports' own durable state (a poll offset).
CREATE TABLE kv (
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	PRIMARY KEY (transport, key)
) WITHOUT ROWID;

-- A correction refers to the stanza id of the message it corrects.
ALTER TABLE outbox ADD COLUMN replaces TEXT NOT NULL DEFAULT '';
CREATE INDEX sent_stanza ON sent (transport, remote, stanza_id);
