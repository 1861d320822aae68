-- The provider events taken, for a store that keeps its dedupe window of
-- them in memory (SQLite; see mapping/events.go). An event's key is
-- written in its first stanza's row, a page the event writes anyway, and
-- moved to seen_events when that row is written to XMPP, in the groups
-- the writer removes. seen_events is appended to and never looked up by
-- key (no index: its ids follow the times, so pruning deletes from the
-- first row on). A store shared by instances (PostgreSQL) keeps seen.
ALTER TABLE to_xmpp ADD COLUMN event_key TEXT NOT NULL DEFAULT '';
CREATE TABLE seen_events (
	id         INTEGER PRIMARY KEY, -- only: sqlite
	id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- only: postgres
	transport  TEXT    NOT NULL,
	key        TEXT    NOT NULL,
	created    BIGINT  NOT NULL
);
-- SQLite's events taken so far move over, oldest first. -- only: sqlite
INSERT INTO seen_events (transport, key, created) -- only: sqlite
	SELECT transport, key, created FROM seen WHERE key NOT LIKE 'out:%' ORDER BY created; -- only: sqlite
DELETE FROM seen WHERE key NOT LIKE 'out:%'; -- only: sqlite
