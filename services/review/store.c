/* Every SQL statement of review; see store.h. */
#include "services/review/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/region/region.h"

/* clang-format off */
#define ITEM_JSON                                                                          \
	"json_build_object('application_id', q.application_id, 'county_code', q.county_code," \
	" 'employer_name', q.employer_name, 'credit_code', q.credit_code,"                    \
	" 'category', q.category, 'worker_count', q.worker_count, 'workers', q.workers,"      \
	" 'status', q.status, 'opinion', q.opinion, 'reviewer', q.reviewer,"                  \
	" 'submitted_at', " DB_RFC3339("q.submitted_at") ","                                  \
	" 'received_at', " DB_RFC3339("q.received_at") ","                                    \
	" 'due_at', " DB_RFC3339("q.due_at") ","                                              \
	" 'decided_at', " DB_RFC3339("q.decided_at") ","                                      \
	" 'overdue', q.status = 'pending' AND q.due_at < now())"
#define CORRECTION_JSON                                                                     \
	"json_build_object('correction_id', c.correction_id, 'person_key', c.person_key,"     \
	" 'county_code', c.county_code, 'reason', c.reason, 'status', c.status,"             \
	" 'county_reviewer', c.county_reviewer, 'county_opinion', c.county_opinion,"         \
	" 'county_decided_at', " DB_RFC3339("c.county_decided_at") ","                       \
	" 'city_reviewer', c.city_reviewer, 'city_opinion', c.city_opinion,"                 \
	" 'city_decided_at', " DB_RFC3339("c.city_decided_at") ","                           \
	" 'filed_at', " DB_RFC3339("c.filed_at") ")"
/* clang-format on */

const db_stmt review_statements[] = {
    {"review_queue_list",
     "SELECT " ITEM_JSON " FROM queue_items q"
     " WHERE q.county_code = $1 AND ($2::text IS NULL OR q.status = $2)"
     " AND (NOT $3::boolean OR (q.status = 'pending' AND q.due_at < now()))"
     " AND ($4::uuid IS NULL OR (q.submitted_at, q.application_id) >"
     "      (SELECT c.submitted_at, c.application_id FROM queue_items c WHERE c.application_id = "
     "$4))"
     " ORDER BY q.submitted_at, q.application_id LIMIT $5",
     5},
    {"review_item_get",
     "SELECT " ITEM_JSON " FROM queue_items q WHERE q.application_id = $1"
     " AND ($2::text IS NULL OR q.county_code = $2)",
     2},
    {"review_decide",
     "UPDATE queue_items q SET status = $2, opinion = $3, reviewer = $4, decided_at = now()"
     " WHERE q.application_id = $1 AND q.status = 'pending'"
     " AND ($5::text IS NULL OR q.county_code = $5) RETURNING " ITEM_JSON,
     5},
    {"review_correction_list",
     "SELECT " CORRECTION_JSON " FROM corrections c WHERE c.county_code = $1"
     " AND ($2::text IS NULL OR c.status = $2) ORDER BY c.filed_at, c.correction_id LIMIT 500",
     2},
    {"review_correction_get",
     "SELECT " CORRECTION_JSON " FROM corrections c WHERE c.correction_id = $1", 1},
    /* $5: the deciding headquarters' code; NULL for an internal call */
    {"review_correction_county",
     "UPDATE corrections c SET status = CASE WHEN $2 = 'approved' THEN 'pending_city'"
     " ELSE 'rejected' END, county_opinion = $3, county_reviewer = $4, county_decided_at = now()"
     " WHERE c.correction_id = $1 AND c.status = 'pending_county'"
     " AND ($5::text IS NULL OR c.county_code = $5) RETURNING " CORRECTION_JSON,
     5},
    {"review_correction_city",
     "UPDATE corrections c SET status = $2, city_opinion = $3, city_reviewer = $4,"
     " city_decided_at = now()"
     " WHERE c.correction_id = $1 AND c.status = 'pending_city' AND c.county_reviewer <> $4"
     " AND ($5::text IS NULL OR substr(c.county_code, 1, 4) || '00' = $5)"
     " RETURNING " CORRECTION_JSON,
     5},
    {NULL, NULL, 0},
};

int review_store_queue_list(db_conn *conn, const review_queue_query *q, json_t **out, hc_err *err)
{
	char limit[16];
	const char *params[5] = {q->county, q->status, q->overdue_only ? "true" : "false", q->after,
	                         limit};
	db_res *res = NULL;
	int i, rc;

	snprintf(limit, sizeof(limit), "%d", q->limit);
	rc = db_run(conn, "review_queue_list", 5, params, &res, err);
	if (rc != 0)
		return rc;
	*out = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(*out, json_loads(db_res_get(res, i, 0), 0, NULL));
	db_res_free(res);
	return 0;
}

int review_store_item_get(db_conn *conn, const char *application_id, const char *county,
                          json_t **out, hc_err *err)
{
	const char *params[2] = {application_id, county};
	int rc = db_run_json(conn, "review_item_get", 2, params, out, err);

	if (rc == HC_ERR_NOT_FOUND)
		hc_err_set(err, HC_ERR_NOT_FOUND, "no queue item for application %s",
		           application_id);
	return rc;
}

int review_store_decide(db_conn *tx, const char *application_id, const char *county,
                        const char *status, const char *opinion, const char *reviewer,
                        json_t **item, hc_err *err)
{
	const char *params[5] = {application_id, status, opinion, reviewer, county};
	db_res *res = NULL;
	int rc;

	rc = db_run(tx, "review_decide", 5, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 1) {
		*item = json_loads(db_res_get(res, 0, 0), 0, NULL);
		db_res_free(res);
		return 0;
	}
	db_res_free(res);
	rc = review_store_item_get(tx, application_id, county, item, err);
	if (rc != 0)
		return rc;
	hc_err_set(err, HC_ERR_CONFLICT, "application %s was already decided: %s", application_id,
	           json_string_value(json_object_get(*item, "status")));
	json_decref(*item);
	*item = NULL;
	return HC_ERR_CONFLICT;
}

/* One correction request as JSON, or HC_ERR_NOT_FOUND. */
static int one_json(db_conn *conn, const char *stmt, int n, const char *const *params, json_t **out,
                    hc_err *err)
{
	int rc = db_run_json(conn, stmt, n, params, out, err);

	if (rc == HC_ERR_NOT_FOUND)
		hc_err_set(err, HC_ERR_NOT_FOUND, "no such correction request");
	return rc;
}

int review_store_correction_list(db_conn *conn, const char *county, const char *status,
                                 json_t **out, hc_err *err)
{
	const char *params[2] = {county, status};
	db_res *res = NULL;
	int i, rc;

	rc = db_run(conn, "review_correction_list", 2, params, &res, err);
	if (rc != 0)
		return rc;
	*out = json_array();
	for (i = 0; i < db_res_rows(res); i++)
		json_array_append_new(*out, json_loads(db_res_get(res, i, 0), 0, NULL));
	db_res_free(res);
	return 0;
}

int review_store_correction_get(db_conn *conn, const char *id, const char *scope, json_t **out,
                                hc_err *err)
{
	const char *params[1] = {id};
	int rc = one_json(conn, "review_correction_get", 1, params, out, err);

	if (rc == 0 && scope != NULL &&
	    !region_within(scope, json_string_value(json_object_get(*out, "county_code")))) {
		json_decref(*out);
		*out = NULL;
		return hc_err_set(err, HC_ERR_NOT_FOUND, "no such correction request");
	}
	return rc;
}

int review_store_correction_decide(db_conn *tx, const char *id, const char *stage,
                                   const char *scope, const review_decision *d, json_t **out,
                                   hc_err *err)
{
	const char *params[5] = {id, d->status, d->opinion, d->reviewer, scope};
	int city = strcmp(stage, "city") == 0;
	int rc = one_json(tx, city ? "review_correction_city" : "review_correction_county", 5,
	                  params, out, err);
	const char *status;

	if (rc != HC_ERR_NOT_FOUND)
		return rc;
	rc = review_store_correction_get(tx, id, scope, out, err);
	if (rc != 0)
		return rc;
	status = json_string_value(json_object_get(*out, "status"));
	if (city && strcmp(status, "pending_city") == 0)
		rc = hc_err_field(err, HC_ERR_CONFLICT, "reviewer",
		                  "the city re-review needs a reviewer other than the county's");
	else if (city && strcmp(status, "pending_county") == 0)
		rc = hc_err_set(err, HC_ERR_CONFLICT, "the county has not reviewed it yet");
	else
		rc = hc_err_set(err, HC_ERR_CONFLICT, "the %s stage was already decided: %s", stage,
		                status);
	json_decref(*out);
	*out = NULL;
	return rc;
}
