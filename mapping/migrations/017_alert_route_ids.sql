-- Alert groups by their route's identity (a hash of its match labels and
-- destinations), not its index, and by the group key without the route
-- (base), so that a config edit leaves open groups findable.
ALTER TABLE alert_groups ADD COLUMN route_id TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_groups ADD COLUMN base TEXT NOT NULL DEFAULT '';
