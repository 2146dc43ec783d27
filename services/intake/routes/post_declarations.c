/*
 * POST /v1/declarations: a worker applies for a health code with basic
 * information and health status; the application starts pending.
 *
 * A worker applying through an employer must be listed in that employer's
 * application, which its county must have approved (409 otherwise).  The
 * declaration (personal data and health answers sealed) and its event,
 * which carries only the person key, masked name and county, commit
 * together.
 *
 * Declarations without an employer application, nearly all of them, are
 * group-committed: the HTTP worker checks and seals one, then defers the
 * request to one writer thread, which takes every declaration waiting,
 * inserts them with one statement and their events with another, commits
 * once, and only then answers each 201.  A batch the database cannot take
 * (the connection lost) stores nothing and answers each request 503 (retry);
 * one it refuses for a row's content is written again one declaration at a
 * time, so a row the database refuses costs only its own request (500: the
 * checks before the batch should have refused it) and not the others.  The queue is bounded
 * (DECLARATION_QUEUE_MAX): beyond it a declaration is refused at once with
 * 503 and Retry-After.  A declaration through an employer is checked against
 * the employer's application and committed alone, on the worker.  Either
 * way a declaration's Idempotency-Key is claimed in its transaction
 * (common/svc/idem.c), and its answer made and kept before the commit: a
 * retry of one already stored gets its first answer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/declaration.h"
#include "services/intake/store.h"

#define DECLARATION_BATCH_MAX 256
#define DECLARATION_QUEUE_MAX 4096

typedef struct submission {
	batch_item item; /* first: the writer's queue */
	http_req *req;
	intake_app *app;
	json_t *body; /* owns the strings d borrows */
	json_t *row;  /* the sealed row */
	declaration d;
	char id[HC_UUID_LEN + 1], submitted_at[40];
	svc_idem idem; /* its Idempotency-Key, claimed in the batch's transaction */
} submission;

/* The data of sub's event, naming the partner app it came through (the people it may read). */
static json_t *submission_event_data(const submission *sub)
{
	json_t *data = declaration_event_data(&sub->d, sub->id, sub->submitted_at);
	const char *client = http_req_principal(sub->req).client;

	if (client != NULL)
		json_object_set_new(data, "submitted_by", json_string(client));
	return data;
}

static int submission_write(db_conn *tx, void *ctx, hc_err *err)
{
	submission *sub = ctx;
	int rc = intake_store_declaration_employer(tx, &sub->d, err);

	if (rc == 0) {
		json_t *rows = json_pack("[O]", sub->row);

		rc = intake_store_declarations_insert(tx, rows, sub->submitted_at, err);
		json_decref(rows);
	}
	if (rc == 0)
		rc = bus_outbox_emit(tx, TOPIC_DECLARATION, sub->d.person_key, sub->d.county_code,
		                     TYPE_DECLARATION_SUBMITTED, INTAKE_EVENT_SOURCE, sub->id,
		                     submission_event_data(sub), http_req_traceparent(sub->req),
		                     err);
	return rc;
}

/* 201 for a declaration stored (once its transaction commits). */
static void submission_reply(http_req *req, void *ctx)
{
	const submission *sub = ctx;

	http_reply_created(req, "/v1/declarations", sub->id,
	                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sub->id, "status",
	                             "pending", "person_key", sub->d.person_key, "county_code",
	                             sub->d.county_code, "submitted_at", sub->submitted_at));
}

static void submission_free(submission *sub)
{
	svc_idem_release(&sub->idem);
	json_decref(sub->row);
	json_decref(sub->body);
	free(sub);
}

/* Claims the batch's Idempotency-Keys in tx (each key's seen: taken before). */
static int batch_claim(db_conn *tx, submission *subs, hc_err *err)
{
	svc_idem *keys[DECLARATION_BATCH_MAX] = {0};
	submission *sub;
	size_t n = 0;

	for (sub = subs; sub != NULL && n < DECLARATION_BATCH_MAX;
	     sub = (submission *)sub->item.next)
		keys[n++] = &sub->idem;
	return svc_idem_claim_many(tx, keys, n, err);
}

/*
 * Makes the 201 of each new declaration of the batch and keeps those under
 * an Idempotency-Key, in tx: the answers go out only after the commit.
 */
static int batch_answers(db_conn *tx, submission *subs, hc_err *err)
{
	svc_idem *keys[DECLARATION_BATCH_MAX] = {0};
	submission *sub;
	size_t n = 0;

	for (sub = subs; sub != NULL && n < DECLARATION_BATCH_MAX;
	     sub = (submission *)sub->item.next) {
		if (sub->idem.seen)
			continue;
		svc_idem_capture(sub->req, &sub->idem);
		submission_reply(sub->req, sub);
		keys[n++] = &sub->idem;
	}
	return svc_idem_keep_many(tx, keys, n, err);
}

/* One group commit of declarations: their keys, rows, events and answers, one COMMIT. */
static int batch_write(db_conn *tx, submission *subs, char submitted_at[40], hc_err *err)
{
	json_t *rows = json_array();
	bus_outbox_batch events;
	submission *sub;
	int rc;

	if (rows == NULL)
		abort();
	bus_outbox_batch_init(&events);
	for (sub = subs; sub != NULL; sub = (submission *)sub->item.next) {
		/* a batch written again (one at a time) after it failed answers afresh */
		http_req_on_reply(sub->req, NULL, NULL);
		http_reply_discard(sub->req);
		svc_idem_release(&sub->idem);
	}
	rc = db_tx_begin(tx, err);
	if (rc == 0)
		rc = batch_claim(tx, subs, err);
	for (sub = subs; rc == 0 && sub != NULL; sub = (submission *)sub->item.next)
		if (!sub->idem.seen)
			json_array_append(rows, sub->row);
	if (rc == 0 && json_array_size(rows) > 0)
		rc = intake_store_declarations_insert(tx, rows, submitted_at, err);
	for (sub = subs; rc == 0 && sub != NULL; sub = (submission *)sub->item.next) {
		if (sub->idem.seen)
			continue;
		snprintf(sub->submitted_at, sizeof(sub->submitted_at), "%s", submitted_at);
		bus_outbox_batch_add(&events, TOPIC_DECLARATION, sub->d.person_key,
		                     sub->d.county_code, TYPE_DECLARATION_SUBMITTED,
		                     INTAKE_EVENT_SOURCE, sub->id, submission_event_data(sub),
		                     http_req_traceparent(sub->req));
	}
	if (rc == 0)
		rc = batch_answers(tx, subs, err);
	rc = bus_outbox_commit(tx, rc, &events, err);
	json_decref(rows);
	bus_outbox_batch_free(&events);
	return rc;
}

/* What one run of the writer shares with its group commit's callbacks. */
typedef struct writer_pass {
	intake_app *app;
	db_conn *tx;
	char submitted_at[40];
} writer_pass;

static int writer_write(void *ctx, batch_item *list, hc_err *err)
{
	writer_pass *w = ctx;

	metrics_add(w->app->declaration_batches, 1);
	return batch_write(w->tx, (submission *)list, w->submitted_at, err);
}

/* Answers a submission (201 when rc is 0, else err) and lets its request go. */
static void writer_answer(void *ctx, batch_item *item, int rc, const hc_err *err)
{
	writer_pass *w = ctx;
	submission *sub = (submission *)item;
	http_req *req = sub->req;

	if (rc == 0 && sub->idem.seen) {
		svc_idem_replay(&w->app->svc, req, &sub->idem);
	} else if (rc == 0) { /* answered in the transaction (batch_answers) */
		metrics_add(w->app->declarations_committed, 1);
		log_info("declaration %s pending in county %s", sub->id, sub->d.county_code);
	} else {
		http_req_on_reply(req, NULL, NULL);
		http_reply_discard(req);
		http_reply_err(req, err);
	}
	submission_free(sub);
	http_req_resume(req);
}

/* One batch on the writer thread: the group commit, then every answer. */
static void writer_run(void *ctx, batch_item *items, size_t n)
{
	writer_pass w = {.app = ctx};

	w.tx = db_pool_take(w.app->svc.pool);
	batch_commit(items, n, "declarations", &w, writer_write, writer_answer);
	svc_idem_purge(&w.app->svc, w.tx);
	db_pool_give(w.app->svc.pool, w.tx);
}

/* Runs on the worker once the request is suspended: queues it, or refuses it. */
static void writer_enqueue(void *arg)
{
	submission *sub = arg;
	intake_app *app = sub->app; /* sub may be answered and gone once pushed */

	if (batcher_push(&app->declarations, &sub->item) != 0) {
		http_req *req = sub->req;
		hc_err err;

		metrics_add(app->declarations_refused, 1);
		hc_err_set(&err, HC_ERR_TRANSIENT, "too many declarations waiting; retry");
		http_reply_err(req, &err);
		submission_free(sub);
		http_req_resume(req);
	}
}

static void writer_waiting(void *ctx, size_t queued)
{
	metrics_set(((intake_app *)ctx)->declarations_waiting, (long)queued);
}

int intake_declarations_start(intake_app *app, hc_err *err)
{
	app->declaration_batches =
	    metrics_counter("hc_declaration_batches_total", "", "group commits of declarations");
	app->declarations_committed =
	    metrics_counter("hc_declarations_committed_total", "",
	                    "declarations stored by the group-committing writer");
	app->declarations_refused = metrics_counter(
	    "hc_declarations_refused_total", "", "declarations refused because the queue was full");
	app->declarations_waiting =
	    metrics_gauge("hc_declarations_waiting", "",
	                  "declarations queued for the writer, not yet in a batch");
	app->declarations.waiting = writer_waiting;
	app->declarations.name = "decl-writer";
	if (batcher_start(&app->declarations, DECLARATION_BATCH_MAX, DECLARATION_QUEUE_MAX,
	                  writer_run, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the declaration writer");
	return 0;
}

void intake_declarations_stop(intake_app *app)
{
	batcher_stop(&app->declarations); /* answers everything queued first */
}

void intake_post_declarations(void *app_, http_req *req)
{
	intake_app *app = app_;
	submission *sub;
	json_t *body = http_req_json(req);
	hc_err err;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	sub = calloc(1, sizeof(*sub));
	if (sub == NULL)
		abort();
	sub->req = req;
	sub->app = app;
	sub->body = body;
	svc_idem_read(req, &sub->idem);
	if (declaration_parse(&sub->d, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		submission_free(sub);
		return;
	}
	hc_uuid_v7(sub->id);
	sub->row = intake_declaration_row(&sub->d, sub->id, http_req_principal(req).client,
	                                  app->cfg.pii_key);
	if (sub->d.employer_application_id != NULL) {
		if (svc_http_tx(&app->svc, req, submission_write, submission_reply, sub) == 0)
			log_info("declaration %s pending in county %s", sub->id,
			         sub->d.county_code);
		submission_free(sub);
		return;
	}
	http_req_defer(req, writer_enqueue, sub);
}
