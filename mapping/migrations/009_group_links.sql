-- Who may change a group's link: links.linked_by is the member who linked
-- the group with a code (the network's id of them; '' for a one-to-one
-- chat, a config link, or a link made before this migration).
ALTER TABLE links ADD COLUMN linked_by TEXT NOT NULL DEFAULT '';

-- A room's members are told apart by the network's id of them, so that two
-- members with the same name get different nicks ('' before this
-- migration, claimed by the first member seen under that name).
ALTER TABLE room_members ADD COLUMN member TEXT NOT NULL DEFAULT '';

-- One outstanding link code per user: a new code replaces the old one.
-- Only the latest code of each user is kept.
DELETE FROM link_codes WHERE EXISTS (SELECT 1 FROM link_codes newer
	WHERE newer.transport = link_codes.transport AND newer.jid = link_codes.jid
	AND (newer.expires > link_codes.expires OR (newer.expires = link_codes.expires AND newer.code > link_codes.code)));
CREATE UNIQUE INDEX link_codes_jid ON link_codes (transport, jid);
