/* The shared service runtime; see svc.h. */
#include "common/svc/svc.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log/log.h"

/* The stop flag: the one global of a service, set by the signal handler. */
static volatile sig_atomic_t svc_stop_flag;

#define SVC_NVARS 17

static const config_var svc_config_vars[SVC_NVARS] = {
    {"HC_DATABASE_URL", CONFIG_STRING, NULL, offsetof(svc_config, database_url), 1, 1024,
     "libpq connection string of the service's own role"},
    {"HC_DB_SCHEMA", CONFIG_STRING, "", offsetof(svc_config, db_schema), 0, 63,
     "schema the service owns (default: the service name)"},
    {"HC_KAFKA_BROKERS", CONFIG_STRING, NULL, offsetof(svc_config, kafka_brokers), 1, 1024,
     "Kafka bootstrap servers, host:port[,host:port]"},
    {"HC_KAFKA_TOPIC_PREFIX", CONFIG_STRING, "", offsetof(svc_config, topic_prefix), 0, 64,
     "prefix of every topic name (isolates test runs)"},
    {"HC_KAFKA_GROUP_ID", CONFIG_STRING, "", offsetof(svc_config, group_id), 0, 128,
     "consumer group (default: the service name)"},
    {"HC_KAFKA_INSTANCE_ID", CONFIG_STRING, "", offsetof(svc_config, instance_id), 0, 128,
     "static group membership id; a restart gets its partitions back at once"},
    {"HC_KAFKA_SESSION_TIMEOUT_MS", CONFIG_INT, "10000", offsetof(svc_config, session_timeout_ms),
     6000, 300000, "consumer session timeout"},
    {"HC_PROCESSED_PURGE_S", CONFIG_INT, "600", offsetof(svc_config, purge_every_s), 0, 86400,
     "how often a consumer purges its processed_events rows of records deleted from the log"
     " (0: never)"},
    {"HC_CONSUMER_NICE", CONFIG_INT, "10", offsetof(svc_config, consumer_nice), 0, 19,
     "CPU priority (nice) of the consumer threads and their database backends (0: as the"
     " request threads)"},
    {"HC_CONSUMERS", CONFIG_INT, "1", offsetof(svc_config, consumers), 1, SVC_CONSUMERS_MAX,
     "consumer threads, each a member of the group with its own partitions and connection"},
    {"HC_HTTP_ADDR", CONFIG_STRING, "127.0.0.1", offsetof(svc_config, http_addr), 7, 64,
     "HTTP listen address"},
    {"HC_HTTP_PORT", CONFIG_INT, "0", offsetof(svc_config, http_port), 0, 65535,
     "HTTP listen port"},
    {"HC_HTTP_THREADS", CONFIG_INT, "4", offsetof(svc_config, http_threads), 1, 256,
     "HTTP worker threads (and database connections); the gateway's default is 16"},
    {"HC_HTTP_MAX_BODY", CONFIG_INT, "1048576", offsetof(svc_config, max_body), 1024, 67108864,
     "largest accepted request body in bytes (413 beyond)"},
    {"HC_LOG_LEVEL", CONFIG_STRING, "info", offsetof(svc_config, log_level), 4, 5,
     "debug, info, warn or error"},
    {"HC_OUTBOX_RELAY_DELAY_MS", CONFIG_INT, "0", offsetof(svc_config, relay_delay_ms), 0, 3600000,
     "delay before the outbox relay starts publishing (fault tests only)"},
    {"HC_STARTUP_TIMEOUT_S", CONFIG_INT, "60", offsetof(svc_config, startup_timeout_s), 1, 3600,
     "how long to wait for the database at start"},
};

static void svc_on_signal(int sig)
{
	(void)sig;
	svc_stop_flag = 1;
}

static int svc_ready(void *app, hc_err *err)
{
	svc *s = app; /* the app struct begins with its svc */
	db_conn *conn = db_pool_take(s->pool);
	int rc = db_ping(conn, err);

	db_pool_give(s->pool, conn);
	if (rc == 0)
		rc = bus_ping(s->bus, 1000, err);
	return rc;
}

/* The calling thread at nice; a failure (no permission) leaves it at the default priority. */
static void svc_thread_nice(int nice)
{
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
}

void svc_background_thread(void)
{
	svc_thread_nice(SVC_BACKGROUND_NICE);
}

static void *svc_consumer_main(void *arg)
{
	struct svc_consumer *sc = arg;
	svc *s = sc->svc;
	bus_consumer_config cc = {
	    .name = s->spec->name,
	    .group_id = s->cfg.group_id,
	    .instance_id = sc->instance_id,
	    .session_timeout_ms = s->cfg.session_timeout_ms,
	    .routes = s->spec->consumes,
	    .nroutes = s->spec->nconsumes,
	    /* the 8 MiB fetched ahead shared, 2 MiB each at least */
	    .prefetch_kbytes = s->cfg.consumers > 4 ? 2048 : 8192 / s->cfg.consumers,
	    .purge_every_s = s->cfg.purge_every_s,
	};
	hc_err err;

	hc_err_clear(&err);
	if (s->cfg.consumer_nice > 0) {
		svc_thread_nice((int)s->cfg.consumer_nice);
		db_set_background(sc->conn, (int)s->cfg.consumer_nice);
	}
	if (bus_consumer_run(s->bus, sc->conn, &cc, s->app, &svc_stop_flag, &err) != 0) {
		log_error("%s", err.msg);
		s->exit_code = 1;
		svc_stop_flag = 1;
	}
	return NULL;
}

/* Connects for migrations, retrying until the startup timeout. */
static int svc_migrate(svc *s, hc_err *err)
{
	time_t deadline = time(NULL) + s->cfg.startup_timeout_s;
	db_conn *conn = NULL;
	int rc;

	for (;;) {
		rc = db_connect(&conn, s->cfg.database_url, s->cfg.db_schema, NULL, err);
		if (rc == 0 || rc != HC_ERR_TRANSIENT || time(NULL) >= deadline || svc_stop_flag)
			break;
		log_warn("waiting for the database: %s", err->msg);
		sleep(1);
	}
	if (rc != 0)
		return hc_err_set(err, HC_ERR_FATAL, "%s", err->msg);
	rc = db_migrate(conn, "bus", bus_migrations, bus_migrations_count, err);
	if (rc == 0)
		rc =
		    db_migrate(conn, s->spec->name, s->spec->migrations, s->spec->nmigrations, err);
	db_close(conn);
	return rc == 0 ? 0 : hc_err_set(err, HC_ERR_FATAL, "%s", err->msg);
}

/* The common settings with the service's own defaults (port, threads), into vars[SVC_NVARS]. */
static void svc_vars(const svc_spec *spec, config_var vars[SVC_NVARS])
{
	size_t i;

	memcpy(vars, svc_config_vars, sizeof(svc_config_vars));
	for (i = 0; i < SVC_NVARS; i++) {
		if (strcmp(vars[i].name, "HC_HTTP_PORT") == 0)
			vars[i].default_value = spec->default_port;
		if (strcmp(vars[i].name, "HC_HTTP_THREADS") == 0 && spec->default_threads != NULL)
			vars[i].default_value = spec->default_threads;
		if (strcmp(vars[i].name, "HC_CONSUMERS") == 0 && spec->default_consumers != NULL)
			vars[i].default_value = spec->default_consumers;
	}
}

/* Sets s->spec and the statement tables every connection of the service prepares. */
static void svc_init_spec(svc *s, const svc_spec *spec)
{
	s->spec = spec;
	size_t n = 3;

	s->tables[0] = bus_statements;
	s->tables[1] = svc_idem_statements;
	s->tables[2] = spec->statements;
	for (const projection *const *p = spec->projections; p != NULL && *p != NULL; p++) {
		if (n + 1 == sizeof(s->tables) / sizeof(s->tables[0]))
			abort(); /* a wiring mistake: more projections than slots */
		s->tables[n++] = (*p)->statements;
		if ((*p)->configure != NULL)
			(*p)->configure();
	}
	s->tables[n] = NULL;
}

static int svc_load_config(svc *s, const svc_spec *spec, void *own_cfg, hc_err *err)
{
	config_var vars[SVC_NVARS];
	enum log_level level;

	svc_vars(spec, vars);
	if (config_load(&s->cfg, vars, SVC_NVARS, err) != 0)
		return HC_ERR_FATAL;
	if (spec->nvars > 0 && config_load(own_cfg, spec->vars, spec->nvars, err) != 0)
		return HC_ERR_FATAL;
	if (s->cfg.db_schema[0] == '\0')
		s->cfg.db_schema = spec->name;
	if (s->cfg.group_id[0] == '\0')
		s->cfg.group_id = spec->name;
	if (log_level_parse(s->cfg.log_level, &level) != 0)
		return hc_err_field(
		    err, HC_ERR_FATAL, "HC_LOG_LEVEL",
		    "invalid value for HC_LOG_LEVEL: use debug, info, warn or error");
	log_init(spec->name, level);
	return 0;
}

int svc_start(svc *s, const svc_spec *spec, void *app, void *own_cfg, hc_err *err)
{
	struct sigaction sa;
	bus_config bc;
	http_config hc;
	int rc, i;

	memset(s, 0, sizeof(*s));
	svc_init_spec(s, spec);
	s->app = app;
	log_init(spec->name, HC_LOG_INFO);
	rc = svc_load_config(s, spec, own_cfg, err);
	if (rc != 0)
		return rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = svc_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = svc_migrate(s, err);
	if (rc == 0)
		rc = db_pool_new(&s->pool, (size_t)s->cfg.http_threads, s->cfg.database_url,
		                 s->cfg.db_schema, s->tables, err);
	if (rc != 0)
		goto fail;
	bc.brokers = s->cfg.kafka_brokers;
	bc.topic_prefix = s->cfg.topic_prefix;
	bc.client_id = spec->name;
	rc = bus_new(&s->bus, &bc, err);
	if (rc == 0) {
		bus_relay_config rc_cfg = {s->cfg.database_url, s->cfg.db_schema,
		                           s->cfg.relay_delay_ms};

		rc = bus_relay_start(&s->relay, s->bus, &rc_cfg, err);
	}
	if (rc != 0)
		goto fail;
	/*
	 * Consumer threads: members of one group, so the partitions (and with
	 * them the keys, each in order) are shared out among them.  The first
	 * keeps the configured static instance id, the others add their number.
	 */
	for (i = 0; spec->nconsumes > 0 && i < (int)s->cfg.consumers; i++) {
		struct svc_consumer *sc = &s->consumers[i];

		sc->svc = s;
		sc->index = i;
		if (i == 0 || s->cfg.instance_id[0] == '\0')
			snprintf(sc->instance_id, sizeof(sc->instance_id), "%s",
			         s->cfg.instance_id);
		else
			snprintf(sc->instance_id, sizeof(sc->instance_id), "%s-c%d",
			         s->cfg.instance_id, i);
		rc = db_connect(&sc->conn, s->cfg.database_url, s->cfg.db_schema, s->tables, err);
		if (rc != 0)
			goto fail;
		if (pthread_create(&sc->thread, NULL, svc_consumer_main, sc) != 0) {
			rc = hc_err_set(err, HC_ERR_FATAL, "could not start a consumer thread");
			goto fail;
		}
		pthread_setname_np(sc->thread, "consumer");
		sc->running = 1;
	}
	hc.addr = s->cfg.http_addr;
	hc.port = s->cfg.http_port;
	hc.threads = s->cfg.http_threads;
	hc.max_body = s->cfg.max_body;
	hc.ready = svc_ready;
	if (spec->starting != NULL && spec->starting(app, err) != 0) {
		rc = HC_ERR_FATAL;
		goto fail;
	}
	rc = http_server_start(&s->http, &hc, spec->routes, spec->nroutes, app, err);
	if (rc != 0)
		goto fail;
	log_info("%s listening on http://%s:%d", spec->name, s->cfg.http_addr,
	         http_server_port(s->http));
	return 0;
fail:
	svc_stop_flag = 1;
	svc_stop(s);
	return HC_ERR_FATAL;
}

void svc_wait(svc *s)
{
	(void)s;
	while (!svc_stop_flag)
		usleep(100 * 1000);
	log_info("stopping");
}

int svc_stop(svc *s)
{
	svc_stop_flag = 1;
	if (s->spec != NULL && s->spec->stopping != NULL && s->app != NULL)
		s->spec->stopping(s->app);
	http_server_stop(s->http);
	s->http = NULL;
	for (int i = 0; i < SVC_CONSUMERS_MAX; i++) {
		struct svc_consumer *sc = &s->consumers[i];

		if (sc->running)
			pthread_join(sc->thread, NULL);
		sc->running = 0;
		db_close(sc->conn);
		sc->conn = NULL;
	}
	bus_relay_stop(s->relay);
	s->relay = NULL;
	bus_free(s->bus);
	s->bus = NULL;
	db_pool_free(s->pool);
	s->pool = NULL;
	return s->exit_code;
}

int svc_admin_open_many(const svc_spec *spec, void *own_cfg, db_conn **out, size_t n, hc_err *err)
{
	svc s;
	size_t i;

	memset(&s, 0, sizeof(s));
	svc_init_spec(&s, spec);
	log_init(spec->name, HC_LOG_WARN);
	if (svc_load_config(&s, spec, own_cfg, err) != 0 || svc_migrate(&s, err) != 0)
		return HC_ERR_FATAL;
	for (i = 0; i < n; i++) {
		if (db_connect(&out[i], s.cfg.database_url, s.cfg.db_schema, s.tables, err) != 0) {
			while (i > 0)
				db_close(out[--i]);
			return hc_err_set(err, HC_ERR_FATAL, "%s", err->msg);
		}
	}
	return 0;
}

int svc_admin_open(const svc_spec *spec, void *own_cfg, db_conn **out, hc_err *err)
{
	return svc_admin_open_many(spec, own_cfg, out, 1, err);
}

int svc_main(int argc, char **argv, const svc_spec *spec, void *app, void *own_cfg)
{
	svc *s = app; /* every app struct begins with its svc */
	hc_err err;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		config_var vars[SVC_NVARS];

		svc_vars(spec, vars);
		printf("usage: hc-%s\nsettings (environment):\n", spec->name);
		config_print_help(vars, SVC_NVARS);
		if (spec->nvars > 0)
			config_print_help(spec->vars, spec->nvars);
		return 0;
	}
	/*
	 * Blocks of 128 KiB and more (a batch's JSON, a large result) are mapped
	 * and unmapped on their own.  glibc's default raises that threshold to
	 * the largest block freed so far, after which such blocks come from the
	 * heap and their pages stay resident: a service's memory then grew with
	 * its largest batches and did not come back.  Fixing it also fixes the
	 * trim threshold, which glibc would otherwise raise with it: up to 8 MiB
	 * free at the top of a heap stays, so a consumer's next batch reuses its
	 * pages instead of faulting them in again; the consumers give memory
	 * back with malloc_trim when they fall idle (common/bus/consumer.c).
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	hc_err_clear(&err);
	if (svc_start(s, spec, app, own_cfg, &err) != 0) {
		log_error("could not start: %s", err.msg);
		return 1;
	}
	svc_wait(s);
	return svc_stop(s);
}
