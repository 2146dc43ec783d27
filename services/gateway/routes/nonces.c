/*
 * The nonces of signed requests, claimed in batches; see app.h.
 *
 * A signed request whose signature verified is deferred (its worker is
 * free at once) to one claimer thread, which takes every request waiting,
 * inserts their nonces with one statement and one commit, and only then
 * lets each go on (gateway_proceed) or refuses it as replayed.  So a nonce
 * is durable before the request has any effect, a nonce sent twice, even
 * in one batch, is accepted once, and the workers never wait on
 * PostgreSQL for it: with a blocking claim on each worker, a burst of
 * signed requests held the quota refusals of every other connection behind
 * those waits.  A failed batch claims nothing and answers each request 503
 * (retry).  The queue is bounded (NONCE_QUEUE_MAX): beyond it a request is
 * refused at once with 503.  Nonces older than 10 minutes are deleted at
 * most once a minute, by the same thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log/log.h"
#include "services/gateway/app.h"

#define NONCE_BATCH_MAX 256
#define NONCE_QUEUE_MAX 4096

typedef struct nonce_job {
	batch_item item; /* first: the claimer's queue */
	gateway_app *app;
	http_req *req;
	const gateway_route *route;
	gateway_principal p;
	int fresh;
} nonce_job;

static nonce_job *job_next(const nonce_job *j)
{
	return (nonce_job *)j->item.next;
}

/* Claims the batch's nonces: each job's fresh set when its nonce was new. */
static int nonces_claim(db_conn *conn, nonce_job *jobs, hc_err *err)
{
	json_t *rows = json_array();
	const json_t *values[1] = {rows};
	db_res *res = NULL;
	nonce_job *j;
	int rc;
	long i;

	for (j = jobs; j != NULL; j = job_next(j))
		json_array_append_new(rows,
		                      json_pack("{s:s, s:s}", "c", j->p.client, "n", j->p.nonce));
	rc = db_run_with_json(conn, "gateway_nonce_claim_many", 1, values, &res, err);
	json_decref(rows);
	for (i = 0; rc == 0 && i < db_res_rows(res); i++) {
		const char *client = db_res_get(res, (int)i, 0),
		           *nonce = db_res_get(res, (int)i, 1);

		/* the first request with this pair gets it; a second in the batch is a replay */
		for (j = jobs; j != NULL; j = job_next(j))
			if (!j->fresh && strcmp(j->p.client, client) == 0 &&
			    strcmp(j->p.nonce, nonce) == 0) {
				j->fresh = 1;
				break;
			}
	}
	db_res_free(res);
	return rc;
}

/* Lets a claimed request go on, or answers it (err: the batch failed). */
static void nonce_job_finish(nonce_job *j, const hc_err *err)
{
	gateway_app *app = j->app;
	http_req *req = j->req;

	if (err != NULL) {
		http_reply_err(req, err);
		gateway_done(app, req, 1);
	} else if (!j->fresh) {
		log_info("refused a replayed nonce of client %s", j->p.client);
		http_reply_header(req, "WWW-Authenticate", "Signature realm=\"hc\"");
		http_reply_problem(req, PROBLEM_SIGNATURE_REPLAYED, NULL,
		                   "this nonce was used already");
		gateway_done(app, req, 1);
	} else {
		gateway_sign_responses(app, req); /* from here on, every answer is signed */
		gateway_proceed(app, req, j->route, &j->p, 1);
	}
	free(j);
}

/* One batch on the claimer thread: the claim, then each request goes on or is answered. */
static void nonces_run(void *ctx, batch_item *items, size_t n)
{
	gateway_app *app = ctx;
	gateway_nonces *q = &app->nonces;
	nonce_job *jobs = (nonce_job *)items, *j, *next;
	time_t now = time(NULL);
	db_conn *conn;
	hc_err err;
	int rc;

	(void)n;
	hc_err_clear(&err);
	conn = db_pool_take(app->svc.pool);
	rc = nonces_claim(conn, jobs, &err);
	if (rc == 0 && now - q->purged >= 60) {
		db_run(conn, "gateway_nonce_purge", 0, NULL, NULL, NULL);
		q->purged = now;
	}
	db_pool_give(app->svc.pool, conn);
	metrics_add(q->batches, 1);
	for (j = jobs; j != NULL; j = next) {
		next = job_next(j);
		nonce_job_finish(j, rc == 0 ? NULL : &err);
	}
}

/* Runs on the worker once the request is suspended: queues it, or refuses it. */
static void nonce_enqueue(void *arg)
{
	nonce_job *j = arg;

	if (batcher_push(&j->app->nonces.b, &j->item) != 0) {
		hc_err err;

		hc_err_set(&err, HC_ERR_TRANSIENT, "too many signed requests waiting; retry");
		nonce_job_finish(j, &err);
	}
}

void gateway_nonce_then_proceed(gateway_app *app, http_req *req, const gateway_route *route,
                                const gateway_principal *p)
{
	nonce_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		abort();
	j->app = app;
	j->req = req;
	j->route = route;
	j->p = *p;
	http_req_defer(req, nonce_enqueue, j);
}

int gateway_nonces_start(gateway_app *app, hc_err *err)
{
	gateway_nonces *q = &app->nonces;

	q->purged = time(NULL);
	q->batches = metrics_counter("hc_gateway_nonce_batches_total", "",
	                             "statements that claimed the nonces of signed requests");
	q->b.name = "nonce-claimer";
	if (batcher_start(&q->b, NONCE_BATCH_MAX, NONCE_QUEUE_MAX, nonces_run, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the nonce claimer");
	return 0;
}

void gateway_nonces_stop(gateway_app *app)
{
	batcher_stop(&app->nonces.b); /* lets everything queued go on first */
}
