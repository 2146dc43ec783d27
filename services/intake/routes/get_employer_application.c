/*
 * GET /v1/employer-applications/{id}: the application as its employer and
 * county see it, with workers shown by masked name and person key only.  A
 * partner app sees only applications it submitted, a county system only its
 * county's; anything else is 404, so existence is not revealed.
 */
#include "common/base/rand.h"
#include "services/intake/app.h"
#include "services/intake/store.h"

void intake_get_employer_application(void *app_, http_req *req)
{
	intake_app *app = app_;
	const char *id = http_req_param(req, "id");
	json_t *out = NULL;
	http_principal p;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	p = http_req_principal(req);
	conn = db_pool_take(app->svc.pool);
	if (intake_store_application_get(conn, id, intake_partner_scope(&p), p.county, &out,
	                                 &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}
