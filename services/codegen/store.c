/* Every SQL statement of codegen. */
#include "common/db/db.h"

/* clang-format off */
#define VERSION_JSON                                                                           \
	"json_build_object('version', v.version, 'colour', v.colour, 'pass', v.pass,"            \
	" 'rule_id', v.rule_id, 'rule_version', v.rule_version, 'evidence', v.evidence,"         \
	" 'decided_by', v.decided_by, 'assessment_id', v.assessment_id, 'cause', v.cause,"       \
	" 'created_at', " DB_RFC3339("v.created_at") ")"
#define CODE_JSON                                                                              \
	"json_build_object('person_key', c.person_key, 'masked_name', c.masked_name,"            \
	" 'county_code', c.county_code, 'version', v.version, 'colour', v.colour,"               \
	" 'pass', v.pass, 'reason', json_build_object('rule_id', v.rule_id,"                     \
	" 'rule_version', v.rule_version, 'evidence', v.evidence, 'decided_by', v.decided_by,"   \
	" 'cause', v.cause, 'assessment_id', v.assessment_id), 'assessed_at', " DB_RFC3339("c.assessed_at") ","                    \
	" 'updated_at', " DB_RFC3339("v.created_at") ")"
#define VERSION_AT DB_RFC3339("v.created_at")
#define PARTNER_MAY_SEE                                                                       \
	"($2::text IS NULL OR EXISTS (SELECT 1 FROM person_clients p"                          \
	" WHERE p.person_key = $1 AND p.client = $2))"
/* clang-format on */

const db_stmt codegen_statements[] = {
    /* the current code, locked for the consumer that will change it */
    {"codegen_current",
     "SELECT " CODE_JSON ", c.assessed_at >= $2::timestamptz,"
     " EXISTS (SELECT 1 FROM certificates WHERE person_key = $1 AND status = 'valid')"
     " FROM codes c"
     " JOIN code_versions v ON v.person_key = c.person_key AND v.version = c.version"
     " WHERE c.person_key = $1 FOR UPDATE OF c",
     2},
    {"codegen_has_certificate",
     "SELECT EXISTS (SELECT 1 FROM certificates WHERE person_key = $1 AND status = 'valid')", 1},
    /* the new version and the current code pointing at it, in one statement */
    {"codegen_version_write",
     "WITH nv AS (INSERT INTO code_versions AS v (person_key, version, colour, pass, rule_id,"
     " rule_version, evidence, decided_by, assessment_id, cause)"
     " VALUES ($1, $2::integer, $3, $4::boolean, $5, $6::integer, $7::jsonb, $8, $9, $10)"
     " RETURNING " VERSION_JSON " AS j),"
     " nc AS (INSERT INTO codes (person_key, masked_name, county_code, version, assessed_at)"
     " VALUES ($1, $11, $12, $2::integer, $13::timestamptz) ON CONFLICT (person_key) DO UPDATE"
     " SET masked_name = EXCLUDED.masked_name, county_code = EXCLUDED.county_code,"
     " version = EXCLUDED.version, assessed_at = EXCLUDED.assessed_at,"
     " updated_at = clock_timestamp())"
     " SELECT j FROM nv",
     13},
    /* many people at once (codegen_on_assessments): their codes locked in key order; $1
       [{k: person key, at: assessed at, ev: the new evidence}]; per person the current
       version's fields and whether its evidence equals the new one.  The codes are found
       through their key (= ANY of the keys as an array): joined to the input alone, the
       planner took a hash join over a scan of every code while codes were fewer than
       about 25,000 (each batch read them all) */
    {"codegen_current_many",
     "SELECT c.person_key, v.version, v.colour, v.pass, v.rule_id, v.rule_version,"
     " v.decided_by, v.evidence = x.ev, c.assessed_at >= x.at,"
     " EXISTS (SELECT 1 FROM certificates WHERE person_key = x.k AND status = 'valid')"
     " FROM jsonb_to_recordset($1::jsonb) AS x(k text, at timestamptz, ev jsonb)"
     " JOIN codes c ON c.person_key = x.k"
     " JOIN code_versions v ON v.person_key = c.person_key AND v.version = c.version"
     " WHERE c.person_key = ANY (ARRAY(SELECT y.k FROM jsonb_to_recordset($1::jsonb) AS y(k text)))"
     " ORDER BY c.person_key FOR UPDATE OF c",
     1},
    {"codegen_certified_many",
     "SELECT DISTINCT person_key FROM certificates"
     " WHERE person_key = ANY (ARRAY(SELECT x.k FROM jsonb_to_recordset($1::jsonb) AS x(k text)))"
     " AND status = 'valid'",
     1},
    /* $1: new versions, $2: codes to upsert (each person once); each new version's
       person and time come back */
    {"codegen_write_many",
     "WITH nv AS (INSERT INTO code_versions AS v (person_key, version, colour, pass, rule_id,"
     " rule_version, evidence, decided_by, assessment_id, cause)"
     " SELECT r.person_key, r.version, r.colour, r.pass, r.rule_id, r.rule_version, r.evidence,"
     " r.decided_by, r.assessment_id, r.cause FROM jsonb_to_recordset($1::jsonb) AS r("
     " person_key text, version integer, colour text, pass boolean, rule_id text,"
     " rule_version integer, evidence jsonb, decided_by text, assessment_id uuid, cause text)"
     " RETURNING v.person_key, " VERSION_AT " AS at),"
     " nc AS (INSERT INTO codes (person_key, masked_name, county_code, version, assessed_at)"
     " SELECT r.person_key, r.masked_name, r.county_code, r.version, r.assessed_at"
     " FROM jsonb_to_recordset($2::jsonb) AS r(person_key text, masked_name text,"
     " county_code text, version integer, assessed_at timestamptz)"
     " ON CONFLICT (person_key) DO UPDATE"
     " SET masked_name = EXCLUDED.masked_name, county_code = EXCLUDED.county_code,"
     " version = EXCLUDED.version, assessed_at = EXCLUDED.assessed_at,"
     " updated_at = clock_timestamp())"
     " SELECT person_key, at FROM nv",
     2},
    {"codegen_code_upsert",
     "INSERT INTO codes (person_key, masked_name, county_code, version, assessed_at)"
     " VALUES ($1, $2, $3, $4::integer, $5::timestamptz) ON CONFLICT (person_key) DO UPDATE"
     " SET masked_name = EXCLUDED.masked_name, county_code = EXCLUDED.county_code,"
     " version = EXCLUDED.version, assessed_at = EXCLUDED.assessed_at,"
     " updated_at = clock_timestamp()",
     5},
    {"codegen_code_get",
     "SELECT " CODE_JSON " FROM codes c"
     " JOIN code_versions v ON v.person_key = c.person_key AND v.version = c.version"
     " WHERE c.person_key = $1",
     1},
    /* $2: a partner app, confined to the people who applied through it */
    {"codegen_code_scoped",
     "SELECT " CODE_JSON " FROM codes c"
     " JOIN code_versions v ON v.person_key = c.person_key AND v.version = c.version"
     " WHERE c.person_key = $1 AND " PARTNER_MAY_SEE,
     2},
    {"codegen_history",
     "SELECT coalesce(json_agg(" VERSION_JSON " ORDER BY v.version DESC), '[]')"
     " FROM code_versions v WHERE v.person_key = $1 AND " PARTNER_MAY_SEE " HAVING count(*) > 0",
     2},
    {"person_client_add",
     "INSERT INTO person_clients (person_key, client) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2},
    /* svc_on_declaration_clients: $1 [{k: person key, c: client}] */
    {"person_clients_add_many",
     "INSERT INTO person_clients (person_key, client) SELECT r.k, r.c"
     " FROM jsonb_to_recordset($1::jsonb) AS r(k text, c text) ON CONFLICT DO NOTHING",
     1},
    /*
     * online verifications, group-committed (verify.c): $1 a text[] of person keys; what a
     * verification shows and publishes of each code, as columns (no JSON to build or parse)
     */
    {"codegen_codes_for_scans",
     "SELECT c.person_key, v.version, v.colour, c.masked_name, c.county_code, " DB_RFC3339(
         "v.created_at") ", " DB_RFC3339("now()") " FROM codes c"
                                                  " JOIN code_versions v ON v.person_key = "
                                                  "c.person_key AND v.version = c.version"
                                                  " WHERE c.person_key = ANY($1::text[])",
     1},
    {"codegen_now", "SELECT " DB_RFC3339("now()"), 0},
    /* a column each ($1..$8), all at the transaction's time (now()) */
    {"codegen_scans_insert",
     "INSERT INTO scans (id, checkpoint_id, person_key, temperature, result, reason,"
     " code_version, scanned_by, scanned_at)"
     " SELECT r.i::uuid, r.c, r.p, r.t::numeric, r.r, r.x, r.v::integer, r.s, now()"
     " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
     " $7::text[], $8::text[]) AS r(i, c, p, t, r, x, v, s)",
     8},
    {"codegen_scan_insert",
     "INSERT INTO scans (id, checkpoint_id, person_key, temperature, result, reason,"
     " code_version, scanned_by) VALUES ($1, $2, $3, $4::numeric, $5, $6, $7::integer, $8)"
     " RETURNING " DB_RFC3339("scanned_at"),
     8},
    /* signing keys (keys.c) */
    {"codegen_keys_load",
     "SELECT kid, purpose, private_sealed, public_der,"
     " coalesce(extract(epoch FROM not_after)::bigint, 0)::text, revoked_at IS NOT NULL,"
     " purpose = 'code' AND not_after IS NULL AND revoked_at IS NULL FROM signing_keys"
     " WHERE purpose = 'keylist' OR revoked_at IS NOT NULL OR not_after IS NULL"
     " OR not_after > now() ORDER BY created_at DESC LIMIT 200",
     0},
    {"codegen_keys_lock", "SELECT pg_advisory_xact_lock(hashtext('codegen.signing_keys'))", 0},
    {"codegen_keys_present",
     "SELECT EXISTS (SELECT 1 FROM signing_keys WHERE purpose = 'code' AND not_after IS NULL"
     " AND revoked_at IS NULL), EXISTS (SELECT 1 FROM signing_keys WHERE purpose = 'keylist'"
     " AND revoked_at IS NULL)",
     0},
    {"codegen_key_insert",
     "INSERT INTO signing_keys (kid, purpose, private_sealed, public_der) VALUES ($1, $2, $3, $4)",
     4},
    {"codegen_keys_retire",
     "UPDATE signing_keys SET not_after = clock_timestamp() + make_interval(secs => $1::integer)"
     " WHERE purpose = 'code' AND not_after IS NULL AND kid <> $2",
     2},
    {"codegen_key_revoke",
     "UPDATE signing_keys SET revoked_at = clock_timestamp() WHERE kid = $1"
     " AND revoked_at IS NULL RETURNING kid",
     1},
    {"codegen_keys_list",
     "SELECT coalesce(json_agg(json_build_object('kid', kid, 'purpose', purpose,"
     " 'not_before', " DB_RFC3339("not_before") ", 'not_after', " DB_RFC3339(
         "not_after") ","
                      " 'revoked_at', " DB_RFC3339("revoked_at") ") ORDER BY created_at), '[]')"
                                                                 " FROM signing_keys",
     0},
    {NULL, NULL, 0},
};
