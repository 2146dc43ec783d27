/* Every SQL statement of intake; see store.h. */
#include "services/intake/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const db_stmt intake_statements[] = {
    {"intake_application_insert",
     "INSERT INTO employer_applications"
     " (id, employer_name, credit_code, county_code, category, worker_count)"
     " VALUES ($1, $2, $3, $4, $5, $6) RETURNING " DB_RFC3339("submitted_at"),
     6},
    {"intake_workers_insert",
     "INSERT INTO application_workers (application_id, position, person_key, masked_name,"
     " name_sealed, resident_id_sealed, phone_sealed)"
     " SELECT $1, w.position, w.person_key, w.masked_name, w.name_sealed, w.resident_id_sealed,"
     " w.phone_sealed FROM jsonb_to_recordset($2::jsonb) AS w(position integer, person_key text,"
     " masked_name text, name_sealed text, resident_id_sealed text, phone_sealed text)",
     2},
    {"intake_application_get",
     "SELECT a.id, a.employer_name, a.credit_code, a.county_code, a.category, a.status,"
     " " DB_RFC3339("a.submitted_at") ", a.worker_count,"
                                      " (SELECT json_agg(json_build_object('person_key', "
                                      "w.person_key, 'masked_name', w.masked_name)"
                                      "  ORDER BY w.position) FROM application_workers w WHERE "
                                      "w.application_id = a.id)"
                                      " FROM employer_applications a WHERE a.id = $1",
     1},
    {NULL, NULL, 0},
};

int intake_store_application_insert(db_conn *tx, const employer_application *app, const char *id,
                                    const unsigned char pii_key[32], char submitted_at[40],
                                    hc_err *err)
{
	char count[16];
	const char *params[6] = {
	    id, app->employer_name, app->credit_code, app->county_code, app->category, count};
	json_t *rows = json_array();
	db_res *res = NULL;
	char *rows_text = NULL;
	size_t i;
	int rc;

	snprintf(count, sizeof(count), "%zu", app->nworkers);
	rc = db_run(tx, "intake_application_insert", 6, params, &res, err);
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

int intake_store_application_get(db_conn *conn, const char *id, json_t **out, hc_err *err)
{
	const char *params[1] = {id};
	db_res *res = NULL;
	json_t *workers;
	int rc;

	rc = db_run(conn, "intake_application_get", 1, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return hc_err_set(err, HC_ERR_NOT_FOUND, "no employer application %s", id);
	}
	workers = json_loads(db_res_get(res, 0, 8) ? db_res_get(res, 0, 8) : "[]", 0, NULL);
	*out =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "id", db_res_get(res, 0, 0),
	              "employer_name", db_res_get(res, 0, 1), "credit_code", db_res_get(res, 0, 2),
	              "county_code", db_res_get(res, 0, 3), "category", db_res_get(res, 0, 4),
	              "status", db_res_get(res, 0, 5), "submitted_at", db_res_get(res, 0, 6),
	              "worker_count", (json_int_t)strtol(db_res_get(res, 0, 7), NULL, 10),
	              "workers", workers ? workers : json_array());
	db_res_free(res);
	return 0;
}
