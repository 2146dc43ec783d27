/*
 * Idempotency-Key in the service that takes effect; see svc.h.
 *
 * The gateway keeps every client's first answer and replays it, but when
 * the owning service does not answer in time (504) the gateway cannot know
 * whether the request took effect, so it lets the client retry.  The key
 * travels on with the request, and the service claims it in the very
 * transaction of the effect (request_keys, one row per client and key): a
 * retry's claim finds the row and, instead of a second effect, gets the
 * first answer.  That answer is made before the commit (a reply goes out
 * only once the handler is done) and kept on the row in the same
 * transaction, so an effect is never committed without its answer: a
 * process that ends before the commit leaves neither, one that ends after
 * it leaves both.
 *
 * Two claims of one key at once: the second INSERT waits for the first
 * transaction, then finds its row (committed) or none (rolled back: the
 * second takes effect).  A row without an answer is left only by rows kept
 * before answers were kept with their effects; a retry then hears that the
 * request took effect, as a 409, rather than taking effect again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log/log.h"
#include "common/svc/svc.h"

#define IDEM_PURGE_EVERY_S 60

const db_stmt svc_idem_statements[] = {
    {"svc_idem_expire",
     "DELETE FROM request_keys WHERE client = $1 AND key = $2"
     " AND created_at < now() - interval '24 hours'",
     2},
    {"svc_idem_claim",
     "INSERT INTO request_keys (client, key, request_hash) VALUES ($1, $2, $3)"
     " ON CONFLICT (client, key) DO NOTHING RETURNING 1",
     3},
    {"svc_idem_expire_many",
     "DELETE FROM request_keys r USING unnest($1::text[], $2::text[]) AS u(client, key)"
     " WHERE r.client = u.client AND r.key = u.key AND r.created_at < now() - interval '24 hours'",
     2},
    /* $1..$3: text[] of clients, keys, hashes; the keys claimed now come back */
    {"svc_idem_claim_many",
     "INSERT INTO request_keys (client, key, request_hash)"
     " SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
     " ON CONFLICT (client, key) DO NOTHING RETURNING client, key",
     3},
    {"svc_idem_get",
     "SELECT request_hash, status, coalesce(content_type, ''), coalesce(location, ''),"
     " coalesce(body, '') FROM request_keys WHERE client = $1 AND key = $2",
     2},
    /* $1..$6: text[] of clients, keys, statuses, content types, locations, bodies */
    {"svc_idem_keep_many",
     "UPDATE request_keys r SET status = u.status::integer, content_type = u.type,"
     " location = u.location, body = u.body"
     " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])"
     " AS u(client, key, status, type, location, body)"
     " WHERE r.client = u.client AND r.key = u.key AND r.status IS NULL",
     6},
    {"svc_idem_purge", "DELETE FROM request_keys WHERE created_at < now() - interval '24 hours'",
     0},
    {NULL, NULL, 0},
};

int svc_idem_key_valid(const char *k)
{
	size_t n = 0;

	for (; k[n] != '\0'; n++)
		if (k[n] < 0x21 || k[n] > 0x7e || n >= 255)
			return 0;
	return n > 0;
}

int svc_idem_read(const http_req *req, svc_idem *k)
{
	const char *key = http_req_header(req, "Idempotency-Key");
	const char *client = http_req_principal(req).client;

	memset(k, 0, sizeof(*k));
	if (key == NULL || !svc_idem_key_valid(key) || strcmp(http_req_method(req), "POST") != 0)
		return 0;
	/* a direct internal call has no client: its keys are its own */
	snprintf(k->client, sizeof(k->client), "%s", client != NULL ? client : "-");
	snprintf(k->key, sizeof(k->key), "%s", key);
	http_req_fingerprint(req, k->hash);
	k->keyed = 1;
	return 1;
}

int svc_idem_claim(db_conn *tx, const svc_idem *k, hc_err *err)
{
	const char *params[3] = {k->client, k->key, k->hash};
	db_res *res = NULL;
	int rc;

	if (!k->keyed)
		return SVC_IDEM_NEW;
	rc = db_run(tx, "svc_idem_expire", 2, params, NULL, err);
	if (rc == 0)
		rc = db_run(tx, "svc_idem_claim", 3, params, &res, err);
	if (rc == 0)
		rc = db_res_rows(res) == 1 ? SVC_IDEM_NEW : SVC_IDEM_SEEN;
	db_res_free(res);
	return rc;
}

int svc_idem_claim_many(db_conn *tx, svc_idem *const *keys, size_t n, hc_err *err)
{
	db_text_array cols[3];
	db_text_array *arrays[3] = {&cols[0], &cols[1], &cols[2]};
	db_res *res = NULL;
	size_t i, j;
	int rc = 0, any = 0, r;

	for (i = 0; i < 3; i++)
		db_text_array_init(&cols[i]);
	for (i = 0; i < n; i++) {
		if (keys[i] == NULL || !keys[i]->keyed)
			continue;
		keys[i]->seen = 0;
		for (j = 0; j < i; j++) /* the same key twice in one batch: the later one waits */
			if (keys[j] != NULL && keys[j]->keyed &&
			    strcmp(keys[j]->client, keys[i]->client) == 0 &&
			    strcmp(keys[j]->key, keys[i]->key) == 0)
				keys[i]->seen = 1;
		if (keys[i]->seen)
			continue;
		db_text_array_add(&cols[0], keys[i]->client, strlen(keys[i]->client));
		db_text_array_add(&cols[1], keys[i]->key, strlen(keys[i]->key));
		db_text_array_add(&cols[2], keys[i]->hash, strlen(keys[i]->hash));
		keys[i]->seen = 1; /* until the statement says it claimed it */
		any = 1;
	}
	if (any)
		rc = db_run_text_arrays(tx, "svc_idem_expire_many", 2, arrays, NULL, err);
	if (any && rc == 0)
		rc = db_run_text_arrays(tx, "svc_idem_claim_many", 3, arrays, &res, err);
	for (r = 0; rc == 0 && res != NULL && r < db_res_rows(res); r++)
		for (i = 0; i < n; i++)
			if (keys[i] != NULL && keys[i]->keyed &&
			    strcmp(keys[i]->client, db_res_get(res, r, 0)) == 0 &&
			    strcmp(keys[i]->key, db_res_get(res, r, 1)) == 0) {
				keys[i]->seen = 0;
				break;
			}
	db_res_free(res);
	for (i = 0; i < 3; i++)
		db_text_array_free(&cols[i]);
	return rc;
}

int svc_due(long *last, long every_s)
{
	long now = (long)time(NULL), then = __atomic_load_n(last, __ATOMIC_RELAXED);

	return now - then >= every_s &&
	       __atomic_compare_exchange_n(last, &then, now, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void svc_idem_purge(svc *s, db_conn *conn)
{
	hc_err err;

	if (!svc_due(&s->idem_purged, IDEM_PURGE_EVERY_S))
		return;
	hc_err_clear(&err);
	if (db_run(conn, "svc_idem_purge", 0, NULL, NULL, &err) != 0)
		log_warn("expired Idempotency-Keys not purged: %s", err.msg);
}

static char *idem_dup(const char *s, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		abort();
	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static void idem_capture_reply(void *ctx, http_req *req, int status, const char *content_type,
                               const char *body, size_t len)
{
	svc_idem *k = ctx;
	const char *location = http_reply_header_value(req, "Location");

	svc_idem_release(k);
	k->status = status;
	k->content_type =
	    content_type != NULL ? idem_dup(content_type, strlen(content_type)) : NULL;
	k->location = location != NULL ? idem_dup(location, strlen(location)) : NULL;
	k->body = idem_dup(body != NULL ? body : "", body != NULL ? len : 0);
	k->body_len = body != NULL ? len : 0;
}

void svc_idem_capture(http_req *req, svc_idem *k)
{
	if (k->keyed && !k->seen)
		http_req_on_reply(req, idem_capture_reply, k);
}

void svc_idem_release(svc_idem *k)
{
	free(k->content_type);
	free(k->location);
	free(k->body);
	k->content_type = k->location = k->body = NULL;
	k->status = 0;
	k->body_len = 0;
}

int svc_idem_keep_many(db_conn *tx, svc_idem *const *keys, size_t n, hc_err *err)
{
	db_text_array cols[6];
	db_text_array *arrays[6] = {&cols[0], &cols[1], &cols[2], &cols[3], &cols[4], &cols[5]};
	size_t i;
	int rc = 0, any = 0;

	for (i = 0; i < 6; i++)
		db_text_array_init(&cols[i]);
	for (i = 0; i < n; i++) {
		const svc_idem *k = keys[i];
		char code[16];

		if (k == NULL || !k->keyed || k->seen || k->status == 0)
			continue;
		snprintf(code, sizeof(code), "%d", k->status);
		db_text_array_add(&cols[0], k->client, strlen(k->client));
		db_text_array_add(&cols[1], k->key, strlen(k->key));
		db_text_array_add(&cols[2], code, strlen(code));
		db_text_array_add(&cols[3], k->content_type,
		                  k->content_type != NULL ? strlen(k->content_type) : 0);
		db_text_array_add(&cols[4], k->location,
		                  k->location != NULL ? strlen(k->location) : 0);
		db_text_array_add(&cols[5], k->body, k->body_len);
		any = 1;
	}
	if (any)
		rc = db_run_text_arrays(tx, "svc_idem_keep_many", 6, arrays, NULL, err);
	for (i = 0; i < 6; i++)
		db_text_array_free(&cols[i]);
	return rc;
}

void svc_idem_answer(http_req *req, db_res *res, const char *hash, const char *gone,
                     const char *unanswered)
{
	if (db_res_rows(res) == 0) {
		http_reply_problem(req, PROBLEM_IDEMPOTENCY_IN_FLIGHT, "Idempotency-Key", "%s",
		                   gone);
	} else if (strcmp(db_res_get(res, 0, 0), hash) != 0) {
		http_reply_problem(req, PROBLEM_IDEMPOTENCY_REUSED, "Idempotency-Key",
		                   "this Idempotency-Key was used for another request");
	} else if (db_res_get(res, 0, 1) == NULL) {
		http_reply_problem(req, PROBLEM_IDEMPOTENCY_IN_FLIGHT, "Idempotency-Key", "%s",
		                   unanswered);
	} else {
		const char *type = db_res_get(res, 0, 2), *location = db_res_get(res, 0, 3);
		const char *body = db_res_get(res, 0, 4);

		if (location[0] != '\0')
			http_reply_header(req, "Location", location);
		http_reply_header(req, "Idempotent-Replayed", "true");
		http_reply_bytes(req, atoi(db_res_get(res, 0, 1)), type[0] ? type : NULL, body,
		                 strlen(body));
	}
}

void svc_idem_replay(svc *s, http_req *req, const svc_idem *k)
{
	const char *params[2] = {k->client, k->key};
	db_conn *conn = db_pool_take(s->pool);
	db_res *res = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (db_run(conn, "svc_idem_get", 2, params, &res, &err) != 0)
		http_reply_err(req, &err);
	else
		svc_idem_answer(req, res, k->hash,
		                "the first request with this key has just expired; retry",
		                "the first request with this key took effect; its answer is not "
		                "kept (yet): read what it created instead of retrying");
	db_res_free(res);
	db_pool_give(s->pool, conn);
}
