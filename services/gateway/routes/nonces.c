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

struct nonce_job {
	nonce_job *next;
	gateway_app *app;
	http_req *req;
	const gateway_route *route;
	gateway_principal p;
	int fresh;
};

/* Claims the batch's nonces: each job's fresh set when its nonce was new. */
static int nonces_claim(db_conn *conn, nonce_job *jobs, hc_err *err)
{
	json_t *rows = json_array();
	const json_t *values[1] = {rows};
	db_res *res = NULL;
	nonce_job *j;
	int rc;
	long i;

	for (j = jobs; j != NULL; j = j->next)
		json_array_append_new(rows,
		                      json_pack("{s:s, s:s}", "c", j->p.client, "n", j->p.nonce));
	rc = db_run_with_json(conn, "gateway_nonce_claim_many", 1, values, &res, err);
	json_decref(rows);
	for (i = 0; rc == 0 && i < db_res_rows(res); i++) {
		const char *client = db_res_get(res, (int)i, 0),
		           *nonce = db_res_get(res, (int)i, 1);

		/* the first request with this pair gets it; a second in the batch is a replay */
		for (j = jobs; j != NULL; j = j->next)
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

static void *nonces_main(void *arg)
{
	gateway_app *app = arg;
	gateway_nonces *q = &app->nonces;
	time_t purged = time(NULL);

	for (;;) {
		nonce_job *jobs, *j, *next;
		db_conn *conn;
		hc_err err;
		size_t n = 0;
		int rc;

		pthread_mutex_lock(&q->mu);
		while (q->head == NULL && !q->stopping)
			pthread_cond_wait(&q->cv, &q->mu);
		if (q->head == NULL) {
			pthread_mutex_unlock(&q->mu);
			break; /* stopping, and nothing left */
		}
		jobs = q->head;
		for (j = jobs; j->next != NULL && ++n < NONCE_BATCH_MAX; j = j->next)
			;
		q->head = j->next;
		if (q->head == NULL)
			q->tail = &q->head;
		j->next = NULL;
		q->queued -= n + 1;
		pthread_mutex_unlock(&q->mu);

		hc_err_clear(&err);
		conn = db_pool_take(app->svc.pool);
		rc = nonces_claim(conn, jobs, &err);
		if (rc == 0 && time(NULL) - purged >= 60) {
			db_run(conn, "gateway_nonce_purge", 0, NULL, NULL, NULL);
			purged = time(NULL);
		}
		db_pool_give(app->svc.pool, conn);
		metrics_add(q->batches, 1);
		for (j = jobs; j != NULL; j = next) {
			next = j->next;
			nonce_job_finish(j, rc == 0 ? NULL : &err);
		}
	}
	return NULL;
}

/* Runs on the worker once the request is suspended: queues it, or refuses it. */
static void nonce_enqueue(void *arg)
{
	nonce_job *j = arg;
	gateway_nonces *q = &j->app->nonces;
	int refused;

	pthread_mutex_lock(&q->mu);
	refused = q->stopping || !q->running || q->queued >= NONCE_QUEUE_MAX;
	if (!refused) {
		*q->tail = j;
		q->tail = &j->next;
		q->queued++;
		pthread_cond_signal(&q->cv);
	}
	pthread_mutex_unlock(&q->mu);
	if (refused) {
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

	q->tail = &q->head;
	q->batches = metrics_counter("hc_gateway_nonce_batches_total", "",
	                             "statements that claimed the nonces of signed requests");
	if (pthread_create(&q->thread, NULL, nonces_main, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the nonce claimer");
	pthread_mutex_lock(&q->mu);
	q->running = 1;
	pthread_mutex_unlock(&q->mu);
	return 0;
}

void gateway_nonces_stop(gateway_app *app)
{
	gateway_nonces *q = &app->nonces;
	int running;

	pthread_mutex_lock(&q->mu);
	running = q->running;
	q->stopping = 1;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (running)
		pthread_join(q->thread, NULL); /* lets everything queued go on first */
}
