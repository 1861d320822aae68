-- Alert groups closed lately (resolved, every recipient told), kept for
-- 20 minutes: Alertmanager's retry of the resolution that closed one
-- reuses its notices' ids and texts (code included), so the queues take
-- it for the retry it is.
CREATE TABLE alert_closed (
	key        TEXT    NOT NULL PRIMARY KEY, -- the group's key, as it was open
	code       TEXT    NOT NULL,             -- its code, in its notices' texts (another group may have it now)
	route      INTEGER NOT NULL,
	route_id   TEXT    NOT NULL,
	base       TEXT    NOT NULL,
	recipients TEXT    NOT NULL,             -- destination JIDs, one a line
	closed     BIGINT  NOT NULL              -- unix milliseconds
);
CREATE INDEX alert_closed_closed ON alert_closed (closed);
