/*
 * The transactional outbox and its relay; see bus.h.
 *
 * The relay owns one database connection.  It takes a session advisory lock
 * so that only one relay per schema publishes (more than one would break
 * per-key order), LISTENs for the outbox trigger's NOTIFY, and publishes the
 * oldest rows in batches.  A row is deleted only when its delivery report
 * says PERSISTED (every row still in the outbox is unpublished); any failure
 * sends the relay back to the oldest row left, so the log may hold a
 * duplicate (same event id) but never a gap.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "common/base/jsonw.h"
#include "common/bus/bus_internal.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"

#define RELAY_BATCH 500

const db_stmt bus_statements[] = {
    {"bus_outbox_insert",
     "INSERT INTO outbox (event_id, topic, key, ce_type, payload, headers)"
     " VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
     6},
    /* a bus_outbox_batch, one text[] per column (db_run_text_arrays), in its order */
    {"bus_outbox_insert_many",
     "INSERT INTO outbox (event_id, topic, key, ce_type, payload, headers)"
     " SELECT r.e, r.t, r.k, r.c, r.p, r.h::jsonb FROM unnest($1::text[], $2::text[],"
     " $3::text[], $4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS r(e, t, k, c, p, h, n)"
     " ORDER BY r.n",
     6},
    /* every row in the outbox is unpublished: the relay deletes what Kafka persisted */
    {"bus_outbox_pending",
     "SELECT id, topic, key, payload, headers::text FROM outbox ORDER BY id LIMIT $1", 1},
    {"bus_outbox_done", "DELETE FROM outbox WHERE id = ANY($1::bigint[])", 1},
    {"bus_relay_lock", "SELECT pg_try_advisory_lock(hashtext(current_schema() || ':relay'))", 0},
    /* $2: [{id, topic, partition, offset}]; the ids recorded now come back */
    {"bus_processed_insert_many",
     "INSERT INTO processed_events (consumer, event_id, topic, partition, \"offset\")"
     " SELECT $1, r.id, r.topic, r.partition, r.\"offset\" FROM jsonb_to_recordset($2::jsonb)"
     " AS r(id text, topic text, partition integer, \"offset\" bigint)"
     " ON CONFLICT DO NOTHING RETURNING event_id",
     2},
    /* a later copy of an event (a relay's retry) moves the event's row to the copy */
    {"bus_processed_moved",
     "UPDATE processed_events SET partition = $4::integer, \"offset\" = $5::bigint"
     " WHERE consumer = $1 AND event_id = $2 AND topic = $3"
     " AND NOT (partition = $4::integer AND \"offset\" >= $5::bigint)",
     5},
    /* rows of records the log no longer holds (before the partition's start), whichever
     * consumer wrote them, a chunk at a time */
    {"bus_processed_purge",
     "DELETE FROM processed_events WHERE ctid = ANY(ARRAY(SELECT ctid FROM processed_events"
     " WHERE topic = $1 AND partition = $2::integer AND \"offset\" < $3::bigint LIMIT 10000))",
     3},
    /* every (topic, partition) with rows, one index probe each (a loose scan of the
     * log-position index) */
    {"bus_processed_positions",
     "WITH RECURSIVE tp AS ((SELECT topic, partition FROM processed_events"
     " ORDER BY topic, partition LIMIT 1) UNION ALL SELECT n.topic, n.partition FROM tp,"
     " LATERAL (SELECT p.topic, p.partition FROM processed_events p"
     " WHERE (p.topic, p.partition) > (tp.topic, tp.partition)"
     " ORDER BY p.topic, p.partition LIMIT 1) n) SELECT topic, partition FROM tp",
     0},
    {"bus_processed_insert",
     "INSERT INTO processed_events (consumer, event_id, topic, partition, \"offset\")"
     " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
     5},
    {NULL, NULL, 0},
};

/* The Kafka headers of ev's record, as the outbox row stores them: JSON text (free() it). */
static char *outbox_headers(const cloudevent *ev, const char *county, size_t *len)
{
	jsonw w = {0};

	jsonw_begin(&w);
	jsonw_string(&w, "content-type", CLOUDEVENT_CONTENT_TYPE);
	jsonw_string(&w, "ce_specversion", "1.0");
	jsonw_string(&w, "ce_id", ev->id);
	jsonw_string(&w, "ce_type", ev->type);
	jsonw_string(&w, "ce_source", ev->source);
	jsonw_string(&w, "ce_time", ev->time);
	if (ev->traceparent[0] != '\0')
		jsonw_string(&w, "traceparent", ev->traceparent);
	if (county != NULL)
		jsonw_string(&w, "county", county);
	return jsonw_end(&w, len);
}

int bus_outbox_add(db_conn *tx, const char *topic, const char *key, const cloudevent *ev,
                   const char *county, hc_err *err)
{
	char *payload = cloudevent_encode(ev);
	char *headers = outbox_headers(ev, county, NULL);
	int rc;

	{
		const char *params[6] = {ev->id, topic, key, ev->type, payload, headers};

		rc = db_run(tx, "bus_outbox_insert", 6, params, NULL, err);
	}
	free(payload);
	free(headers);
	return rc;
}

struct bus_relay {
	bus *bus;
	char *db_url;
	char *schema;
	long start_delay_ms;
	pthread_t thread;
	atomic_int stop;
	metric *published;
	metric *failed;
	metric *batches;
};

/* Sleeps up to ms, waking early when the relay is told to stop. */
static void relay_sleep(bus_relay *relay, long ms)
{
	while (ms > 0 && !atomic_load(&relay->stop)) {
		long step = ms < 100 ? ms : 100;

		usleep((useconds_t)step * 1000);
		ms -= step;
	}
}

static rd_kafka_headers_t *relay_headers(const char *text)
{
	rd_kafka_headers_t *hdrs = rd_kafka_headers_new(8);
	json_t *h = json_loads(text, 0, NULL);
	const char *name;
	json_t *v;

	json_object_foreach (h, name, v) {
		if (json_is_string(v))
			rd_kafka_header_add(hdrs, name, -1, json_string_value(v), -1);
	}
	json_decref(h);
	return hdrs;
}

/*
 * Publishes one batch of unpublished rows.  Returns the number of rows
 * published, or a negative error kind (the connection is then suspect).
 */
static int relay_batch(bus_relay *relay, db_conn *conn, hc_err *err)
{
	static const char *const limit[1] = {"500"};
	bus_delivery *d = NULL;
	db_res *res = NULL;
	char *ids = NULL;
	size_t cap, len = 0;
	int i, n, ok = 0, rc;

	rc = db_run(conn, "bus_outbox_pending", 1, limit, &res, err);
	if (rc != 0)
		return rc;
	n = db_res_rows(res);
	if (n == 0)
		goto out;
	d = calloc((size_t)n, sizeof(*d));
	cap = (size_t)n * 21 + 3;
	ids = malloc(cap);
	if (d == NULL || ids == NULL)
		abort();
	for (i = 0; i < n; i++) {
		char topic[256];
		const char *key = db_res_get(res, i, 2);
		const char *payload = db_res_get(res, i, 3);

		bus_topic_full(relay->bus, db_res_get(res, i, 1), topic, sizeof(topic));
		if (bus_produce(relay->bus, topic, key, strlen(key), payload, strlen(payload),
		                relay_headers(db_res_get(res, i, 4)), &d[i], err) != 0) {
			/* Refused outright: mark it done so the wait below skips it. */
			snprintf(d[i].error, sizeof(d[i].error), "%.150s", err->msg);
			atomic_store(&d[i].done, 1);
		}
	}
	bus_delivery_wait(relay->bus, d, (size_t)n, &relay->stop);
	ids[len++] = '{';
	for (i = 0; i < n; i++) {
		if (!d[i].persisted) {
			log_warn("could not publish outbox row %s: %s", db_res_get(res, i, 0),
			         d[i].error);
			continue;
		}
		len += (size_t)snprintf(ids + len, cap - len, "%s%s", ok ? "," : "",
		                        db_res_get(res, i, 0));
		ok++;
	}
	ids[len++] = '}';
	ids[len] = '\0';
	if (ok > 0) {
		const char *params[1] = {ids};

		rc = db_run(conn, "bus_outbox_done", 1, params, NULL, err);
		if (rc != 0)
			goto out;
	}
	metrics_add(relay->published, ok);
	metrics_add(relay->failed, n - ok);
	metrics_add(relay->batches, 1);
	rc = ok < n ? HC_ERR_TRANSIENT : n;
	if (ok < n)
		hc_err_set(err, HC_ERR_TRANSIENT, "could not publish %d of %d outbox rows", n - ok,
		           n);
out:
	db_res_free(res);
	free(d);
	free(ids);
	return rc;
}

/* Connects, listens and takes the relay lock.  Returns 0 when this relay may publish. */
static int relay_attach(bus_relay *relay, db_conn **conn, hc_err *err)
{
	static const db_stmt_table tables[] = {bus_statements, NULL};
	db_res *res = NULL;
	int rc, locked;

	if (*conn == NULL) {
		rc = db_connect(conn, relay->db_url, relay->schema, tables, err);
		if (rc == 0) /* its statements read the outbox by its primary key only */
			rc = db_avoid_seqscans(*conn, err);
		/*
		 * Its only writes delete rows Kafka has persisted: a commit of them
		 * lost in a crash puts them back, to be published again as
		 * duplicates (same event id) that the log allows and every consumer
		 * skips.  So it need not wait for the WAL's flush.
		 */
		if (rc == 0)
			rc = db_exec(*conn, "SET synchronous_commit = off", err);
		if (rc != 0)
			return rc;
		rc = db_listen_schema(*conn, "hc_outbox_", err);
		if (rc != 0)
			return rc;
	}
	rc = db_run(*conn, "bus_relay_lock", 0, NULL, &res, err);
	if (rc != 0)
		return rc;
	locked = strcmp(db_res_get(res, 0, 0), "t") == 0;
	db_res_free(res);
	if (!locked)
		return hc_err_set(err, HC_ERR_CONFLICT, "another relay holds the outbox of %s",
		                  relay->schema);
	return 0;
}

static void *relay_main(void *arg)
{
	bus_relay *relay = arg;
	db_conn *conn = NULL;
	long backoff = 100;
	int attached = 0;
	hc_err err;

	relay_sleep(relay, relay->start_delay_ms);
	while (!atomic_load(&relay->stop)) {
		int rc;

		if (!attached) {
			rc = relay_attach(relay, &conn, &err);
			if (rc != 0) {
				if (rc != HC_ERR_CONFLICT) {
					log_warn("outbox relay: %s", err.msg);
					db_close(conn);
					conn = NULL;
				}
				relay_sleep(relay, 1000);
				continue;
			}
			attached = 1;
			log_info("outbox relay publishing for schema %s", relay->schema);
		}
		rc = relay_batch(relay, conn, &err);
		if (rc < 0) {
			log_warn("outbox relay: %s", err.msg);
			/* not db_ensure: a session it reconnected would hold neither the lock
			 * nor the LISTEN; a new one takes both (relay_attach) */
			if (rc != HC_ERR_TRANSIENT || !db_session_alive(conn)) {
				db_close(conn);
				conn = NULL;
				attached = 0;
			}
			relay_sleep(relay, backoff);
			backoff = backoff < 5000 ? backoff * 2 : 5000;
			continue;
		}
		backoff = 100;
		if (rc == RELAY_BATCH)
			continue; /* more are waiting */
		/* Idle: sleep until NOTIFY, with a timeout as a safety net. */
		if (db_wait_notify(conn, 1000, &err) < 0) {
			db_close(conn);
			conn = NULL;
			attached = 0;
		}
	}
	db_close(conn);
	return NULL;
}

int bus_relay_start(bus_relay **out, bus *b, const bus_relay_config *cfg, hc_err *err)
{
	bus_relay *relay = calloc(1, sizeof(*relay));

	if (relay == NULL)
		abort();
	relay->bus = b;
	relay->db_url = strdup(cfg->db_url);
	relay->schema = strdup(cfg->schema);
	if (relay->db_url == NULL || relay->schema == NULL)
		abort();
	relay->start_delay_ms = cfg->start_delay_ms;
	relay->published =
	    metrics_counter("hc_outbox_published_total", "",
	                    "Outbox rows published with a PERSISTED delivery report");
	relay->failed = metrics_counter("hc_outbox_publish_failures_total", "",
	                                "Outbox rows whose delivery failed; they are retried");
	relay->batches = metrics_counter("hc_outbox_batches_total", "", "Outbox batches published");
	if (pthread_create(&relay->thread, NULL, relay_main, relay) != 0) {
		free(relay->db_url);
		free(relay->schema);
		free(relay);
		return hc_err_set(err, HC_ERR_FATAL, "could not start outbox relay thread");
	}
	pthread_setname_np(relay->thread, "relay");
	*out = relay;
	return 0;
}

void bus_relay_stop(bus_relay *relay)
{
	if (relay == NULL)
		return;
	atomic_store(&relay->stop, 1);
	pthread_join(relay->thread, NULL);
	free(relay->db_url);
	free(relay->schema);
	free(relay);
}

void bus_outbox_batch_init(bus_outbox_batch *b)
{
	size_t f;

	for (f = 0; f < BUS_OUTBOX_COLUMNS; f++)
		db_text_array_init(&b->cols[f]);
	b->n = 0;
}

void bus_outbox_batch_free(bus_outbox_batch *b)
{
	size_t f;

	for (f = 0; f < BUS_OUTBOX_COLUMNS; f++)
		db_text_array_free(&b->cols[f]);
	b->n = 0;
}

void bus_outbox_batch_add(bus_outbox_batch *b, const char *topic, const char *key,
                          const char *county, const char *type, const char *source,
                          const char *subject, json_t *data, const char *traceparent)
{
	cloudevent ev = {0};
	char *payload, *headers;
	size_t headers_len;

	cloudevent_init(&ev, type, source, subject, data, traceparent);
	payload = cloudevent_encode(&ev);
	headers = outbox_headers(&ev, county, &headers_len);
	db_text_array_add(&b->cols[0], ev.id, strlen(ev.id));
	db_text_array_add(&b->cols[1], topic, strlen(topic));
	db_text_array_add(&b->cols[2], key, strlen(key));
	db_text_array_add(&b->cols[3], ev.type, strlen(ev.type));
	db_text_array_add(&b->cols[4], payload, strlen(payload));
	db_text_array_add(&b->cols[5], headers, headers_len);
	b->n++;
	free(payload);
	free(headers);
	cloudevent_cleanup(&ev);
}

int bus_outbox_add_batch(db_conn *tx, bus_outbox_batch *b, hc_err *err)
{
	db_text_array *const arrays[BUS_OUTBOX_COLUMNS] = {&b->cols[0], &b->cols[1], &b->cols[2],
	                                                   &b->cols[3], &b->cols[4], &b->cols[5]};

	if (b->n == 0)
		return 0;
	return db_run_text_arrays(tx, "bus_outbox_insert_many", BUS_OUTBOX_COLUMNS, arrays, NULL,
	                          err);
}

int bus_outbox_commit(db_conn *tx, int rc, bus_outbox_batch *b, hc_err *err)
{
	if (rc == 0)
		rc = bus_outbox_add_batch(tx, b, err);
	if (rc == 0)
		rc = db_tx_commit(tx, err);
	if (rc != 0)
		db_tx_rollback(tx);
	return rc;
}

int bus_outbox_emit(db_conn *tx, const char *topic, const char *key, const char *county,
                    const char *type, const char *source, const char *subject, json_t *data,
                    const char *traceparent, hc_err *err)
{
	cloudevent ev = {0};
	int rc;

	cloudevent_init(&ev, type, source, subject, data, traceparent);
	rc = bus_outbox_add(tx, topic, key, &ev, county, err);
	cloudevent_cleanup(&ev);
	return rc;
}
