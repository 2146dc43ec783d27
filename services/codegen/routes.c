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

void codegen_get_code(void *app, http_req *req)
{
	svc_http_reply_person_scoped(app, req, "codegen_code_scoped", "code for this person");
}

void codegen_get_history(void *app, http_req *req)
{
	svc_http_reply_person_scoped(app, req, "codegen_history", "code for this person");
}

static const jspec_field scan_spec[] = {
    {"checkpoint_id", JSPEC_STRING, 1, 1, 64, pii_text_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"temperature", JSPEC_NUMBER, 1, 30, 45, NULL, NULL, NULL, 0},
};

int codegen_scan_lookup(db_conn *tx, codegen_scan *x, hc_err *err)
{
	const char *params[1] = {x->key};
	int rc = db_run_json(tx, "codegen_code_get", 1, params, &x->code, err);

	return rc == HC_ERR_NOT_FOUND ? 0 : rc;
}

const char *codegen_scan_reason(const char *colour, int fever)
{
	if (colour == NULL)
		return "no_code";
	if (strcmp(colour, "green") != 0)
		return strcmp(colour, "red") == 0 ? "colour_red" : "colour_yellow";
	return fever ? "fever" : NULL;
}

json_t *codegen_scan_event(const char *scan_id, const char *key, const char *checkpoint_id,
                           const codegen_scanned *code, int fever, const char *result,
                           const char *reason, const char *scanned_at)
{
	json_t *version =
	    code->version != NULL ? json_integer(strtoll(code->version, NULL, 10)) : NULL;

	return json_pack("{s:s, s:s, s:s, s:s?, s:s*, s:b, s:s, s:s?, s:o?, s:s}", "scan_id",
	                 scan_id, "person_key", key, "checkpoint_id", checkpoint_id, "county_code",
	                 code->county_code, "colour", code->colour, "fever", fever, "result",
	                 result, "reason", reason, "code_version", version, "scanned_at",
	                 scanned_at);
}

int codegen_scan_record(db_conn *tx, codegen_scan *x, hc_err *err)
{
	char version[24] = "", temp[16];
	int fever = x->temperature >= FEVER_CELSIUS;
	db_res *res = NULL;
	int rc;

	if (x->code != NULL) {
		x->colour = json_string_value(json_object_get(x->code, "colour"));
		snprintf(version, sizeof(version), "%lld",
		         (long long)json_integer_value(json_object_get(x->code, "version")));
	}
	x->reason = codegen_scan_reason(x->colour, fever);
	x->result = x->reason != NULL ? "refused" : "passed";
	hc_uuid_v7(x->id);
	snprintf(temp, sizeof(temp), "%.1f", x->temperature);
	{
		const char *params[8] = {x->id,
		                         x->checkpoint_id,
		                         x->key,
		                         temp,
		                         x->result,
		                         x->reason,
		                         version[0] ? version : NULL,
		                         http_req_principal(x->req).client};

		rc = db_run(tx, "codegen_scan_insert", 8, params, &res, err);
	}
	if (rc != 0)
		return rc;
	snprintf(x->at, sizeof(x->at), "%s", db_res_get(res, 0, 0));
	db_res_free(res);
	{
		codegen_scanned code = {json_string_value(json_object_get(x->code, "county_code")),
		                        x->colour, version[0] ? version : NULL};

		return bus_outbox_emit(tx, TOPIC_SCAN, x->key, code.county_code, TYPE_SCAN_RECORDED,
		                       CODEGEN_EVENT_SOURCE, x->id,
		                       codegen_scan_event(x->id, x->key, x->checkpoint_id, &code,
		                                          fever, x->result, x->reason, x->at),
		                       http_req_traceparent(x->req), err);
	}
}

static void scan_reply(http_req *req, void *ctx)
{
	const codegen_scan *x = ctx;

	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s?, s:s?, s:O?, s:O?, s:s}", "scan_id", x->id,
	                          "result", x->result, "reason", x->reason, "colour", x->colour,
	                          "masked_name", json_object_get(x->code, "masked_name"),
	                          "code_version", json_object_get(x->code, "version"), "scanned_at",
	                          x->at));
}

static int scan_write(db_conn *tx, void *ctx, hc_err *err)
{
	int rc = codegen_scan_lookup(tx, ctx, err);

	return rc == 0 ? codegen_scan_record(tx, ctx, err) : rc;
}

void codegen_post_scan(void *app_, http_req *req)
{
	codegen_app *app = app_;
	json_t *body = http_req_json(req);
	codegen_scan x = {.req = req};
	hc_err err;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (jspec_check(body, scan_spec, sizeof(scan_spec) / sizeof(scan_spec[0]), "", &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	x.key = json_string_value(json_object_get(body, "person_key"));
	x.checkpoint_id = json_string_value(json_object_get(body, "checkpoint_id"));
	x.temperature = json_number_value(json_object_get(body, "temperature"));
	if (svc_http_tx(&app->svc, req, scan_write, scan_reply, &x) == 0)
		log_info("scan %s at checkpoint: %s", x.id, x.result);
out:
	json_decref(x.code);
	json_decref(body);
}
