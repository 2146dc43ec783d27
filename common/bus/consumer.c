/*
 * The one consumer loop of the platform; see bus.h.
 *
 * Offsets are committed automatically from the offset store, and an offset
 * is stored only after the effect of its record has committed (or after the
 * record went to the dead-letter topic), so a crash at any point redelivers
 * the record and processed_events turns the redelivery into a no-op.
 *
 * Records already fetched are applied together: up to CONSUMER_BATCH_MAX of
 * them in one transaction (one commit, one WAL flush, instead of one each),
 * their offsets stored after it commits.  All are recorded in
 * processed_events with one statement (except those of an idempotent route,
 * whose redelivery is applied again to no effect), and a run of records of a route that
 * has a batch handler (bus_route.many) goes to it at once, so a service can
 * apply them in a few statements instead of a few each.  Anything unusual in a batch (a
 * record that does not decode, a handler's failure, a failed commit) rolls
 * the whole batch back and its records are handled again one at a time, each
 * in its own transaction, exactly as a batch of one.
 *
 * Failures are classified as librdkafka's examples teach: a transient one
 * (database down, broker unreachable for the dead-letter write) rolls back,
 * waits with backoff and seeks back to the record; a permanent one
 * dead-letters the record and moves on; a fatal Kafka error stops the loop
 * (except a static member fenced by itself, which re-creates its handle).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/base/hash.h"
#include "common/bus/bus_internal.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"

#define CONSUMER_BATCH_MAX 512
/*
 * Free memory goes back to the system once this many records have been
 * handled since the last time, when the consumer falls idle or, while it
 * stays busy, at most every CONSUMER_TRIM_EVERY_MS.  Trimming after every
 * batch cost a third of a busy consumer's CPU: malloc_trim's madvise flushes
 * the TLB of every core, and the next batch faults the same pages back in.
 */
#define CONSUMER_TRIM_AFTER    64
#define CONSUMER_TRIM_EVERY_MS 2000

typedef struct consumer {
	bus *bus;
	rd_kafka_t *rk;
	db_conn *conn;
	const bus_consumer_config *cfg;
	void *ctx;
	volatile sig_atomic_t *stop;
	metric *processed, *duplicates, *dead, *retries, *skipped, *batches, *runs, *purged;
	int fenced; /* fencings since fenced_since (consumer_refence) */
	time_t fenced_since;
} consumer;

/* FNV-1a of each distinct subscribed topic, combined so that route order does not matter. */
static unsigned subscription_fingerprint(const consumer *c)
{
	unsigned h = 2166136261u;
	size_t i, j;

	for (i = 0; i < c->cfg->nroutes; i++) {
		const char *t = c->cfg->routes[i].topic;

		for (j = 0; j < i && strcmp(c->cfg->routes[j].topic, t) != 0; j++)
			;
		if (j < i)
			continue;   /* listed already */
		h ^= hc_fnv1a32(t); /* xor: the order of routes does not matter */
	}
	return h;
}

static int consumer_open(consumer *c, hc_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_topic_partition_list_t *topics;
	char session[24], errstr[512];
	size_t i;
	int rc = 0;

	snprintf(session, sizeof(session), "%ld", c->cfg->session_timeout_ms);
	rc = bus_conf_set(conf, "bootstrap.servers", c->bus->brokers, err);
	if (rc == 0)
		rc = bus_conf_set(conf, "group.id", c->cfg->group_id, err);
	if (rc == 0)
		rc = bus_conf_set(conf, "client.id", c->bus->client_id, err);
	if (rc == 0 && c->cfg->instance_id != NULL && c->cfg->instance_id[0] != '\0') {
		/*
		 * A static member that rejoins with other topics does not make
		 * the group rebalance, so it would never be given the new
		 * topics' partitions.  The instance id therefore carries a
		 * fingerprint of the subscription: a release that consumes new
		 * topics joins as a new member (the old one expires after the
		 * session timeout).
		 */
		char id[300];

		snprintf(id, sizeof(id), "%.200s-%08x", c->cfg->instance_id,
		         subscription_fingerprint(c));
		rc = bus_conf_set(conf, "group.instance.id", id, err);
	}
	if (rc == 0)
		rc = bus_conf_set(conf, "session.timeout.ms", session, err);
	if (rc == 0)
		rc = bus_conf_set(conf, "enable.auto.offset.store", "false", err);
	if (rc == 0)
		rc = bus_conf_set(conf, "enable.auto.commit", "true", err);
	if (rc == 0)
		rc = bus_conf_set(conf, "auto.commit.interval.ms", "1000", err);
	if (rc == 0)
		rc = bus_conf_set(conf, "auto.offset.reset", "earliest", err);
	if (rc == 0)
		rc = bus_conf_set(conf, "max.poll.interval.ms", "600000", err);
	/*
	 * A service applies at most CONSUMER_BATCH_MAX records at a time: 8 MiB
	 * fetched ahead keeps it busy, where librdkafka's default (64 MiB, plus
	 * fetch buffers) held a backlog's worth of records in memory.  A service
	 * with several consumer threads shares those 8 MiB among them.
	 */
	{
		long kb = c->cfg->prefetch_kbytes > 0 ? c->cfg->prefetch_kbytes : 8192;
		char text[32];

		snprintf(text, sizeof(text), "%ld", kb);
		if (rc == 0)
			rc = bus_conf_set(conf, "queued.max.messages.kbytes", text, err);
		snprintf(text, sizeof(text), "%ld", kb * 1024);
		if (rc == 0)
			rc = bus_conf_set(conf, "fetch.max.bytes", text, err);
	}
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (c->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		return hc_err_set(err, HC_ERR_FATAL, "could not create kafka consumer: %s", errstr);
	}
	conf = NULL; /* owned by rk */
	rd_kafka_poll_set_consumer(c->rk);
	topics = rd_kafka_topic_partition_list_new((int)c->cfg->nroutes);
	for (i = 0; i < c->cfg->nroutes; i++) {
		char full[256];

		bus_topic_full(c->bus, c->cfg->routes[i].topic, full, sizeof(full));
		if (rd_kafka_topic_partition_list_find(topics, full, RD_KAFKA_PARTITION_UA) == NULL)
			rd_kafka_topic_partition_list_add(topics, full, RD_KAFKA_PARTITION_UA);
	}
	{
		rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, topics);

		if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
			rc = hc_err_set(err, HC_ERR_FATAL, "could not subscribe: %s",
			                rd_kafka_err2str(e));
	}
	rd_kafka_topic_partition_list_destroy(topics);
	return rc;
}

/* Marks the record consumed: its offset + 1 is committed with the next auto-commit. */
static void consumer_store(consumer *c, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);

	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
	    m->offset + 1;
	rd_kafka_offsets_store(c->rk, l);
	rd_kafka_topic_partition_list_destroy(l);
}

/* Rewinds the partition to the record, so the next poll delivers it again. */
static void consumer_seek_back(consumer *c, const rd_kafka_message_t *m)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
	rd_kafka_error_t *e;

	rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
	    m->offset;
	e = rd_kafka_seek_partitions(c->rk, l, 5000);
	if (e != NULL) {
		log_warn("could not seek back to %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
		         (int)m->partition, (long long)m->offset, rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

/*
 * Writes the record, unchanged, to <topic>.dlq with headers saying where it
 * came from and why.  Returns 0 once the dead letter is PERSISTED.
 */
static int consumer_dead_letter(consumer *c, const rd_kafka_message_t *m, const char *why,
                                hc_err *err)
{
	rd_kafka_headers_t *orig = NULL, *hdrs;
	bus_delivery d;
	char dlq[300], num[32];

	snprintf(dlq, sizeof(dlq), "%s.dlq", rd_kafka_topic_name(m->rkt));
	if (rd_kafka_message_headers(m, &orig) == RD_KAFKA_RESP_ERR_NO_ERROR)
		hdrs = rd_kafka_headers_copy(orig);
	else
		hdrs = rd_kafka_headers_new(6);
	rd_kafka_header_add(hdrs, "dlq_topic", -1, rd_kafka_topic_name(m->rkt), -1);
	snprintf(num, sizeof(num), "%d", (int)m->partition);
	rd_kafka_header_add(hdrs, "dlq_partition", -1, num, -1);
	snprintf(num, sizeof(num), "%lld", (long long)m->offset);
	rd_kafka_header_add(hdrs, "dlq_offset", -1, num, -1);
	rd_kafka_header_add(hdrs, "dlq_consumer", -1, c->cfg->name, -1);
	rd_kafka_header_add(hdrs, "dlq_error", -1, why, -1);
	if (bus_produce(c->bus, dlq, m->key, m->key_len, m->payload, m->len, hdrs, &d, err) != 0)
		return HC_ERR_TRANSIENT;
	bus_delivery_wait(c->bus, &d, 1, NULL);
	if (!d.persisted)
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not write dead letter to %s: %s",
		                  dlq, d.error);
	metrics_add(c->dead, 1);
	log_warn("dead-lettered %s[%d]@%lld to %s: %s", rd_kafka_topic_name(m->rkt),
	         (int)m->partition, (long long)m->offset, dlq, why);
	return 0;
}

static const bus_route *consumer_route(const consumer *c, const char *topic, const char *type)
{
	size_t i;

	for (i = 0; i < c->cfg->nroutes; i++) {
		char full[256];

		bus_topic_full(c->bus, c->cfg->routes[i].topic, full, sizeof(full));
		if (strcmp(full, topic) == 0 && strcmp(c->cfg->routes[i].type, type) == 0)
			return &c->cfg->routes[i];
	}
	return NULL;
}

/* Decodes m's CloudEvent (its log time from the record) and takes on its trace id. */
static int consumer_decode(const rd_kafka_message_t *m, cloudevent *ev, hc_err *err)
{
	if (cloudevent_decode(ev, m->payload, m->len, err) != 0)
		return HC_ERR_PERMANENT;
	ev->log_ms = (long long)rd_kafka_message_timestamp(m, NULL);
	if (ev->traceparent[0] != '\0') {
		char trace[33];

		traceparent_trace_id(ev->traceparent, trace);
		log_trace_set(trace);
	}
	return 0;
}

/*
 * A copy of an event already processed (a relay published it again): its
 * row in processed_events moves to the copy's position, so that it is kept
 * as long as the log holds the copy (consumer_purge).
 */
static int consumer_moved(consumer *c, const rd_kafka_message_t *m, const char *id, hc_err *err)
{
	char part[16], off[24];
	const char *params[5] = {c->cfg->name, id, rd_kafka_topic_name(m->rkt), part, off};

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	return db_run(c->conn, "bus_processed_moved", 5, params, NULL, err);
}

/*
 * Applies one decoded event in one transaction.  Returns 0 when committed or
 * found to be a duplicate, else the failure kind with err set.
 */
static int consumer_apply(consumer *c, const rd_kafka_message_t *m, const bus_route *route,
                          const cloudevent *ev, hc_err *err)
{
	char part[16], off[24];
	const char *params[5] = {c->cfg->name, ev->id, rd_kafka_topic_name(m->rkt), part, off};
	db_res *res = NULL;
	int rc;

	snprintf(part, sizeof(part), "%d", (int)m->partition);
	snprintf(off, sizeof(off), "%lld", (long long)m->offset);
	rc = db_ensure(c->conn, err);
	if (rc != 0)
		return rc;
	rc = db_tx_begin(c->conn, err);
	if (rc != 0)
		return rc;
	/* an idempotent route's event is not recorded: applied again to no effect if redelivered */
	if (!route->idempotent) {
		rc = db_run(c->conn, "bus_processed_insert", 5, params, &res, err);
		if (rc != 0)
			goto fail;
		if (db_res_affected(res) == 0) {
			db_res_free(res);
			db_tx_rollback(c->conn);
			metrics_add(c->duplicates, 1);
			log_debug("event %s already processed by %s", ev->id, c->cfg->name);
			return consumer_moved(c, m, ev->id, err);
		}
		db_res_free(res);
	}
	rc = route->fn(c->ctx, c->conn, ev, err);
	if (rc != 0)
		goto fail;
	rc = db_tx_commit(c->conn, err);
	if (rc != 0)
		goto fail;
	metrics_add(c->processed, 1);
	return 0;
fail:
	db_tx_rollback(c->conn);
	return rc;
}

/*
 * Handles one record to the end.  Returns 0, HC_ERR_TRANSIENT to retry it,
 * or HC_ERR_FATAL when the consumer must stop (the record stays unconsumed).
 */
static int consumer_handle(consumer *c, const rd_kafka_message_t *m)
{
	const bus_route *route;
	cloudevent ev;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (consumer_decode(m, &ev, &err) != 0) {
		rc = consumer_dead_letter(c, m, err.msg, &err);
		goto done;
	}
	route = consumer_route(c, rd_kafka_topic_name(m->rkt), ev.type);
	if (route == NULL) {
		/* A type this consumer does not handle (yet): forward compatible. */
		metrics_add(c->skipped, 1);
		cloudevent_cleanup(&ev);
		rc = 0;
		goto done;
	}
	rc = route->wants != NULL ? route->wants(&ev, &err) : 1;
	if (rc == 0)
		metrics_add(c->skipped, 1);
	else if (rc == 1)
		rc = consumer_apply(c, m, route, &ev, &err);
	cloudevent_cleanup(&ev);
	if (rc == HC_ERR_FATAL) {
		/* Our bug, not the record's: keep it (offset not stored) and stop. */
		log_error("could not apply %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
		          (int)m->partition, (long long)m->offset, err.msg);
		log_trace_set(NULL);
		return HC_ERR_FATAL;
	}
	if (rc != 0 && rc != HC_ERR_TRANSIENT) {
		char why[400];

		snprintf(why, sizeof(why), "%s%s%s", err.msg, err.field[0] ? "; field " : "",
		         err.field);
		rc = consumer_dead_letter(c, m, why, &err);
	}
done:
	if (rc == 0)
		consumer_store(c, m);
	else
		log_warn("will retry %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt),
		         (int)m->partition, (long long)m->offset, err.msg);
	log_trace_set(NULL);
	return rc;
}

/* Rewinds every partition of b[from..n) to its first record there. */
static void consumer_seek_back_from(consumer *c, rd_kafka_message_t **b, size_t from, size_t n)
{
	size_t i, j;

	for (i = from; i < n; i++) {
		for (j = from; j < i; j++)
			if (b[j]->rkt == b[i]->rkt && b[j]->partition == b[i]->partition)
				break;
		if (j == i)
			consumer_seek_back(c, b[i]);
	}
}

/*
 * Whether m's key is not in keys yet (then it is added): a run given to a
 * batch handler holds each key (person) once, so the handler can read and
 * write all of them in a few statements.  A record without a key counts as
 * new.
 */
static int consumer_key_first(json_t *keys, const rd_kafka_message_t *m)
{
	char k[160];

	if (m->key == NULL || m->key_len == 0 || m->key_len >= sizeof(k) ||
	    memchr(m->key, '\0', m->key_len) != NULL)
		return 1;
	memcpy(k, m->key, m->key_len);
	k[m->key_len] = '\0';
	if (json_object_get(keys, k) != NULL)
		return 0;
	json_object_set_new_nocheck(keys, k, json_true());
	return 1;
}

/*
 * Applies b[0..n) in one transaction and stores their offsets: every record
 * is decoded first, the wanted ones are recorded in processed_events with
 * one statement, and the handlers run, in order, for those it recorded (the
 * others are duplicates).  Returns 0, or -1 with everything rolled back and
 * nothing stored, for the records to be handled one at a time.
 */
static int consumer_apply_batch(consumer *c, rd_kafka_message_t **b, size_t n)
{
	long applied = 0, duplicates = 0, skipped = 0, in_runs = 0;
	cloudevent *evs = calloc(n, sizeof(*evs)), *run = calloc(n, sizeof(*run));
	const bus_route **routes = calloc(n, sizeof(*routes));
	json_t *rows = json_array(), *fresh = NULL, *keys = json_object();
	size_t decoded = 0, i;
	char *text = NULL;
	db_res *res = NULL;
	hc_err err;
	int rc = 0;

	if (evs == NULL || run == NULL || routes == NULL || rows == NULL || keys == NULL)
		abort();
	hc_err_clear(&err);
	for (i = 0; i < n && rc == 0; i++, decoded++) {
		const rd_kafka_message_t *m = b[i];
		int wanted;

		if (consumer_decode(m, &evs[i], &err) != 0) {
			rc = -1; /* a dead letter: the single path writes it */
			break;
		}
		routes[i] = consumer_route(c, rd_kafka_topic_name(m->rkt), evs[i].type);
		wanted = routes[i] == NULL          ? 0
		         : routes[i]->wants != NULL ? routes[i]->wants(&evs[i], &err)
		                                    : 1;
		if (wanted != 0 && wanted != 1)
			rc = -1;
		else if (wanted == 0)
			routes[i] = NULL;
		else if (!routes[i]->idempotent)
			json_array_append_new(
			    rows, json_pack("{s:s, s:s, s:i, s:I}", "id", evs[i].id, "topic",
			                    rd_kafka_topic_name(m->rkt), "partition",
			                    (int)m->partition, "offset", (json_int_t)m->offset));
	}
	log_trace_set(NULL);
	if (rc == 0 && (db_ensure(c->conn, &err) != 0 || db_tx_begin(c->conn, &err) != 0)) {
		rc = -1; /* nothing begun: one at a time, where a transient failure is retried */
		goto out;
	}
	if (rc == 0 && json_array_size(rows) > 0) {
		const char *params[2] = {c->cfg->name, NULL};

		text = json_dumps(rows, JSON_COMPACT);
		if (text == NULL)
			abort();
		params[1] = text;
		rc = db_run(c->conn, "bus_processed_insert_many", 2, params, &res, &err);
		fresh = rc == 0 ? json_object() : NULL;
		for (int r = 0; rc == 0 && r < db_res_rows(res); r++)
			json_object_set_new(fresh, db_res_get(res, r, 0), json_true());
	}
	/* which records to apply: recorded now, and only once (a repeat in the batch is one too) */
	for (i = 0; rc == 0 && i < n; i++) {
		if (routes[i] == NULL) {
			skipped++;
		} else if (routes[i]->idempotent) {
			continue; /* not recorded: applied (again) to no effect */
		} else if (json_object_get(fresh, evs[i].id) == NULL) {
			duplicates++;
			routes[i] = NULL;
			rc = consumer_moved(c, b[i], evs[i].id, &err);
		} else {
			json_object_del(fresh, evs[i].id);
		}
	}
	/*
	 * applied in order; a run of the same route's records at once where it
	 * can, cut before a record whose key (the person) is in the run already
	 */
	for (i = 0; rc == 0 && i < n;) {
		size_t len = 0, j;

		if (routes[i] == NULL) {
			i++;
			continue;
		}
		json_object_clear(keys);
		for (j = i; j < n && routes[i]->many != NULL; j++) {
			if (routes[j] == NULL)
				continue;
			if (routes[j] != routes[i] || !consumer_key_first(keys, b[j]))
				break;
			run[len++] = evs[j];
		}
		if (len >= 2) {
			rc = routes[i]->many(c->ctx, c->conn, run, len, &err);
			applied += (long)len;
			in_runs += (long)len;
			i = j;
			continue;
		}
		if (evs[i].traceparent[0] != '\0') {
			char trace[33];

			traceparent_trace_id(evs[i].traceparent, trace);
			log_trace_set(trace);
		}
		rc = routes[i]->fn(c->ctx, c->conn, &evs[i], &err);
		log_trace_set(NULL);
		applied++;
		i++;
	}
	if (rc == 0 && db_tx_commit(c->conn, &err) == 0) {
		for (i = 0; i < n; i++)
			consumer_store(c, b[i]);
		metrics_add(c->processed, applied);
		metrics_add(c->duplicates, duplicates);
		metrics_add(c->skipped, skipped);
		metrics_add(c->batches, 1);
		metrics_add(c->runs, in_runs);
	} else {
		rc = -1;
		db_tx_rollback(c->conn);
	}
out:
	if (rc != 0)
		log_debug("consumer %s: a batch of %zu records goes one by one (%s)", c->cfg->name,
		          n, err.msg);
	for (i = 0; i < decoded; i++)
		cloudevent_cleanup(&evs[i]);
	db_res_free(res);
	free(text);
	json_decref(fresh);
	json_decref(rows);
	json_decref(keys);
	free(routes);
	free(run);
	free(evs);
	return rc != 0 ? -1 : 0;
}

/*
 * Handles b[0..n): as one batch when it can, else one record at a time.
 * Returns 0; HC_ERR_TRANSIENT when a record must be retried (its partition,
 * and every other partition with records left, rewound to them); or
 * HC_ERR_FATAL.
 */
static int consumer_handle_all(consumer *c, rd_kafka_message_t **b, size_t n)
{
	size_t i;

	if (n > 1 && consumer_apply_batch(c, b, n) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		int rc = consumer_handle(c, b[i]);

		if (rc == HC_ERR_FATAL)
			return rc;
		if (rc != 0) {
			consumer_seek_back_from(c, b, i, n);
			return HC_ERR_TRANSIENT;
		}
	}
	return 0;
}

/*
 * A static member fenced by its own instance id: after a broker restart the
 * coordinator may give the rejoining member a new member id while a commit
 * under the old one is in flight, which librdkafka reports as fatal.  The
 * remedy is a new handle under the same instance id; stored offsets not yet
 * committed are redelivered, and processed_events makes them no-ops.  More
 * than 5 fencings in 10 minutes means another live process has this
 * instance id: then the consumer stops.
 */
static int consumer_refence(consumer *c, const char *why, hc_err *err)
{
	time_t now = time(NULL);
	int rc;

	if (now - c->fenced_since > 600) {
		c->fenced_since = now;
		c->fenced = 0;
	}
	if (++c->fenced > 5)
		return hc_err_set(err, HC_ERR_FATAL, "fenced %d times in 10 minutes: %s", c->fenced,
		                  why);
	log_warn("consumer %s fenced (%s); re-creating it as the same static member", c->cfg->name,
	         why);
	rd_kafka_destroy(c->rk);
	c->rk = NULL;
	for (int slept = 0; slept < 1000 && !*c->stop; slept += 50)
		usleep(50 * 1000);
	rc = consumer_open(c, err);
	if (rc != 0 && c->rk != NULL) {
		rd_kafka_destroy(c->rk);
		c->rk = NULL;
	}
	return rc;
}

/*
 * An error event of the poll (m, destroyed here): a fatal error stops the
 * consumer (HC_ERR_FATAL, err set) unless it is a static member fenced by
 * itself, which gets a new handle; anything else is logged.  Returns 0 or
 * HC_ERR_FATAL.
 */
static int consumer_on_error(consumer *c, rd_kafka_message_t *m, hc_err *err)
{
	if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[256];
		rd_kafka_resp_err_t why = rd_kafka_fatal_error(c->rk, buf, sizeof(buf));

		rd_kafka_message_destroy(m);
		if (why == RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID &&
		    consumer_refence(c, buf, err) == 0)
			return 0; /* a new handle, the same static member */
		return hc_err_set(err, HC_ERR_FATAL, "kafka consumer fatal error: %s", buf);
	}
	if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
		log_warn("kafka consumer: %s", rd_kafka_message_errstr(m));
	rd_kafka_message_destroy(m);
	return 0;
}

static long consumer_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Gives free memory back when enough was handled and the consumer is idle or trimmed long ago. */
static void consumer_trim(size_t *since, long *last, size_t handled)
{
	long now;

	*since += handled;
	if (*since < CONSUMER_TRIM_AFTER)
		return;
	now = consumer_now_ms();
	if (handled > 0 && now - *last < CONSUMER_TRIM_EVERY_MS)
		return;
	malloc_trim(0);
	*since = 0;
	*last = now;
}

/* Whether the cluster's metadata md holds the partition. */
static int purge_partition_known(const struct rd_kafka_metadata *md, const char *topic, int part)
{
	int t;

	for (t = 0; t < md->topic_cnt; t++)
		if (strcmp(md->topics[t].topic, topic) == 0)
			return md->topics[t].err == RD_KAFKA_RESP_ERR_NO_ERROR && part >= 0 &&
			       part < md->topics[t].partition_cnt;
	return 0;
}

/*
 * processed_events keeps a row as long as a record of its event may be read
 * again: rows of records before their partition's log start (deleted by
 * retention) go, for every topic and partition the schema's table has rows
 * of, whichever consumer name wrote them: no consumer can read such a record
 * again, so the rows of a name retired with an earlier release go too, and
 * those of a topic no consumer of this release reads (its records still
 * leave the log as they age).  A topic or partition the broker does not know
 * keeps its rows (a broker that forgot a topic, or the wrong one, is no
 * proof that its records are gone).  A rewind (offsets lost, a group reset
 * to the earliest) can reach only records the log still holds, and each of
 * those keeps its row (a later copy of an event moved the row to itself).
 * Returns 0 or an error kind (the next purge tries again).
 */
static int consumer_purge(consumer *c, hc_err *err)
{
	const struct rd_kafka_metadata *md = NULL;
	db_res *pos = NULL;
	long purged = 0;
	int i, n_pos, rc;

	/* one look at every topic: a partition it lacks is not asked for (that waits out a
	 * timeout, holding the consumer's loop) */
	if (rd_kafka_metadata(c->rk, 1, NULL, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0; /* the broker is not answering: the next purge */
	rc = db_run(c->conn, "bus_processed_positions", 0, NULL, &pos, err);
	n_pos = rc == 0 ? db_res_rows(pos) : 0;
	for (i = 0; rc == 0 && i < n_pos && !*c->stop; i++) {
		const char *topic = db_res_get(pos, i, 0), *part = db_res_get(pos, i, 1);
		int64_t low = 0, high = 0;
		char before[24];
		const char *params[3] = {topic, part, before};
		db_res *res = NULL;
		long n;

		if (!purge_partition_known(md, topic, atoi(part)))
			continue; /* its rows stay */
		if (rd_kafka_query_watermark_offsets(c->rk, topic, (int32_t)atoi(part), &low, &high,
		                                     5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
			break; /* the broker is not answering: the next purge */
		if (low <= 0)
			continue;
		snprintf(before, sizeof(before), "%lld", (long long)low);
		do {
			rc = db_run(c->conn, "bus_processed_purge", 3, params, &res, err);
			n = rc == 0 ? db_res_affected(res) : 0;
			purged += n;
			db_res_free(res);
			res = NULL;
		} while (rc == 0 && n == 10000 && !*c->stop);
	}
	db_res_free(pos);
	rd_kafka_metadata_destroy(md);
	metrics_add(c->purged, purged);
	if (purged > 0)
		log_info("consumer %s: %ld processed events of records no longer in the log purged",
		         c->cfg->name, purged);
	return rc;
}

int bus_consumer_run(bus *b, db_conn *conn, const bus_consumer_config *cfg, void *ctx,
                     volatile sig_atomic_t *stop, hc_err *err)
{
	consumer c = {.bus = b, .conn = conn, .cfg = cfg, .ctx = ctx, .stop = stop};
	hc_err_clear(err);
	char labels[96];
	long backoff = 100, trimmed_at = consumer_now_ms(), purged_at = consumer_now_ms();
	size_t since_trim = 0;
	int rc;

	snprintf(labels, sizeof(labels), "consumer=\"%s\"", cfg->name);
	c.processed =
	    metrics_counter("hc_consumer_processed_total", labels, "Events applied and committed");
	c.duplicates = metrics_counter("hc_consumer_duplicates_total", labels,
	                               "Redelivered events skipped by processed_events");
	c.dead = metrics_counter("hc_consumer_dead_letters_total", labels,
	                         "Records sent to a .dlq topic");
	c.retries =
	    metrics_counter("hc_consumer_retries_total", labels, "Transient failures retried");
	c.skipped = metrics_counter("hc_consumer_skipped_total", labels,
	                            "Events of types not handled, or not wanted (no effect)");
	c.batches = metrics_counter("hc_consumer_batches_total", labels,
	                            "Batches of records applied in one transaction");
	c.runs = metrics_counter("hc_consumer_run_records_total", labels,
	                         "Records applied several at once by their route's batch handler");
	c.purged = metrics_counter("hc_consumer_processed_purged_total", labels,
	                           "processed_events rows purged: their records left the log");
	rc = consumer_open(&c, err);
	if (rc != 0) {
		if (c.rk != NULL)
			rd_kafka_destroy(c.rk);
		return rc;
	}
	log_info("consumer %s running in group %s", cfg->name, cfg->group_id);
	while (!*stop) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(c.rk, 200),
		                   *batch[CONSUMER_BATCH_MAX];
		size_t n = 0, i;

		/* a record, with whatever else is fetched already, up to a batch */
		while (m != NULL && m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			batch[n++] = m;
			m = n < CONSUMER_BATCH_MAX ? rd_kafka_consumer_poll(c.rk, 0) : NULL;
		}
		rc = n > 0 ? consumer_handle_all(&c, batch, n) : 0;
		for (i = 0; i < n; i++)
			rd_kafka_message_destroy(batch[i]);
		consumer_trim(&since_trim, &trimmed_at, n);
		if (cfg->purge_every_s > 0 && n < CONSUMER_BATCH_MAX &&
		    consumer_now_ms() - purged_at >= cfg->purge_every_s * 1000) {
			hc_err perr;

			hc_err_clear(&perr);
			if (consumer_purge(&c, &perr) != 0)
				log_warn("consumer %s: processed events not purged: %s", cfg->name,
				         perr.msg);
			purged_at = consumer_now_ms();
		}
		if (m != NULL && consumer_on_error(&c, m, err) == HC_ERR_FATAL)
			rc = HC_ERR_FATAL; /* an error event ended the batch */
		if (rc == HC_ERR_FATAL) {
			if (err->kind == 0)
				hc_err_set(err, HC_ERR_FATAL,
				           "consumer %s stopped on a fatal error", cfg->name);
			break;
		}
		if (rc != 0) {
			rc = 0;
			metrics_add(c.retries, 1);
			for (long slept = 0; slept < backoff && !*stop; slept += 50)
				usleep(50 * 1000);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
			continue;
		}
		if (n > 0)
			backoff = 100;
	}
	if (c.rk != NULL) {
		rd_kafka_consumer_close(c.rk);
		rd_kafka_destroy(c.rk);
	}
	log_info("consumer %s stopped", cfg->name);
	return rc;
}
