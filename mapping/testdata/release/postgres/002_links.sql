-- Remote contacts linked to XMPP users one by one (Telegram chats).
-- remote and "user" are listed in order: COLLATE "C" sorts them bytewise,
-- as SQLite does, whatever the database's default collation.
CREATE TABLE links (
	transport  TEXT    NOT NULL,
	remote     TEXT    COLLATE "C" NOT NULL,
	"user"     TEXT    COLLATE "C" NOT NULL, -- bare JID; renamed jid by 004
	name       TEXT    NOT NULL, -- the chat's title or the person's name, if known
	static     BOOLEAN NOT NULL, -- TRUE: from the config, FALSE: linked with a code
	asked      BOOLEAN NOT NULL DEFAULT FALSE, -- the contact has asked the user to subscribe
	created    BIGINT  NOT NULL,
	PRIMARY KEY (transport, remote)
);
CREATE INDEX links_user ON links (transport, "user");

-- One-time codes that link a remote contact to the user who asked for them.
CREATE TABLE link_codes (
	transport  TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	"user"     TEXT    NOT NULL, -- renamed jid by 004
	expires    BIGINT  NOT NULL,
	PRIMARY KEY (transport, code)
);

-- Transports' own durable state (a poll offset).
CREATE TABLE kv (
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	PRIMARY KEY (transport, key)
);

-- A correction refers to the stanza id of the message it corrects.
ALTER TABLE outbox ADD COLUMN replaces TEXT NOT NULL DEFAULT '';
CREATE INDEX sent_stanza ON sent (transport, remote, stanza_id);
