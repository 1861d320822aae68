-- The address book's imported names (xmppgw contacts import): by a
-- contact's JID, or by a number for every SMS transport.
CREATE TABLE contacts (
	key        TEXT    NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	updated    BIGINT  NOT NULL
);
