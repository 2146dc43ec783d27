/*
 * matching's internal API:
 *   POST /v1/reference-records         {records: [...]}, 1 to 1000 per call;
 *                                      stored and re-assessed in one transaction
 *   GET  /v1/people/{person_key}/assessments   the latest 100, newest first
 *   GET  /v1/rules                     every rule and version, as data
 */
#include <stdio.h>
#include <string.h>

#include "common/identity/identity.h"
#include "services/matching/app.h"
#include "services/matching/domain/rules.h"
#include "services/matching/store.h"

void matching_post_records(void *app_, http_req *req)
{
	matching_app *app = app_;
	json_t *body = http_req_json(req), *list, *rows = NULL;
	long inserted = 0, reassessed = 0;
	db_conn *tx = NULL;
	hc_err err;
	size_t i;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	list = json_object_get(body, "records");
	if (json_object_size(body) != 1 || !json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > MATCHING_BATCH_MAX) {
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, "records",
		                   "the body must be {\"records\": [...]} with 1 to %d records",
		                   MATCHING_BATCH_MAX);
		goto out;
	}
	rows = json_array();
	for (i = 0; i < json_array_size(list); i++) {
		json_t *row;
		char path[32];

		snprintf(path, sizeof(path), "records[%zu]", i);
		if (record_parse(json_array_get(list, i), path, app->cfg.person_key_secret, &row,
		                 &err) != 0) {
			http_reply_err(req, &err);
			goto out;
		}
		json_array_append_new(rows, row);
	}
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = matching_import_rows(tx, rows, http_req_traceparent(req), &inserted,
		                          &reassessed, &err);
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
		goto out;
	}
	http_reply_json(req, 200,
	                json_pack("{s:I, s:I, s:I}", "inserted", (json_int_t)inserted, "duplicates",
	                          (json_int_t)(json_array_size(rows) - (size_t)inserted),
	                          "reassessed", (json_int_t)reassessed));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	json_decref(rows);
	json_decref(body);
}

static void reply_json_stmt(matching_app *app, http_req *req, const char *stmt, int n,
                            const char *const *params)
{
	json_t *out = NULL;
	db_conn *conn = db_pool_take(app->svc.pool);
	hc_err err;

	hc_err_clear(&err);
	if (matching_store_json(conn, stmt, n, params, &out, &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}

void matching_get_assessments(void *app, http_req *req)
{
	const char *key = http_req_param(req, "person_key");
	const char *params[1] = {key};

	if (!person_key_valid(key)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "person_key",
		                   "person_key must be 64 lowercase hex characters");
		return;
	}
	reply_json_stmt(app, req, "matching_assessments_list", 1, params);
}

void matching_get_rules(void *app, http_req *req)
{
	reply_json_stmt(app, req, "matching_rules_all", 0, NULL);
}
