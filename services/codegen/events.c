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

/* Same colour, pass, rule and decider (the evidence aside). */
static int same_decision(json_t *cur, json_t *src, int pass)
{
	json_t *reason = json_object_get(cur, "reason");

	return cur != NULL && strcmp(str(cur, "colour"), str(src, "colour")) == 0 &&
	       json_is_true(json_object_get(cur, "pass")) == pass &&
	       strcmp(str(reason, "rule_id"), str(src, "rule_id")) == 0 &&
	       json_integer_value(json_object_get(reason, "rule_version")) ==
	           json_integer_value(json_object_get(src, "rule_version")) &&
	       strcmp(str(reason, "decided_by"), str(src, "decided_by")) == 0;
}

/* Same colour, pass, rule and evidence, same decider: nothing the holder sees changes. */
static int unchanged(json_t *cur, json_t *src, int pass)
{
	return same_decision(cur, src, pass) &&
	       json_equal(json_object_get(json_object_get(cur, "reason"), "evidence"),
	                  json_object_get(src, "evidence"));
}

/* The data of a code.changed event for version v (from cur, NULL: the first) of n (new reference).
 */
static json_t *code_changed_data(const next_code *n, json_t *v, json_t *cur)
{
	return json_pack(
	    "{s:s, s:s, s:s, s:O, s:O, s:O*, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "person_key",
	    n->person_key, "masked_name", n->masked_name, "county_code", n->county_code, "version",
	    json_object_get(v, "version"), "colour", json_object_get(v, "colour"),
	    "previous_colour", cur != NULL ? json_object_get(cur, "colour") : NULL, "pass",
	    json_object_get(v, "pass"), "rule_id", json_object_get(v, "rule_id"), "rule_version",
	    json_object_get(v, "rule_version"), "evidence", json_object_get(v, "evidence"),
	    "decided_by", json_object_get(v, "decided_by"), "cause", json_object_get(v, "cause"),
	    "changed_at", json_object_get(v, "created_at"));
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
		const char *params[13] = {n->person_key,
		                          version,
		                          str(n->src, "colour"),
		                          pass ? "true" : "false",
		                          str(n->src, "rule_id"),
		                          rule_version,
		                          evidence,
		                          str(n->src, "decided_by"),
		                          n->assessment_id,
		                          n->cause,
		                          n->masked_name,
		                          n->county_code,
		                          n->assessed_at};

		rc = db_run(tx, "codegen_version_write", 13, params, &res, err);
	}
	free(evidence);
	if (rc != 0)
		return rc;
	v = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	if (rc == 0)
		rc = bus_outbox_emit(tx, TOPIC_CODE, n->person_key, n->county_code,
		                     TYPE_CODE_CHANGED, CODEGEN_EVENT_SOURCE, n->person_key,
		                     code_changed_data(n, v, cur), traceparent, err);
	if (rc == 0)
		log_info("code version %s made (%s)", version, n->cause);
	json_decref(v);
	return rc;
}

/*
 * The current code (locked) into *cur (NULL when none); *newer when it is
 * at least as recent as at; *cert whether the person holds a valid
 * certificate (only read along with a code: -1 without one).
 */
static int current(db_conn *tx, const char *key, const char *at, json_t **cur, int *newer,
                   int *cert, hc_err *err)
{
	const char *params[2] = {key, at};
	db_res *res = NULL;
	int rc;

	*cur = NULL;
	*newer = 0;
	*cert = -1;
	rc = db_run(tx, "codegen_current", 2, params, &res, err);
	if (rc == 0 && db_res_rows(res) == 1) {
		*cur = json_loads(db_res_get(res, 0, 0), 0, NULL);
		*newer = strcmp(db_res_get(res, 0, 1), "t") == 0;
		*cert = strcmp(db_res_get(res, 0, 2), "t") == 0;
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
	rc = current(tx, n.person_key, n.assessed_at, &cur, &newer, &cert, err);
	if (rc == 0 && newer) {
		json_decref(cur);
		return 0; /* a later assessment is already in force */
	}
	if (rc == 0 && cert < 0) /* no code yet */
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
	if (rc == 0) /* after the certificate's change: cert sees it */
		rc = current(tx, key, "-infinity", &cur, &newer, &cert, err);
	if (rc != 0 || cur == NULL) {
		json_decref(cur);
		return rc; /* no code yet: the first assessment will see the certificate */
	}
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

/* What codegen_on_assessment decides for one event of a run (codegen_on_assessments). */
typedef struct assess_item {
	next_code n;
	json_t *cur;  /* the current version, its evidence left out (same_evidence), or NULL */
	json_t *made; /* the new version (borrowed from the run's versions), or NULL */
	int found, newer, cert, same_evidence;
} assess_item;

/*
 * Reads the current codes of the run's people (locked), whether each holds a
 * certificate, and whether its evidence is the new one (compared in the
 * database: the evidence itself does not come back).
 */
static int read_current_many(db_conn *tx, const cloudevent *evs, size_t n, assess_item *it,
                             json_t *index, hc_err *err)
{
	json_t *people = json_array();
	const json_t *values[1] = {people};
	db_res *res = NULL;
	size_t missing = 0, i;
	int rc, r;

	if (people == NULL)
		abort();
	for (i = 0; i < n; i++)
		json_array_append_new(people,
		                      json_pack("{s:O, s:O, s:O}", "k",
		                                json_object_get(evs[i].data, "person_key"), "at",
		                                json_object_get(evs[i].data, "assessed_at"), "ev",
		                                json_object_get(evs[i].data, "evidence")));
	rc = db_run_with_json(tx, "codegen_current_many", 1, values, &res, err);
	for (r = 0; rc == 0 && r < db_res_rows(res); r++) {
		assess_item *x =
		    &it[json_integer_value(json_object_get(index, db_res_get(res, r, 0)))];

		x->found = 1;
		x->cur = json_pack("{s:I, s:s, s:b, s:{s:s, s:I, s:s}}", "version",
		                   (json_int_t)strtoll(db_res_get(res, r, 1), NULL, 10), "colour",
		                   db_res_get(res, r, 2), "pass",
		                   strcmp(db_res_get(res, r, 3), "t") == 0, "reason", "rule_id",
		                   db_res_get(res, r, 4), "rule_version",
		                   (json_int_t)strtoll(db_res_get(res, r, 5), NULL, 10),
		                   "decided_by", db_res_get(res, r, 6));
		if (x->cur == NULL)
			abort();
		x->same_evidence = strcmp(db_res_get(res, r, 7), "t") == 0;
		x->newer = strcmp(db_res_get(res, r, 8), "t") == 0;
		x->cert = strcmp(db_res_get(res, r, 9), "t") == 0;
	}
	db_res_free(res);
	res = NULL;
	for (i = 0; i < n; i++)
		missing += !it[i].found;
	if (rc == 0 && missing > 0) { /* people without a code yet: their certificates */
		rc = db_run_with_json(tx, "codegen_certified_many", 1, values, &res, err);
		for (r = 0; rc == 0 && r < db_res_rows(res); r++)
			it[json_integer_value(json_object_get(index, db_res_get(res, r, 0)))].cert =
			    1;
		db_res_free(res);
	}
	json_decref(people);
	return rc;
}

/* codegen_on_assessments for a run of distinct people, already checked. */
static int assess_run(db_conn *tx, const cloudevent *evs, size_t n, hc_err *err)
{
	assess_item *it = calloc(n, sizeof(*it));
	json_t *index = json_object(), *versions = json_array(), *codes = json_array();
	json_t *made = json_object();
	bus_outbox_batch events;
	db_res *res = NULL;
	size_t i;
	int rc = 0, r;

	if (it == NULL || index == NULL || versions == NULL || codes == NULL || made == NULL)
		abort();
	bus_outbox_batch_init(&events);
	for (i = 0; i < n; i++)
		json_object_set_new(index, str(evs[i].data, "person_key"),
		                    json_integer((json_int_t)i));
	rc = read_current_many(tx, evs, n, it, index, err);
	for (i = 0; i < n && rc == 0; i++) {
		assess_item *x = &it[i];
		json_t *d = evs[i].data;
		int pass = x->cert && strcmp(str(d, "colour"), "green") == 0, change;
		long long version;

		if (x->newer)
			continue; /* a later assessment is already in force */
		x->n.src = d;
		x->n.person_key = str(d, "person_key");
		x->n.masked_name = str(d, "masked_name");
		x->n.county_code = str(d, "county_code");
		x->n.assessment_id = str(d, "assessment_id");
		x->n.assessed_at = str(d, "assessed_at");
		snprintf(x->n.cause, sizeof(x->n.cause), "assessment %s", x->n.assessment_id);
		change = !(same_decision(x->cur, d, pass) && x->same_evidence);
		version = x->cur == NULL
		              ? 0
		              : (long long)json_integer_value(json_object_get(x->cur, "version"));
		if (change) {
			version++;
			x->made = json_pack(
			    "{s:s, s:I, s:s, s:b, s:s, s:O, s:O, s:s, s:s, s:s}", "person_key",
			    x->n.person_key, "version", (json_int_t)version, "colour",
			    str(d, "colour"), "pass", pass, "rule_id", str(d, "rule_id"),
			    "rule_version", json_object_get(d, "rule_version"), "evidence",
			    json_object_get(d, "evidence"), "decided_by", str(d, "decided_by"),
			    "assessment_id", x->n.assessment_id, "cause", x->n.cause);
			if (x->made == NULL)
				abort();
			json_array_append_new(versions, x->made); /* borrowed from here on */
		}
		/* the code points at the new version, or keeps what the next comparison is made
		 * against */
		json_array_append_new(
		    codes,
		    json_pack("{s:s, s:s, s:s, s:I, s:s}", "person_key", x->n.person_key,
		              "masked_name", x->n.masked_name, "county_code", x->n.county_code,
		              "version", (json_int_t)version, "assessed_at", x->n.assessed_at));
	}
	if (rc == 0 && json_array_size(codes) > 0) {
		const json_t *values[2] = {versions, codes};

		rc = db_run_with_json(tx, "codegen_write_many", 2, values, &res, err);
		for (r = 0; rc == 0 && r < db_res_rows(res); r++) /* person: its version's time */
			json_object_set_new(made, db_res_get(res, r, 0),
			                    json_string(db_res_get(res, r, 1)));
	}
	for (i = 0; i < n && rc == 0; i++) { /* the events, in the order of the assessments */
		json_t *v = it[i].made,
		       *at = v != NULL ? json_object_get(made, it[i].n.person_key) : NULL;

		if (at != NULL && json_object_set(v, "created_at", at) == 0)
			bus_outbox_batch_add(
			    &events, TOPIC_CODE, it[i].n.person_key, it[i].n.county_code,
			    TYPE_CODE_CHANGED, CODEGEN_EVENT_SOURCE, it[i].n.person_key,
			    code_changed_data(&it[i].n, v, it[i].cur), evs[i].traceparent);
	}
	if (rc == 0 && events.n > 0) {
		rc = bus_outbox_add_batch(tx, &events, err);
		if (rc == 0)
			log_info("%zu code versions made from %zu assessments", events.n, n);
	}
	for (i = 0; i < n; i++)
		json_decref(it[i].cur);
	free(it);
	db_res_free(res);
	json_decref(index);
	json_decref(versions);
	json_decref(codes);
	json_decref(made);
	bus_outbox_batch_free(&events);
	return rc;
}

int codegen_on_assessments(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err)
{
	json_t *seen = json_object();
	size_t start = 0, i;
	int rc = 0;

	(void)app;
	if (seen == NULL)
		abort();
	if (n == 0) {
		json_decref(seen);
		return 0;
	}
	for (i = 0; i < n; i++)
		if (event_check_assessment(evs[i].data, err) != 0) {
			json_decref(seen);
			return HC_ERR_PERMANENT;
		}
	/* a person twice: the run ends before the second, which starts the next run (the same
	 * transaction, so the next run reads what this one wrote) */
	for (i = 0; i < n && rc == 0; i++) {
		const char *key = str(evs[i].data, "person_key");

		if (json_object_get(seen, key) != NULL) {
			rc = assess_run(tx, evs + start, i - start, err);
			json_object_clear(seen);
			start = i;
		}
		json_object_set_new(seen, key, json_true());
	}
	if (rc == 0)
		rc = assess_run(tx, evs + start, n - start, err);
	json_decref(seen);
	return rc;
}
