/*
 * Kafka for the services: an idempotent producer, the transactional outbox
 * and its relay, and the one consumer loop every service uses.  This is the
 * only module that includes rdkafka.h.
 *
 * Producing side: a handler writes its state change and bus_outbox_add() in
 * one database transaction.  The relay (one thread per service, one active
 * relay per schema by advisory lock) is woken by NOTIFY, publishes the outbox's
 * rows in id order, and deletes a row only on a PERSISTED delivery report.  A crash anywhere
 * re-publishes at most a few rows, with the same event ids.
 *
 * Consuming side: bus_consumer_run() polls, decodes the CloudEvent, and in one
 * database transaction records (consumer, event id) in processed_events and
 * applies the handler's effect; the offset is stored only after COMMIT.  A
 * record that cannot be processed goes to <topic>.dlq with headers naming
 * the original topic, partition, offset, consumer and error.
 */
#ifndef HC_BUS_BUS_H
#define HC_BUS_BUS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "common/base/err.h"
#include "common/db/db.h"
#include "common/event/cloudevent.h"

typedef struct bus bus;

typedef struct bus_config {
	const char *brokers;      /* bootstrap servers, "host:port,..." */
	const char *topic_prefix; /* prepended to every topic name; "" in production */
	const char *client_id;    /* the service name */
} bus_config;

/* Creates the idempotent producer.  Returns 0 or HC_ERR_FATAL. */
int bus_new(bus **out, const bus_config *cfg, hc_err *err);

/* Flushes outstanding messages (up to 10 s) and frees; NULL does nothing. */
void bus_free(bus *bus);

/* Asks the cluster for metadata.  Returns 0 or HC_ERR_TRANSIENT. */
int bus_ping(bus *bus, int timeout_ms, hc_err *err);

/* The bus's migrations (outbox, processed_events), applied as component "bus". */
extern const db_migration bus_migrations[];
extern const size_t bus_migrations_count;

/* Statements the outbox needs on a service's connections; add to its tables. */
extern const db_stmt bus_statements[];

/*
 * Writes ev to the outbox inside the caller's open transaction tx.  topic is
 * the unprefixed name; key is the aggregate id.  county (may be NULL) is
 * copied into a `county` record header so county systems can filter without
 * decoding.  Returns 0 or the db error kind.
 */
int bus_outbox_add(db_conn *tx, const char *topic, const char *key, const cloudevent *ev,
                   const char *county, hc_err *err);

/*
 * bus_outbox_add for a new event: starts the event (type, source, subject,
 * data stolen, continuing traceparent), writes it to the outbox inside tx,
 * and releases it.  Returns 0 or the db error kind.
 */
int bus_outbox_emit(db_conn *tx, const char *topic, const char *key, const char *county,
                    const char *type, const char *source, const char *subject, json_t *data,
                    const char *traceparent, hc_err *err);

/*
 * Group commit: a batch's outbox rows gathered as a text[] per column (event
 * id, topic, key, type, payload, headers), written with one statement.
 * bus_outbox_batch_add starts an event like bus_outbox_emit (data stolen) and
 * appends its row; bus_outbox_add_batch writes the rows inside tx, in the
 * order they were added (none: nothing).  Init before use, free after.
 */
#define BUS_OUTBOX_COLUMNS 6
typedef struct bus_outbox_batch {
	db_text_array cols[BUS_OUTBOX_COLUMNS];
	size_t n; /* rows added */
} bus_outbox_batch;
void bus_outbox_batch_init(bus_outbox_batch *b);
void bus_outbox_batch_free(bus_outbox_batch *b);
void bus_outbox_batch_add(bus_outbox_batch *b, const char *topic, const char *key,
                          const char *county, const char *type, const char *source,
                          const char *subject, json_t *data, const char *traceparent);
int bus_outbox_add_batch(db_conn *tx, bus_outbox_batch *b, hc_err *err);
/*
 * The end of a group commit: when rc is 0, writes b (bus_outbox_add_batch)
 * and commits tx; when rc is not 0, or either step fails, rolls tx back.
 * Returns 0 or the error kind.
 */
int bus_outbox_commit(db_conn *tx, int rc, bus_outbox_batch *b, hc_err *err);

typedef struct bus_relay bus_relay;

typedef struct bus_relay_config {
	const char *db_url;
	const char *schema;
	long start_delay_ms; /* wait before the first publish; fault tests only */
} bus_relay_config;

/* Starts the relay thread with its own connection.  Returns 0 or an error kind. */
int bus_relay_start(bus_relay **out, bus *bus, const bus_relay_config *cfg, hc_err *err);

/* Stops and joins the relay; NULL does nothing. */
void bus_relay_stop(bus_relay *relay);

/*
 * A consumer handler: apply the effect of ev inside the open transaction tx.
 * Return 0 to commit; HC_ERR_TRANSIENT to roll back and retry the event;
 * HC_ERR_PERMANENT (or any other kind) to roll back and dead-letter it.
 */
typedef int (*bus_handler_fn)(void *ctx, db_conn *tx, const cloudevent *ev, hc_err *err);

typedef struct bus_route {
	const char *topic; /* unprefixed */
	const char *type;  /* CloudEvents type */
	bus_handler_fn fn;
	/*
	 * May be NULL.  Asked before any transaction: 1 applies the event, 0
	 * skips it (no transaction, offset stored: for the many records a
	 * consumer reads but never acts on), HC_ERR_PERMANENT (err set) sends it
	 * to the dead-letter topic.
	 */
	int (*wants)(const cloudevent *ev, hc_err *err);
	/*
	 * May be NULL.  Applies evs[0..n) of this route (n >= 2, consecutive in
	 * a batch, in log order) inside tx, with the same effect as fn on each
	 * in turn, in fewer statements.  Any error rolls the whole batch back,
	 * and its records are then handled one at a time by fn.
	 */
	int (*many)(void *ctx, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err);
	/*
	 * 1: applying an event of this route again changes nothing (every write
	 * is an insert a unique key turns into a no-op), so its events are not
	 * recorded in processed_events: a redelivery is applied again, to no
	 * effect, instead of being looked up.
	 */
	int idempotent;
} bus_route;

typedef struct bus_consumer_config {
	const char *name; /* consumer name in processed_events and dead letters */
	const char *group_id;
	const char *instance_id; /* static membership when non-empty */
	long session_timeout_ms;
	const bus_route *routes;
	size_t nroutes;
	long prefetch_kbytes; /* records fetched ahead, per consumer; 0: 8192 */
	long purge_every_s;   /* processed_events of deleted records purged this often; 0: never */
} bus_consumer_config;

/*
 * Runs the consumer loop on conn until *stop becomes non-zero, then closes
 * the consumer (committing stored offsets).  Events of a type no route names
 * are skipped.  Returns 0 after a clean stop, HC_ERR_FATAL when Kafka reports
 * a fatal error.
 */
int bus_consumer_run(bus *bus, db_conn *conn, const bus_consumer_config *cfg, void *ctx,
                     volatile sig_atomic_t *stop, hc_err *err);

/*
 * Creates topics names[0..n) with their partition counts and the given
 * replication factor; topics that exist already are left alone.  Prints one
 * line per topic.  Returns 0, or an error kind when any topic failed.
 */
int bus_topics_create(const char *brokers, const char *const *names, const int *partitions,
                      size_t n, int replication, hc_err *err);

/* Deletes topics names[0..n); absent topics are not an error. */
int bus_topics_delete(const char *brokers, const char *const *names, size_t n, hc_err *err);

/*
 * Deletes the records of topic's partition before offset `before` (every
 * record when negative), as retention would: the partition's log then starts
 * there.  Prints the new start.  0, or an error kind.
 */
int bus_records_delete(const char *brokers, const char *topic, int partition, long long before,
                       hc_err *err);

/*
 * Reading the log for analysts and rebuilds (reader.c): a bounded read that
 * joins no service's group and produces nothing.
 */
typedef struct bus_position {
	char topic[128]; /* unprefixed */
	int32_t partition;
	int64_t low;   /* the partition's first offset when reading started */
	int64_t start; /* first offset read */
	int64_t next;  /* next offset to read: where a later read resumes */
	int64_t end;   /* first offset not read, fixed when reading started */
	int closed;
} bus_position;

typedef struct bus_record {
	const char *topic; /* unprefixed */
	int32_t partition;
	int64_t offset;
	int64_t timestamp_ms;
	const char *key; /* not NUL-terminated; may be NULL */
	size_t keylen;
	const char *value; /* not NUL-terminated; may be NULL */
	size_t len;
	const char *type;   /* the ce_type header, "" when absent (or not asked for) */
	const char *county; /* the county header, "" when absent */
	const char *id;     /* the ce_id header, "" when absent */
} bus_record;

/* Return 0 to go on, an error kind to stop the read with it. */
typedef int (*bus_record_fn)(void *ctx, const bus_record *r, hc_err *err);

typedef struct bus_reader_config {
	const char *brokers;
	const char *topic_prefix;
	const char *const *topics; /* unprefixed */
	size_t ntopics;
	/*
	 * Every partition is read from start to end.  end is the high watermark
	 * when reading starts, or the first offset at or after to_ms when to_ms
	 * >= 0.  start is, in increasing precedence: the low watermark; the first
	 * offset at or after from_ms (from_ms >= 0); the group's committed offset
	 * (group_id set); an entry of start[] (explicit offsets).  Records whose
	 * timestamp lies outside [from_ms, to_ms) are passed over.
	 */
	int64_t from_ms;
	int64_t to_ms;
	const char *group_id; /* NULL: no group; else positions are committed to it */
	const char *key;      /* non-NULL: only the key's partition (murmur2) */
	const bus_position *start;
	size_t nstart;
	int headers;              /* 1: fill the record's type, county and id from its headers */
	const bus_position *ends; /* partitions' ends fixed by the caller (bus_positions) */
	size_t nends;
	void (*progress)(void *ctx, int64_t done, int64_t total); /* may be NULL */
	void (*flush)(void *ctx); /* may be NULL: called before each commit */
} bus_reader_config;

/*
 * Calls fn for every record of the configured range, in offset order within
 * each partition, until the range ends or *stop becomes non-zero.  *out gets
 * every partition's positions (free() it), also after an error.  Returns 0 or
 * an error kind.
 */
int bus_read(const bus_reader_config *cfg, bus_record_fn fn, void *ctx, volatile sig_atomic_t *stop,
             bus_position **out, size_t *nout, hc_err *err);

/*
 * The positions bus_read would read, without reading: every partition's
 * start and end as configured, now.  *out to free().  Returns 0 or an error
 * kind.
 */
int bus_positions(const bus_reader_config *cfg, bus_position **out, size_t *nout, hc_err *err);

#endif
