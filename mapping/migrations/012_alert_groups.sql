-- Open alert groups (one route's share of one Alertmanager group), each
-- with its code, until it resolves.
CREATE TABLE alert_groups (
	key        TEXT    NOT NULL PRIMARY KEY, -- the receiver, group key and route
	code       TEXT    NOT NULL UNIQUE,      -- what recipients answer with: ack CODE
	route      INTEGER NOT NULL,             -- the route's index, for its escalation steps
	subject    TEXT    NOT NULL,             -- what the alerts are about, for status
	labels     TEXT    NOT NULL,             -- the group's labels as JSON, for a silence
	firing     TEXT    NOT NULL,             -- the firing alerts' fingerprints, to tell a change
	full_text  TEXT    NOT NULL,             -- the last notification, for an escalation
	sms_text   TEXT    NOT NULL,             -- the same, cut to one SMS
	recipients TEXT    NOT NULL,             -- destination JIDs, one a line
	acked_by   TEXT    NOT NULL DEFAULT '',  -- who acknowledged it, '' if nobody
	acked_at   INTEGER NOT NULL DEFAULT 0, -- unix milliseconds -- only: sqlite
	steps      INTEGER NOT NULL DEFAULT 0, -- escalation steps done -- only: sqlite
	since      INTEGER NOT NULL,           -- the first notification, unix milliseconds -- only: sqlite
	acked_at   BIGINT  NOT NULL DEFAULT 0, -- unix milliseconds -- only: postgres
	steps      INTEGER NOT NULL DEFAULT 0, -- escalation steps done -- only: postgres
	since      BIGINT  NOT NULL,           -- the first notification, unix milliseconds -- only: postgres
	updated    BIGINT  NOT NULL
);

-- The notifications of open groups, by their stanza id for one recipient,
-- so that an answer replying to one names its group.
CREATE TABLE alert_notes (
	id         TEXT    NOT NULL PRIMARY KEY,
	code       TEXT    NOT NULL,
	created    BIGINT  NOT NULL
);
CREATE INDEX alert_notes_code ON alert_notes (code);
