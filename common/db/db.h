/*
 * PostgreSQL access: connections, transactions, named prepared statements,
 * LISTEN/NOTIFY and migrations.  This is the only module that includes
 * libpq-fe.h; services see db_conn and db_res and nothing of libpq.
 *
 * Every SQL statement of a service lives in one table of db_stmt rows (its
 * store.c), prepared when a connection opens and run by name with text
 * parameters.  SQL is never assembled with sprintf.
 */
#ifndef HC_DB_DB_H
#define HC_DB_DB_H

#include <stddef.h>

#include <jansson.h>

#include "common/base/err.h"

/* SQL text rendering a timestamptz column as RFC 3339 UTC with microseconds. */
#define DB_RFC3339(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

typedef struct db_stmt {
	const char *name; /* e.g. "intake_application_insert" */
	const char *sql;  /* with $1..$n placeholders */
	int nparams;
} db_stmt;

/* A NULL-name-terminated statement table. */
typedef const db_stmt *db_stmt_table;

typedef struct db_conn db_conn;
typedef struct db_res db_res;

typedef struct db_migration {
	int version;      /* 1, 2, 3 ... applied in order, each once */
	const char *name; /* file name, for the record */
	const char *sql;  /* the whole file */
} db_migration;

/*
 * Opens a connection to url (libpq conninfo or URI), sets search_path to
 * schema, and prepares every statement of the NULL-terminated list of tables.
 * Returns 0 and a new connection in *out (free with db_close), or
 * HC_ERR_TRANSIENT when the server cannot be reached.
 */
int db_connect(db_conn **out, const char *url, const char *schema, const db_stmt_table *tables,
               hc_err *err);

/*
 * Replaces the connection's statement tables and prepares them (after the
 * session created what they refer to, such as temporary tables).  Returns 0
 * or an error kind.
 */
int db_prepare(db_conn *conn, const db_stmt_table *tables, hc_err *err);

/* Closes the connection; db_close(NULL) does nothing. */
void db_close(db_conn *conn);

/*
 * Makes sure the connection is usable, reconnecting (and re-preparing) when
 * it was lost.  Returns 0 or HC_ERR_TRANSIENT.
 */
int db_ensure(db_conn *conn, hc_err *err);

/*
 * Whether the connection's session is still the one it was (a transaction
 * left open or failed is rolled back); never reconnects.  For a caller whose
 * session holds state db_ensure would not restore (LISTEN, advisory locks).
 */
int db_session_alive(db_conn *conn);

/*
 * Runs the prepared statement `name` with nparams text parameters (NULL
 * entries are SQL NULL).  When res is not NULL it receives a new result to
 * free with db_res_free.  Errors: HC_ERR_TRANSIENT (connection lost,
 * serialization failure, deadlock, server shutting down or out of
 * resources), HC_ERR_CONFLICT (unique violation), HC_ERR_PERMANENT (the data
 * broke a rule: SQLSTATE classes 22 and 23), HC_ERR_FATAL (anything else: a
 * bug such as an unknown statement); err->sqlstate holds the code.
 */
int db_run(db_conn *conn, const char *name, int nparams, const char *const *params, db_res **res,
           hc_err *err);

/* Runs literal SQL without parameters (migrations, BEGIN, LISTEN). */
int db_exec(db_conn *conn, const char *sql, hc_err *err);

int db_tx_begin(db_conn *conn, hc_err *err);
int db_tx_commit(db_conn *conn, hc_err *err);
/* Rolls back; never fails visibly (a lost connection has rolled back anyway). */
void db_tx_rollback(db_conn *conn);

/* Runs `SELECT 1` with the connection.  Returns 0 or HC_ERR_TRANSIENT. */
int db_ping(db_conn *conn, hc_err *err);

/*
 * Marks conn as background work: its backend process gets CPU priority nice
 * (now and after every reconnect) when the server runs on this machine,
 * reached through its Unix socket; otherwise nothing changes.
 */
void db_set_background(db_conn *conn, int nice);

/*
 * Plans conn's statements without sequential scans where an index serves
 * (enable_seqscan off, now and after every reconnect), for a connection
 * that only works a queue table by its primary key (the outbox relay).  A
 * queue swings from empty to 100,000 rows faster than autovacuum analyses
 * it: planned from "empty" statistics, "ORDER BY id LIMIT n" became a sort
 * of the whole table and "id = ANY (...)" a scan of it, 0.3 s per batch of
 * 500 once the queue was long.  Not for a connection that also reads small
 * tables no index serves: those plans get far worse.  Returns 0 or an error
 * as db_exec.
 */
int db_avoid_seqscans(db_conn *conn, hc_err *err);

/*
 * LISTENs on the channel prefix || the connection's schema (the channel an
 * AFTER INSERT trigger of that schema notifies).  Returns 0 or an error as
 * db_exec.
 */
int db_listen_schema(db_conn *conn, const char *prefix, hc_err *err);

/*
 * Waits up to timeout_ms for a NOTIFY on a channel this connection LISTENs
 * to.  Returns 1 when one (or more) arrived, 0 on timeout, or
 * HC_ERR_TRANSIENT when the connection broke.
 */
int db_wait_notify(db_conn *conn, int timeout_ms, hc_err *err);

/*
 * Applies every migration of list[0..n) not yet recorded for component in
 * the schema's schema_migrations table, each in its own transaction, under an
 * advisory lock so that concurrent starts apply each exactly once.
 */
int db_migrate(db_conn *conn, const char *component, const db_migration *list, size_t n,
               hc_err *err);

/*
 * A one-dimensional text[] in PostgreSQL's binary array format, built in
 * place: a statement takes many rows as one such array per column (unnest)
 * with nothing escaped on our side and nothing parsed on the server's, where
 * a JSON document of the rows would escape every quote of a payload that is
 * JSON itself, and parse it back.
 */
typedef struct db_text_array {
	unsigned char *p;
	size_t len, cap;
	int n, nulls;
} db_text_array;

void db_text_array_init(db_text_array *a);
/* Appends s (len bytes), or SQL NULL when s is NULL. */
void db_text_array_add(db_text_array *a, const char *s, size_t len);
void db_text_array_free(db_text_array *a);

/*
 * db_run with the parameters arrays[0..n) (at most 8), each a text[] sent in
 * binary; the statement's placeholders must be typed text[].
 */
int db_run_text_arrays(db_conn *conn, const char *name, int n, db_text_array *const *arrays,
                       db_res **res, hc_err *err);

/*
 * Runs a statement whose first row's first column is a JSON document and
 * parses it into *out (new reference).  HC_ERR_NOT_FOUND ("not found", for
 * the caller to reword) when there is no row, or the cell is SQL NULL.
 */
int db_run_json(db_conn *conn, const char *name, int nparams, const char *const *params,
                json_t **out, hc_err *err);

/*
 * Runs a statement whose parameters are JSON documents: values[0..n) (at
 * most 4), each written compactly as its parameter.  As db_run otherwise.
 */
int db_run_with_json(db_conn *conn, const char *name, int n, const json_t *const *values,
                     db_res **res, hc_err *err);

int db_res_rows(const db_res *res);
/* The text of a cell; NULL for SQL NULL.  Borrowed from res. */
const char *db_res_get(const db_res *res, int row, int col);
/* Rows touched by an INSERT/UPDATE/DELETE. */
long db_res_affected(const db_res *res);
void db_res_free(db_res *res);

/*
 * A fixed set of connections shared by the HTTP worker threads: a thread
 * takes one for one request and gives it back.
 */
typedef struct db_pool db_pool;

int db_pool_new(db_pool **out, size_t size, const char *url, const char *schema,
                const db_stmt_table *tables, hc_err *err);
void db_pool_free(db_pool *pool);
/* Blocks until a connection is free; it has been checked with db_ensure. */
db_conn *db_pool_take(db_pool *pool);
void db_pool_give(db_pool *pool, db_conn *conn);

#endif
