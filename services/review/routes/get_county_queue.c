/*
 * GET /v1/counties/{county}/queue: a county headquarters' review queue in
 * submission order.  Query: status (pending, approved, rejected), overdue
 * (true: pending past their deadline), limit (1-500, default 50), after (the
 * last application id of the previous page).
 */
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/region/region.h"
#include "services/review/app.h"
#include "services/review/domain/queue.h"
#include "services/review/store.h"

void review_get_county_queue(void *app_, http_req *req)
{
	review_app *app = app_;
	review_queue_query q = {0};
	const char *limit = http_req_query(req, "limit");
	const char *overdue = http_req_query(req, "overdue");
	const char *scope; /* a county system's own county, or NULL */
	json_t *items = NULL, *next = json_null();
	db_conn *conn;
	hc_err err;
	size_t i;

	hc_err_clear(&err);
	q.county = http_req_param(req, "county");
	q.status = http_req_query(req, "status");
	q.after = http_req_query(req, "after");
	q.limit = 50;
	scope = http_req_principal(req).county;
	if (region_county_name(q.county) == NULL ||
	    (scope != NULL && !region_within(scope, q.county))) {
		http_reply_problem(req, PROBLEM_NOT_FOUND, "county", "no county %.6s", q.county);
		return;
	}
	if (q.status != NULL) {
		for (i = 0; queue_statuses[i] != NULL && strcmp(queue_statuses[i], q.status) != 0;
		     i++)
			;
		if (queue_statuses[i] == NULL) {
			http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "status",
			                   "status must be pending, approved or rejected");
			return;
		}
	}
	if (overdue != NULL && strcmp(overdue, "true") != 0 && strcmp(overdue, "false") != 0) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "overdue",
		                   "overdue must be true or false");
		return;
	}
	q.overdue_only = overdue != NULL && strcmp(overdue, "true") == 0;
	if (limit != NULL) {
		char *end;

		q.limit = (int)strtol(limit, &end, 10);
		if (*end != '\0' || q.limit < 1 || q.limit > 500) {
			http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "limit",
			                   "limit must be an integer from 1 to 500");
			return;
		}
	}
	if (q.after != NULL && !hc_uuid_valid(q.after)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "after",
		                   "after must be an application id");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (review_store_queue_list(conn, &q, &items, &err) != 0) {
		db_pool_give(app->svc.pool, conn);
		http_reply_err(req, &err);
		return;
	}
	db_pool_give(app->svc.pool, conn);
	if (json_array_size(items) == (size_t)q.limit) {
		json_t *last = json_array_get(items, json_array_size(items) - 1);

		json_decref(next);
		next = json_incref(json_object_get(last, "application_id"));
	}
	http_reply_json(req, 200,
	                json_pack("{s:s, s:s, s:o, s:o}", "county_code", q.county, "county_name",
	                          region_county_name(q.county), "items", items, "next", next));
}
