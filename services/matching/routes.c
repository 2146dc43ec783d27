/*
 * matching's internal API:
 *   POST /v1/reference-records         {records: [...]}, 1 to 1000 per call;
 *                                      stored and re-assessed in one transaction
 *                                      (past HC_REASSESS_SYNC_MAX people, those
 *                                      are queued in it for reassess.c instead)
 *   GET  /v1/people/{person_key}/assessments   the latest 100, newest first
 *   GET  /v1/rules                     every rule and version, as data
 */
#include <stdio.h>
#include <string.h>

#include "common/identity/identity.h"
#include "services/matching/app.h"
#include "services/matching/domain/rules.h"
#include "services/matching/store.h"

typedef struct importing {
	http_req *req;
	json_t *rows;
	long sync_max;
	matching_import_counts counts;
} importing;

static int importing_write(db_conn *tx, void *ctx, hc_err *err)
{
	importing *x = ctx;

	return matching_import_rows(tx, x->rows, http_req_traceparent(x->req), x->sync_max,
	                            &x->counts, err);
}

void matching_post_records(void *app_, http_req *req)
{
	matching_app *app = app_;
	json_t *body = http_req_json(req), *list;
	importing x = {.req = req, .sync_max = app->cfg.reassess_sync_max};
	hc_err err;
	size_t i;

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
	x.rows = json_array();
	for (i = 0; i < json_array_size(list); i++) {
		json_t *row;
		char path[32];

		snprintf(path, sizeof(path), "records[%zu]", i);
		if (record_parse(json_array_get(list, i), path, app->cfg.person_key_secret, &row,
		                 &err) != 0) {
			http_reply_err(req, &err);
			goto out;
		}
		json_array_append_new(x.rows, row);
	}
	if (svc_http_tx(&app->svc, req, importing_write, &x) != 0)
		goto out;
	http_reply_json(req, 200,
	                json_pack("{s:I, s:I, s:I, s:I}", "inserted", (json_int_t)x.counts.inserted,
	                          "duplicates",
	                          (json_int_t)(json_array_size(x.rows) - (size_t)x.counts.inserted),
	                          "reassessed", (json_int_t)x.counts.reassessed, "queued",
	                          (json_int_t)x.counts.queued));
out:
	json_decref(x.rows);
	json_decref(body);
}

void matching_get_assessments(void *app, http_req *req)
{
	svc_http_reply_person(app, req, "matching_assessments_list", "assessments");
}

void matching_get_rules(void *app, http_req *req)
{
	svc_http_reply_row(&((matching_app *)app)->svc, req, "matching_rules_all", 0, NULL, NULL,
	                   "rules");
}
