/*
 * PostgreSQL connections, statements and transactions over libpq; see db.h.
 */
#include "common/db/db.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libpq-fe.h>

#include "common/log/log.h"

struct db_conn {
	PGconn *pg;
	char *url;
	char *schema;
	const db_stmt_table *tables;
	int nice; /* the backend's CPU priority, when it runs on this machine; 0: left alone */
	int no_seqscans; /* db_avoid_seqscans: enable_seqscan off */
};

struct db_res {
	PGresult *pg;
};

/* Classifies a failed result or connection into an hc_err kind. */
static int db_fail(db_conn *conn, PGresult *r, const char *what, hc_err *err)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int kind = HC_ERR_FATAL;

	if (msg == NULL)
		msg = PQerrorMessage(conn->pg);
	if (PQstatus(conn->pg) != CONNECTION_OK || state == NULL)
		kind = HC_ERR_TRANSIENT;
	else if (strcmp(state, "23505") == 0)
		kind = HC_ERR_CONFLICT;
	else if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
		kind = HC_ERR_PERMANENT; /* the data broke a rule: refuse or dead-letter it */
	else if (strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 ||
	         strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	         strncmp(state, "53", 2) == 0 || strcmp(state, "55P03") == 0)
		kind = HC_ERR_TRANSIENT;
	/* Anything else (undefined statement, syntax, permissions) is our bug: fatal. */
	hc_err_set(err, kind, "could not %s: %.180s", what, msg);
	if (err != NULL) {
		char *nl = strchr(err->msg, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (state != NULL)
			memcpy(err->sqlstate, state, 5);
	}
	return kind;
}

/* Sets the search path and prepares every statement; used after (re)connecting. */
/*
 * Gives the connection's backend process conn->nice, when the server is on
 * this machine (reached through its Unix socket) and the process under that
 * pid is a postgres backend; anything else (a remote server, no permission)
 * leaves it as it is.
 */
static void db_apply_nice(db_conn *conn)
{
	const char *host = PQhost(conn->pg);
	char path[64], comm[32] = "";
	PGresult *r;
	long pid = 0;
	FILE *f;

	if (conn->nice == 0 || host == NULL || host[0] != '/')
		return;
	r = PQexec(conn->pg, "SELECT pg_backend_pid()");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		pid = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(comm, sizeof(comm), f) != NULL && strncmp(comm, "postgres", 8) == 0)
		(void)setpriority(PRIO_PROCESS, (id_t)pid, conn->nice);
	fclose(f);
}

void db_set_background(db_conn *conn, int nice)
{
	conn->nice = nice;
	db_apply_nice(conn);
}

#define NO_SEQSCANS "SET enable_seqscan = off"

int db_avoid_seqscans(db_conn *conn, hc_err *err)
{
	conn->no_seqscans = 1;
	return db_exec(conn, NO_SEQSCANS, err);
}

static int db_session_setup(db_conn *conn, hc_err *err)
{
	const char *params[1] = {conn->schema};
	const db_stmt_table *t;
	PGresult *r;

	r = PQexecParams(conn->pg, "SELECT set_config('search_path', $1, false)", 1, NULL, params,
	                 NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		int rc = db_fail(conn, r, "set search_path", err);

		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (conn->no_seqscans) { /* db_avoid_seqscans, again after a reconnect */
		int rc = db_exec(conn, NO_SEQSCANS, err);

		if (rc != 0)
			return rc;
	}
	for (t = conn->tables; t != NULL && *t != NULL; t++) {
		const db_stmt *s;

		for (s = *t; s->name != NULL; s++) {
			r = PQprepare(conn->pg, s->name, s->sql, s->nparams, NULL);
			if (PQresultStatus(r) != PGRES_COMMAND_OK) {
				char what[96];
				int rc;

				snprintf(what, sizeof(what), "prepare %s", s->name);
				rc = db_fail(conn, r, what, err);
				PQclear(r);
				return rc;
			}
			PQclear(r);
		}
	}
	return 0;
}

int db_connect(db_conn **out, const char *url, const char *schema, const db_stmt_table *tables,
               hc_err *err)
{
	db_conn *conn = calloc(1, sizeof(*conn));
	int rc;

	if (conn == NULL)
		abort();
	conn->url = strdup(url);
	conn->schema = strdup(schema);
	conn->tables = tables;
	if (conn->url == NULL || conn->schema == NULL)
		abort();
	conn->pg = PQconnectdb(url);
	if (PQstatus(conn->pg) != CONNECTION_OK) {
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "could not connect to database: %.200s",
		                PQerrorMessage(conn->pg));
		db_close(conn);
		return rc;
	}
	rc = db_session_setup(conn, err);
	if (rc != 0) {
		db_close(conn);
		return rc;
	}
	*out = conn;
	return 0;
}

int db_prepare(db_conn *conn, const db_stmt_table *tables, hc_err *err)
{
	conn->tables = tables;
	return db_session_setup(conn, err);
}

void db_close(db_conn *conn)
{
	if (conn == NULL)
		return;
	PQfinish(conn->pg);
	free(conn->url);
	free(conn->schema);
	free(conn);
}

int db_ensure(db_conn *conn, hc_err *err)
{
	if (PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
		return 0;
	if (PQstatus(conn->pg) == CONNECTION_OK) {
		/* A caller left a transaction open or failed: roll it back. */
		db_tx_rollback(conn);
		if (PQtransactionStatus(conn->pg) == PQTRANS_IDLE)
			return 0;
	}
	PQreset(conn->pg);
	if (PQstatus(conn->pg) != CONNECTION_OK)
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not reconnect to database: %.200s",
		                  PQerrorMessage(conn->pg));
	log_info("reconnected to database");
	db_apply_nice(conn);
	return db_session_setup(conn, err);
}

int db_session_alive(db_conn *conn)
{
	db_tx_rollback(conn);
	return PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) == PQTRANS_IDLE;
}

/* PQexecPrepared, its failure classified (db_fail), its result kept in *res when asked. */
static int run_prepared(db_conn *conn, const char *name, int nparams, const char *const *params,
                        const int *lengths, const int *formats, db_res **res, hc_err *err)
{
	PGresult *r = PQexecPrepared(conn->pg, name, nparams, params, lengths, formats, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		char what[96];
		int rc;

		snprintf(what, sizeof(what), "run %s", name);
		rc = db_fail(conn, r, what, err);
		PQclear(r);
		return rc;
	}
	if (res == NULL) {
		PQclear(r);
		return 0;
	}
	*res = malloc(sizeof(**res));
	if (*res == NULL)
		abort();
	(*res)->pg = r;
	return 0;
}

int db_run(db_conn *conn, const char *name, int nparams, const char *const *params, db_res **res,
           hc_err *err)
{
	return run_prepared(conn, name, nparams, params, NULL, NULL, res, err);
}

/* the binary array header: ndim, has-null flag, element type, one dimension's size and base */
#define ARRAY_HEADER 20
#define TEXT_OID     25

static void array_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void array_reserve(db_text_array *a, size_t more)
{
	if (a->len + more <= a->cap)
		return;
	a->cap = (a->len + more) * 2;
	a->p = realloc(a->p, a->cap);
	if (a->p == NULL)
		abort();
}

void db_text_array_init(db_text_array *a)
{
	memset(a, 0, sizeof(*a));
	array_reserve(a, 4096);
	a->len = ARRAY_HEADER;
}

void db_text_array_add(db_text_array *a, const char *s, size_t len)
{
	assert(len <= 0x3fffffff);
	array_reserve(a, 4 + (s != NULL ? len : 0));
	array_put32(a->p + a->len, s != NULL ? (uint32_t)len : 0xffffffffu); /* -1: NULL */
	a->len += 4;
	if (s != NULL) {
		memcpy(a->p + a->len, s, len);
		a->len += len;
	} else {
		a->nulls = 1;
	}
	a->n++;
}

void db_text_array_free(db_text_array *a)
{
	free(a->p);
	memset(a, 0, sizeof(*a));
}

int db_run_text_arrays(db_conn *conn, const char *name, int n, db_text_array *const *arrays,
                       db_res **res, hc_err *err)
{
	const char *values[8];
	int lengths[8], formats[8], i;

	assert(n > 0 && n <= 8);
	for (i = 0; i < n; i++) {
		db_text_array *a = arrays[i];

		if (a->n == 0) { /* an empty array has no dimension */
			array_put32(a->p, 0);
			array_put32(a->p + 4, 0);
			array_put32(a->p + 8, TEXT_OID);
			lengths[i] = 12;
		} else {
			array_put32(a->p, 1);
			array_put32(a->p + 4, (uint32_t)a->nulls);
			array_put32(a->p + 8, TEXT_OID);
			array_put32(a->p + 12, (uint32_t)a->n);
			array_put32(a->p + 16, 1);
			if (a->len > 0x7fffffff)
				return hc_err_set(err, HC_ERR_PERMANENT,
				                  "run %s: an array of %zu bytes", name, a->len);
			lengths[i] = (int)a->len;
		}
		values[i] = (const char *)a->p;
		formats[i] = 1;
	}
	return run_prepared(conn, name, n, values, lengths, formats, res, err);
}

int db_exec(db_conn *conn, const char *sql, hc_err *err)
{
	PGresult *r = PQexec(conn->pg, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = db_fail(conn, r, "run statement", err);
	PQclear(r);
	return rc;
}

int db_tx_begin(db_conn *conn, hc_err *err)
{
	return db_exec(conn, "BEGIN", err);
}

int db_tx_commit(db_conn *conn, hc_err *err)
{
	PGresult *r = PQexec(conn->pg, "COMMIT");
	int rc = 0;

	/*
	 * COMMIT of a failed transaction answers COMMAND_OK with tag ROLLBACK;
	 * treat that as the failure it is.
	 */
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		rc = db_fail(conn, r, "commit", err);
	else if (strcmp(PQcmdStatus(r), "ROLLBACK") == 0)
		rc = hc_err_set(err, HC_ERR_PERMANENT, "could not commit: transaction was aborted");
	PQclear(r);
	return rc;
}

void db_tx_rollback(db_conn *conn)
{
	if (PQstatus(conn->pg) == CONNECTION_OK && PQtransactionStatus(conn->pg) != PQTRANS_IDLE)
		PQclear(PQexec(conn->pg, "ROLLBACK"));
}

int db_ping(db_conn *conn, hc_err *err)
{
	int rc = db_ensure(conn, err);

	if (rc != 0)
		return rc;
	rc = db_exec(conn, "SELECT 1", err);
	return rc == 0 ? 0 : HC_ERR_TRANSIENT;
}

/* Reads what arrived; returns 1 when notifications were among it, 0 if not, or an error. */
static int db_drain_notifies(db_conn *conn, hc_err *err)
{
	PGnotify *n;
	int got = 0;

	if (PQconsumeInput(conn->pg) == 0)
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not read notifications: %.200s",
		                  PQerrorMessage(conn->pg));
	while ((n = PQnotifies(conn->pg)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

int db_listen_schema(db_conn *conn, const char *prefix, hc_err *err)
{
	char sql[160];

	assert(strlen(prefix) < 40 &&
	       strspn(prefix, "abcdefghijklmnopqrstuvwxyz_") == strlen(prefix));
	snprintf(sql, sizeof(sql),
	         "DO $$ BEGIN EXECUTE format('LISTEN %%I', '%s' || current_schema()); END $$",
	         prefix);
	return db_exec(conn, sql, err);
}

int db_wait_notify(db_conn *conn, int timeout_ms, hc_err *err)
{
	struct pollfd pfd;
	int got = db_drain_notifies(conn, err);

	if (got != 0)
		return got;
	pfd.fd = PQsocket(conn->pg);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return hc_err_set(err, HC_ERR_TRANSIENT,
		                  "could not wait for notifications: no socket");
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return hc_err_set(err, HC_ERR_TRANSIENT,
		                  "could not wait for notifications: poll failed");
	return db_drain_notifies(conn, err);
}

int db_res_rows(const db_res *res)
{
	return PQntuples(res->pg);
}

const char *db_res_get(const db_res *res, int row, int col)
{
	assert(row < PQntuples(res->pg) && col < PQnfields(res->pg));
	if (PQgetisnull(res->pg, row, col))
		return NULL;
	return PQgetvalue(res->pg, row, col);
}

long db_res_affected(const db_res *res)
{
	const char *n = PQcmdTuples(res->pg);

	return n[0] ? strtol(n, NULL, 10) : 0;
}

void db_res_free(db_res *res)
{
	if (res == NULL)
		return;
	PQclear(res->pg);
	free(res);
}

int db_run_with_json(db_conn *conn, const char *name, int n, const json_t *const *values,
                     db_res **res, hc_err *err)
{
	char *texts[4] = {NULL, NULL, NULL, NULL};
	int i, rc;

	assert(n >= 1 && n <= 4);
	for (i = 0; i < n; i++) {
		texts[i] = json_dumps(values[i], JSON_COMPACT | JSON_ENCODE_ANY);
		if (texts[i] == NULL)
			abort();
	}
	rc = db_run(conn, name, n, (const char *const *)texts, res, err);
	for (i = 0; i < n; i++)
		free(texts[i]);
	return rc;
}

int db_run_json(db_conn *conn, const char *name, int nparams, const char *const *params,
                json_t **out, hc_err *err)
{
	db_res *res = NULL;
	int rc;

	*out = NULL;
	rc = db_run(conn, name, nparams, params, &res, err);
	if (rc != 0)
		return rc;
	if (db_res_rows(res) > 0 && db_res_get(res, 0, 0) != NULL)
		*out = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	return *out != NULL ? 0 : hc_err_set(err, HC_ERR_NOT_FOUND, "not found");
}
