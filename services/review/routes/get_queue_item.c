/*
 * GET /v1/queue-items/{application_id}: one application in its county's
 * queue.  A county system sees only its own county's items (404 otherwise).
 */
#include "common/base/rand.h"
#include "services/review/app.h"
#include "services/review/store.h"

void review_get_queue_item(void *app_, http_req *req)
{
	review_app *app = app_;
	const char *id = http_req_param(req, "application_id");
	json_t *out = NULL;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "application_id",
		                   "application_id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (review_store_item_get(conn, id, http_req_principal(req).county, &out, &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}
