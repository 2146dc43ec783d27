/*
 * Bulk import of reference records: the core both the HTTP endpoint and the
 * `hc-matching import` command use, and the command itself.
 *
 * The command streams a CSV (header line naming the columns) or NDJSON file
 * of any size: records are parsed one at a time, ID numbers turned into
 * person keys at once, and stored MATCHING_BATCH_MAX per transaction with
 * the re-assessments they cause (or, past HC_REASSESS_SYNC_MAX people, with
 * those people queued for the service's re-assessment workers), by writer
 * threads while the next batches are read.  An invalid line is reported (line number
 * and field, never its content) and skipped; the exit status is then 1.
 * Importing the same file again inserts nothing (records are unique per
 * source and record id).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/log/log.h"
#include "services/matching/app.h"
#include "services/matching/domain/rules.h"
#include "services/matching/store.h"

int matching_import_rows(db_conn *tx, json_t *rows, const char *traceparent, long sync_max,
                         matching_import_counts *c, hc_err *err)
{
	char batch[HC_UUID_LEN + 1];
	matching_trigger t = {"import", batch, "matching", "rules", 0, traceparent};
	const json_t *values[1] = {rows};
	json_t *people = NULL;
	db_res *res = NULL;
	int rc;

	hc_uuid_v7(batch);
	rc = db_run_with_json(tx, "matching_records_insert", 1, values, &res, err);
	if (rc != 0)
		return rc;
	c->inserted += strtol(db_res_get(res, 0, 0), NULL, 10);
	people = json_loads(db_res_get(res, 0, 1), 0, NULL);
	db_res_free(res);
	if ((long)json_array_size(people) <= sync_max) {
		rc = matching_assess_many(tx, people, &t, &c->reassessed, err);
	} else {
		char *keys = json_dumps(people, JSON_COMPACT);
		const char *params[4] = {keys, t.kind, t.id, t.traceparent};

		if (keys == NULL)
			abort();
		rc = db_run(tx, "matching_reassess_queue", 4, params, NULL, err);
		free(keys);
		if (rc == 0) {
			c->queued += (long)json_array_size(people);
			log_info("%zu people queued for re-assessment after %s %s",
			         json_array_size(people), t.kind, t.id);
		}
	}
	json_decref(people);
	return rc;
}

/* ---- the command ---- */

typedef struct reader {
	FILE *f;
	int csv;
	long line;
	json_t *header; /* CSV column names */
	char *buf;
	size_t cap;
} reader;

/* Splits one CSV line (RFC 4180 quoting, no embedded newlines) into an array. */
static json_t *csv_split(const char *s)
{
	json_t *out = json_array();
	char *field = malloc(strlen(s) + 1);
	size_t n = 0;
	int quoted = 0;

	if (field == NULL)
		abort();
	for (;; s++) {
		if (quoted) {
			if (*s == '"' && s[1] == '"')
				field[n++] = *s++;
			else if (*s == '"')
				quoted = 0;
			else if (*s == '\0')
				break;
			else
				field[n++] = *s;
			continue;
		}
		if (*s == '"') {
			quoted = 1;
		} else if (*s == ',' || *s == '\0' || *s == '\n' || *s == '\r') {
			field[n] = '\0';
			json_array_append_new(out, json_string(field));
			n = 0;
			if (*s != ',')
				break;
		} else {
			field[n++] = *s;
		}
	}
	free(field);
	return out;
}

/* The next record as a JSON object, or NULL at the end; *bad set for a malformed line. */
static json_t *next_record(reader *r, int *bad)
{
	ssize_t len;

	*bad = 0;
	while ((len = getline(&r->buf, &r->cap, r->f)) >= 0) {
		json_t *rec, *cols;
		size_t i;

		r->line++;
		if (len == 0 || r->buf[0] == '\n' || (r->buf[0] == '\r' && r->buf[1] == '\n'))
			continue;
		if (!r->csv) {
			rec = json_loads(r->buf, JSON_REJECT_DUPLICATES, NULL);
			if (!json_is_object(rec)) {
				json_decref(rec);
				*bad = 1;
			}
			return *bad ? json_null() : rec;
		}
		cols = csv_split(r->buf);
		if (r->header == NULL) {
			r->header = cols;
			continue;
		}
		if (json_array_size(cols) != json_array_size(r->header)) {
			json_decref(cols);
			*bad = 1;
			return json_null();
		}
		rec = json_object();
		for (i = 0; i < json_array_size(cols); i++)
			if (json_string_length(json_array_get(cols, i)) > 0)
				json_object_set(rec,
				                json_string_value(json_array_get(r->header, i)),
				                json_array_get(cols, i));
		json_decref(cols);
		return rec;
	}
	return NULL;
}

static int flush(db_conn *conn, json_t *rows, long sync_max, matching_import_counts *counts,
                 hc_err *err)
{
	char tp[TRACEPARENT_LEN + 1];
	int rc, attempt;

	if (json_array_size(rows) == 0)
		return 0;
	traceparent_new(tp);
	for (attempt = 0;; attempt++) {
		matching_import_counts c = {0, 0, 0};

		rc = db_ensure(conn, err);
		if (rc == 0)
			rc = db_tx_begin(conn, err);
		if (rc == 0)
			rc = matching_import_rows(conn, rows, tp, sync_max, &c, err);
		if (rc == 0)
			rc = db_tx_commit(conn, err);
		if (rc == 0) {
			counts->inserted += c.inserted;
			counts->reassessed += c.reassessed;
			counts->queued += c.queued;
			break;
		}
		db_tx_rollback(conn);
		if (rc != HC_ERR_TRANSIENT || attempt >= 5)
			break;
	}
	json_array_clear(rows);
	return rc;
}

/*
 * The writers of an import: batches are parsed on the calling thread and
 * stored by IMPORT_WRITERS threads, each on its own connection, so that
 * reading and checking the next batches overlaps the database storing
 * earlier ones, and the database uses more than one core.  Batches are
 * taken in file order; at most IMPORT_QUEUE wait.  Two batches in flight
 * at once are independent but for a record repeated in both (the first to
 * commit keeps it) and people both re-assess: people are locked in one
 * order (matching_records_insert sorts them), and a deadlock between two
 * batches (a record repeated in both, in opposite orders) is retried like
 * any transient error.
 */
#define IMPORT_WRITERS 2
#define IMPORT_QUEUE   (2 * IMPORT_WRITERS)

typedef struct import_writer import_writer;
typedef struct import_thread {
	import_writer *w;
	pthread_t thread;
	db_conn *conn;
	matching_import_counts counts;
	hc_err err;
} import_thread;

struct import_writer {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	json_t *queue[IMPORT_QUEUE];
	long first_line[IMPORT_QUEUE]; /* of each waiting batch, for the report */
	size_t head, n;
	int done, rc;
	long failed_line, sync_max;
	hc_err err;
	import_thread threads[IMPORT_WRITERS];
};

static void *writer_main(void *arg)
{
	import_thread *t = arg;
	import_writer *w = t->w;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		json_t *rows;
		long line;
		int rc, failed;

		while (w->n == 0 && !w->done)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->n == 0)
			break;
		rows = w->queue[w->head];
		line = w->first_line[w->head];
		w->head = (w->head + 1) % IMPORT_QUEUE;
		w->n--;
		failed = w->rc != 0; /* after a failure the rest is only dropped */
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		rc = failed ? 0 : flush(t->conn, rows, w->sync_max, &t->counts, &t->err);
		json_decref(rows);
		pthread_mutex_lock(&w->mu);
		if (rc != 0 && (w->rc == 0 || line < w->failed_line)) {
			w->rc = rc;
			w->failed_line = line;
			w->err = t->err;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Hands a batch to the writers (waiting while the queue is full); returns their error so far. */
static int writer_push(import_writer *w, json_t *rows, long first_line)
{
	int rc;

	pthread_mutex_lock(&w->mu);
	while (w->n == IMPORT_QUEUE && w->rc == 0)
		pthread_cond_wait(&w->cv, &w->mu);
	rc = w->rc;
	if (rc == 0) {
		size_t tail = (w->head + w->n) % IMPORT_QUEUE;

		w->queue[tail] = rows;
		w->first_line[tail] = first_line;
		w->n++;
		pthread_cond_broadcast(&w->cv);
	} else {
		json_decref(rows);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* Stops taking batches once the queue is empty, waits for the writers, and frees what is left. */
static void writer_finish(import_writer *w, matching_import_counts *counts)
{
	size_t i;

	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < IMPORT_WRITERS; i++) {
		pthread_join(w->threads[i].thread, NULL);
		counts->inserted += w->threads[i].counts.inserted;
		counts->reassessed += w->threads[i].counts.reassessed;
		counts->queued += w->threads[i].counts.queued;
	}
}

static int import_file(db_conn **conns, const char *path, int csv, const matching_config *cfg,
                       matching_import_counts *counts, long *rejected)
{
	import_writer w = {.mu = PTHREAD_MUTEX_INITIALIZER,
	                   .cv = PTHREAD_COND_INITIALIZER,
	                   .sync_max = cfg->reassess_sync_max};
	reader r = {0};
	json_t *rows = json_array(), *rec;
	long first = 0;
	hc_err err;
	int bad, rc = 0;
	size_t i;

	hc_err_clear(&err);
	hc_err_clear(&w.err);
	r.f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	r.csv = csv;
	if (r.f == NULL) {
		fprintf(stderr, "hc-matching: %s: %s\n", path, strerror(errno));
		json_decref(rows);
		return 1;
	}
	for (i = 0; i < IMPORT_WRITERS; i++) {
		w.threads[i].w = &w;
		w.threads[i].conn = conns[i];
		hc_err_clear(&w.threads[i].err);
		if (pthread_create(&w.threads[i].thread, NULL, writer_main, &w.threads[i]) != 0)
			abort();
		pthread_setname_np(w.threads[i].thread, "import-writer");
	}
	while (rc == 0 && (rec = next_record(&r, &bad)) != NULL) {
		json_t *row = NULL;
		char where[32];

		snprintf(where, sizeof(where), "line %ld", r.line);
		if (bad)
			fprintf(stderr, "hc-matching: %s: %s: not a record\n", path, where);
		else if (record_parse(rec, "record", cfg->person_key_secret, &row, &err) != 0)
			fprintf(stderr, "hc-matching: %s: %s: %s\n", path, where, err.msg);
		if (row == NULL)
			(*rejected)++;
		else if (json_array_append_new(rows, row) == 0 && json_array_size(rows) == 1)
			first = r.line;
		json_decref(rec);
		if (json_array_size(rows) >= MATCHING_BATCH_MAX) {
			rc = writer_push(&w, rows, first);
			rows = json_array();
		}
	}
	if (rc == 0 && json_array_size(rows) > 0) {
		(void)writer_push(&w, rows, first);
		rows = NULL;
	}
	json_decref(rows);
	writer_finish(&w, counts);
	if (w.rc != 0)
		fprintf(stderr, "hc-matching: %s: stopped at the batch from line %ld: %s\n", path,
		        w.failed_line, w.err.msg);
	if (r.f != stdin)
		fclose(r.f);
	free(r.buf);
	json_decref(r.header);
	return w.rc != 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

int matching_import_command(int argc, char **argv, const svc_spec *spec, matching_config *cfg)
{
	const char *format = NULL;
	matching_import_counts counts = {0, 0, 0};
	long rejected = 0;
	int i = 2, failed = 0;
	db_conn *conns[IMPORT_WRITERS] = {NULL};
	size_t k;
	hc_err err;

	hc_err_clear(&err);
	if (argc > 3 && strcmp(argv[2], "--format") == 0) {
		format = argv[3];
		i = 4;
	}
	if (i >= argc ||
	    (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "ndjson") != 0)) {
		fprintf(stderr, "usage: hc-matching import [--format csv|ndjson] FILE... (- for "
		                "stdin)\n");
		return 2;
	}
	if (svc_admin_open_many(spec, cfg, conns, IMPORT_WRITERS, &err) != 0) {
		fprintf(stderr, "hc-matching: %s\n", err.msg);
		return 1;
	}
	for (; i < argc; i++) {
		int csv = format != NULL ? strcmp(format, "csv") == 0 : ends_with(argv[i], ".csv");

		failed |= import_file(conns, argv[i], csv, cfg, &counts, &rejected);
	}
	for (k = 0; k < IMPORT_WRITERS; k++)
		db_close(conns[k]);
	printf("imported %ld records, %ld people re-assessed, %ld people queued for "
	       "re-assessment, %ld lines rejected\n",
	       counts.inserted, counts.reassessed, counts.queued, rejected);
	return failed || rejected > 0;
}
