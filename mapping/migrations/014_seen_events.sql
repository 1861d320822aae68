-- The provider events taken, in the order taken, for a store that keeps
-- its dedupe window of them in memory (SQLite; see mapping/events.go):
-- appended to, never looked up by key, so a write touches the table's last
-- page instead of a random one (no other index: the ids follow the times,
-- so pruning deletes from the first row on). A store shared by instances
-- (PostgreSQL) keeps using seen.
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
