/*
 * The county queues as a projection (see common/svc/projection.h): the
 * queue of employer applications and of correction requests, with their
 * decisions, follow from the log alone.  The consumer enters submitted
 * applications and filed corrections through review_queue_apply; decisions
 * are written by the HTTP handlers together with their events, and applied
 * from those events only when the queues are rebuilt (hc-replay project
 * review.queue).  received_at is the time the submission entered the log,
 * so a rebuild reproduces it; due_at follows HC_REVIEW_DEADLINE_HOURS as set
 * when the rebuild runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/event/catalog.h"
#include "common/jspec/jspec.h"
#include "common/region/region.h"
#include "services/review/domain/queue.h"
#include "services/review/projection.h"

static long deadline_hours = 24;

static const db_stmt queue_statements[] = {
    {"review_proj_enqueue",
     "INSERT INTO queue_items (application_id, event_id, county_code, employer_name, credit_code,"
     " category, worker_count, workers, submitted_at, due_at, received_at)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::timestamptz,"
     " $9::timestamptz + make_interval(hours => $10::integer),"
     " to_timestamp($11::double precision / 1000))"
     /* the same event twice (a re-publish): the earliest arrival counts, whatever the
        order a rebuild reads the copies in (the live consumer applies only the first) */
     " ON CONFLICT (application_id) DO UPDATE SET received_at = EXCLUDED.received_at"
     " WHERE queue_items.event_id = EXCLUDED.event_id"
     " AND EXCLUDED.received_at < queue_items.received_at",
     11},
    {"review_proj_decide",
     "UPDATE queue_items SET status = $2, opinion = $3, reviewer = $4,"
     " decided_at = $5::timestamptz WHERE application_id = $1 AND status = 'pending'",
     5},
    {"review_proj_correction_enqueue",
     "INSERT INTO corrections (correction_id, event_id, person_key, county_code, reason,"
     " filed_at, received_at) VALUES ($1, $2, $3, $4, $5, $6::timestamptz,"
     " to_timestamp($7::double precision / 1000))"
     " ON CONFLICT (correction_id) DO UPDATE SET received_at = EXCLUDED.received_at"
     " WHERE corrections.event_id = EXCLUDED.event_id"
     " AND EXCLUDED.received_at < corrections.received_at",
     7},
    {"review_proj_correction_county",
     "UPDATE corrections SET status = CASE WHEN $2 = 'county_approved' THEN 'pending_city'"
     " ELSE 'rejected' END, county_opinion = $3, county_reviewer = $4,"
     " county_decided_at = $5::timestamptz"
     " WHERE correction_id = $1 AND status = 'pending_county'",
     5},
    {"review_proj_correction_city",
     "UPDATE corrections SET status = $2, city_opinion = $3, city_reviewer = $4,"
     " city_decided_at = $5::timestamptz"
     " WHERE correction_id = $1 AND status = 'pending_city'",
     5},
    {NULL, NULL, 0},
};

static const jspec_field filed_spec[] = {
    {"correction_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"reason", JSPEC_STRING, 1, 1, 1000, NULL, NULL, NULL, 0},
    {"filed_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

static const char *str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void configure(void)
{
	const char *v = getenv("HC_REVIEW_DEADLINE_HOURS");
	long h = v != NULL ? atol(v) : 0;

	deadline_hours = h >= 1 && h <= 720 ? h : 24;
}

static int enqueue(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	char count[24], hours[24], log_ms[24];
	char *workers;
	int rc = queue_check_submitted(ev->data, err);

	if (rc != 0)
		return rc;
	workers = json_dumps(json_object_get(ev->data, "workers"), JSON_COMPACT);
	if (workers == NULL)
		abort();
	snprintf(count, sizeof(count), "%lld",
	         (long long)json_integer_value(json_object_get(ev->data, "worker_count")));
	snprintf(hours, sizeof(hours), "%ld", deadline_hours);
	snprintf(log_ms, sizeof(log_ms), "%lld", ev->log_ms);
	{
		const char *params[11] = {str(ev->data, "application_id"),
		                          ev->id,
		                          str(ev->data, "county_code"),
		                          str(ev->data, "employer_name"),
		                          str(ev->data, "credit_code"),
		                          str(ev->data, "category"),
		                          count,
		                          workers,
		                          str(ev->data, "submitted_at"),
		                          hours,
		                          log_ms};

		rc = db_run(tx, "review_proj_enqueue", 11, params, NULL, err);
	}
	free(workers);
	return rc;
}

static int enqueue_correction(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	char log_ms[24];

	if (jspec_check_event(ev->data, filed_spec, sizeof(filed_spec) / sizeof(filed_spec[0]),
	                      "data", err) != 0)
		return HC_ERR_PERMANENT;
	snprintf(log_ms, sizeof(log_ms), "%lld", ev->log_ms);
	{
		const char *params[7] = {str(ev->data, "correction_id"),
		                         ev->id,
		                         str(ev->data, "person_key"),
		                         str(ev->data, "county_code"),
		                         str(ev->data, "reason"),
		                         str(ev->data, "filed_at"),
		                         log_ms};

		return db_run(tx, "review_proj_correction_enqueue", 7, params, NULL, err);
	}
}

/* A decision event: id_field names the decided item; stmt records it. */
static int decide(db_conn *tx, const cloudevent *ev, const char *id_field, const char *stmt,
                  hc_err *err)
{
	const char *params[5] = {str(ev->data, id_field), str(ev->data, "status"),
	                         str(ev->data, "opinion"), str(ev->data, "reviewer"),
	                         str(ev->data, "decided_at")};

	for (int i = 0; i < 5; i++)
		if (params[i] == NULL)
			return hc_err_set(err, HC_ERR_PERMANENT, "decision without a string %s",
			                  i == 0   ? id_field
			                  : i == 1 ? "status"
			                           : "a field");
	return db_run(tx, stmt, 5, params, NULL, err);
}

int review_queue_apply(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *stage;

	if (strcmp(ev->type, TYPE_EMPLOYER_APPLICATION_SUBMITTED) == 0)
		return enqueue(tx, ev, err);
	if (strcmp(ev->type, TYPE_CORRECTION_FILED) == 0)
		return enqueue_correction(tx, ev, err);
	if (strcmp(ev->type, TYPE_EMPLOYER_APPLICATION_DECIDED) == 0)
		return decide(tx, ev, "application_id", "review_proj_decide", err);
	if (strcmp(ev->type, TYPE_CORRECTION_DECIDED) == 0) {
		stage = str(ev->data, "stage");
		if (stage != NULL && strcmp(stage, "county") == 0)
			return decide(tx, ev, "correction_id", "review_proj_correction_county",
			              err);
		if (stage != NULL && strcmp(stage, "city") == 0)
			return decide(tx, ev, "correction_id", "review_proj_correction_city", err);
		return hc_err_set(err, HC_ERR_PERMANENT, "correction decision of no known stage");
	}
	return 0;
}

static const char *const queue_tables[] = {"queue_items", "corrections", NULL};
/* causes before effects: submissions, then decisions (see projection_rebuild) */
static const char *const queue_topics[] = {TOPIC_EMPLOYER_APPLICATION, TOPIC_CORRECTION,
                                           TOPIC_REVIEW_DECISION, NULL};

const projection review_queue_projection = {
    .name = "review.queue",
    .schema = "review",
    .tables = queue_tables,
    .topics = queue_topics,
    .statements = queue_statements,
    .configure = configure,
    .apply = review_queue_apply,
};
