/*
 * What matching consumes:
 *   declaration submitted  the person becomes known (residence, masked
 *                          name); declared flags become self_declaration
 *                          records; always assessed
 *   check-in submitted     the same, for the day's answers
 *   scan recorded          a fever at a checkpoint becomes a checkpoint
 *                          record; assessed, published when changed
 *   correction decided     a city approval sets aside the records behind
 *                          the colour; assessed as decided by both reviewers
 */
#include <stdio.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "common/region/region.h"
#include "services/matching/app.h"
#include "services/matching/store.h"

static const char *const flags[] = {"fever", "symptom", "contact", "risk_travel", NULL};

/* Stores each declared flag as a self_declaration record of the day. */
static int add_declared(db_conn *tx, const char *person_key, const char *id, json_t *declared,
                        hc_err *err)
{
	size_t i, k;

	for (i = 0; i < json_array_size(declared); i++) {
		const char *flag = json_string_value(json_array_get(declared, i));
		char rid[64];
		int rc;

		for (k = 0; flag != NULL && flags[k] != NULL && strcmp(flags[k], flag) != 0; k++)
			;
		if (flag == NULL || flags[k] == NULL)
			return hc_err_field(err, HC_ERR_PERMANENT, "data.declared",
			                    "data.declared[%zu] is not a known flag", i);
		snprintf(rid, sizeof(rid), "%.36s:%s", id, flag);
		{
			const char *params[4] = {"self_declaration", rid, flag, person_key};

			rc = db_run(tx, "matching_record_add", 4, params, NULL, err);
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static const jspec_field declaration_spec[] = {
    {"declaration_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"masked_name", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_residence, NULL, NULL, 0},
    {"employer_application_id", JSPEC_STRING, 0, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"declared", JSPEC_ARRAY, 0, 0, 4, NULL, NULL, NULL, 0},
    {"submitted_by", JSPEC_STRING, 0, 1, 40, NULL, NULL, NULL, 0},
    {"submitted_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

static json_t *get(const cloudevent *ev, const char *f)
{
	return json_object_get(ev->data, f);
}
#define S(f) json_string_value(get(ev, f))

int matching_on_declaration(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	matching_trigger t = {"declaration", NULL, "self_declaration", "rules", 1, ev->traceparent};
	int rc, published;

	(void)app;
	if (jspec_check_event(ev->data, declaration_spec,
	                      sizeof(declaration_spec) / sizeof(declaration_spec[0]), "data",
	                      err) != 0)
		return HC_ERR_PERMANENT;
	t.id = S("declaration_id");
	{
		const char *params[3] = {S("person_key"), S("masked_name"), S("county_code")};

		rc = db_run(tx, "matching_person_upsert", 3, params, NULL, err);
	}
	if (rc == 0)
		rc = add_declared(tx, S("person_key"), t.id, get(ev, "declared"), err);
	if (rc == 0)
		rc = matching_assess(tx, S("person_key"), &t, &published, err);
	return rc;
}

/* A declaration of a run and its person, to order by person key (locks are taken in key order). */
typedef struct keyed {
	const char *key;
	size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
	return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

int matching_on_declarations(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err)
{
	matching_trigger *ts = calloc(n, sizeof(*ts));
	const matching_trigger **order = calloc(n, sizeof(*order));
	keyed *idx = calloc(n, sizeof(*idx));
	json_t *seen = json_object(), *people = json_array(), *keys = json_array();
	json_t *records = json_array();
	long published = 0;
	size_t i, d, k;
	int rc = 0;

	if (ts == NULL || order == NULL || idx == NULL || seen == NULL || people == NULL ||
	    keys == NULL || records == NULL)
		abort();
	for (i = 0; i < n && rc == 0; i++) {
		const cloudevent *ev = &evs[i];
		json_t *declared = get(ev, "declared");

		if (jspec_check_event(ev->data, declaration_spec,
		                      sizeof(declaration_spec) / sizeof(declaration_spec[0]),
		                      "data", err) != 0) {
			rc = HC_ERR_PERMANENT;
			break;
		}
		if (json_object_get(seen, S("person_key")) != NULL)
			break; /* a person twice: one at a time, in order */
		json_object_set_new(seen, S("person_key"), json_true());
		for (d = 0; d < json_array_size(declared); d++) {
			const char *flag = json_string_value(json_array_get(declared, d));
			char rid[64];

			for (k = 0; flag != NULL && flags[k] != NULL && strcmp(flags[k], flag) != 0;
			     k++)
				;
			if (flag == NULL || flags[k] == NULL) {
				rc = hc_err_field(err, HC_ERR_PERMANENT, "data.declared",
				                  "data.declared[%zu] is not a known flag", d);
				break;
			}
			snprintf(rid, sizeof(rid), "%.36s:%s", S("declaration_id"), flag);
			json_array_append_new(records, json_pack("{s:s, s:s, s:s, s:s}", "source",
			                                         "self_declaration", "record_id",
			                                         rid, "kind", flag, "person_key",
			                                         S("person_key")));
		}
		ts[i] = (matching_trigger){
		    "declaration",  S("declaration_id"), "self_declaration", "rules", 1,
		    ev->traceparent};
		idx[i] = (keyed){S("person_key"), i};
	}
	if (rc == 0 && i < n) {
		for (i = 0; i < n && rc == 0; i++)
			rc = matching_on_declaration(app, tx, &evs[i], err);
		goto out;
	}
	if (rc != 0)
		goto out;
	qsort(idx, n, sizeof(*idx), by_key);
	for (i = 0; i < n; i++) {
		const cloudevent *ev = &evs[idx[i].i];

		json_array_append_new(keys, json_string(S("person_key")));
		json_array_append_new(people,
		                      json_pack("{s:s, s:s, s:s}", "person_key", S("person_key"),
		                                "masked_name", S("masked_name"), "county_code",
		                                S("county_code")));
		order[i] = &ts[idx[i].i];
	}
	{
		const json_t *values[1] = {people};

		rc = db_run_with_json(tx, "matching_people_upsert_many", 1, values, NULL, err);
	}
	if (rc == 0 && json_array_size(records) > 0) {
		const json_t *values[1] = {records};

		rc = db_run_with_json(tx, "matching_records_add_many", 1, values, NULL, err);
	}
	if (rc == 0)
		rc = matching_assess_each(tx, keys, order, &published, err);
out:
	free(ts);
	free(order);
	free(idx);
	json_decref(seen);
	json_decref(people);
	json_decref(keys);
	json_decref(records);
	return rc;
}

static const jspec_field checkin_spec[] = {
    {"checkin_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_residence, NULL, NULL, 0},
    {"declared", JSPEC_ARRAY, 1, 0, 4, NULL, NULL, NULL, 0},
    {"submitted_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

int matching_on_checkin(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	matching_trigger t = {"checkin", NULL, "self_declaration", "rules", 1, ev->traceparent};
	int rc, published;

	(void)app;
	if (jspec_check_event(ev->data, checkin_spec,
	                      sizeof(checkin_spec) / sizeof(checkin_spec[0]), "data", err) != 0)
		return HC_ERR_PERMANENT;
	t.id = S("checkin_id");
	{
		const char *params[2] = {S("person_key"), S("county_code")};

		rc = db_run(tx, "matching_person_move", 2, params, NULL, err);
	}
	if (rc == 0)
		rc = add_declared(tx, S("person_key"), t.id, get(ev, "declared"), err);
	if (rc == 0)
		rc = matching_assess(tx, S("person_key"), &t, &published, err);
	return rc;
}

static const char *const results[] = {"passed", "refused", NULL};
static const jspec_field scan_spec[] = {
    {"scan_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"checkpoint_id", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 0, 6, 6, NULL, NULL, NULL, 0},
    {"fever", JSPEC_BOOLEAN, 1, 0, 0, NULL, NULL, NULL, 0},
    {"result", JSPEC_STRING, 1, 1, 16, NULL, results, NULL, 0},
    {"reason", JSPEC_STRING, 0, 1, 64, NULL, NULL, NULL, 0},
    {"code_version", JSPEC_INTEGER, 0, 0, 2147483647, NULL, NULL, NULL, 0},
    {"scanned_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

int matching_wants_scan(const cloudevent *ev, hc_err *err)
{
	if (jspec_check_event(ev->data, scan_spec, sizeof(scan_spec) / sizeof(scan_spec[0]), "data",
	                      err) != 0)
		return HC_ERR_PERMANENT;
	return json_is_true(get(ev, "fever"));
}

int matching_on_scan(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	matching_trigger t = {"checkpoint", NULL, "checkpoint", "rules", 0, ev->traceparent};
	int rc, published;

	(void)app;
	if (jspec_check_event(ev->data, scan_spec, sizeof(scan_spec) / sizeof(scan_spec[0]), "data",
	                      err) != 0)
		return HC_ERR_PERMANENT;
	if (!json_is_true(get(ev, "fever")))
		return 0;
	t.id = S("scan_id");
	{
		const char *params[4] = {"checkpoint", t.id, "fever", S("person_key")};

		rc = db_run(tx, "matching_record_add", 4, params, NULL, err);
	}
	if (rc == 0)
		rc = matching_assess(tx, S("person_key"), &t, &published, err);
	return rc;
}

int matching_on_correction_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	matching_trigger t = {"correction", NULL, "review", NULL, 1, ev->traceparent};
	const char *key = S("person_key"), *id = S("correction_id");
	char by[160];
	int rc, published;

	(void)app;
	if (S("stage") == NULL || strcmp(S("stage"), "city") != 0 || S("status") == NULL ||
	    strcmp(S("status"), "approved") != 0)
		return 0; /* only the city's approval changes a colour */
	if (key == NULL || person_key_check(key, err) != 0 || !hc_uuid_valid(id) ||
	    S("county_reviewer") == NULL || S("reviewer") == NULL)
		return hc_err_field(err, HC_ERR_PERMANENT, "data",
		                    "a city approval needs correction_id, person_key and both "
		                    "reviewers");
	snprintf(by, sizeof(by), "correction:%.64s,%.64s", S("county_reviewer"), S("reviewer"));
	t.id = id;
	t.decided_by = by;
	rc = matching_exclude_until_green(tx, key, id, err);
	if (rc == 0)
		rc = matching_assess(tx, key, &t, &published, err);
	if (rc == 0 && !published)
		rc = hc_err_field(err, HC_ERR_PERMANENT, "data.person_key",
		                  "correction %s names a person matching never assessed", id);
	return rc;
}
