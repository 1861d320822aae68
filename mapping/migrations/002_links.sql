-- Remote contacts linked to XMPP users one by one (Telegram chats).
CREATE TABLE links (
	transport  TEXT    NOT NULL,
	remote     TEXT    NOT NULL, -- only: sqlite
	user       TEXT    NOT NULL, -- bare JID -- only: sqlite
	remote     TEXT    COLLATE "C" NOT NULL, -- only: postgres
	"user"     TEXT    COLLATE "C" NOT NULL, -- bare JID; renamed jid by 004 -- only: postgres
	name       TEXT    NOT NULL, -- the chat's title or the person's name, if known
	static     INTEGER NOT NULL, -- 1: from the config, 0: linked with a code -- only: sqlite
	asked      INTEGER NOT NULL DEFAULT 0, -- the contact has asked the user to subscribe -- only: sqlite
	created    INTEGER NOT NULL, -- only: sqlite
	static     BOOLEAN NOT NULL, -- TRUE: from the config, FALSE: linked with a code -- only: postgres
	asked      BOOLEAN NOT NULL DEFAULT FALSE, -- the contact has asked the user to subscribe -- only: postgres
	created    BIGINT  NOT NULL, -- only: postgres
	PRIMARY KEY (transport, remote)
) WITHOUT ROWID; -- only: sqlite
CREATE INDEX links_user ON links (transport, user); -- only: sqlite
); -- only: postgres
CREATE INDEX links_user ON links (transport, "user"); -- only: postgres

-- One-time codes that link a remote contact to the user who asked for them.
CREATE TABLE link_codes (
	transport  TEXT    NOT NULL,
	code       TEXT    NOT NULL,
	user       TEXT    NOT NULL, -- only: sqlite
	expires    INTEGER NOT NULL, -- only: sqlite
	"user"     TEXT    NOT NULL, -- renamed jid by 004 -- only: postgres
	expires    BIGINT  NOT NULL, -- only: postgres
	PRIMARY KEY (transport, code)
) WITHOUT ROWID; -- only: sqlite
); -- only: postgres

-- Transports' own durable state (a poll offset).
CREATE TABLE kv (
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	value      TEXT    NOT NULL,
	PRIMARY KEY (transport, key)
) WITHOUT ROWID; -- only: sqlite
); -- only: postgres

-- A correction refers to the stanza id of the message it corrects.
ALTER TABLE outbox ADD COLUMN replaces TEXT NOT NULL DEFAULT '';
CREATE INDEX sent_stanza ON sent (transport, remote, stanza_id);
