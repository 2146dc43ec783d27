/* Every SQL statement of the gateway; see store.h. */
#include "services/gateway/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const db_stmt gateway_statements[] = {
    {"gateway_client_get",
     "SELECT role, coalesce(county_code, ''), key_hash, revoked_at IS NOT NULL,"
     " coalesce(quota_rate, 0), coalesce(quota_burst, 0) FROM api_clients WHERE id = $1",
     1},
    {"gateway_client_add",
     "INSERT INTO api_clients (id, role, county_code, key_hash) VALUES ($1, $2, $3, $4)", 4},
    {"gateway_client_quota",
     "UPDATE api_clients SET quota_rate = nullif($2::integer, 0),"
     " quota_burst = nullif($3::integer, 0) WHERE id = $1",
     3},
    /* request signing (signed.c) */
    {"gateway_client_key_get",
     "SELECT c.role, coalesce(c.county_code, ''), coalesce(c.quota_rate, 0),"
     " coalesce(c.quota_burst, 0), encode(k.public_der, 'hex') FROM api_clients c"
     " JOIN client_keys k ON k.client = c.id WHERE c.id = $1 AND k.kid = $2"
     " AND c.revoked_at IS NULL AND k.revoked_at IS NULL",
     2},
    {"gateway_client_key_add",
     "INSERT INTO client_keys (client, kid, public_der) VALUES ($1, $2, decode($3, 'hex'))", 3},
    {"gateway_nonce_claim",
     "INSERT INTO request_nonces (client, nonce) VALUES ($1, $2) ON CONFLICT DO NOTHING"
     " RETURNING 1",
     2},
    {"gateway_nonce_purge",
     "DELETE FROM request_nonces WHERE seen_at < now() - interval '10 minutes'", 0},
    {"gateway_client_revoke",
     "UPDATE api_clients SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", 1},
    /* idempotency keys (routes/idempotency.c) */
    /* a key binds for 24 hours; a claim left running by a crash, for 5 minutes */
    {"gateway_idem_expire",
     "DELETE FROM idempotency_records WHERE client = $1 AND key = $2"
     " AND (created_at < now() - interval '24 hours'"
     " OR (status IS NULL AND created_at < now() - interval '5 minutes'))",
     2},
    {"gateway_idem_claim",
     "INSERT INTO idempotency_records (client, key, request_hash) VALUES ($1, $2, $3)"
     " ON CONFLICT (client, key) DO NOTHING RETURNING 1",
     3},
    {"gateway_idem_get",
     "SELECT request_hash, status, coalesce(content_type, ''), coalesce(location, ''),"
     " coalesce(body, '') FROM idempotency_records WHERE client = $1 AND key = $2",
     2},
    {"gateway_idem_done",
     "UPDATE idempotency_records SET status = $3::integer, content_type = $4, location = $5,"
     " body = $6 WHERE client = $1 AND key = $2",
     6},
    {"gateway_idem_release",
     "DELETE FROM idempotency_records WHERE client = $1 AND key = $2 AND status IS NULL", 2},
    {NULL, NULL, 0},
};

int gateway_store_client_get(db_conn *conn, const char *id, gateway_client *out, hc_err *err)
{
	const char *params[1] = {id};
	db_res *res = NULL;
	int rc;

	rc = db_run(conn, "gateway_client_get", 1, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) == 0) {
		db_res_free(res);
		return hc_err_set(err, HC_ERR_NOT_FOUND, "no client %s", id);
	}
	snprintf(out->role, sizeof(out->role), "%s", db_res_get(res, 0, 0));
	snprintf(out->county, sizeof(out->county), "%s", db_res_get(res, 0, 1));
	snprintf(out->key_hash, sizeof(out->key_hash), "%s", db_res_get(res, 0, 2));
	out->revoked = strcmp(db_res_get(res, 0, 3), "t") == 0;
	out->quota_rate = strtol(db_res_get(res, 0, 4), NULL, 10);
	out->quota_burst = strtol(db_res_get(res, 0, 5), NULL, 10);
	db_res_free(res);
	return 0;
}

int gateway_store_client_add(db_conn *conn, const char *id, const char *role, const char *county,
                             const char *key_hash, hc_err *err)
{
	const char *params[4] = {id, role, county, key_hash};

	return db_run(conn, "gateway_client_add", 4, params, NULL, err);
}

int gateway_store_client_quota(db_conn *conn, const char *id, long rate, long burst, hc_err *err)
{
	char r[24], b[24];
	const char *params[3] = {id, r, b};
	db_res *res = NULL;
	int rc;

	snprintf(r, sizeof(r), "%ld", rate);
	snprintf(b, sizeof(b), "%ld", burst);
	rc = db_run(conn, "gateway_client_quota", 3, params, &res, err);
	if (rc != 0)
		return rc;
	rc = db_res_affected(res) == 1 ? 0 : hc_err_set(err, HC_ERR_NOT_FOUND, "no client %s", id);
	db_res_free(res);
	return rc;
}

int gateway_store_client_revoke(db_conn *conn, const char *id, hc_err *err)
{
	const char *params[1] = {id};
	db_res *res = NULL;
	int rc;

	rc = db_run(conn, "gateway_client_revoke", 1, params, &res, err);
	if (rc != 0)
		return rc;
	rc = db_res_affected(res) == 1
	         ? 0
	         : hc_err_set(err, HC_ERR_NOT_FOUND, "no active client %s", id);
	db_res_free(res);
	return rc;
}
