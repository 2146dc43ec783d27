/*
 * analytics' read models, each a projection (common/svc/projection.h) that
 * follows from the events alone:
 *
 * - analytics.facts: one row per event that counts towards a daily figure
 *   (declarations, check-ins, codes issued, colour changes, certificates
 *   issued and revoked, review decisions with their duration and deadline,
 *   checkpoint scans and refusals), with its county, local day
 *   (HC_ANALYTICS_TZ, default Asia/Shanghai) and colour where it has one;
 * - analytics.codes: every published code version (code_history, for as-of
 *   answers) and the latest per person (current_codes).
 *
 * Every figure is read from the event itself (a colour change carries the
 * colour it replaced), never from another topic, so the order in which
 * topics are read cannot change a rebuild.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/event/catalog.h"
#include "services/analytics/projection.h"

static char timezone_name[64] = "Asia/Shanghai";

static const db_stmt facts_statements[] = {
    {"analytics_fact",
     "INSERT INTO facts (event_id, metric, county_code, day, colour, refused)"
     " VALUES ($1, $2, $3, ($4::timestamptz AT TIME ZONE $5)::date, $6, $7::boolean)"
     " ON CONFLICT (event_id) DO NOTHING",
     7},
    {"analytics_fact_review",
     "INSERT INTO facts (event_id, metric, county_code, day, late, seconds)"
     " VALUES ($1, 'review_decided', $2, ($3::timestamptz AT TIME ZONE $4)::date,"
     " $6::timestamptz IS NOT NULL AND $3::timestamptz > $6::timestamptz,"
     " extract(epoch FROM $3::timestamptz - $5::timestamptz))"
     " ON CONFLICT (event_id) DO NOTHING",
     6},
    {NULL, NULL, 0},
};

static const db_stmt codes_statements[] = {
    {"analytics_code_version",
     "INSERT INTO code_history (person_key, version, county_code, colour, pass, rule_id,"
     " rule_version, evidence, decided_by, cause, changed_at)"
     " VALUES ($1, $2::integer, $3, $4, $5::boolean, $6, $7::integer, $8::jsonb, $9, $10,"
     " $11::timestamptz) ON CONFLICT (person_key, version) DO NOTHING",
     11},
    {"analytics_code_current",
     "INSERT INTO current_codes (person_key, county_code, version, colour, pass, changed_at)"
     " VALUES ($1, $2, $3::integer, $4, $5::boolean, $6::timestamptz)"
     " ON CONFLICT (person_key) DO UPDATE SET county_code = EXCLUDED.county_code,"
     " version = EXCLUDED.version, colour = EXCLUDED.colour, pass = EXCLUDED.pass,"
     " changed_at = EXCLUDED.changed_at WHERE current_codes.version < EXCLUDED.version",
     6},
    {NULL, NULL, 0},
};

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void configure(void)
{
	const char *tz = getenv("HC_ANALYTICS_TZ");

	if (tz != NULL && *tz != '\0' && strlen(tz) < sizeof(timezone_name))
		snprintf(timezone_name, sizeof(timezone_name), "%s", tz);
}

/* One fact: at is the event's own time; colour "" when it has none. */
static int fact(db_conn *tx, const cloudevent *ev, const char *metric, const char *county,
                const char *at, const char *colour, int refused, hc_err *err)
{
	const char *params[7] = {ev->id,
	                         metric,
	                         county != NULL ? county : "",
	                         at,
	                         timezone_name,
	                         colour != NULL ? colour : "",
	                         refused ? "true" : "false"};

	if (at == NULL)
		return hc_err_set(err, HC_ERR_PERMANENT, "%s without its time", ev->type);
	return db_run(tx, "analytics_fact", 7, params, NULL, err);
}

int analytics_facts_apply(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const json_t *d = ev->data;
	const char *t = ev->type;

	if (strcmp(t, TYPE_DECLARATION_SUBMITTED) == 0)
		return fact(tx, ev, "declaration", str(d, "county_code"), str(d, "submitted_at"),
		            NULL, 0, err);
	if (strcmp(t, TYPE_CHECKIN_SUBMITTED) == 0)
		return fact(tx, ev, "checkin", str(d, "county_code"), str(d, "submitted_at"), NULL,
		            0, err);
	if (strcmp(t, TYPE_CODE_CHANGED) == 0) {
		json_int_t version = json_integer_value(json_object_get(d, "version"));
		const char *before = str(d, "previous_colour"), *colour = str(d, "colour");

		if (version == 1)
			return fact(tx, ev, "code_issued", str(d, "county_code"),
			            str(d, "changed_at"), colour, 0, err);
		if (before != NULL && colour != NULL && strcmp(before, colour) != 0)
			return fact(tx, ev, "colour_change", str(d, "county_code"),
			            str(d, "changed_at"), colour, 0, err);
		return 0;
	}
	if (strcmp(t, TYPE_CERTIFICATE_ISSUED) == 0)
		return fact(tx, ev, "certificate_issued", str(d, "county_code"),
		            str(d, "issued_at"), NULL, 0, err);
	if (strcmp(t, TYPE_CERTIFICATE_REVOKED) == 0)
		return fact(tx, ev, "certificate_revoked", str(d, "county_code"),
		            str(d, "revoked_at"), NULL, 0, err);
	if (strcmp(t, TYPE_SCAN_RECORDED) == 0)
		return fact(
		    tx, ev, "scan", str(d, "county_code"), str(d, "scanned_at"), str(d, "colour"),
		    str(d, "result") != NULL && strcmp(str(d, "result"), "refused") == 0, err);
	if (strcmp(t, TYPE_EMPLOYER_APPLICATION_DECIDED) == 0) {
		const char *params[6] = {
		    ev->id,        str(d, "county_code"),  str(d, "decided_at"),
		    timezone_name, str(d, "submitted_at"), str(d, "due_at")};

		if (params[1] == NULL || params[2] == NULL)
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "a decision without county or time");
		return db_run(tx, "analytics_fact_review", 6, params, NULL, err);
	}
	return 0;
}

int analytics_codes_apply(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const json_t *d = ev->data;
	char version[24], rule_version[24];
	char *evidence;
	int rc;

	if (strcmp(ev->type, TYPE_CODE_CHANGED) != 0)
		return 0;
	if (str(d, "person_key") == NULL || str(d, "colour") == NULL ||
	    !json_is_integer(json_object_get(d, "version")) ||
	    !json_is_boolean(json_object_get(d, "pass")) || str(d, "changed_at") == NULL ||
	    !json_is_array(json_object_get(d, "evidence")))
		return hc_err_set(err, HC_ERR_PERMANENT, "a code version without its fields");
	evidence = json_dumps(json_object_get(d, "evidence"), JSON_COMPACT);
	if (evidence == NULL)
		abort();
	snprintf(version, sizeof(version), "%lld",
	         (long long)json_integer_value(json_object_get(d, "version")));
	snprintf(rule_version, sizeof(rule_version), "%lld",
	         (long long)json_integer_value(json_object_get(d, "rule_version")));
	{
		const char *pass = json_is_true(json_object_get(d, "pass")) ? "true" : "false";
		const char *v[11] = {str(d, "person_key"),
		                     version,
		                     str(d, "county_code"),
		                     str(d, "colour"),
		                     pass,
		                     str(d, "rule_id"),
		                     rule_version,
		                     evidence,
		                     str(d, "decided_by"),
		                     str(d, "cause"),
		                     str(d, "changed_at")};
		const char *c[6] = {v[0], v[2], version, v[3], pass, v[10]};

		rc = db_run(tx, "analytics_code_version", 11, v, NULL, err);
		if (rc == 0)
			rc = db_run(tx, "analytics_code_current", 6, c, NULL, err);
	}
	free(evidence);
	return rc;
}

static const char *const facts_tables[] = {"facts", NULL};
static const char *const facts_topics[] = {TOPIC_DECLARATION,     TOPIC_CODE, TOPIC_CERTIFICATE,
                                           TOPIC_REVIEW_DECISION, TOPIC_SCAN, NULL};

const projection analytics_facts_projection = {
    .name = "analytics.facts",
    .schema = "analytics",
    .tables = facts_tables,
    .topics = facts_topics,
    .statements = facts_statements,
    .configure = configure,
    .apply = analytics_facts_apply,
};

static const char *const codes_tables[] = {"code_history", "current_codes", NULL};
static const char *const codes_topics[] = {TOPIC_CODE, NULL};

const projection analytics_codes_projection = {
    .name = "analytics.codes",
    .schema = "analytics",
    .tables = codes_tables,
    .topics = codes_topics,
    .statements = codes_statements,
    .configure = NULL,
    .apply = analytics_codes_apply,
};
