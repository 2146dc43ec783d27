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

/*
 * Decides the outcome for one person from the rules in force and the
 * evidence found (JSON text) against the latest outcome key (NULL: none):
 * 1 with *out (new reference) and key when an assessment is to be recorded,
 * 0 when nothing changed, -1 when no default rule is in force.
 */
static int decide(json_t *rules, const char *found_text, const char *latest,
                  const matching_trigger *t, json_t **out, char key[1024])
{
	json_t *found = json_loads(found_text, 0, NULL);
	json_t *o = rules != NULL && found != NULL ? rules_evaluate(rules, found) : NULL;
	json_t *evidence;

	json_decref(found);
	*out = NULL;
	if (o == NULL)
		return -1;
	outcome_key(o, key, 1024); /* of the matched records only, not the trigger */
	evidence = json_object_get(o, "evidence");
	if (json_array_size(evidence) == 0) /* the default rule: the trigger is the evidence */
		json_array_append_new(evidence, json_pack("{s:s, s:s, s:s}", "source", t->source,
		                                          "kind", t->kind, "record_id", t->id));
	if (!t->always && latest != NULL && strcmp(latest, key) == 0) {
		json_decref(o);
		return 0; /* nothing changed */
	}
	*out = o;
	return 1;
}

/* The data of an assessment.completed event (new reference). */
static json_t *assessment_data(const char *id, const char *person_key, const char *masked_name,
                               const char *county, json_t *o, const matching_trigger *t,
                               const char *iso, const char *at)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:{s:s, s:s}, s:s?, s:s}",
	                 "assessment_id", id, "person_key", person_key, "masked_name", masked_name,
	                 "county_code", county, "colour", json_object_get(o, "colour"), "rule_id",
	                 json_object_get(o, "rule_id"), "rule_version",
	                 json_object_get(o, "rule_version"), "evidence",
	                 json_object_get(o, "evidence"), "decided_by", t->decided_by, "trigger",
	                 "kind", t->kind, "id", t->id, "isolation_until", iso, "assessed_at", at);
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
		int d = decide(rules, db_res_get(res, 0, 1), db_res_get(res, 0, 2), t, &o, key);

		json_decref(rules);
		if (d < 0) {
			rc = hc_err_set(err, HC_ERR_FATAL, "no default colour rule is in force");
			goto out;
		}
		if (d == 0)
			goto out;
	}
	evidence = json_object_get(o, "evidence");
	if (db_res_get(res, 0, 3) != NULL) {
		snprintf(isolation, sizeof(isolation), "%s", db_res_get(res, 0, 3));
		iso = isolation;
	}
	db_res_free(res);
	res = NULL;
	hc_uuid_v7(id);
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
	data = assessment_data(
	    id, person_key, json_string_value(json_object_get(person, "masked_name")),
	    json_string_value(json_object_get(person, "county_code")), o, t, iso, at);
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

/*
 * Assesses people[from..to) (sorted keys), as matching_assess does each,
 * person people[i] for the trigger ts[i]; adds to *published.
 */
static int assess_chunk(db_conn *tx, json_t *rules, const json_t *people, size_t from, size_t to,
                        const matching_trigger *const *ts, long *published, hc_err *err)
{
	json_t *index = json_object(), *keys = json_array();
	json_t *rows = json_array();
	bus_outbox_batch events;
	const json_t *values[1] = {keys};
	db_res *res = NULL;
	size_t i;
	int r, rc;

	if (rows == NULL || keys == NULL || index == NULL)
		abort();
	bus_outbox_batch_init(&events);
	for (i = from; i < to; i++) {
		json_t *k = json_array_get(people, i);

		json_array_append(keys, k);
		json_object_set_new(index, json_string_value(k), json_integer((json_int_t)i));
	}
	/* locked first, in one order: the reads that follow see what committed before */
	rc = db_run_with_json(tx, "matching_people_lock", 1, values, NULL, err);
	if (rc == 0)
		rc = db_run_with_json(tx, "matching_assess_inputs_many", 1, values, &res, err);
	json_decref(keys);
	for (r = 0; rc == 0 && r < db_res_rows(res); r++) {
		const char *person_key = db_res_get(res, r, 0), *iso = db_res_get(res, r, 5);
		const char *at = db_res_get(res, r, 6);
		const matching_trigger *t =
		    ts[json_integer_value(json_object_get(index, person_key))];
		char key[1024], id[HC_UUID_LEN + 1];
		json_t *o = NULL;
		int d = decide(rules, db_res_get(res, r, 3), db_res_get(res, r, 4), t, &o, key);

		if (d < 0) {
			rc = hc_err_set(err, HC_ERR_FATAL, "no default colour rule is in force");
			break;
		}
		if (d == 0)
			continue;
		hc_uuid_v7(id);
		json_array_append_new(
		    rows,
		    json_pack("{s:s, s:s, s:O, s:O, s:O, s:O, s:s, s:s, s:s, s:s?, s:s, s:s}", "id",
		              id, "person_key", person_key, "colour", json_object_get(o, "colour"),
		              "rule_id", json_object_get(o, "rule_id"), "rule_version",
		              json_object_get(o, "rule_version"), "evidence",
		              json_object_get(o, "evidence"), "decided_by", t->decided_by,
		              "trigger_kind", t->kind, "trigger_id", t->id, "isolation_until", iso,
		              "outcome_key", key, "assessed_at", at));
		bus_outbox_batch_add(&events, TOPIC_ASSESSMENT, person_key, db_res_get(res, r, 2),
		                     TYPE_ASSESSMENT_COMPLETED, MATCHING_EVENT_SOURCE, id,
		                     assessment_data(id, person_key, db_res_get(res, r, 1),
		                                     db_res_get(res, r, 2), o, t, iso, at),
		                     t->traceparent);
		json_decref(o);
	}
	if (rc == 0 && json_array_size(rows) > 0) {
		const json_t *written[1] = {rows};

		rc =
		    db_run_with_json(tx, "matching_assessments_insert_many", 1, written, NULL, err);
		if (rc == 0)
			rc = bus_outbox_add_batch(tx, &events, err);
	}
	if (rc == 0)
		*published += (long)json_array_size(rows);
	db_res_free(res);
	json_decref(index);
	json_decref(rows);
	bus_outbox_batch_free(&events);
	return rc;
}

int matching_assess_each(db_conn *tx, const json_t *people, const matching_trigger *const *ts,
                         long *published, hc_err *err)
{
	size_t n = json_array_size(people), from;
	json_t *rules = NULL;
	int rc;

	if (n == 0)
		return 0;
	rc = db_run_json(tx, "matching_rules", 0, NULL, &rules, err);
	for (from = 0; rc == 0 && from < n; from += MATCHING_ASSESS_CHUNK) {
		size_t to = from + MATCHING_ASSESS_CHUNK < n ? from + MATCHING_ASSESS_CHUNK : n;

		rc = assess_chunk(tx, rules, people, from, to, ts, published, err);
	}
	json_decref(rules);
	return rc;
}

int matching_assess_many(db_conn *tx, const json_t *people, const matching_trigger *t,
                         long *published, hc_err *err)
{
	size_t n = json_array_size(people), i;
	const matching_trigger **ts = calloc(n + 1, sizeof(*ts));
	long before = *published;
	int rc;

	if (ts == NULL)
		abort();
	for (i = 0; i < n; i++)
		ts[i] = t;
	rc = matching_assess_each(tx, people, ts, published, err);
	free(ts);
	if (rc == 0 && *published > before)
		log_info("%ld assessments after %s %s", *published - before, t->kind, t->id);
	return rc;
}
