/* The shapes HTTP handlers share; see svc.h. */
#include <stdlib.h>
#include <string.h>

#include "common/identity/identity.h"
#include "common/svc/svc.h"

int svc_http_tx(svc *s, http_req *req, svc_tx_fn fn, svc_reply_fn reply, void *ctx)
{
	db_conn *tx = db_pool_take(s->pool);
	svc_idem k, *kp = &k;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	svc_idem_read(req, &k);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = svc_idem_claim(tx, &k, &err);
	if (rc == SVC_IDEM_SEEN) { /* a retry of a request that took effect: its answer */
		db_tx_rollback(tx);
		db_pool_give(s->pool, tx);
		svc_idem_replay(s, req, &k);
		return HC_ERR_CONFLICT;
	}
	if (rc == 0)
		rc = fn(tx, ctx, &err);
	if (rc == 0) { /* the answer, made now and kept with the effect */
		svc_idem_capture(req, &k);
		reply(req, ctx);
		rc = svc_idem_keep_many(tx, &kp, 1, &err);
	}
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_req_on_reply(req, NULL, NULL);
		http_reply_discard(req);
		http_reply_err(req, &err);
	} else if (k.keyed) {
		svc_idem_purge(s, tx);
	}
	svc_idem_release(&k);
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

const char *svc_partner_scope(const http_req *req)
{
	http_principal p = http_req_principal(req);

	return p.role != NULL && strcmp(p.role, "partner") == 0 ? p.client : NULL;
}

const char *svc_http_person_key(http_req *req)
{
	const char *key = http_req_param(req, "person_key");

	if (person_key_valid(key))
		return key;
	http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "person_key",
	                   "person_key must be 64 lowercase hex characters");
	return NULL;
}

static void reply_person(svc *s, http_req *req, const char *stmt, const char *what, int scoped)
{
	const char *params[2] = {svc_http_person_key(req), svc_partner_scope(req)};

	if (params[0] != NULL)
		svc_http_reply_row(s, req, stmt, scoped ? 2 : 1, params, "person_key", what);
}

void svc_http_reply_person(svc *s, http_req *req, const char *stmt, const char *what)
{
	reply_person(s, req, stmt, what, 0);
}

void svc_http_reply_person_scoped(svc *s, http_req *req, const char *stmt, const char *what)
{
	reply_person(s, req, stmt, what, 1);
}

/* The person key and client of a declaration event (client NULL without one), or an error. */
static int declaration_client(const cloudevent *ev, const char **key, const char **client,
                              hc_err *err)
{
	*key = json_string_value(json_object_get(ev->data, "person_key"));
	*client = json_string_value(json_object_get(ev->data, "submitted_by"));
	if (!person_key_valid(*key))
		return hc_err_field(err, HC_ERR_PERMANENT, "data.person_key",
		                    "data.person_key must be a person key");
	return 0;
}

int svc_on_declaration_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *params[2];
	int rc = declaration_client(ev, &params[0], &params[1], err);

	(void)app;
	if (rc != 0 || params[1] == NULL)
		return rc;
	return db_run(tx, "person_client_add", 2, params, NULL, err);
}

int svc_declaration_links(db_conn *tx, const cloudevent *evs, size_t n, const char *const *stmts,
                          hc_err *err)
{
	json_t *links = json_array();
	const json_t *values[1] = {links};
	size_t i;
	int rc = 0;

	if (links == NULL)
		abort();
	for (i = 0; i < n && rc == 0; i++) {
		const char *key, *client;

		rc = declaration_client(&evs[i], &key, &client, err);
		if (rc == 0 && client != NULL)
			json_array_append_new(links,
			                      json_pack("{s:s, s:s}", "k", key, "c", client));
	}
	for (; rc == 0 && json_array_size(links) > 0 && *stmts != NULL; stmts++)
		rc = db_run_with_json(tx, *stmts, 1, values, NULL, err);
	json_decref(links);
	return rc;
}

int svc_on_declaration_clients(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err)
{
	static const char *const stmts[] = {"person_clients_add_many", NULL};

	(void)app;
	return svc_declaration_links(tx, evs, n, stmts, err);
}
