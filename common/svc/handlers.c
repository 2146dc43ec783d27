/* The shapes HTTP handlers share; see svc.h. */
#include <string.h>

#include "common/identity/identity.h"
#include "common/svc/svc.h"

int svc_http_tx(svc *s, http_req *req, svc_tx_fn fn, void *ctx)
{
	db_conn *tx = db_pool_take(s->pool);
	hc_err err;
	int rc;

	hc_err_clear(&err);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = fn(tx, ctx, &err);
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
	}
	db_pool_give(s->pool, tx);
	return rc;
}

void svc_http_reply_row(svc *s, http_req *req, const char *stmt, int nparams,
                        const char *const *params, const char *field, const char *what)
{
	db_conn *conn = db_pool_take(s->pool);
	db_res *res = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (db_run(conn, stmt, nparams, params, &res, &err) != 0)
		http_reply_err(req, &err);
	else if (db_res_rows(res) == 0 || db_res_get(res, 0, 0) == NULL)
		http_reply_problem(req, PROBLEM_NOT_FOUND, field, "no %s", what);
	else
		http_reply_bytes(req, 200, "application/json", db_res_get(res, 0, 0),
		                 strlen(db_res_get(res, 0, 0)));
	db_res_free(res);
	db_pool_give(s->pool, conn);
}

void svc_http_reply_person(svc *s, http_req *req, const char *stmt, const char *what)
{
	const char *key = http_req_param(req, "person_key");
	const char *params[1] = {key};

	if (!person_key_valid(key)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "person_key",
		                   "person_key must be 64 lowercase hex characters");
		return;
	}
	svc_http_reply_row(s, req, stmt, 1, params, "person_key", what);
}
