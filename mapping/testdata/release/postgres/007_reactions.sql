-- XEP-0444 reactions: the stanza id reacted to, and the sender's whole set
-- of reactions to it (one per line; empty removes them).
ALTER TABLE outbox ADD COLUMN react_to TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN reactions TEXT NOT NULL DEFAULT '';
