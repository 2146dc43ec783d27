/*
 * GET /v1/declarations/{id}: the state of a health-code application, with
 * no personal data: status, person key, masked name, county.  Scoped like
 * employer applications (a partner its own, a county its county's).
 */
#include "common/base/rand.h"
#include "services/intake/app.h"
#include "services/intake/store.h"

void intake_get_declaration(void *app_, http_req *req)
{
	intake_app *app = app_;
	const char *id = http_req_param(req, "id");
	http_principal p = http_req_principal(req);
	json_t *out = NULL;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (intake_store_declaration_get(conn, id, intake_partner_scope(&p), p.county, &out,
	                                 &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}
