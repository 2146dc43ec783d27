/* Every SQL statement of matching; see store.h. */
#include "services/matching/store.h"

/* The latest risk level of county `c` in force today, as a lateral subquery. */
#define RISK_OF(c)                                                                             \
	"(SELECT x.id, x.source, x.record_id, x.on_date, x.level FROM records x"               \
	" WHERE x.kind = 'risk_level' AND x.county_code = " c " AND x.on_date <= current_date" \
	" ORDER BY x.on_date DESC, x.id DESC LIMIT 1)"

/* The rules in force, as one JSON array. */
#define RULES_JSON                                                                           \
	"SELECT coalesce(json_agg(json_build_object('rule_id', rule_id, 'version', version," \
	" 'colour', colour, 'sources', sources, 'kinds', kinds, 'window_days', window_days)" \
	" ORDER BY priority, rule_id), '[]') FROM rules"                                     \
	" WHERE valid_from <= now() AND (valid_to IS NULL OR valid_to > now())"

/* clang-format off */
/* A rule version as the API shows it (r: a row of rules). */
#define RULE_JSON(r)                                                                         \
	"json_build_object('rule_id', " r ".rule_id, 'version', " r ".version, 'priority', "  \
	r ".priority, 'colour', " r ".colour, 'sources', " r ".sources, 'kinds', " r ".kinds," \
	" 'window_days', " r ".window_days, 'valid_from', " DB_RFC3339(r ".valid_from")         \
	", 'valid_to', " DB_RFC3339(r ".valid_to") ", 'description', " r ".description,"       \
	" 'created_by', " r ".created_by, 'created_at', " DB_RFC3339(r ".created_at") ")"

/*
 * Everything a rule could read about the person k (an SQL expression: $1, or
 * a column of an outer query), excluding what a correction set aside.
 */
#define EVIDENCE_JSON_OF(k)                                                                    \
	"WITH ex AS (SELECT record_id FROM exclusions WHERE person_key = " k ")"               \
	" SELECT coalesce(json_agg(json_build_object('source', e.source, 'kind', e.kind,"      \
	" 'record_id', e.record_id, 'date', e.on_date::text, 'age_days', e.age, 'ref', e.ref)" \
	" ORDER BY e.ref, e.kind), '[]') FROM ("                                               \
	"  SELECT r.source, r.kind, r.record_id, r.on_date, current_date - r.on_date AS age,"  \
	"  r.id AS ref FROM records r WHERE r.person_key = " k                                 \
	"  AND r.kind NOT IN ('travel', 'isolation') AND r.on_date > current_date - 400"       \
	"  AND r.id NOT IN (SELECT record_id FROM ex)"                                         \
	"  UNION ALL SELECT l.source, 'high_risk_residence', l.record_id, l.on_date, 0, l.id"  \
	"  FROM people p CROSS JOIN LATERAL " RISK_OF("p.county_code") " l"                    \
	"  WHERE p.person_key = " k " AND l.level = 'high'"                                    \
	"  AND l.id NOT IN (SELECT record_id FROM ex)"                                         \
	"  UNION ALL SELECT t.source, 'high_risk_travel', t.record_id, t.on_date,"             \
	"  current_date - t.on_date, t.id FROM records t CROSS JOIN LATERAL "                  \
	RISK_OF("t.county_code") " l"                                                          \
	"  WHERE t.person_key = " k " AND t.kind = 'travel' AND t.on_date > current_date - 400"\
	"  AND l.level = 'high' AND t.id NOT IN (SELECT record_id FROM ex)) e"
#define EVIDENCE_JSON EVIDENCE_JSON_OF("$1")

/* The last day of the person k's isolation in force, or NULL. */
#define ISOLATION_UNTIL_OF(k)                                                                \
	"SELECT max(r.until)::text FROM records r WHERE r.person_key = " k                   \
	" AND r.kind = 'isolation' AND r.until >= current_date"                              \
	" AND r.id NOT IN (SELECT record_id FROM exclusions WHERE person_key = " k ")"
#define ISOLATION_UNTIL ISOLATION_UNTIL_OF("$1")

/* The outcome key of the person k's latest assessment, or NULL. */
#define LATEST_OUTCOME_OF(k)                                                                 \
	"SELECT outcome_key FROM assessments WHERE person_key = " k                          \
	" ORDER BY assessed_at DESC LIMIT 1"
#define LATEST_OUTCOME LATEST_OUTCOME_OF("$1")
/* clang-format on */

const db_stmt matching_statements[] = {
    {"matching_rules", RULES_JSON, 0},
    {"matching_rules_all",
     "SELECT coalesce(json_agg(" RULE_JSON("r") " ORDER BY r.priority, r.rule_id, r.version),"
                                                " '[]') FROM rules r",
     0},
    /* every version of rule $1, oldest first; NULL when there is none */
    {"matching_rule_versions",
     "SELECT json_agg(" RULE_JSON("r") " ORDER BY r.version) FROM rules r WHERE r.rule_id = $1", 1},
    /* $1: a JSON array of source names: the first that is not a health source (index, name) */
    {"matching_rule_source_refused",
     "SELECT s.i - 1, s.name FROM jsonb_array_elements_text($1::jsonb) WITH ORDINALITY"
     " AS s(name, i) WHERE NOT EXISTS (SELECT 1 FROM data_sources d WHERE d.name = s.name"
     " AND d.health) ORDER BY s.i LIMIT 1",
     1},
    /* $1: the new version's valid_from (NULL: now): may it start then? */
    {"matching_rule_starts_ok", "SELECT coalesce($1::timestamptz, now()) >= now()", 1},
    /*
     * A new version of rule $1 (priority $2, colour $3, sources $4 and kinds $5 as JSON
     * arrays, window_days $6, valid_from $7 or now, description $8, published by $9): the
     * latest version, locked, ends when it starts; no row when the latest starts later.
     */
    {"matching_rule_publish",
     "WITH latest AS (SELECT version, valid_from FROM rules WHERE rule_id = $1"
     " ORDER BY version DESC LIMIT 1 FOR UPDATE),"
     " closed AS (UPDATE rules r SET valid_to = coalesce($7::timestamptz, now()) FROM latest l"
     " WHERE r.rule_id = $1 AND r.version = l.version"
     " AND l.valid_from <= coalesce($7::timestamptz, now())"
     " AND (r.valid_to IS NULL OR r.valid_to > coalesce($7::timestamptz, now())) RETURNING 1),"
     " added AS (INSERT INTO rules (rule_id, version, priority, colour, sources, kinds,"
     " window_days, valid_from, description, created_by)"
     " SELECT $1, coalesce((SELECT version FROM latest), 0) + 1, $2::integer, $3,"
     " ARRAY(SELECT jsonb_array_elements_text($4::jsonb)),"
     " ARRAY(SELECT jsonb_array_elements_text($5::jsonb)), $6::integer,"
     " coalesce($7::timestamptz, now()), $8, $9"
     " WHERE NOT EXISTS (SELECT 1 FROM latest WHERE valid_from > coalesce($7::timestamptz, now()))"
     " RETURNING *)"
     " SELECT " RULE_JSON("r") " FROM added r",
     9},
    /*
     * Up to 100 rule versions not announced yet, marked announced, oldest first per
     * rule: rule id, version and the version as JSON (its event's data).  A second
     * worker at once skips the rows the first holds.
     */
    {"matching_rules_announce",
     "WITH a AS (UPDATE rules r SET announced_at = now() WHERE (r.rule_id, r.version) IN"
     " (SELECT rule_id, version FROM rules WHERE announced_at IS NULL"
     " ORDER BY rule_id, version LIMIT 100 FOR UPDATE SKIP LOCKED) RETURNING r.*)"
     " SELECT a.rule_id, a.version, " RULE_JSON("a") "::text FROM a ORDER BY a.rule_id, a.version",
     0},
    /*
     * The rule versions come into force and not yet applied, marked applied; for those
     * still in force (one superseded before it was looked at concerns nobody: its
     * successor is applied with it), the people they may concern queued for
     * re-assessment (trigger "rule", "<rule_id>:<version>", traceparent $1): those the
     * version may match (a record of one of its kinds within its window, the rule's own
     * test: age_days < window_days; a travel record within it for high_risk_travel;
     * living in a county with a high risk level for high_risk_residence), those whose
     * latest assessment this rule decided (they may fall to another rule), and for a
     * default (a version without kinds) those any default decided (it may now come
     * first).  Returns the versions applied ("id:version,...", or NULL)
     * and the people queued.  Two workers at once: the second's UPDATE waits for the
     * first's rows and then skips them.
     */
    {"matching_rules_apply",
     "WITH applied AS (UPDATE rules SET applied_at = now() WHERE applied_at IS NULL"
     " AND valid_from <= now() RETURNING rule_id, version, kinds, window_days, valid_to),"
     " due AS (SELECT * FROM applied WHERE valid_to IS NULL OR valid_to > now()),"
     " hit AS (SELECT r.person_key, d.rule_id, d.version FROM due d JOIN records r"
     " ON r.kind = ANY (d.kinds) AND r.person_key IS NOT NULL"
     " AND r.on_date > current_date - d.window_days"
     " UNION SELECT t.person_key, d.rule_id, d.version FROM due d JOIN records t"
     " ON 'high_risk_travel' = ANY (d.kinds) AND t.kind = 'travel' AND t.person_key IS NOT NULL"
     " AND t.on_date > current_date - d.window_days"
     " UNION SELECT p.person_key, d.rule_id, d.version FROM due d JOIN people p"
     " ON 'high_risk_residence' = ANY (d.kinds) AND d.window_days > 0"
     " AND EXISTS (SELECT 1 FROM records x"
     " WHERE x.kind = 'risk_level' AND x.county_code = p.county_code AND x.level = 'high')"
     " UNION SELECT a.person_key, d.rule_id, d.version FROM due d JOIN"
     " (SELECT DISTINCT ON (person_key) person_key, rule_id FROM assessments"
     " ORDER BY person_key, assessed_at DESC) a ON a.rule_id = d.rule_id"
     " OR (cardinality(d.kinds) = 0 AND a.rule_id IN"
     " (SELECT f.rule_id FROM rules f WHERE cardinality(f.kinds) = 0))),"
     " queued AS (INSERT INTO reassessments (person_key, trigger_kind, trigger_id, traceparent)"
     " SELECT DISTINCT ON (person_key) person_key, 'rule', rule_id || ':' || version, $1"
     " FROM hit ORDER BY person_key, rule_id, version DESC RETURNING 1)"
     " SELECT (SELECT string_agg(rule_id || ':' || version, ',') FROM applied),"
     " (SELECT count(*) FROM queued)",
     1},
    {"matching_person_upsert",
     "INSERT INTO people (person_key, masked_name, county_code) VALUES ($1, $2, $3)"
     " ON CONFLICT (person_key) DO UPDATE SET masked_name = EXCLUDED.masked_name,"
     " county_code = EXCLUDED.county_code, updated_at = now()",
     3},
    /* $1: [{person_key, masked_name, county_code}], each person once; locked in key order */
    {"matching_people_upsert_many",
     "INSERT INTO people (person_key, masked_name, county_code)"
     " SELECT r.person_key, r.masked_name, r.county_code FROM jsonb_to_recordset($1::jsonb)"
     " AS r(person_key text, masked_name text, county_code text) ORDER BY r.person_key"
     " ON CONFLICT (person_key) DO UPDATE SET masked_name = EXCLUDED.masked_name,"
     " county_code = EXCLUDED.county_code, updated_at = now()",
     1},
    /* $1: [{source, record_id, kind, person_key}], of the day */
    {"matching_records_add_many",
     "INSERT INTO records (source, record_id, kind, person_key, on_date)"
     " SELECT r.source, r.record_id, r.kind, r.person_key, current_date"
     " FROM jsonb_to_recordset($1::jsonb) AS r(source text, record_id text, kind text,"
     " person_key text) ON CONFLICT (source, record_id) DO NOTHING",
     1},
    {"matching_person_move",
     "UPDATE people SET county_code = $2, updated_at = now() WHERE person_key = $1", 2},
    {"matching_person_get",
     "SELECT json_build_object('masked_name', masked_name, 'county_code', county_code)"
     " FROM people WHERE person_key = $1 FOR UPDATE",
     1},
    {"matching_record_add",
     "INSERT INTO records (source, record_id, kind, person_key, on_date)"
     " VALUES ($1, $2, $3, $4, current_date) ON CONFLICT (source, record_id) DO NOTHING",
     4},
    /* the rows actually inserted come back, for re-assessment */
    {"matching_records_insert",
     "WITH ins AS (INSERT INTO records (source, record_id, kind, person_key, county_code,"
     " on_date, until, level)"
     " SELECT r.source, r.record_id, r.kind, r.person_key, r.county_code, r.on_date, r.until,"
     " r.level FROM jsonb_to_recordset($1::jsonb) AS r(source text, record_id text, kind text,"
     " person_key text, county_code text, on_date date, until date, level text)"
     " ON CONFLICT (source, record_id) DO NOTHING RETURNING person_key, county_code, kind)"
     " SELECT (SELECT count(*) FROM ins), coalesce((SELECT json_agg(DISTINCT k) FROM ("
     "  SELECT p.person_key AS k FROM ins JOIN people p USING (person_key)"
     "  UNION SELECT p.person_key FROM people p"
     "   WHERE p.county_code IN (SELECT county_code FROM ins WHERE kind = 'risk_level')"
     "  UNION SELECT t.person_key FROM records t JOIN people p USING (person_key)"
     "   WHERE t.kind = 'travel' AND t.on_date > current_date - 14"
     "   AND t.county_code IN (SELECT county_code FROM ins WHERE kind = 'risk_level')"
     " ) a), '[]')",
     1},
    /* everything a rule could read about the person, excluding what a correction set aside */
    {"matching_evidence", EVIDENCE_JSON, 1},
    /* after matching_person_get has locked the person: all matching_assess reads */
    {"matching_assess_inputs",
     "SELECT (" RULES_JSON ")::text, (" EVIDENCE_JSON ")::text, (" LATEST_OUTCOME
     "), (" ISOLATION_UNTIL ")",
     1},

    /* many people at once (matching_assess_many): lock them in one order, then read */
    {"matching_people_lock",
     "SELECT count(*) FROM (SELECT 1 FROM people"
     " WHERE person_key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))"
     " ORDER BY person_key FOR UPDATE) l",
     1},
    {"matching_assess_inputs_many",
     "SELECT pp.person_key, pp.masked_name, pp.county_code,"
     " (" EVIDENCE_JSON_OF("pp.person_key") ")::text, (" LATEST_OUTCOME_OF(
         "pp.person_key") "),"
                          " (" ISOLATION_UNTIL_OF("pp.person_key") "), " DB_RFC3339(
                              "clock_timestamp()") " FROM people pp WHERE pp.person_key = ANY "
                                                   "(ARRAY(SELECT "
                                                   "jsonb_array_elements_text($1::jsonb)))"
                                                   " ORDER BY pp.person_key",
     1},
    {"matching_assessments_insert_many",
     "INSERT INTO assessments (id, person_key, colour, rule_id, rule_version, evidence,"
     " decided_by, trigger_kind, trigger_id, isolation_until, outcome_key, assessed_at)"
     " SELECT a.id, a.person_key, a.colour, a.rule_id, a.rule_version, a.evidence,"
     " a.decided_by, a.trigger_kind, a.trigger_id, a.isolation_until, a.outcome_key,"
     " a.assessed_at FROM jsonb_to_recordset($1::jsonb) AS a(id uuid, person_key text,"
     " colour text, rule_id text, rule_version integer, evidence jsonb, decided_by text,"
     " trigger_kind text, trigger_id text, isolation_until date, outcome_key text,"
     " assessed_at timestamptz)",
     1},
    {"matching_assessment_insert",
     "INSERT INTO assessments (id, person_key, colour, rule_id, rule_version, evidence,"
     " decided_by, trigger_kind, trigger_id, isolation_until, outcome_key)"
     " VALUES ($1, $2, $3, $4, $5::integer, $6::jsonb, $7, $8, $9, $10::date, $11)"
     " RETURNING " DB_RFC3339("assessed_at"),
     11},
    {"matching_exclude",
     "INSERT INTO exclusions (person_key, record_id, correction_id)"
     " SELECT $1, (e->>'ref')::bigint, $2::uuid FROM jsonb_array_elements($3::jsonb) e"
     " WHERE e ? 'ref' ON CONFLICT DO NOTHING",
     3},
    {"matching_assessments_list",
     "SELECT coalesce(json_agg(json_build_object('assessment_id', a.id, 'colour', a.colour,"
     " 'rule_id', a.rule_id, 'rule_version', a.rule_version, 'evidence', a.evidence,"
     " 'decided_by', a.decided_by, 'trigger', json_build_object('kind', a.trigger_kind,"
     " 'id', a.trigger_id), 'isolation_until', a.isolation_until,"
     " 'assessed_at', " DB_RFC3339(
         "a.assessed_at") ") ORDER BY a.assessed_at DESC), '[]')"
                          " FROM (SELECT * FROM assessments WHERE person_key = $1"
                          " ORDER BY assessed_at DESC LIMIT 100) a",
     1},
    /* $1: person keys (JSON array); $2..$4: the trigger's kind, id and traceparent */
    {"matching_reassess_queue",
     "INSERT INTO reassessments (person_key, trigger_kind, trigger_id, traceparent)"
     " SELECT k, $2, $3, $4 FROM jsonb_array_elements_text($1::jsonb) k",
     4},
    /*
     * The oldest $1 queued (skipping those another worker holds), deleted;
     * each person once, with the earliest trigger, in key order (the order
     * people are locked in).  The ids come from an ARRAY subquery, which runs
     * once whatever the plan.  As "id IN (SELECT ... SKIP LOCKED)", planned
     * from statistics of an empty queue, the locking subquery ran again for
     * every queued row and, skipping the rows the statement had deleted,
     * its LIMIT slid along the queue: one take of a 30,000-people wave took
     * them all, in 76 s (test 87).
     */
    {"matching_reassess_take",
     "WITH taken AS (DELETE FROM reassessments WHERE id = ANY (ARRAY("
     "SELECT id FROM reassessments ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))"
     " RETURNING id, person_key, trigger_kind, trigger_id, traceparent, queued_at)"
     " SELECT DISTINCT ON (person_key) person_key, trigger_kind, trigger_id, traceparent,"
     " extract(epoch FROM clock_timestamp() - min(queued_at) OVER ())::text"
     " FROM taken ORDER BY person_key, id",
     1},
    {NULL, NULL, 0},
};
