/* Every SQL statement of certificate. */
#include "common/db/db.h"

/* clang-format off */
#define CERT_JSON                                                                              \
	"json_build_object('certificate_id', c.id, 'person_key', c.person_key,"                 \
	" 'application_id', c.application_id, 'county_code', c.county_code, 'status', c.status," \
	" 'issued_at', " DB_RFC3339("c.issued_at") ", 'revoked_at', " DB_RFC3339("c.revoked_at") \
	", 'revoke_reason', c.revoke_reason)"
#define PASS_JSON                                                                              \
	"json_build_object('pass_id', v.id, 'plate', v.plate, 'from_county', v.from_county,"    \
	" 'to_county', v.to_county, 'travel_date', v.travel_date::text, 'status', v.status,"     \
	" 'issued_at', " DB_RFC3339("v.issued_at") ", 'revoked_at', " DB_RFC3339("v.revoked_at") \
	", 'revoke_reason', v.revoke_reason, 'riders', (SELECT json_agg(json_build_object("    \
	"'person_key', r.person_key, 'role', r.role) ORDER BY r.position)"                       \
	" FROM vehicle_pass_riders r WHERE r.pass_id = v.id))"
/* clang-format on */

const db_stmt certificate_statements[] = {
    {"cert_app_submitted",
     "INSERT INTO applications (application_id, county_code, workers_known)"
     " VALUES ($1, $2, true) ON CONFLICT (application_id) DO UPDATE SET workers_known = true",
     2},
    {"cert_workers_insert",
     "INSERT INTO application_workers (application_id, person_key)"
     " SELECT $1, w->>'person_key' FROM jsonb_array_elements($2::jsonb) w"
     " ON CONFLICT DO NOTHING",
     2},
    {"cert_app_decided",
     "INSERT INTO applications (application_id, county_code, status) VALUES ($1, $2, $3)"
     " ON CONFLICT (application_id) DO UPDATE SET status = EXCLUDED.status",
     3},
    /* an older assessment arriving late never overwrites a newer one */
    {"cert_person_upsert",
     "INSERT INTO people (person_key, county_code, colour, isolation_until, assessment_id,"
     " assessed_at) VALUES ($1, $2, $3, $4::date, $5, $6::timestamptz)"
     " ON CONFLICT (person_key) DO UPDATE SET county_code = EXCLUDED.county_code,"
     " colour = EXCLUDED.colour, isolation_until = EXCLUDED.isolation_until,"
     " assessment_id = EXCLUDED.assessment_id, assessed_at = EXCLUDED.assessed_at"
     " WHERE people.assessed_at <= EXCLUDED.assessed_at",
     6},
    /* certificates due: approved application, green, isolation over, none valid yet */
    {"cert_due",
     "SELECT w.person_key, a.application_id, p.county_code, a.county_code, p.assessment_id"
     " FROM application_workers w JOIN applications a USING (application_id)"
     " JOIN people p USING (person_key)"
     " WHERE a.status = 'approved' AND p.colour = 'green'"
     " AND (p.isolation_until IS NULL OR p.isolation_until < current_date)"
     " AND ($1::text IS NULL OR w.person_key = $1)"
     " AND ($2::uuid IS NULL OR a.application_id = $2)"
     " AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.person_key = w.person_key"
     " AND c.application_id = a.application_id AND c.status = 'valid')"
     " ORDER BY w.person_key, a.application_id",
     2},
    {"cert_issue",
     "INSERT INTO certificates AS c (id, person_key, application_id, county_code, assessment_id)"
     " VALUES ($1, $2, $3, $4, $5) RETURNING " CERT_JSON,
     5},
    {"cert_revoke_person",
     "UPDATE certificates c SET status = 'revoked', revoked_at = clock_timestamp(),"
     " revoke_reason = $2 WHERE c.person_key = $1 AND c.status = 'valid' RETURNING " CERT_JSON,
     2},
    {"pass_revoke_person",
     "UPDATE vehicle_passes v SET status = 'revoked', revoked_at = clock_timestamp(),"
     " revoke_reason = $2 WHERE v.status = 'valid'"
     " AND v.id IN (SELECT pass_id FROM vehicle_pass_riders WHERE person_key = $1)"
     " RETURNING " PASS_JSON,
     2},
    {"pass_colours",
     "SELECT coalesce(json_object_agg(person_key, colour), '{}') FROM people"
     " WHERE person_key = ANY ($1::text[])",
     1},
    {"pass_insert",
     "INSERT INTO vehicle_passes (id, plate, from_county, to_county, travel_date, submitted_by)"
     " VALUES ($1, $2, $3, $4, $5::date, $6)",
     6},
    {"pass_riders_insert",
     "INSERT INTO vehicle_pass_riders (pass_id, person_key, role, position)"
     " SELECT $1, r->>'person_key', r->>'role', (r->>'position')::integer"
     " FROM jsonb_array_elements($2::jsonb) r",
     2},
    {"pass_get",
     "SELECT " PASS_JSON " FROM vehicle_passes v WHERE v.id = $1"
     " AND ($2::text IS NULL OR v.submitted_by = $2)",
     2},
    /* $2: a partner app, confined to the people who applied through it;
       $3: a county system, confined to the certificates its county issued */
    {"cert_person_list",
     "SELECT coalesce(json_agg(" CERT_JSON " ORDER BY c.issued_at DESC), '[]')"
     " FROM certificates c WHERE c.person_key = $1 AND ($3::text IS NULL OR c.county_code = $3)"
     " HAVING $2::text IS NULL OR EXISTS (SELECT 1 FROM person_clients p"
     " WHERE p.person_key = $1 AND p.client = $2)",
     3},
    {"person_client_add",
     "INSERT INTO person_clients (person_key, client) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2},
    /* svc_on_declaration_clients: $1 [{k: person key, c: client}] */
    {"person_clients_add_many",
     "INSERT INTO person_clients (person_key, client) SELECT r.k, r.c"
     " FROM jsonb_to_recordset($1::jsonb) AS r(k text, c text) ON CONFLICT DO NOTHING",
     1},
    {NULL, NULL, 0},
};
