-- A rule version re-assesses the people it may concern when it comes into
-- force (its valid_from, now or later): the re-assessment workers find the
-- versions in force and not yet applied, mark them applied and queue those
-- people in one statement (matching_rules_apply).  The versions that came
-- with the schema, and any in force before this migration, count as applied.
ALTER TABLE rules ADD COLUMN applied_at timestamptz;
UPDATE rules SET applied_at = valid_from WHERE valid_from <= now();
CREATE INDEX rules_unapplied ON rules (valid_from) WHERE applied_at IS NULL;
