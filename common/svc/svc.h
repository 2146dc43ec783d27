/*
 * The shape every service shares, written once: configuration, logging,
 * migrations, the database pool, the Kafka producer and outbox relay, the
 * consumer thread, the HTTP server with its probes, signal handling and an
 * orderly shutdown.  A service's main.c fills an svc_spec and calls
 * svc_start / svc_wait / svc_stop; its handlers receive the service's own
 * app struct, which embeds the svc.
 */
#ifndef HC_SVC_SVC_H
#define HC_SVC_SVC_H

#include <pthread.h>
#include <stddef.h>

#include "common/base/err.h"
#include "common/bus/bus.h"
#include "common/config/config.h"
#include "common/db/db.h"
#include "common/event/cloudevent.h"
#include "common/http/http.h"
#include "common/svc/projection.h"

#define SVC_CONSUMERS_MAX 8

/*
 * Lowers the calling thread's CPU priority to SVC_BACKGROUND_NICE: background
 * threads (and their database backends, db_set_background), whose work can
 * wait, yield the CPU to the threads answering requests when both want it.
 * Consumer threads take HC_CONSUMER_NICE (svc_config.consumer_nice).
 */
#define SVC_BACKGROUND_NICE 10
void svc_background_thread(void);

/* Settings every service reads; see svc_config_vars in svc.c for names. */
typedef struct svc_config {
	const char *database_url;
	const char *db_schema;
	const char *kafka_brokers;
	const char *topic_prefix;
	const char *group_id;
	const char *instance_id;
	long session_timeout_ms;
	long purge_every_s; /* HC_PROCESSED_PURGE_S */
	long consumers;     /* consumer threads, each its own group member and connection */
	long consumer_nice; /* HC_CONSUMER_NICE */
	const char *http_addr;
	long http_port;
	long http_threads;
	long max_body;
	const char *log_level;
	long relay_delay_ms;
	long startup_timeout_s;
} svc_config;

typedef struct svc_spec {
	const char *name;               /* "intake": schema, group and log name */
	const char *default_port;       /* HC_HTTP_PORT default */
	const char *default_threads;    /* HC_HTTP_THREADS default; NULL: 4 */
	const char *default_consumers;  /* HC_CONSUMERS default; NULL: 1 */
	const db_migration *migrations; /* the service's own, embedded */
	size_t nmigrations;
	const db_stmt *statements; /* the service's store table */
	const http_route *routes;
	size_t nroutes;
	const bus_route *consumes; /* may be NULL */
	size_t nconsumes;
	const config_var *vars; /* the service's own settings; may be NULL */
	size_t nvars;
	/* may be NULL: the service's projections (NULL-terminated); their statements are prepared
	 */
	const projection *const *projections;
	/* may be NULL: runs before HTTP starts (start the app's own threads) */
	int (*starting)(void *app, hc_err *err);
	/* may be NULL: runs first on stop, while HTTP still runs (finish deferred replies) */
	void (*stopping)(void *app);
} svc_spec;

typedef struct svc {
	const svc_spec *spec;
	svc_config cfg;
	db_stmt_table tables[8]; /* bus, service and projection statements, NULL-terminated */
	db_pool *pool;           /* HTTP handlers' connections */
	bus *bus;
	bus_relay *relay;
	http_server *http;
	struct svc_consumer {
		struct svc *svc;
		int index;
		char instance_id[160];
		db_conn *conn;
		pthread_t thread;
		int running;
	} consumers[SVC_CONSUMERS_MAX];
	int exit_code;
	long idem_purged; /* when expired Idempotency-Keys were last purged (common/svc/idem.c) */
	void *app;        /* passed to handlers and consumers */
} svc;

/*
 * Loads the common settings and the spec's own into svc->cfg and own_cfg,
 * applies migrations (waiting for the database up to the startup timeout),
 * and starts every part.  Returns 0, or HC_ERR_FATAL with err set; on
 * failure everything started is stopped again.
 */
int svc_start(svc *s, const svc_spec *spec, void *app, void *own_cfg, hc_err *err);

/* Blocks until SIGTERM or SIGINT (or a fatal consumer error). */
void svc_wait(svc *s);

/*
 * Stops in order: the spec's stopping hook, HTTP (finish requests), consumer (commit stored
 * offsets), relay, producer (flush), database.  Returns the process exit code.
 */
int svc_stop(svc *s);

/*
 * For a service's administrative subcommands: loads the settings, applies
 * migrations and opens one connection with the bus's and the spec's
 * statements.  Returns 0 and a connection to db_close, or HC_ERR_FATAL.
 * svc_admin_open_many opens n such connections (out[0..n); none open on failure).
 */
int svc_admin_open(const svc_spec *spec, void *own_cfg, db_conn **out, hc_err *err);
int svc_admin_open_many(const svc_spec *spec, void *own_cfg, db_conn **out, size_t n, hc_err *err);

/*
 * The write of an HTTP handler: fn makes the change and writes its events to
 * the outbox inside tx, then reply makes the answer (http_reply_*; it goes
 * out only after the handler returns); svc_http_tx runs both in one
 * transaction on a pooled connection, with the request's Idempotency-Key
 * claimed in it and the answer kept for the key's retries (svc_idem), and
 * commits.  Returns 0 after the commit, or non-zero once it has replied
 * otherwise: the error after rolling back (reply's answer taken back), or,
 * for a key that took effect before, that first answer (fn is not run).
 */
typedef int (*svc_tx_fn)(db_conn *tx, void *ctx, hc_err *err);
typedef void (*svc_reply_fn)(http_req *req, void *ctx);
int svc_http_tx(svc *s, http_req *req, svc_tx_fn fn, svc_reply_fn reply, void *ctx);

/*
 * Idempotency-Key in the service that takes effect (common/svc/idem.c): the
 * gateway forwards a client's key, and the service claims it in the
 * transaction of the request's effect, so that a retry (after the gateway
 * answered 504, say) gets the first answer, marked `Idempotent-Replayed:
 * true`, and never a second effect.  The answer is made before the commit
 * and kept on the key's row in the same transaction, so an effect is never
 * committed without it.  svc_http_tx does all of it for the handlers that
 * use it; a group-committing writer claims its batch's keys with
 * svc_idem_claim_many, makes each answer under svc_idem_capture, keeps them
 * with svc_idem_keep_many before its commit, and replays the keys seen.
 */
typedef struct svc_idem {
	int keyed; /* 0: the request has no (valid) key, and nothing is claimed */
	char client[129];
	char key[256];
	char hash[65]; /* http_req_fingerprint */
	int seen;      /* svc_idem_claim_many: the key was taken before (or earlier in the batch) */
	/* the answer, captured as it is made (svc_idem_capture); svc_idem_release frees it */
	int status; /* 0: none captured */
	char *content_type, *location, *body;
	size_t body_len;
} svc_idem;
enum { SVC_IDEM_NEW = 0, SVC_IDEM_SEEN = 1 };
extern const db_stmt svc_idem_statements[];

/* 1 (and *last set to now) once every every_s seconds, from any thread; else 0. */
int svc_due(long *last, long every_s);
/* 1 when k is an Idempotency-Key: 1 to 255 printable ASCII characters. */
int svc_idem_key_valid(const char *k);
/* Fills k from a POST's Idempotency-Key and caller; returns k->keyed. */
int svc_idem_read(const http_req *req, svc_idem *k);
/* In tx: SVC_IDEM_NEW (claimed now, or not keyed), SVC_IDEM_SEEN, or an error kind. */
int svc_idem_claim(db_conn *tx, const svc_idem *k, hc_err *err);
/* In tx: claims keys[0..n) (NULL or unkeyed entries skipped), setting each one's seen. */
int svc_idem_claim_many(db_conn *tx, svc_idem *const *keys, size_t n, hc_err *err);
/* Before the answer is made: req's next reply is captured into k (nothing when k is unkeyed or
 * seen). */
void svc_idem_capture(http_req *req, svc_idem *k);
/* In tx, before its commit: keeps the captured answers of keys[0..n) (others skipped). */
int svc_idem_keep_many(db_conn *tx, svc_idem *const *keys, size_t n, hc_err *err);
/* Frees k's captured answer (k stays claimed or not). */
void svc_idem_release(svc_idem *k);
/* After a commit on conn, at most once a minute per process: deletes keys past 24 hours. */
void svc_idem_purge(svc *s, db_conn *conn);
/* Answers a retry of a key already taken: the first answer, 422 (another request) or 409. */
void svc_idem_replay(svc *s, http_req *req, const svc_idem *k);
/*
 * Answers req from a kept record (columns: request hash, status, content
 * type, location, body; no row, or a NULL status, for a key not answered):
 * the answer again, marked Idempotent-Replayed; 422 when hash is another
 * request's; 409 with the detail gone (no row) or unanswered (no status).
 */
void svc_idem_answer(http_req *req, db_res *res, const char *hash, const char *gone,
                     const char *unanswered);

/*
 * A read of an HTTP handler: runs stmt, whose first row's first column is a
 * JSON document, and replies it with 200; no row (or NULL) is 404 "no
 * <what>" naming field (may be NULL).
 */
void svc_http_reply_row(svc *s, http_req *req, const char *stmt, int nparams,
                        const char *const *params, const char *field, const char *what);

/*
 * The route's {person_key}, or NULL after replying 400 (naming person_key)
 * when it is not one.
 */
const char *svc_http_person_key(http_req *req);

/*
 * svc_http_reply_row for a route keyed by {person_key}: the key is checked
 * (400 naming person_key) and is the statement's one parameter.
 */
void svc_http_reply_person(svc *s, http_req *req, const char *stmt, const char *what);

/*
 * svc_http_reply_person confined to a partner's own people: the statement
 * takes $1 the person key and $2 the calling partner app's client id (NULL
 * for every other role), and returns no row for a person who did not apply
 * through that partner, which answers 404 like a missing one.
 */
void svc_http_reply_person_scoped(svc *s, http_req *req, const char *stmt, const char *what);

/*
 * A consumer of declarations that records (person key, client) for partner
 * scope with the service's own statement "person_client_add" ($1 key, $2
 * client); declarations without a client change nothing.
 */
int svc_on_declaration_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/*
 * The same for a run of declarations (bus_route.many), in one statement: the
 * service's "person_clients_add_many" ($1 a JSON array of {k: key, c: client}).
 */
int svc_on_declaration_clients(void *app, db_conn *tx, const cloudevent *evs, size_t n,
                               hc_err *err);
/*
 * Runs each statement of the NULL-ended stmts inside tx with that array for
 * evs[0..n) as $1 (declarations without a client left out; none run when
 * no declaration has one).
 */
int svc_declaration_links(db_conn *tx, const cloudevent *evs, size_t n, const char *const *stmts,
                          hc_err *err);

/* The client id of a partner app calling, or NULL for any other role. */
const char *svc_partner_scope(const http_req *req);

/* Runs the whole life of a service: start, wait, stop; the body of main(). */
int svc_main(int argc, char **argv, const svc_spec *spec, void *app, void *own_cfg);

#endif
