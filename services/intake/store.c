/* Every SQL statement of intake; see store.h. */
#include "services/intake/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const db_stmt intake_statements[] = {
    {"intake_application_insert",
     "INSERT INTO employer_applications"
     " (id, employer_name, credit_code, county_code, category, worker_count, submitted_by)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING " DB_RFC3339("submitted_at"),
     7},
    {"intake_workers_insert",
     "INSERT INTO application_workers (application_id, position, person_key, masked_name,"
     " name_sealed, resident_id_sealed, phone_sealed)"
     " SELECT $1, w.position, w.person_key, w.masked_name, w.name_sealed, w.resident_id_sealed,"
     " w.phone_sealed FROM jsonb_to_recordset($2::jsonb) AS w(position integer, person_key text,"
     " masked_name text, name_sealed text, resident_id_sealed text, phone_sealed text)",
     2},
    {"intake_application_decide",
     "UPDATE employer_applications SET status = $2, opinion = $3, decided_at = $4::timestamptz"
     " WHERE id = $1 AND status = 'submitted'",
     4},
    {"intake_application_status", "SELECT status FROM employer_applications WHERE id = $1", 1},
    /* clang-format off */
    {"intake_application_get",
     "SELECT json_build_object('id', a.id, 'employer_name', a.employer_name,"
     " 'credit_code', a.credit_code, 'county_code', a.county_code, 'category', a.category,"
     " 'status', a.status, 'opinion', a.opinion,"
     " 'submitted_at', " DB_RFC3339("a.submitted_at") ","
     " 'decided_at', " DB_RFC3339("a.decided_at") ","
     " 'worker_count', a.worker_count,"
     " 'workers', (SELECT json_agg(json_build_object('person_key', w.person_key,"
     "   'masked_name', w.masked_name) ORDER BY w.position)"
     "   FROM application_workers w WHERE w.application_id = a.id))"
     " FROM employer_applications a WHERE a.id = $1"
     " AND ($2::text IS NULL OR a.submitted_by = $2) AND ($3::text IS NULL OR a.county_code = $3)",
     3},
    /* clang-format on */
    {"intake_declaration_employer",
     "SELECT a.status, EXISTS (SELECT 1 FROM application_workers w"
     " WHERE w.application_id = a.id AND w.person_key = $2)"
     " FROM employer_applications a WHERE a.id = $1",
     2},
    /* $1: a JSON array of intake_declaration_row objects, one transaction time for all */
    {"intake_declarations_insert_many",
     "WITH i AS (INSERT INTO declarations (id, person_key, masked_name, name_sealed,"
     " resident_id_sealed, phone_sealed, health_sealed, county_code, employer_application_id,"
     " submitted_by)"
     " SELECT r.id, r.person_key, r.masked_name, r.name_sealed, r.resident_id_sealed,"
     " r.phone_sealed, r.health_sealed, r.county_code, r.employer_application_id, r.submitted_by"
     " FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, person_key text, masked_name text,"
     " name_sealed text, resident_id_sealed text, phone_sealed text, health_sealed text,"
     " county_code text, employer_application_id uuid, submitted_by text) RETURNING submitted_at)"
     " SELECT " DB_RFC3339("min(submitted_at)") " FROM i",
     1},
    /* clang-format off */
    {"intake_declaration_get",
     "SELECT json_build_object('id', d.id, 'status', d.status, 'person_key', d.person_key,"
     " 'masked_name', d.masked_name, 'county_code', d.county_code,"
     " 'employer_application_id', d.employer_application_id,"
     " 'submitted_at', " DB_RFC3339("d.submitted_at") ")"
     " FROM declarations d WHERE d.id = $1"
     " AND ($2::text IS NULL OR d.submitted_by = $2) AND ($3::text IS NULL OR d.county_code = $3)",
     3},
    /* clang-format on */
    {"intake_person_county",
     "SELECT county_code FROM declarations WHERE person_key = $1"
     " ORDER BY submitted_at DESC LIMIT 1",
     1},
    {"intake_checkin_insert",
     "INSERT INTO checkins (id, person_key, county_code, health_sealed, submitted_by)"
     " VALUES ($1, $2, $3, $4, $5) RETURNING " DB_RFC3339("submitted_at"),
     5},
    {"intake_correction_insert",
     "INSERT INTO corrections (id, person_key, county_code, reason, submitted_by)"
     " VALUES ($1, $2, $3, $4, $5) RETURNING " DB_RFC3339("filed_at"),
     5},
    /* clang-format off */
    {"intake_correction_get",
     "SELECT json_build_object('id', c.id, 'status', c.status, 'person_key', c.person_key,"
     " 'county_code', c.county_code, 'reason', c.reason,"
     " 'county_opinion', c.county_opinion, 'city_opinion', c.city_opinion,"
     " 'filed_at', " DB_RFC3339("c.filed_at") ", 'decided_at', " DB_RFC3339("c.decided_at") ")"
     " FROM corrections c WHERE c.id = $1"
     " AND ($2::text IS NULL OR c.submitted_by = $2) AND ($3::text IS NULL OR c.county_code = $3)",
     3},
    /* clang-format on */
    /* a stage's decision applies once, in order: county (filed), then city */
    {"intake_correction_decide",
     "UPDATE corrections SET status = $2,"
     " county_opinion = CASE WHEN $3 = 'county' THEN $4 ELSE county_opinion END,"
     " city_opinion = CASE WHEN $3 = 'city' THEN $4 ELSE city_opinion END,"
     " decided_at = $5::timestamptz"
     " WHERE id = $1 AND status = CASE WHEN $3 = 'county' THEN 'filed' ELSE 'county_approved' END",
     5},
    {NULL, NULL, 0},
};

int intake_store_application_insert(db_conn *tx, const employer_application *app, const char *id,
                                    const char *submitted_by, const unsigned char pii_key[32],
                                    char submitted_at[40], hc_err *err)
{
	char count[16];
	const char *params[7] = {
	    id,    app->employer_name, app->credit_code, app->county_code, app->category,
	    count, submitted_by};
	json_t *rows = json_array();
	db_res *res = NULL;
	char *rows_text = NULL;
	size_t i;
	int rc;

	snprintf(count, sizeof(count), "%zu", app->nworkers);
	rc = db_run(tx, "intake_application_insert", 7, params, &res, err);
	if (rc != 0)
		goto out;
	snprintf(submitted_at, 40, "%s", db_res_get(res, 0, 0));
	for (i = 0; i < app->nworkers; i++) {
		const application_worker *w = &app->workers[i];
		char *name = pii_seal(pii_key, "application_workers.name", w->name);
		char *rid = pii_seal(pii_key, "application_workers.resident_id", w->resident_id);
		char *phone = pii_seal(pii_key, "application_workers.phone", w->phone);

		json_array_append_new(rows,
		                      json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "position",
		                                (json_int_t)i, "person_key", w->person_key,
		                                "masked_name", w->masked_name, "name_sealed", name,
		                                "resident_id_sealed", rid, "phone_sealed", phone));
		free(name);
		free(rid);
		free(phone);
	}
	rows_text = json_dumps(rows, JSON_COMPACT);
	if (rows_text == NULL)
		abort();
	{
		const char *wparams[2] = {id, rows_text};

		rc = db_run(tx, "intake_workers_insert", 2, wparams, NULL, err);
	}
out:
	db_res_free(res);
	json_decref(rows);
	free(rows_text);
	return rc;
}

/* One object by id within a partner's or county's scope (the getters below). */
static int scoped_get(db_conn *conn, const char *stmt, const char *what, const char *id,
                      const char *partner, const char *county, json_t **out, hc_err *err)
{
	const char *params[3] = {id, partner, county};
	int rc = db_run_json(conn, stmt, 3, params, out, err);

	if (rc == HC_ERR_NOT_FOUND)
		hc_err_set(err, HC_ERR_NOT_FOUND, "no %s %s", what, id);
	return rc;
}

int intake_store_application_get(db_conn *conn, const char *id, const char *partner,
                                 const char *county, json_t **out, hc_err *err)
{
	return scoped_get(conn, "intake_application_get", "employer application", id, partner,
	                  county, out, err);
}

int intake_store_application_decide(db_conn *tx, json_t *data, hc_err *err)
{
	const char *id = json_string_value(json_object_get(data, "application_id"));
	const char *status = json_string_value(json_object_get(data, "status"));
	const char *params[4] = {id, status, json_string_value(json_object_get(data, "opinion")),
	                         json_string_value(json_object_get(data, "decided_at"))};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "intake_application_decide", 4, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_affected(res) == 1) {
		db_res_free(res);
		return 0;
	}
	db_res_free(res);
	rc = db_run(tx, "intake_application_status", 1, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "data.application_id",
		                  "no employer application %s", id);
	else if (strcmp(db_res_get(res, 0, 0), status) != 0)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "data.status",
		                  "application %s is already %s", id, db_res_get(res, 0, 0));
	db_res_free(res);
	return rc; /* 0: the same decision again changes nothing */
}

int intake_store_declaration_employer(db_conn *tx, const declaration *d, hc_err *err)
{
	const char *params[2] = {d->employer_application_id, d->person_key};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "intake_declaration_employer", 2, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "employer_application_id",
		                  "employer_application_id: no such employer application");
	else if (strcmp(db_res_get(res, 0, 1), "t") != 0)
		rc = hc_err_field(
		    err, HC_ERR_PERMANENT, "employer_application_id",
		    "employer_application_id: the application does not list this person");
	else if (strcmp(db_res_get(res, 0, 0), "approved") != 0)
		rc = hc_err_field(err, HC_ERR_CONFLICT, "employer_application_id",
		                  "the employer application is %s, not approved",
		                  db_res_get(res, 0, 0));
	db_res_free(res);
	return rc;
}

json_t *intake_declaration_row(const declaration *d, const char *id, const char *submitted_by,
                               const unsigned char pii_key[32])
{
	char *health = json_dumps(d->health, JSON_COMPACT | JSON_SORT_KEYS), *sealed[4];
	json_t *row;
	int i;

	if (health == NULL)
		abort();
	sealed[0] = pii_seal(pii_key, "declarations.name", d->name);
	sealed[1] = pii_seal(pii_key, "declarations.resident_id", d->resident_id);
	sealed[2] = pii_seal(pii_key, "declarations.phone", d->phone);
	sealed[3] = pii_seal(pii_key, "declarations.health", health);
	free(health);
	row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?}", "id", id,
	                "person_key", d->person_key, "masked_name", d->masked_name, "name_sealed",
	                sealed[0], "resident_id_sealed", sealed[1], "phone_sealed", sealed[2],
	                "health_sealed", sealed[3], "county_code", d->county_code,
	                "employer_application_id", d->employer_application_id, "submitted_by",
	                submitted_by);
	for (i = 0; i < 4; i++)
		free(sealed[i]);
	if (row == NULL)
		abort();
	return row;
}

int intake_store_declarations_insert(db_conn *tx, const json_t *rows, char submitted_at[40],
                                     hc_err *err)
{
	const json_t *values[1] = {rows};
	db_res *res = NULL;
	int rc = db_run_with_json(tx, "intake_declarations_insert_many", 1, values, &res, err);

	if (rc == 0)
		snprintf(submitted_at, 40, "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	return rc;
}

int intake_store_declaration_get(db_conn *conn, const char *id, const char *partner,
                                 const char *county, json_t **out, hc_err *err)
{
	return scoped_get(conn, "intake_declaration_get", "declaration", id, partner, county, out,
	                  err);
}

int intake_store_person_county(db_conn *tx, const char *person_key, char county[7], hc_err *err)
{
	const char *params[1] = {person_key};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "intake_person_county", 1, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0)
		rc = hc_err_field(err, HC_ERR_CONFLICT, "resident_id",
		                  "this person has not applied for a health code");
	else
		snprintf(county, 7, "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	return rc;
}

int intake_store_checkin_insert(db_conn *tx, const checkin *c, const char *id, const char *county,
                                const char *submitted_by, const unsigned char pii_key[32],
                                char submitted_at[40], hc_err *err)
{
	char *health = json_dumps(c->health, JSON_COMPACT | JSON_SORT_KEYS);
	char *sealed;
	db_res *res = NULL;
	int rc;

	if (health == NULL)
		abort();
	sealed = pii_seal(pii_key, "checkins.health", health);
	{
		const char *params[5] = {id, c->person_key, county, sealed, submitted_by};

		rc = db_run(tx, "intake_checkin_insert", 5, params, &res, err);
	}
	if (rc == 0)
		snprintf(submitted_at, 40, "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	free(health);
	free(sealed);
	return rc;
}

int intake_store_correction_insert(db_conn *tx, const correction *c, const char *id,
                                   const char *county, const char *submitted_by, char filed_at[40],
                                   hc_err *err)
{
	const char *params[5] = {id, c->person_key, county, c->reason, submitted_by};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "intake_correction_insert", 5, params, &res, err);
	if (rc == 0)
		snprintf(filed_at, 40, "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	return rc;
}

int intake_store_correction_get(db_conn *conn, const char *id, const char *partner,
                                const char *county, json_t **out, hc_err *err)
{
	return scoped_get(conn, "intake_correction_get", "correction request", id, partner, county,
	                  out, err);
}

int intake_store_correction_decide(db_conn *tx, json_t *data, hc_err *err)
{
	const char *params[5] = {json_string_value(json_object_get(data, "correction_id")),
	                         json_string_value(json_object_get(data, "status")),
	                         json_string_value(json_object_get(data, "stage")),
	                         json_string_value(json_object_get(data, "opinion")),
	                         json_string_value(json_object_get(data, "decided_at"))};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "intake_correction_decide", 5, params, &res, err);
	if (rc == 0 && db_res_affected(res) != 1)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "data.correction_id",
		                  "correction %s is unknown or not at the %s stage", params[0],
		                  params[2]);
	db_res_free(res);
	return rc;
}
