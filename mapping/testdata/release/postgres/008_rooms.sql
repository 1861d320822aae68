-- Telegram groups shown as XEP-0045 rooms: the last messages of each room,
-- replayed as history when the user joins, and the members seen speaking,
-- shown as occupants. Names sort bytewise (COLLATE "C"), as in SQLite.
CREATE TABLE room_history (
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	transport  TEXT    NOT NULL,
	room       TEXT    NOT NULL, -- the group's address
	sender     TEXT    NOT NULL, -- the member's display name ("" for the group itself)
	stanza_id  TEXT    NOT NULL,
	body       TEXT    NOT NULL,
	oob        TEXT    NOT NULL DEFAULT '', -- an attachment's URL
	replaces   TEXT    NOT NULL DEFAULT '', -- the stanza id an edit corrects
	created    BIGINT  NOT NULL             -- unix milliseconds
);
CREATE INDEX room_history_room ON room_history (transport, room, id);

CREATE TABLE room_members (
	transport  TEXT    NOT NULL,
	room       TEXT    NOT NULL,
	name       TEXT    COLLATE "C" NOT NULL,
	seen       BIGINT  NOT NULL, -- unix milliseconds of the last message
	PRIMARY KEY (transport, room, name)
);
