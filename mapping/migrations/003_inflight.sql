-- When a send of the job began whose outcome is unknown (the process may have
-- died, or the request timed out); 0 if none. Such a job is reconciled with
-- the provider before it is sent again.
ALTER TABLE outbox ADD COLUMN inflight INTEGER NOT NULL DEFAULT 0; -- only: sqlite
ALTER TABLE outbox ADD COLUMN inflight BIGINT NOT NULL DEFAULT 0; -- only: postgres
