/*
 * One assessment: rules in force x the person's evidence -> colour, rule,
 * evidence; recorded and published in the caller's transaction.  See app.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "services/matching/app.h"
#include "services/matching/domain/rules.h"
#include "services/matching/store.h"

/* colour|rule|version|refs: equal keys mean nothing changed for the person. */
static void outcome_key(json_t *o, char *out, size_t cap)
{
	json_t *ev = json_object_get(o, "evidence");
	size_t i, n;

	n = (size_t)snprintf(out, cap, "%s|%s|%lld|",
	                     json_string_value(json_object_get(o, "colour")),
	                     json_string_value(json_object_get(o, "rule_id")),
	                     (long long)json_integer_value(json_object_get(o, "rule_version")));
	for (i = 0; i < json_array_size(ev) && n < cap; i++) {
		json_t *e = json_array_get(ev, i);

		n += (size_t)snprintf(out + n, cap - n, "%lld:%s,",
		                      (long long)json_integer_value(json_object_get(e, "ref")),
		                      json_string_value(json_object_get(e, "kind")));
	}
}

/* Evaluates the rules in force for the person; *out is the outcome (new reference). */
static int evaluate(db_conn *tx, const char *person_key, json_t **out, hc_err *err)
{
	const char *params[1] = {person_key};
	json_t *rules = NULL, *evidence = NULL;
	int rc;

	rc = db_run_json(tx, "matching_rules", 0, NULL, &rules, err);
	if (rc == 0)
		rc = db_run_json(tx, "matching_evidence", 1, params, &evidence, err);
	if (rc == 0) {
		*out = rules_evaluate(rules, evidence);
		if (*out == NULL)
			rc = hc_err_set(err, HC_ERR_FATAL, "no default colour rule is in force");
	}
	json_decref(rules);
	json_decref(evidence);
	return rc;
}

int matching_exclude_until_green(db_conn *tx, const char *person_key, const char *correction_id,
                                 hc_err *err)
{
	int round, rc = 0;

	for (round = 0; round < 8 && rc == 0; round++) {
		json_t *o = NULL;
		char *ev;

		rc = evaluate(tx, person_key, &o, err);
		if (rc != 0)
			break;
		if (strcmp(json_string_value(json_object_get(o, "colour")), "green") == 0) {
			json_decref(o);
			break;
		}
		ev = json_dumps(json_object_get(o, "evidence"), JSON_COMPACT);
		if (ev == NULL)
			abort();
		{
			const char *params[3] = {person_key, correction_id, ev};

			rc = db_run(tx, "matching_exclude", 3, params, NULL, err);
		}
		free(ev);
		json_decref(o);
	}
	return rc;
}

int matching_assess(db_conn *tx, const char *person_key, const matching_trigger *t, int *published,
                    hc_err *err)
{
	const char *kparams[1] = {person_key};
	json_t *person = NULL, *o = NULL, *evidence, *data;
	char key[1024], id[HC_UUID_LEN + 1], version[16], at[40], isolation[16] = "";
	const char *iso = NULL;
	db_res *res = NULL;
	char *evtext = NULL;
	int rc;

	*published = 0;
	/* the person's row locked first: what follows reads what committed before the lock */
	rc = db_run_json(tx, "matching_person_get", 1, kparams, &person, err);
	if (rc == HC_ERR_NOT_FOUND)
		return 0; /* never declared: nothing to assess yet */
	if (rc == 0)      /* rules, evidence, latest outcome and isolation in one statement */
		rc = db_run(tx, "matching_assess_inputs", 1, kparams, &res, err);
	if (rc != 0)
		goto out;
	{
		json_t *rules = json_loads(db_res_get(res, 0, 0), 0, NULL);
		json_t *found = json_loads(db_res_get(res, 0, 1), 0, NULL);

		o = rules != NULL && found != NULL ? rules_evaluate(rules, found) : NULL;
		json_decref(rules);
		json_decref(found);
		if (o == NULL) {
			rc = hc_err_set(err, HC_ERR_FATAL, "no default colour rule is in force");
			goto out;
		}
	}
	outcome_key(o, key, sizeof(key)); /* of the matched records only, not the trigger */
	evidence = json_object_get(o, "evidence");
	if (json_array_size(evidence) == 0) /* the default rule: the trigger is the evidence */
		json_array_append_new(evidence, json_pack("{s:s, s:s, s:s}", "source", t->source,
		                                          "kind", t->kind, "record_id", t->id));
	if (!t->always && db_res_get(res, 0, 2) != NULL && strcmp(db_res_get(res, 0, 2), key) == 0)
		goto out; /* nothing changed */
	if (db_res_get(res, 0, 3) != NULL) {
		snprintf(isolation, sizeof(isolation), "%s", db_res_get(res, 0, 3));
		iso = isolation;
	}
	db_res_free(res);
	res = NULL;
	hc_uuid_v4(id);
	snprintf(version, sizeof(version), "%lld",
	         (long long)json_integer_value(json_object_get(o, "rule_version")));
	evtext = json_dumps(evidence, JSON_COMPACT);
	if (evtext == NULL)
		abort();
	{
		const char *params[11] = {id,
		                          person_key,
		                          json_string_value(json_object_get(o, "colour")),
		                          json_string_value(json_object_get(o, "rule_id")),
		                          version,
		                          evtext,
		                          t->decided_by,
		                          t->kind,
		                          t->id,
		                          iso,
		                          key};

		rc = db_run(tx, "matching_assessment_insert", 11, params, &res, err);
	}
	if (rc != 0)
		goto out;
	snprintf(at, sizeof(at), "%s", db_res_get(res, 0, 0));
	data = json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:{s:s, s:s}, s:s?, s:s}",
	                 "assessment_id", id, "person_key", person_key, "masked_name",
	                 json_object_get(person, "masked_name"), "county_code",
	                 json_object_get(person, "county_code"), "colour",
	                 json_object_get(o, "colour"), "rule_id", json_object_get(o, "rule_id"),
	                 "rule_version", json_object_get(o, "rule_version"), "evidence", evidence,
	                 "decided_by", t->decided_by, "trigger", "kind", t->kind, "id", t->id,
	                 "isolation_until", iso, "assessed_at", at);
	rc = bus_outbox_emit(tx, TOPIC_ASSESSMENT, person_key,
	                     json_string_value(json_object_get(person, "county_code")),
	                     TYPE_ASSESSMENT_COMPLETED, MATCHING_EVENT_SOURCE, id, data,
	                     t->traceparent, err);
	if (rc == 0) {
		*published = 1;
		log_info("assessment %s after %s %s", id, t->kind, t->id);
	}
out:
	db_res_free(res);
	free(evtext);
	json_decref(person);
	json_decref(o);
	return rc;
}
