/*
 * The re-assessment workers: a record that touches more people than
 * HC_REASSESS_SYNC_MAX (a county turning high-risk) queues them in the
 * record's transaction (import.c); these threads re-assess the queue a
 * chunk of MATCHING_ASSESS_CHUNK at a time.  A chunk is taken with DELETE
 * ... FOR UPDATE SKIP LOCKED, assessed (matching_assess_each: people locked
 * in key order, inputs read and assessments written a chunk per statement)
 * and committed in one transaction: a crash or a failure rolls the chunk
 * back into the queue, and a committed chunk is gone, so each queued person
 * is re-assessed exactly once.  Each chunk's assessments are published as it
 * commits, so codegen works on the first chunks while later ones are
 * assessed.  A person queued twice (two imports) is assessed once per
 * chunk holding them; an assessment that changes nothing publishes nothing.
 * hc_matching_reassess_wait_seconds observes, for each committed chunk, how
 * long its longest-waiting person had been queued: the queue's age, for an
 * alert when re-assessment falls behind.
 *
 * The workers also bring rule versions into force (reassess_rules): once a
 * second one of them looks for versions whose valid_from has come and that were not
 * applied yet, marks them applied and queues the people they may concern
 * (trigger kind "rule"), so a published version recolours everyone it
 * changes, not only those assessed again for another reason.  In the same
 * look, before, it announces the versions published since the last
 * (reassess_announce: hc.matching.rule.published.v1 on hc.matching.rule.v1,
 * keyed by rule id, each version once, in order).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/event/catalog.h"
#include "common/event/cloudevent.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"
#include "services/matching/app.h"

struct matching_reassessor {
	matching_app *app;
	pthread_t threads[MATCHING_REASSESS_WORKERS_MAX];
	int started;
	atomic_int stop;
	metric *people, *chunks, *wait, *rules;
	long rules_looked; /* when rule versions were last looked for (svc_due) */
};

static int reassess_listen(matching_reassessor *r, db_conn **conn, hc_err *err)
{
	svc *s = &r->app->svc;
	int rc = db_connect(conn, s->cfg.database_url, s->cfg.db_schema, s->tables, err);

	if (rc == 0) {
		db_set_background(*conn, SVC_BACKGROUND_NICE);
		rc = db_listen_schema(*conn, "hc_reassess_", err);
	}
	return rc;
}

/* Takes and re-assesses one chunk of the queue in one transaction; *taken: people taken. */
static int reassess_chunk(matching_reassessor *r, db_conn *conn, int *taken, hc_err *err)
{
	char limit_text[24];
	const char *limit[1] = {limit_text};
	matching_trigger *ts = NULL;
	const matching_trigger **tp = NULL;
	json_t *people = json_array();
	db_res *res = NULL;
	long published = 0;
	double waited = 0;
	int rc, n = 0, i;

	if (people == NULL)
		abort();
	*taken = 0;
	snprintf(limit_text, sizeof(limit_text), "%d", MATCHING_ASSESS_CHUNK);
	rc = db_tx_begin(conn, err);
	/*
	 * The take is planned by the queue's primary key whatever its statistics:
	 * planned from those of an empty queue, it sorted the whole queue for
	 * every chunk (0.2 s a chunk at 100,000 people).  Only the take: with
	 * sequential scans off for the whole chunk, the rules' read (a small
	 * table no index serves) was costed past jit_above_cost and spent
	 * 0.19 s a call compiling.
	 */
	if (rc == 0)
		rc = db_exec(conn, "SET LOCAL enable_seqscan = off", err);
	if (rc == 0)
		rc = db_run(conn, "matching_reassess_take", 1, limit, &res, err);
	if (rc == 0)
		rc = db_exec(conn, "SET LOCAL enable_seqscan = on", err);
	if (rc == 0 && (n = db_res_rows(res)) > 0) {
		ts = calloc((size_t)n, sizeof(*ts));
		tp = calloc((size_t)n, sizeof(*tp));
		if (ts == NULL || tp == NULL)
			abort();
		waited = strtod(db_res_get(res, 0, 4), NULL); /* the chunk's longest wait */
		for (i = 0; i < n; i++) {
			json_array_append_new(people, json_string(db_res_get(res, i, 0)));
			ts[i] = (matching_trigger){
			    db_res_get(res, i, 1), db_res_get(res, i, 2), "matching", "rules", 0,
			    db_res_get(res, i, 3)};
			tp[i] = &ts[i];
		}
		rc = matching_assess_each(conn, people, tp, &published, err);
	}
	if (rc == 0)
		rc = db_tx_commit(conn, err);
	else
		db_tx_rollback(conn);
	if (rc == 0 && n > 0) {
		*taken = n;
		metrics_add(r->people, n);
		metrics_add(r->chunks, 1);
		metrics_observe(r->wait, waited);
		log_info("re-assessed %d queued people (%ld assessments)", n, published);
	}
	free(ts);
	free(tp);
	db_res_free(res);
	json_decref(people);
	return rc;
}

/*
 * Applies the rule versions come into force since the last look (one worker
 * a second, svc_due): queues the people they may concern, in one statement
 * and its own transaction (the queue's trigger wakes the workers).
 */
static int reassess_announce(db_conn *conn, hc_err *err)
{
	char traceparent[TRACEPARENT_LEN + 1], subject[96];
	db_res *res = NULL;
	int rc, i, n = 0;

	traceparent_new(traceparent);
	rc = db_tx_begin(conn, err);
	if (rc == 0 && (rc = db_run(conn, "matching_rules_announce", 0, NULL, &res, err)) == 0)
		n = db_res_rows(res);
	for (i = 0; rc == 0 && i < n; i++) {
		json_t *data = json_loads(db_res_get(res, i, 2), 0, NULL);

		if (data == NULL)
			abort(); /* the database's own JSON */
		snprintf(subject, sizeof(subject), "%s:%s", db_res_get(res, i, 0),
		         db_res_get(res, i, 1));
		rc = bus_outbox_emit(conn, TOPIC_RULE, db_res_get(res, i, 0), NULL,
		                     TYPE_RULE_PUBLISHED, MATCHING_EVENT_SOURCE, subject, data,
		                     traceparent, err);
	}
	if (rc == 0)
		rc = db_tx_commit(conn, err);
	else
		db_tx_rollback(conn);
	if (rc == 0 && n > 0)
		log_info("%d rule versions announced on %s", n, TOPIC_RULE);
	db_res_free(res);
	return rc;
}

static int reassess_rules(matching_reassessor *r, db_conn *conn, hc_err *err)
{
	char traceparent[TRACEPARENT_LEN + 1];
	const char *params[1] = {traceparent};
	db_res *res = NULL;
	int rc;

	if (!svc_due(&r->rules_looked, 1))
		return 0;
	rc = reassess_announce(conn, err);
	if (rc != 0)
		return rc;
	traceparent_new(traceparent);
	rc = db_run(conn, "matching_rules_apply", 1, params, &res, err);
	if (rc == 0 && db_res_get(res, 0, 0) != NULL) {
		metrics_add(r->rules, 1);
		log_info("rule versions %s in force: %s people queued for re-assessment",
		         db_res_get(res, 0, 0), db_res_get(res, 0, 1));
	}
	db_res_free(res);
	return rc;
}

static void reassess_sleep(matching_reassessor *r, long ms)
{
	for (long slept = 0; slept < ms && !atomic_load(&r->stop); slept += 50)
		usleep(50 * 1000);
}

static void *reassess_main(void *arg)
{
	matching_reassessor *r = arg;
	db_conn *conn = NULL;
	long backoff = 100;
	hc_err err;

	svc_background_thread();
	while (!atomic_load(&r->stop)) {
		int taken = 0, rc;

		hc_err_clear(&err);
		rc = conn == NULL ? reassess_listen(r, &conn, &err) : 0;
		if (rc == 0)
			rc = reassess_rules(r, conn, &err);
		if (rc == 0)
			rc = reassess_chunk(r, conn, &taken, &err);
		if (rc == 0)
			backoff = 100;
		if (rc == 0 && taken > 0)
			continue; /* more may wait */
		if (rc == 0 && db_wait_notify(conn, 1000, &err) >= 0)
			continue;
		/* a failure (a deadlock, the database gone): the chunk is back in the queue */
		log_warn("re-assessment worker: %s", err.msg);
		db_close(conn);
		conn = NULL;
		reassess_sleep(r, backoff);
		backoff = backoff < 5000 ? backoff * 2 : 5000;
	}
	db_close(conn);
	return NULL;
}

int matching_reassessor_start(matching_app *app, hc_err *err)
{
	matching_reassessor *r = calloc(1, sizeof(*r));
	int i;

	if (r == NULL)
		abort();
	r->app = app;
	atomic_init(&r->stop, 0);
	r->people = metrics_counter("hc_matching_reassessed_queued_total", "",
	                            "Queued people re-assessed by the re-assessment workers");
	r->chunks = metrics_counter("hc_matching_reassess_chunks_total", "",
	                            "Chunks of the re-assessment queue committed");
	r->wait = metrics_histogram("hc_matching_reassess_wait_seconds", "",
	                            "How long the longest-waiting person of each committed chunk "
	                            "had been queued");
	r->rules =
	    metrics_counter("hc_matching_rule_versions_applied_total", "",
	                    "Times rule versions came into force and their people were queued");
	app->reassessor = r;
	for (i = 0; i < app->cfg.reassess_workers && i < MATCHING_REASSESS_WORKERS_MAX; i++) {
		if (pthread_create(&r->threads[i], NULL, reassess_main, r) != 0)
			return hc_err_set(err, HC_ERR_FATAL,
			                  "could not start the re-assessment workers");
		pthread_setname_np(r->threads[i], "reassess");
		r->started++;
	}
	log_info("%d re-assessment workers", r->started);
	return 0;
}

void matching_reassessor_stop(matching_app *app)
{
	matching_reassessor *r = app->reassessor;
	int i;

	if (r == NULL)
		return;
	atomic_store(&r->stop, 1);
	for (i = 0; i < r->started; i++)
		pthread_join(r->threads[i], NULL); /* a chunk in progress commits first */
	free(r);
	app->reassessor = NULL;
}
