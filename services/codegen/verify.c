/*
 * POST /v1/verifications: a checkpoint's online check of a code's token.
 *
 * The token is checked on the HTTP worker (signature, expiry, kid; no
 * database).  The rest needs the database: the code must still be at the
 * version the token carries, and a valid token's scan is recorded and
 * published.  That part is group-committed: the request is deferred to one
 * writer thread, which takes every verification waiting, reads their codes
 * with one statement, writes their scans and outbox rows with one statement
 * each, commits once, and only then answers each request.  So every answer
 * still follows its own durable effect.  A batch that cannot reach the
 * database records nothing and answers each request 503 (retry); one the
 * database refuses for a row is written again one scan at a time, so only
 * that scan's request fails.  While one batch commits, the next
 * gathers; under light load a batch is one request.  A verification's
 * Idempotency-Key is claimed in the batch's transaction (common/svc/idem.c),
 * and every answer is made, and kept under its key, before the commit (it
 * goes out after): a retry of one already recorded gets its first answer,
 * not a second scan.
 *
 * The queue is bounded (VERIFY_QUEUE_MAX): beyond it a verification is
 * refused at once with 503 and Retry-After rather than queued without end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base/rand.h"
#include "common/event/catalog.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "services/codegen/app.h"

#define VERIFY_BATCH_MAX 256
#define VERIFY_QUEUE_MAX 4096

struct verify_job {
	batch_item item; /* first: the writer's queue */
	verifier *v;
	http_req *req;
	token_claims claims;
	char key[65];
	const char *checkpoint_id; /* in the request's body, valid until the reply */
	double temperature;
	json_t *body;
	/* filled by the writer; the text points into the batch's rows while it is written */
	int has_code;
	codegen_scanned code;
	const char *masked_name, *updated_at;
	const char *result, *reason;
	char scan_id[HC_UUID_LEN + 1];
	svc_idem idem; /* its Idempotency-Key, claimed in the batch's transaction */
};

static const jspec_field verify_spec[] = {
    {"token", JSPEC_STRING, 1, 1, TOKEN_MAX, NULL, NULL, NULL, 0},
    {"checkpoint_id", JSPEC_STRING, 1, 1, 64, pii_text_check, NULL, NULL, 0},
    {"temperature", JSPEC_NUMBER, 1, 30, 45, NULL, NULL, NULL, 0},
};

static const enum problem_code token_problems[] = {
    PROBLEM_INTERNAL,          PROBLEM_TOKEN_PREFIX,    PROBLEM_TOKEN_BASE45,
    PROBLEM_TOKEN_CBOR,        PROBLEM_TOKEN_ALGORITHM, PROBLEM_TOKEN_KID_UNKNOWN,
    PROBLEM_TOKEN_KID_REVOKED, PROBLEM_TOKEN_SIGNATURE, PROBLEM_TOKEN_EXPIRED,
    PROBLEM_TOKEN_SUPERSEDED};

static verify_job *job_next(const verify_job *j)
{
	return (verify_job *)j->item.next;
}

static void job_free(verify_job *j)
{
	svc_idem_release(&j->idem);
	json_decref(j->body);
	free(j);
}

/* Makes j's answer from its decision, in the batch's transaction (it goes out after the commit). */
static void job_reply(verify_job *j, const char *scanned_at)
{
	http_req *req = j->req;
	char exp_text[32];

	svc_idem_capture(req, &j->idem);
	if (j->result == NULL) {
		http_reply_problem(req, PROBLEM_TOKEN_SUPERSEDED, "token",
		                   "the code changed since this token was issued");
		return;
	}
	codegen_rfc3339(j->claims.exp, exp_text);
	http_reply_json(req, 200,
	                json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:s}", "result", j->result,
	                          "reason", j->reason, "colour", j->code.colour, "masked_name",
	                          j->masked_name, "expires_at", exp_text, "updated_at",
	                          j->updated_at, "scan_id", j->scan_id, "scanned_at", scanned_at));
}

/* Lets j's request go once its batch is done (err when it failed) and releases j. */
static void job_answer(verify_job *j, const hc_err *err)
{
	http_req *req = j->req;

	if (err != NULL) {
		http_req_on_reply(req, NULL, NULL);
		http_reply_discard(req); /* the answer made before the commit failed */
		http_reply_err(req, err);
	} else if (j->idem.seen) {
		svc_idem_replay(j->v->svc, req, &j->idem);
	}
	job_free(j);
	http_req_resume(req);
}

/*
 * Points j at its code among the batch's rows (codegen_codes_for_scans: key,
 * version, colour, masked name, county, updated at), or marks it without one.
 */
static void batch_code(db_res *res, verify_job *j)
{
	int i;

	j->has_code = 0;
	for (i = 0; i < db_res_rows(res); i++)
		if (strcmp(db_res_get(res, i, 0), j->key) == 0) {
			j->has_code = 1;
			j->code.version = db_res_get(res, i, 1);
			j->code.colour = db_res_get(res, i, 2);
			j->masked_name = db_res_get(res, i, 3);
			j->code.county_code = db_res_get(res, i, 4);
			j->updated_at = db_res_get(res, i, 5);
			return;
		}
}

/* The columns of the batch's scans (codegen_scans_insert). */
enum {
	SCAN_ID,
	SCAN_CHECKPOINT,
	SCAN_PERSON,
	SCAN_TEMPERATURE,
	SCAN_RESULT,
	SCAN_REASON,
	SCAN_VERSION,
	SCAN_BY,
	SCAN_COLUMNS
};

static void scan_column(db_text_array *cols, int c, const char *s)
{
	db_text_array_add(&cols[c], s, s != NULL ? strlen(s) : 0);
}

/*
 * Decides j against its current code: NULL result when the token's version
 * is no longer current (or there is no code); else passed only for green
 * without fever.  A decided scan adds its row to the columns and its event.
 */
static size_t job_decide(verify_job *j, const char *scanned_at, db_text_array *scans,
                         bus_outbox_batch *events)
{
	int fever = j->temperature >= FEVER_CELSIUS;
	char temp[16];

	j->result = j->reason = NULL; /* decided again when a failed batch is retried */
	if (!j->has_code || strtoll(j->code.version, NULL, 10) != (long long)j->claims.version)
		return 0; /* superseded: nothing recorded */
	j->reason = codegen_scan_reason(j->code.colour, fever);
	j->result = j->reason != NULL ? "refused" : "passed";
	hc_uuid_v7(j->scan_id);
	snprintf(temp, sizeof(temp), "%.1f", j->temperature);
	scan_column(scans, SCAN_ID, j->scan_id);
	scan_column(scans, SCAN_CHECKPOINT, j->checkpoint_id);
	scan_column(scans, SCAN_PERSON, j->key);
	scan_column(scans, SCAN_TEMPERATURE, temp);
	scan_column(scans, SCAN_RESULT, j->result);
	scan_column(scans, SCAN_REASON, j->reason);
	scan_column(scans, SCAN_VERSION, j->code.version);
	scan_column(scans, SCAN_BY, http_req_principal(j->req).client);
	bus_outbox_batch_add(events, TOPIC_SCAN, j->key, j->code.county_code, TYPE_SCAN_RECORDED,
	                     CODEGEN_EVENT_SOURCE, j->scan_id,
	                     codegen_scan_event(j->scan_id, j->key, j->checkpoint_id, &j->code,
	                                        fever, j->result, j->reason, scanned_at),
	                     http_req_traceparent(j->req));
	return 1;
}

/* Makes the answers of the batch's new verifications and keeps those under a key, in tx. */
static int batch_answers(db_conn *tx, verify_job *jobs, const char *scanned_at, hc_err *err)
{
	svc_idem *keys[VERIFY_BATCH_MAX] = {0};
	verify_job *j;
	size_t n = 0;

	for (j = jobs; j != NULL && n < VERIFY_BATCH_MAX; j = job_next(j)) {
		if (j->idem.seen)
			continue;
		job_reply(j, scanned_at);
		keys[n++] = &j->idem;
	}
	return svc_idem_keep_many(tx, keys, n, err);
}

/* Claims the batch's Idempotency-Keys in tx (each key's seen: taken before). */
static int batch_claim(db_conn *tx, verify_job *jobs, hc_err *err)
{
	svc_idem *keys[VERIFY_BATCH_MAX] = {0};
	verify_job *j;
	size_t n = 0;

	for (j = jobs; j != NULL && n < VERIFY_BATCH_MAX; j = job_next(j))
		keys[n++] = &j->idem;
	return svc_idem_claim_many(tx, keys, n, err);
}

/* One group commit: reads the codes, records the scans, commits.  Returns 0 or an error kind. */
static int batch_write(db_conn *tx, verify_job *jobs, char scanned_at[40], hc_err *err)
{
	bus_outbox_batch events;
	db_text_array scans[SCAN_COLUMNS];
	db_text_array *const columns[SCAN_COLUMNS] = {&scans[0], &scans[1], &scans[2], &scans[3],
	                                              &scans[4], &scans[5], &scans[6], &scans[7]};
	size_t cap = 4, len = 0, nscans = 0;
	char *keys = malloc(cap);
	db_res *res = NULL;
	verify_job *j;
	int rc, c;

	if (keys == NULL)
		abort();
	bus_outbox_batch_init(&events);
	for (c = 0; c < SCAN_COLUMNS; c++)
		db_text_array_init(&scans[c]);
	for (j = jobs; j != NULL; j = job_next(j)) {
		/* a batch written again (one at a time) after it failed answers afresh */
		http_req_on_reply(j->req, NULL, NULL);
		http_reply_discard(j->req);
		svc_idem_release(&j->idem);
	}
	keys[len++] = '{';
	for (j = jobs; j != NULL; j = job_next(j)) {
		char *grown = realloc(keys, cap += 66);

		if (grown == NULL)
			abort();
		keys = grown;
		len += (size_t)sprintf(keys + len, "%s%s", j == jobs ? "" : ",", j->key);
	}
	snprintf(keys + len, cap - len, "}");
	{
		const char *params[1] = {keys};

		rc = db_tx_begin(tx, err);
		if (rc == 0)
			rc = batch_claim(tx, jobs, err);
		if (rc == 0)
			rc = db_run(tx, "codegen_codes_for_scans", 1, params, &res, err);
	}
	free(keys);
	if (rc == 0) {
		/* one transaction time: every scan of the batch shares it */
		const char *now = db_res_rows(res) > 0 ? db_res_get(res, 0, 6) : NULL;

		if (now == NULL) {
			db_res_free(res);
			res = NULL;
			rc = db_run(tx, "codegen_now", 0, NULL, &res, err);
			now = rc == 0 ? db_res_get(res, 0, 0) : NULL;
		}
		if (now != NULL)
			snprintf(scanned_at, 40, "%s", now);
	}
	if (rc == 0) {
		for (j = jobs; j != NULL; j = job_next(j)) {
			if (j->idem.seen)
				continue;
			batch_code(res, j); /* read again when a failed batch is retried */
			nscans += job_decide(j, scanned_at, scans, &events);
		}
		if (nscans > 0)
			rc = db_run_text_arrays(tx, "codegen_scans_insert", SCAN_COLUMNS, columns,
			                        NULL, err);
	}
	if (rc == 0)
		rc = batch_answers(tx, jobs, scanned_at, err);
	rc = bus_outbox_commit(tx, rc, &events, err);
	db_res_free(res);
	for (c = 0; c < SCAN_COLUMNS; c++)
		db_text_array_free(&scans[c]);
	bus_outbox_batch_free(&events);
	return rc;
}

/* What one run of the writer shares with its group commit's callbacks. */
typedef struct verifier_pass {
	verifier *v;
	db_conn *tx;
	char scanned_at[40];
} verifier_pass;

static int verifier_write(void *ctx, batch_item *list, hc_err *err)
{
	verifier_pass *w = ctx;

	metrics_add(w->v->batches, 1);
	return batch_write(w->tx, (verify_job *)list, w->scanned_at, err);
}

static void verifier_answer(void *ctx, batch_item *item, int rc, const hc_err *err)
{
	verifier_pass *w = ctx;

	metrics_add(w->v->verified, 1);
	job_answer((verify_job *)item, rc == 0 ? NULL : err);
}

/* One batch on the writer thread: the group commit, then every answer. */
static void verifier_run(void *ctx, batch_item *items, size_t n)
{
	verifier_pass w = {.v = ctx};

	w.tx = db_pool_take(w.v->svc->pool);
	batch_commit(items, n, "verifications", &w, verifier_write, verifier_answer);
	svc_idem_purge(w.v->svc, w.tx);
	db_pool_give(w.v->svc->pool, w.tx);
}

/* Runs on the worker once the request is suspended: queues it, or refuses it. */
static void verifier_enqueue(void *arg)
{
	verify_job *j = arg;
	verifier *v = j->v;

	if (batcher_push(&v->b, &j->item) != 0) {
		hc_err err;

		metrics_add(v->refused, 1);
		hc_err_set(&err, HC_ERR_TRANSIENT, "too many verifications waiting; retry");
		job_answer(j, &err);
	}
}

static void verifier_waiting(void *ctx, size_t queued)
{
	metrics_set(((verifier *)ctx)->waiting, (long)queued);
}

int verifier_start(verifier *v, svc *s, hc_err *err)
{
	v->svc = s;
	v->batches =
	    metrics_counter("hc_verify_batches_total", "", "group commits of online verifications");
	v->verified = metrics_counter("hc_verify_committed_total", "",
	                              "online verifications answered by the writer");
	v->refused = metrics_counter("hc_verify_refused_total", "",
	                             "online verifications refused because the queue was full");
	v->waiting =
	    metrics_gauge("hc_verify_waiting", "",
	                  "online verifications queued for the writer, not yet in a batch");
	v->b.waiting = verifier_waiting;
	v->b.name = "verify-writer";
	if (batcher_start(&v->b, VERIFY_BATCH_MAX, VERIFY_QUEUE_MAX, verifier_run, v) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the verification writer");
	return 0;
}

void verifier_stop(verifier *v)
{
	batcher_stop(&v->b); /* answers everything queued first */
}

void codegen_post_verification(void *app_, http_req *req)
{
	codegen_app *app = app_;
	json_t *body = http_req_json(req);
	verify_job *j;
	enum token_error e;
	keyset *ks = NULL;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (jspec_check(body, verify_spec, sizeof(verify_spec) / sizeof(verify_spec[0]), "",
	                &err) != 0) {
		http_reply_err(req, &err);
		json_decref(body);
		return;
	}
	conn = db_pool_take(app->svc.pool);
	rc = keys_acquire(&app->keys, conn, &ks, &err);
	db_pool_give(app->svc.pool, conn);
	if (rc != 0) {
		http_reply_err(req, &err);
		json_decref(body);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		abort();
	e = token_verify(json_string_value(json_object_get(body, "token")), ks->keys, ks->n,
	                 (int64_t)time(NULL), &j->claims, NULL);
	keys_release(&app->keys, ks);
	if (e != TOKEN_OK) {
		http_reply_problem(req, token_problems[e], "token", "%s", token_error_code(e));
		free(j);
		json_decref(body);
		return;
	}
	j->v = &app->verifier;
	j->req = req;
	svc_idem_read(req, &j->idem);
	j->body = body;
	hc_hex_encode(j->claims.subject, sizeof(j->claims.subject), j->key);
	j->checkpoint_id = json_string_value(json_object_get(body, "checkpoint_id"));
	j->temperature = json_number_value(json_object_get(body, "temperature"));
	http_req_defer(req, verifier_enqueue, j);
}
