-- When a transport's state expires (unix milliseconds; 0: never), for
-- state that outlives its use, such as where an inbound MMS's media are,
-- kept only as long as the URLs given for them are good. Prune deletes
-- expired rows.
ALTER TABLE kv ADD COLUMN expires INTEGER NOT NULL DEFAULT 0; -- only: sqlite
ALTER TABLE kv ADD COLUMN expires BIGINT NOT NULL DEFAULT 0; -- only: postgres
-- The media of MMS received before: their URLs worked at most 366 days.
UPDATE kv SET expires = CAST(strftime('%s', 'now') AS INTEGER) * 1000 + 31622400000 WHERE key LIKE 'media/%'; -- only: sqlite
UPDATE kv SET expires = CAST(extract(epoch FROM now()) * 1000 AS BIGINT) + 31622400000 WHERE key LIKE 'media/%'; -- only: postgres
