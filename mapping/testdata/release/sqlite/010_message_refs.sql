-- XEP-0359 origin-ids, and the other ids a sender may use for a message it
-- sent: a client may refer to a message (to correct, retract, react to or
-- reply to it) by its origin-id as well as by its stanza id, and to a
-- corrected message by the correction's ids.
ALTER TABLE outbox ADD COLUMN origin_id TEXT NOT NULL DEFAULT '';

-- sent_ref maps such an id (ref), for one sender (a bare JID) and
-- recipient, to the provider's id of the message it names. The stanza id of
-- a plain send is in sent itself.
CREATE TABLE sent_ref (
	transport  TEXT    NOT NULL,
	remote     TEXT    NOT NULL,
	sender     TEXT    NOT NULL,
	ref        TEXT    NOT NULL,
	remote_id  TEXT    NOT NULL,
	created    INTEGER NOT NULL,
	PRIMARY KEY (transport, remote, sender, ref)
) WITHOUT ROWID;
