/*
 * Reads of one object by id, within the caller's scope: a partner app sees
 * only what it submitted, a county system only its county's; anything else
 * is 404, so existence is not revealed.  See app.h.
 */
#include "common/base/rand.h"
#include "services/intake/app.h"

void intake_reply_scoped(intake_app *app, http_req *req, intake_getter_fn get)
{
	const char *id = http_req_param(req, "id");
	json_t *out = NULL;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (get(conn, id, svc_partner_scope(req), http_req_principal(req).county, &out, &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}
