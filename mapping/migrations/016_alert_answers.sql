-- Each open alert group's recent answers, as JSON: an answer delivered
-- again is acted on once, and its notices a rate cap refused are sent
-- later.
ALTER TABLE alert_groups ADD COLUMN answers TEXT NOT NULL DEFAULT '';
