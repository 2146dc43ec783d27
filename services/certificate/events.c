/*
 * What certificate consumes: employer applications (their workers' keys)
 * and decisions, and every assessment.  Each may make certificates due
 * (issued here, in the same transaction) or, for a yellow or red
 * assessment, revoke the holder's certificates and every vehicle pass the
 * holder rides in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/event/checks.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "common/region/region.h"
#include "services/certificate/app.h"

#define S(f) json_string_value(json_object_get(ev->data, f))

/* Publishes one event per row of a RETURNING json statement. */
static int publish_rows(db_conn *tx, db_res *res, const char *type, const char *topic,
                        const char *key_field, const char *traceparent, hc_err *err)
{
	int i, rc = 0;

	for (i = 0; rc == 0 && i < db_res_rows(res); i++) {
		json_t *data = json_loads(db_res_get(res, i, 0), 0, NULL);
		const char *key = json_string_value(json_object_get(data, key_field));
		const char *county = json_string_value(json_object_get(data, "county_code"));
		char keybuf[80];

		snprintf(keybuf, sizeof(keybuf), "%s", key != NULL ? key : "");
		json_object_del(data, "plate"); /* the plate stays in this schema */
		if (county == NULL)
			county = json_string_value(json_object_get(data, "from_county"));
		rc = bus_outbox_emit(tx, topic, keybuf, county, type, CERTIFICATE_EVENT_SOURCE,
		                     keybuf, data, traceparent, err);
	}
	return rc;
}

/* Issues every certificate due for the person and/or application (either may be NULL). */
static int issue_due(db_conn *tx, const char *person_key, const char *application_id,
                     const char *traceparent, hc_err *err)
{
	const char *params[2] = {person_key, application_id};
	db_res *due = NULL;
	int i, rc;

	rc = db_run(tx, "cert_due", 2, params, &due, err);
	for (i = 0; rc == 0 && i < db_res_rows(due); i++) {
		const char *residence = db_res_get(due, i, 2);
		/* in the province: the county of residence; else the employer's county */
		const char *county =
		    region_county_name(residence) != NULL ? residence : db_res_get(due, i, 3);
		char id[HC_UUID_LEN + 1];
		const char *ip[5] = {id, db_res_get(due, i, 0), db_res_get(due, i, 1), county,
		                     db_res_get(due, i, 4)};
		db_res *res = NULL;

		hc_uuid_v7(id);
		rc = db_run(tx, "cert_issue", 5, ip, &res, err);
		if (rc == 0)
			rc = publish_rows(tx, res, TYPE_CERTIFICATE_ISSUED, TOPIC_CERTIFICATE,
			                  "person_key", traceparent, err);
		if (rc == 0)
			log_info("certificate %s issued by county %s", id, county);
		db_res_free(res);
	}
	db_res_free(due);
	return rc;
}

static const jspec_field submitted_spec[] = {
    {"application_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"workers", JSPEC_ARRAY, 1, 1, 10000, NULL, NULL, NULL, 0},
};

int certificate_on_application_submitted(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	json_t *only = json_pack("{s:O?, s:O?, s:O?}", "application_id",
	                         json_object_get(ev->data, "application_id"), "county_code",
	                         json_object_get(ev->data, "county_code"), "workers",
	                         json_object_get(ev->data, "workers"));
	char *workers = NULL;
	int rc;

	(void)app;
	rc = jspec_check_event(only, submitted_spec,
	                       sizeof(submitted_spec) / sizeof(submitted_spec[0]), "data", err) == 0
	         ? 0
	         : HC_ERR_PERMANENT;
	json_decref(only);
	if (rc != 0)
		return rc;
	workers = json_dumps(json_object_get(ev->data, "workers"), JSON_COMPACT);
	if (workers == NULL)
		abort();
	{
		const char *p1[2] = {S("application_id"), S("county_code")};
		const char *p2[2] = {S("application_id"), workers};

		rc = db_run(tx, "cert_app_submitted", 2, p1, NULL, err);
		if (rc == 0)
			rc = db_run(tx, "cert_workers_insert", 2, p2, NULL, err);
	}
	free(workers);
	if (rc == 0) /* the decision may have arrived first */
		rc = issue_due(tx, NULL, S("application_id"), ev->traceparent, err);
	return rc;
}

int certificate_on_application_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *params[3] = {S("application_id"), S("county_code"), S("status")};
	int rc;

	(void)app;
	if (!hc_uuid_valid(params[0]) || params[1] == NULL ||
	    region_county_name(params[1]) == NULL || params[2] == NULL ||
	    (strcmp(params[2], "approved") != 0 && strcmp(params[2], "rejected") != 0))
		return hc_err_field(err, HC_ERR_PERMANENT, "data",
		                    "a decision needs application_id, county_code and status");
	rc = db_run(tx, "cert_app_decided", 3, params, NULL, err);
	if (rc == 0 && strcmp(params[2], "approved") == 0)
		rc = issue_due(tx, NULL, params[0], ev->traceparent, err);
	return rc;
}

int certificate_on_assessment(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *key = S("person_key");
	db_res *res = NULL;
	int rc;

	(void)app;
	if (event_check_assessment(ev->data, err) != 0)
		return HC_ERR_PERMANENT;
	{
		const char *params[6] = {key,
		                         S("county_code"),
		                         S("colour"),
		                         S("isolation_until"),
		                         S("assessment_id"),
		                         S("assessed_at")};

		rc = db_run(tx, "cert_person_upsert", 6, params, NULL, err);
	}
	if (rc != 0)
		return rc;
	if (strcmp(S("colour"), "green") == 0)
		return issue_due(tx, key, NULL, ev->traceparent, err);
	{
		const char *params[2] = {key, "the holder is no longer green"};

		rc = db_run(tx, "cert_revoke_person", 2, params, &res, err);
		if (rc == 0)
			rc = publish_rows(tx, res, TYPE_CERTIFICATE_REVOKED, TOPIC_CERTIFICATE,
			                  "person_key", ev->traceparent, err);
		db_res_free(res);
		res = NULL;
		params[1] = "a rider is no longer green";
		if (rc == 0)
			rc = db_run(tx, "pass_revoke_person", 2, params, &res, err);
		if (rc == 0)
			rc = publish_rows(tx, res, TYPE_VEHICLE_PASS_REVOKED, TOPIC_VEHICLE_PASS,
			                  "pass_id", ev->traceparent, err);
		if (rc == 0 && db_res_rows(res) > 0)
			log_info("%d vehicle passes revoked", db_res_rows(res));
		db_res_free(res);
	}
	return rc;
}
