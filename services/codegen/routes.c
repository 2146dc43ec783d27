/*
 * codegen's internal API:
 *   GET  /v1/codes/{person_key}          the current code: colour, pass, reason, version
 *   GET  /v1/codes/{person_key}/history  every version, newest first, each with its reason
 *   POST /v1/scans  {checkpoint_id, person_key, temperature}: a checkpoint scan,
 *                   recorded and published (hc.codegen.scan.recorded.v1); passes
 *                   only with a green code and a temperature under 37.3 C
 */
#include <stdio.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "services/codegen/app.h"

#define FEVER_CELSIUS 37.3

static void reply_person_json(codegen_app *app, http_req *req, const char *stmt)
{
	const char *key = http_req_param(req, "person_key");
	const char *params[1] = {key};
	db_conn *conn;
	db_res *res = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (!person_key_valid(key)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "person_key",
		                   "person_key must be 64 lowercase hex characters");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (db_run(conn, stmt, 1, params, &res, &err) != 0)
		http_reply_err(req, &err);
	else if (db_res_rows(res) == 0)
		http_reply_problem(req, PROBLEM_NOT_FOUND, "person_key", "no code for this person");
	else
		http_reply_bytes(req, 200, "application/json", db_res_get(res, 0, 0),
		                 strlen(db_res_get(res, 0, 0)));
	db_res_free(res);
	db_pool_give(app->svc.pool, conn);
}

void codegen_get_code(void *app, http_req *req)
{
	reply_person_json(app, req, "codegen_code_get");
}

void codegen_get_history(void *app, http_req *req)
{
	reply_person_json(app, req, "codegen_history");
}

static const jspec_field scan_spec[] = {
    {"checkpoint_id", JSPEC_STRING, 1, 1, 64, pii_text_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"temperature", JSPEC_NUMBER, 1, 30, 45, NULL, NULL, NULL, 0},
};

void codegen_post_scan(void *app_, http_req *req)
{
	codegen_app *app = app_;
	json_t *body = http_req_json(req), *code = NULL, *data;
	const char *key, *result = "passed", *reason = NULL, *colour = NULL;
	char id[HC_UUID_LEN + 1], temp[16], version[24] = "", at[40];
	cloudevent ev = {0};
	db_conn *tx = NULL;
	db_res *res = NULL;
	double t;
	hc_err err;
	int rc, fever;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (jspec_check(body, scan_spec, sizeof(scan_spec) / sizeof(scan_spec[0]), "", &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	key = json_string_value(json_object_get(body, "person_key"));
	t = json_number_value(json_object_get(body, "temperature"));
	fever = t >= FEVER_CELSIUS;
	snprintf(temp, sizeof(temp), "%.1f", t);
	hc_uuid_v4(id);
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0) {
		const char *params[1] = {key};

		rc = db_run(tx, "codegen_code_get", 1, params, &res, &err);
	}
	if (rc == 0 && db_res_rows(res) == 1) {
		code = json_loads(db_res_get(res, 0, 0), 0, NULL);
		colour = json_string_value(json_object_get(code, "colour"));
		snprintf(version, sizeof(version), "%lld",
		         (long long)json_integer_value(json_object_get(code, "version")));
	}
	db_res_free(res);
	res = NULL;
	if (colour == NULL)
		reason = "no_code";
	else if (strcmp(colour, "green") != 0)
		reason = strcmp(colour, "red") == 0 ? "colour_red" : "colour_yellow";
	else if (fever)
		reason = "fever";
	if (reason != NULL)
		result = "refused";
	if (rc == 0) {
		const char *params[8] = {id,
		                         json_string_value(json_object_get(body, "checkpoint_id")),
		                         key,
		                         temp,
		                         result,
		                         reason,
		                         version[0] ? version : NULL,
		                         http_req_principal(req).client};

		rc = db_run(tx, "codegen_scan_insert", 8, params, &res, &err);
	}
	if (rc == 0) {
		snprintf(at, sizeof(at), "%s", db_res_get(res, 0, 0));
		data = json_pack("{s:s, s:s, s:O, s:O?, s:b, s:s, s:s?, s:O?, s:s}", "scan_id", id,
		                 "person_key", key, "checkpoint_id",
		                 json_object_get(body, "checkpoint_id"), "county_code",
		                 json_object_get(code, "county_code"), "fever", fever, "result",
		                 result, "reason", reason, "code_version",
		                 json_object_get(code, "version"), "scanned_at", at);
		cloudevent_init(&ev, TYPE_SCAN_RECORDED, CODEGEN_EVENT_SOURCE, id, data,
		                http_req_traceparent(req));
		rc = bus_outbox_add(tx, TOPIC_SCAN, key, &ev,
		                    json_string_value(json_object_get(code, "county_code")), &err);
	}
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
		goto out;
	}
	log_info("scan %s at checkpoint: %s", id, result);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s?, s:s?, s:O?, s:O?, s:s}", "scan_id", id,
	                          "result", result, "reason", reason, "colour", colour,
	                          "masked_name", json_object_get(code, "masked_name"),
	                          "code_version", json_object_get(code, "version"), "scanned_at",
	                          at));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	db_res_free(res);
	cloudevent_cleanup(&ev);
	json_decref(code);
	json_decref(body);
}
