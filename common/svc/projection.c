/*
 * Rebuilding a projection from the log; see projection.h.
 *
 * The twins are temporary tables named like the live ones: a session's
 * temporary schema comes first in its search path, so the projection's
 * statements (which name tables without a schema) write into the twins,
 * while the comparison and the swap name the live tables by schema.  The
 * service's own role does it all; nothing outside its schema is touched.
 */
#include "common/svc/projection.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 2000

typedef struct rebuild {
	const projection *p;
	db_conn *conn;
	projection_report *rep;
	long in_batch;
	int batching; /* commit every BATCH records (not while the live tables are locked) */
} rebuild;

static int on_record(void *ctx, const bus_record *r, hc_err *err)
{
	rebuild *b = ctx;
	cloudevent ev;
	hc_err e;
	int rc;

	hc_err_clear(&e);
	if (r->value == NULL || cloudevent_decode(&ev, r->value, r->len, &e) != 0) {
		b->rep->undecodable++; /* dead-lettered by the live consumer too */
		return 0;
	}
	ev.log_ms = r->timestamp_ms;
	rc = db_exec(b->conn, "SAVEPOINT record", err);
	if (rc == 0) {
		rc = b->p->apply(b->conn, &ev, &e);
		if (rc == 0) {
			b->rep->events++;
			rc = db_exec(b->conn, "RELEASE SAVEPOINT record", err);
		} else if (rc == HC_ERR_PERMANENT || rc == HC_ERR_CONFLICT) {
			b->rep->refused++;
			rc = db_exec(b->conn, "ROLLBACK TO SAVEPOINT record", err);
		} else {
			hc_err_set(err, rc, "%s[%d]@%lld: %s", r->topic, (int)r->partition,
			           (long long)r->offset, e.msg);
		}
	}
	cloudevent_cleanup(&ev);
	if (rc == 0 && b->batching && ++b->in_batch == BATCH) {
		b->in_batch = 0;
		rc = db_tx_commit(b->conn, err);
		if (rc == 0)
			rc = db_tx_begin(b->conn, err);
	}
	return rc;
}

/* One topic's positions in a pass. */
typedef struct topic_pass {
	bus_position *ends; /* fixed before the pass reads anything */
	size_t nends;
	bus_position *pos; /* where the pass stopped */
	size_t npos;
} topic_pass;

/*
 * Fixes the end of every topic, the last topic first: an event on a later
 * topic (a decision) follows its cause on an earlier one (the submission),
 * so when the causes' ends are taken after the effects' ends, no effect is
 * read without its cause.
 */
static int fix_ends(const bus_reader_config *base, const char *const *topics, size_t nt,
                    topic_pass *tp, hc_err *err)
{
	for (size_t k = nt; k-- > 0;) {
		bus_reader_config cfg = *base;
		int rc;

		cfg.topics = &topics[k];
		cfg.ntopics = 1;
		cfg.start = NULL;
		cfg.nstart = 0;
		free(tp[k].ends);
		rc = bus_positions(&cfg, &tp[k].ends, &tp[k].nends, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Reads topic after topic (each from where tp says, to its fixed end) and applies them. */
static int read_pass(rebuild *b, const bus_reader_config *base, const char *const *topics,
                     size_t nt, topic_pass *tp, volatile sig_atomic_t *stop, hc_err *err)
{
	int rc = fix_ends(base, topics, nt, tp, err);

	for (size_t k = 0; k < nt && rc == 0; k++) {
		bus_reader_config cfg = *base;
		bus_position *pos = NULL;
		size_t npos = 0;

		cfg.topics = &topics[k];
		cfg.ntopics = 1;
		cfg.ends = tp[k].ends;
		cfg.nends = tp[k].nends;
		for (size_t i = 0; i < tp[k].npos; i++)
			tp[k].pos[i].start = tp[k].pos[i].next;
		cfg.start = tp[k].pos;
		cfg.nstart = tp[k].npos;
		rc = bus_read(&cfg, on_record, b, stop, &pos, &npos, err);
		free(tp[k].pos);
		tp[k].pos = pos;
		tp[k].npos = npos;
		if (rc == 0 && stop != NULL && *stop)
			rc = hc_err_set(err, HC_ERR_FATAL, "interrupted");
	}
	return rc;
}

/* The comparison statements, per table: rows live, rows rebuilt, differing rows, a sample. */
static db_stmt *compare_statements(const projection *p, size_t n)
{
	db_stmt *s = calloc(4 * n + 1, sizeof(*s));
	char *sql;

	if (s == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		const char *t = p->tables[i], *sc = p->schema;
		char *name;

		for (int k = 0; k < 4; k++) {
			if (asprintf(&name, "projection_cmp_%zu_%d", i, k) < 0)
				abort();
			s[4 * i + k].name = name;
		}
		if (asprintf(&sql, "SELECT count(*) FROM %s.%s", sc, t) < 0)
			abort();
		s[4 * i].sql = sql;
		if (asprintf(&sql, "SELECT count(*) FROM pg_temp.%s", t) < 0)
			abort();
		s[4 * i + 1].sql = sql;
		if (asprintf(&sql,
		             "SELECT count(*) FROM ((TABLE %s.%s EXCEPT ALL TABLE pg_temp.%s)"
		             " UNION ALL (TABLE pg_temp.%s EXCEPT ALL TABLE %s.%s)) d",
		             sc, t, t, t, sc, t) < 0)
			abort();
		s[4 * i + 2].sql = sql;
		if (asprintf(&sql,
		             "SELECT 'live: ' || row_to_json(d)::text FROM"
		             " (TABLE %s.%s EXCEPT ALL TABLE pg_temp.%s) d UNION ALL"
		             " SELECT 'rebuilt: ' || row_to_json(d)::text FROM"
		             " (TABLE pg_temp.%s EXCEPT ALL TABLE %s.%s) d LIMIT 1",
		             sc, t, t, t, sc, t) < 0)
			abort();
		s[4 * i + 3].sql = sql;
	}
	return s;
}

static void free_statements(db_stmt *s)
{
	for (db_stmt *x = s; x != NULL && x->name != NULL; x++) {
		free((char *)x->name);
		free((char *)x->sql);
	}
	free(s);
}

static long count_of(db_conn *conn, const char *stmt, int *rc, hc_err *err)
{
	db_res *res = NULL;
	long v = -1;

	if (*rc == 0)
		*rc = db_run(conn, stmt, 0, NULL, &res, err);
	if (*rc == 0)
		v = atol(db_res_get(res, 0, 0));
	db_res_free(res);
	return v;
}

static int compare(const projection *p, db_conn *conn, size_t n, projection_report *rep,
                   hc_err *err)
{
	char name[48];
	int rc = 0;

	rep->ntables = n;
	for (size_t i = 0; i < n && rc == 0; i++) {
		projection_table_report *t = &rep->tables[i];

		snprintf(t->table, sizeof(t->table), "%s", p->tables[i]);
		snprintf(name, sizeof(name), "projection_cmp_%zu_0", i);
		t->live_rows = count_of(conn, name, &rc, err);
		snprintf(name, sizeof(name), "projection_cmp_%zu_1", i);
		t->rebuilt_rows = count_of(conn, name, &rc, err);
		snprintf(name, sizeof(name), "projection_cmp_%zu_2", i);
		t->differing = count_of(conn, name, &rc, err);
		if (rc == 0 && t->differing > 0 && rep->sample[0] == '\0') {
			db_res *res = NULL;

			snprintf(name, sizeof(name), "projection_cmp_%zu_3", i);
			rc = db_run(conn, name, 0, NULL, &res, err);
			if (rc == 0 && db_res_rows(res) > 0)
				snprintf(rep->sample, sizeof(rep->sample), "%s: %s", p->tables[i],
				         db_res_get(res, 0, 0));
			db_res_free(res);
		}
	}
	return rc;
}

/* Locks the live tables, applies what arrived since the first pass, replaces the live content. */
static int swap_in(rebuild *b, const bus_reader_config *base, const char *const *topics, size_t nt,
                   topic_pass *tp, size_t n, volatile sig_atomic_t *stop, hc_err *err)
{
	const projection *p = b->p;
	char sql[512];
	int rc = db_tx_begin(b->conn, err);

	b->batching = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(sql, sizeof(sql), "LOCK TABLE %s.%s IN EXCLUSIVE MODE", p->schema,
		         p->tables[i]);
		rc = db_exec(b->conn, sql, err);
	}
	if (rc == 0)
		rc = read_pass(b, base, topics, nt, tp, stop, err);
	for (size_t i = n; i-- > 0 && rc == 0;) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s.%s", p->schema, p->tables[i]);
		rc = db_exec(b->conn, sql, err);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(sql, sizeof(sql), "INSERT INTO %s.%s SELECT * FROM pg_temp.%s", p->schema,
		         p->tables[i], p->tables[i]);
		rc = db_exec(b->conn, sql, err);
	}
	if (rc == 0)
		return db_tx_commit(b->conn, err);
	db_tx_rollback(b->conn);
	return rc;
}

int projection_rebuild(const projection *p, const char *db_url, const bus_reader_config *reader,
                       int swap, volatile sig_atomic_t *stop, projection_report *rep, hc_err *err)
{
	const char *topics[16];
	bus_reader_config cfg = *reader;
	topic_pass tp[16];
	db_stmt_table tables[3] = {p->statements, NULL, NULL};
	db_stmt *cmp;
	db_conn *conn = NULL;
	rebuild b = {p, NULL, rep, 0, 1};
	size_t n = 0, nt = 0;
	char sql[512];
	int rc;

	memset(rep, 0, sizeof(*rep));
	memset(tp, 0, sizeof(tp));
	while (p->tables[n] != NULL)
		n++;
	while (nt < 16 && p->topics[nt] != NULL) {
		topics[nt] = p->topics[nt];
		nt++;
	}
	if (n > sizeof(rep->tables) / sizeof(rep->tables[0]))
		return hc_err_set(err, HC_ERR_FATAL, "too many tables in %s", p->name);
	if (p->configure != NULL)
		p->configure();
	cmp = compare_statements(p, n);
	tables[1] = cmp;
	rc = db_connect(&conn, db_url, p->schema, NULL, err);
	for (size_t i = 0; i < n && rc == 0; i++) {
		snprintf(sql, sizeof(sql),
		         "CREATE TEMP TABLE %s (LIKE %s.%s INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
		         " INCLUDING INDEXES)",
		         p->tables[i], p->schema, p->tables[i]);
		rc = db_exec(conn, sql, err);
	}
	if (rc == 0)
		rc = db_prepare(conn, tables, err);
	b.conn = conn;
	cfg.from_ms = -1;
	cfg.to_ms = -1;
	cfg.group_id = NULL;
	cfg.key = NULL;
	cfg.flush = NULL;
	if (rc == 0)
		rc = db_tx_begin(conn, err);
	if (rc == 0) {
		rc = read_pass(&b, &cfg, topics, nt, tp, stop, err);
		if (rc == 0)
			rc = db_tx_commit(conn, err);
		else
			db_tx_rollback(conn);
	}
	cfg.progress = NULL;
	if (rc == 0 && swap)
		rc = swap_in(&b, &cfg, topics, nt, tp, n, stop, err);
	if (rc == 0)
		rc = compare(p, conn, n, rep, err);
	for (size_t k = 0; k < nt; k++) {
		free(tp[k].ends);
		free(tp[k].pos);
	}
	db_close(conn);
	free_statements(cmp);
	return rc;
}
