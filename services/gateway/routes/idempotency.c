/*
 * Idempotency-Key on requests that create or issue something (POST): the
 * first response is stored per client and key and replayed, byte for byte
 * with `Idempotent-Replayed: true`, to a retry within 24 hours.  The same
 * key with another method, path, query or body is 422; a retry while the
 * first request still runs is 409.  A claim holds its key until the
 * gateway's upstream timeout and IDEM_CLAIM_MARGIN_MS more have passed, so
 * a claim left by a gateway that died is released then (not after minutes).  A first request the
 * owning service could not take (503) or did not answer in time (504) releases its key, so the
 * client can retry it; the key goes on to the owning service, which claims it with the effect
 * (common/svc/idem.c), so a retry after a 504 gets the first answer from the service instead of a
 * second effect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/log/log.h"
#include "services/gateway/app.h"

#define IDEM_CLAIM_MARGIN_MS 5000 /* past the upstream timeout: answering, recording */

int gateway_idem_begin(gateway_app *app, http_req *req, const char *client, gateway_idem *idem)
{
	const char *key = http_req_header(req, "Idempotency-Key");
	char deadline[32];
	const char *params[4] = {client, key, idem->hash, deadline};
	db_res *res = NULL;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	idem->claimed = 0;
	if (key == NULL || strcmp(http_req_method(req), "POST") != 0)
		return 0;
	if (!svc_idem_key_valid(key)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "Idempotency-Key",
		                   "Idempotency-Key must be 1 to 255 printable ASCII characters");
		return 1;
	}
	http_req_fingerprint(req, idem->hash);
	snprintf(idem->client, sizeof(idem->client), "%s", client);
	snprintf(idem->key, sizeof(idem->key), "%s", key);
	conn = db_pool_take(app->svc.pool);
	if (svc_due(&app->idem_purged, 60) &&
	    db_run(conn, "gateway_idem_purge", 0, NULL, NULL, &err) != 0)
		log_warn("expired idempotency records not purged: %s", err.msg);
	hc_err_clear(&err);
	rc = db_run(conn, "gateway_idem_expire", 2, params, NULL, &err);
	/* by then this gateway has answered and finished the claim, unless it died */
	snprintf(deadline, sizeof(deadline), "%.3f",
	         (double)(app->cfg.timeout_ms + IDEM_CLAIM_MARGIN_MS) / 1000.0);
	if (rc == 0)
		rc = db_run(conn, "gateway_idem_claim", 4, params, &res, &err);
	if (rc == 0 && db_res_rows(res) == 1) {
		idem->claimed = 1;
		goto out; /* the first: forward it */
	}
	db_res_free(res);
	res = NULL;
	if (rc == 0)
		rc = db_run(conn, "gateway_idem_get", 2, params, &res, &err);
	if (rc != 0)
		http_reply_err(req, &err);
	else /* no row: released meanwhile */
		svc_idem_answer(req, res, idem->hash,
		                "the first request with this key just failed; retry",
		                "the first request with this key is still running");
	rc = 1;
out:
	db_res_free(res);
	db_pool_give(app->svc.pool, conn);
	return rc == 0 ? 0 : 1;
}

void gateway_idem_finish(gateway_app *app, const gateway_idem *idem, long status,
                         const char *content_type, const char *location, const char *body)
{
	char code[16];
	const char *params[6] = {idem->client, idem->key, code, content_type, location, body};
	int release = status == 0 || status == 503 || status == 504;
	db_conn *conn;
	hc_err err;

	if (!idem->claimed)
		return;
	hc_err_clear(&err);
	snprintf(code, sizeof(code), "%ld", status);
	conn = db_pool_take(app->svc.pool);
	if (db_run(conn, release ? "gateway_idem_release" : "gateway_idem_done", release ? 2 : 6,
	           params, NULL, &err) != 0)
		log_warn("idempotency record of client %s not %s: %s", idem->client,
		         release ? "released" : "stored", err.msg);
	db_pool_give(app->svc.pool, conn);
}
