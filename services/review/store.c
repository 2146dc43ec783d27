/* Every SQL statement of review; see store.h. */
#include "services/review/store.h"

#include <stdio.h>
#include <stdlib.h>

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
/* clang-format on */

const db_stmt review_statements[] = {
    {"review_enqueue",
     "INSERT INTO queue_items (application_id, event_id, county_code, employer_name, credit_code,"
     " category, worker_count, workers, submitted_at, due_at)"
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::timestamptz,"
     " $9::timestamptz + make_interval(hours => $10::integer))"
     " ON CONFLICT (application_id) DO NOTHING",
     10},
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
    {NULL, NULL, 0},
};

int review_store_enqueue(db_conn *tx, const char *event_id, json_t *data, long deadline_hours,
                         hc_err *err)
{
	char count[24], hours[24];
	char *workers = json_dumps(json_object_get(data, "workers"), JSON_COMPACT);
	const char *params[10] = {
	    json_string_value(json_object_get(data, "application_id")),
	    event_id,
	    json_string_value(json_object_get(data, "county_code")),
	    json_string_value(json_object_get(data, "employer_name")),
	    json_string_value(json_object_get(data, "credit_code")),
	    json_string_value(json_object_get(data, "category")),
	    count,
	    workers,
	    json_string_value(json_object_get(data, "submitted_at")),
	    hours,
	};
	int rc;

	if (workers == NULL)
		abort();
	snprintf(count, sizeof(count), "%lld",
	         (long long)json_integer_value(json_object_get(data, "worker_count")));
	snprintf(hours, sizeof(hours), "%ld", deadline_hours);
	rc = db_run(tx, "review_enqueue", 10, params, NULL, err);
	free(workers);
	return rc;
}

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
	db_res *res = NULL;
	int rc;

	rc = db_run(conn, "review_item_get", 2, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return hc_err_set(err, HC_ERR_NOT_FOUND, "no queue item for application %s",
		                  application_id);
	}
	*out = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	return 0;
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
