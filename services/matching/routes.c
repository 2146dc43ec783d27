/*
 * matching's internal API:
 *   POST /v1/reference-records         {records: [...]}, 1 to 1000 per call;
 *                                      stored and re-assessed in one transaction
 *                                      (past HC_REASSESS_SYNC_MAX people, those
 *                                      are queued in it for reassess.c instead)
 *   GET  /v1/people/{person_key}/assessments   the latest 100, newest first
 *   GET  /v1/rules                     every rule and version, as data
 *   GET  /v1/rules/{rule_id}           every version of one rule
 *   POST /v1/rules                     a new version of a rule (the provincial
 *                                      platform's role): it applies to every
 *                                      assessment from its valid_from on, and the
 *                                      rule's previous version ends then
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/identity/identity.h"
#include "common/log/log.h"
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

static void importing_reply(http_req *req, void *ctx)
{
	const importing *x = ctx;

	http_reply_json(
	    req, 200,
	    json_pack(
	        "{s:I, s:I, s:I, s:I}", "inserted", (json_int_t)x->counts.inserted, "duplicates",
	        (json_int_t)(json_array_size(x->rows) - (size_t)x->counts.inserted), "reassessed",
	        (json_int_t)x->counts.reassessed, "queued", (json_int_t)x->counts.queued));
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
	svc_http_tx(&app->svc, req, importing_write, importing_reply, &x);
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

void matching_get_rule(void *app, http_req *req)
{
	const char *params[1] = {http_req_param(req, "rule_id")};

	svc_http_reply_row(&((matching_app *)app)->svc, req, "matching_rule_versions", 1, params,
	                   "rule_id", "such rule"); /* 404: "no such rule" */
}

typedef struct publishing {
	http_req *req;
	json_t *body, *rule;
} publishing;

static void publishing_reply(http_req *req, void *ctx)
{
	http_reply_json(req, 201, json_incref(((publishing *)ctx)->rule));
}

static int publishing_write(db_conn *tx, void *ctx, hc_err *err)
{
	publishing *x = ctx;
	json_t *b = x->body;
	const char *valid_from = json_string_value(json_object_get(b, "valid_from"));
	const char *client = http_req_principal(x->req).client;
	char priority[24], window[24], *sources, *kinds;
	const char *params[9];
	db_res *res = NULL;
	int rc;

	sources = json_dumps(json_object_get(b, "sources"), JSON_COMPACT);
	kinds = json_dumps(json_object_get(b, "kinds"), JSON_COMPACT);
	if (sources == NULL || kinds == NULL)
		abort();
	rc = db_run(tx, "matching_rule_starts_ok", 1, &valid_from, &res, err);
	if (rc == 0 && strcmp(db_res_get(res, 0, 0), "t") != 0)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "valid_from",
		                  "valid_from is in the past: a rule version applies from now on");
	db_res_free(res);
	res = NULL;
	if (rc == 0) /* the first source that is not an allow-listed health source, if any */
		rc = db_run(tx, "matching_rule_source_refused", 1, (const char *const *)&sources,
		            &res, err);
	if (rc == 0 && db_res_rows(res) > 0) {
		char field[32];

		snprintf(field, sizeof(field), "sources[%s]", db_res_get(res, 0, 0));
		rc = hc_err_field(
		    err, HC_ERR_PERMANENT, field,
		    "%s is not an allow-listed health source: it may not colour a code",
		    db_res_get(res, 0, 1));
	}
	db_res_free(res);
	if (rc != 0)
		goto out;
	snprintf(priority, sizeof(priority), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(b, "priority")));
	snprintf(window, sizeof(window), "%" JSON_INTEGER_FORMAT,
	         json_integer_value(json_object_get(b, "window_days")));
	params[0] = json_string_value(json_object_get(b, "rule_id"));
	params[1] = priority;
	params[2] = json_string_value(json_object_get(b, "colour"));
	params[3] = sources;
	params[4] = kinds;
	params[5] = window;
	params[6] = valid_from;
	params[7] = json_string_value(json_object_get(b, "description"));
	params[8] = client != NULL ? client : "internal";
	rc = db_run_json(tx, "matching_rule_publish", 9, params, &x->rule, err);
	if (rc == HC_ERR_NOT_FOUND) {
		rc = hc_err_field(err, HC_ERR_CONFLICT, "valid_from",
		                  "a version of rule %s starts after valid_from", params[0]);
	} else if (rc == HC_ERR_CONFLICT) { /* a new rule's version 1, published twice at once */
		hc_err_field(
		    err, rc, "rule_id",
		    "another version of rule %s was published at the same moment; read the "
		    "rules and retry",
		    params[0]);
		/* the client's race, answered 409: not a statement of ours the database refused */
		err->sqlstate[0] = '\0';
	}
out:
	free(sources);
	free(kinds);
	return rc;
}

void matching_post_rule(void *app, http_req *req)
{
	publishing x = {.req = req, .body = http_req_json(req)};
	hc_err err;

	hc_err_clear(&err);
	if (x.body == NULL)
		return;
	if (rule_version_check(x.body, &err) != 0) {
		http_reply_err(req, &err);
	} else if (svc_http_tx(&((matching_app *)app)->svc, req, publishing_write, publishing_reply,
	                       &x) == 0) {
		log_info("rule %s version %" JSON_INTEGER_FORMAT " published, in force from %s",
		         json_string_value(json_object_get(x.rule, "rule_id")),
		         json_integer_value(json_object_get(x.rule, "version")),
		         json_string_value(json_object_get(x.rule, "valid_from")));
	}
	json_decref(x.rule);
	json_decref(x.body);
}
