-- Every rule version is announced once on hc.matching.rule.v1
-- (hc.matching.rule.published.v1): the re-assessment workers' look
-- (reassess.c) marks the versions not announced yet and writes their
-- outbox rows in one transaction, so analysts replaying the log see every
-- version, its content and when it came into force.  The versions already
-- here are announced at the first look after this migration.
ALTER TABLE rules ADD COLUMN announced_at timestamptz;
CREATE INDEX rules_unannounced ON rules (rule_id, version) WHERE announced_at IS NULL;
