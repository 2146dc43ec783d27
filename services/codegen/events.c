/*
 * What codegen consumes.  An assessment may change the colour, rule,
 * evidence or who decided; a certificate issued or revoked may change
 * whether a green code is a return-to-work pass.  Either makes a new code
 * version only when something the holder sees changed; an assessment older
 * than the one in force (delivered late) changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/event/checks.h"
#include "common/log/log.h"
#include "services/codegen/app.h"
#include "services/codegen/projection.h"

/* What a new version would be, from an assessment or the current version. */
typedef struct next_code {
	json_t *src; /* assessment data or current version: colour, rule_id, ... */
	const char *person_key, *masked_name, *county_code, *assessment_id, *assessed_at;
	char cause[96];
} next_code;

static const char *str(json_t *o, const char *f)
{
	return json_string_value(json_object_get(o, f));
}

/* Same colour, pass, rule and evidence, same decider: nothing the holder sees changes. */
static int unchanged(json_t *cur, json_t *src, int pass)
{
	json_t *reason = json_object_get(cur, "reason");

	return cur != NULL && strcmp(str(cur, "colour"), str(src, "colour")) == 0 &&
	       json_is_true(json_object_get(cur, "pass")) == pass &&
	       strcmp(str(reason, "rule_id"), str(src, "rule_id")) == 0 &&
	       json_integer_value(json_object_get(reason, "rule_version")) ==
	           json_integer_value(json_object_get(src, "rule_version")) &&
	       strcmp(str(reason, "decided_by"), str(src, "decided_by")) == 0 &&
	       json_equal(json_object_get(reason, "evidence"), json_object_get(src, "evidence"));
}

/* Writes version cur+1 from n and publishes hc.codegen.code.changed.v1. */
static int write_version(db_conn *tx, const next_code *n, json_t *cur, int pass,
                         const char *traceparent, hc_err *err)
{
	char version[24], rule_version[24];
	char *evidence = json_dumps(json_object_get(n->src, "evidence"), JSON_COMPACT);
	json_t *v = NULL;
	db_res *res = NULL;
	int rc;

	if (evidence == NULL)
		abort();
	snprintf(version, sizeof(version), "%lld",
	         cur == NULL ? 1LL
	                     : (long long)json_integer_value(json_object_get(cur, "version")) + 1);
	snprintf(rule_version, sizeof(rule_version), "%lld",
	         (long long)json_integer_value(json_object_get(n->src, "rule_version")));
	{
		const char *params[10] = {n->person_key,
		                          version,
		                          str(n->src, "colour"),
		                          pass ? "true" : "false",
		                          str(n->src, "rule_id"),
		                          rule_version,
		                          evidence,
		                          str(n->src, "decided_by"),
		                          n->assessment_id,
		                          n->cause};

		rc = db_run(tx, "codegen_version_insert", 10, params, &res, err);
	}
	free(evidence);
	if (rc != 0)
		return rc;
	v = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	{
		const char *params[5] = {n->person_key, n->masked_name, n->county_code, version,
		                         n->assessed_at};

		rc = db_run(tx, "codegen_code_upsert", 5, params, NULL, err);
	}
	if (rc == 0)
		rc = bus_outbox_emit(
		    tx, TOPIC_CODE, n->person_key, n->county_code, TYPE_CODE_CHANGED,
		    CODEGEN_EVENT_SOURCE, n->person_key,
		    json_pack(
		        "{s:s, s:s, s:s, s:O, s:O, s:O*, s:O, s:O, s:O, s:O, s:O, s:O, s:O}",
		        "person_key", n->person_key, "masked_name", n->masked_name, "county_code",
		        n->county_code, "version", json_object_get(v, "version"), "colour",
		        json_object_get(v, "colour"), "previous_colour",
		        cur != NULL ? json_object_get(cur, "colour") : NULL, "pass",
		        json_object_get(v, "pass"), "rule_id", json_object_get(v, "rule_id"),
		        "rule_version", json_object_get(v, "rule_version"), "evidence",
		        json_object_get(v, "evidence"), "decided_by",
		        json_object_get(v, "decided_by"), "cause", json_object_get(v, "cause"),
		        "changed_at", json_object_get(v, "created_at")),
		    traceparent, err);
	if (rc == 0)
		log_info("code version %s made (%s)", version, n->cause);
	json_decref(v);
	return rc;
}

/* The current code (locked) into *cur (NULL when none); *newer when it is at least as recent as at.
 */
static int current(db_conn *tx, const char *key, const char *at, json_t **cur, int *newer,
                   hc_err *err)
{
	const char *params[2] = {key, at};
	db_res *res = NULL;
	int rc;

	*cur = NULL;
	*newer = 0;
	rc = db_run(tx, "codegen_current", 2, params, &res, err);
	if (rc == 0 && db_res_rows(res) == 1) {
		*cur = json_loads(db_res_get(res, 0, 0), 0, NULL);
		*newer = strcmp(db_res_get(res, 0, 1), "t") == 0;
	}
	db_res_free(res);
	return rc;
}

static int has_certificate(db_conn *tx, const char *key, int *yes, hc_err *err)
{
	const char *params[1] = {key};
	db_res *res = NULL;
	int rc = db_run(tx, "codegen_has_certificate", 1, params, &res, err);

	*yes = rc == 0 && strcmp(db_res_get(res, 0, 0), "t") == 0;
	db_res_free(res);
	return rc;
}

int codegen_on_assessment(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	next_code n = {0};
	json_t *cur = NULL;
	int rc, newer, cert = 0, pass;

	(void)app;
	if (event_check_assessment(ev->data, err) != 0)
		return HC_ERR_PERMANENT;
	n.src = ev->data;
	n.person_key = str(ev->data, "person_key");
	n.masked_name = str(ev->data, "masked_name");
	n.county_code = str(ev->data, "county_code");
	n.assessment_id = str(ev->data, "assessment_id");
	n.assessed_at = str(ev->data, "assessed_at");
	snprintf(n.cause, sizeof(n.cause), "assessment %s", n.assessment_id);
	rc = current(tx, n.person_key, n.assessed_at, &cur, &newer, err);
	if (rc == 0 && newer) {
		json_decref(cur);
		return 0; /* a later assessment is already in force */
	}
	if (rc == 0)
		rc = has_certificate(tx, n.person_key, &cert, err);
	pass = rc == 0 && cert && strcmp(str(ev->data, "colour"), "green") == 0;
	if (rc == 0 && !unchanged(cur, ev->data, pass))
		rc = write_version(tx, &n, cur, pass, ev->traceparent, err);
	else if (rc == 0) { /* keep what the next comparison is made against */
		const char *params[5] = {n.person_key, n.masked_name, n.county_code, NULL,
		                         n.assessed_at};
		char version[24];

		snprintf(version, sizeof(version), "%lld",
		         (long long)json_integer_value(json_object_get(cur, "version")));
		params[3] = version;
		rc = db_run(tx, "codegen_code_upsert", 5, params, NULL, err);
	}
	json_decref(cur);
	return rc;
}

int codegen_on_certificate(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *key = str(ev->data, "person_key");
	next_code n = {0};
	json_t *cur = NULL, *src = NULL;
	int rc, newer, cert = 0, pass;

	(void)app;
	rc = codegen_certificates_apply(tx, ev, err);
	if (rc == 0)
		rc = current(tx, key, "-infinity", &cur, &newer, err);
	if (rc != 0 || cur == NULL) {
		json_decref(cur);
		return rc; /* no code yet: the first assessment will see the certificate */
	}
	rc = has_certificate(tx, key, &cert, err);
	pass = cert && strcmp(str(cur, "colour"), "green") == 0;
	if (rc == 0 && pass != json_is_true(json_object_get(cur, "pass"))) {
		json_t *reason = json_object_get(cur, "reason");

		src =
		    json_pack("{s:O, s:O, s:O, s:O, s:O}", "colour", json_object_get(cur, "colour"),
		              "rule_id", json_object_get(reason, "rule_id"), "rule_version",
		              json_object_get(reason, "rule_version"), "evidence",
		              json_object_get(reason, "evidence"), "decided_by",
		              json_object_get(reason, "decided_by"));
		n.src = src;
		n.person_key = key;
		n.masked_name = str(cur, "masked_name");
		n.county_code = str(cur, "county_code");
		n.assessment_id = str(reason, "assessment_id");
		n.assessed_at = str(cur, "assessed_at");
		snprintf(n.cause, sizeof(n.cause), "certificate %s %s",
		         str(ev->data, "certificate_id"), pass ? "issued" : "revoked");
		rc = write_version(tx, &n, cur, pass, ev->traceparent, err);
	}
	json_decref(src);
	json_decref(cur);
	return rc;
}
