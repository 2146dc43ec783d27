/*
 * hc-replay: the event log for analysts, without side effects.
 *
 *   hc-replay [read] [options]          records as NDJSON or CSV
 *   hc-replay as-of --key KEY --at TIME  a person's colour at TIME, from the log alone
 *   hc-replay project NAME --check|--rebuild   (see replay_project.c)
 *
 * Reads partitions by assignment (no service's group is joined, nothing is
 * produced, no database is touched by `read` and `as-of`); the end of each
 * partition is fixed when the read starts.  Options of `read`:
 *
 *   --topic T        a topic (unprefixed; repeatable; default: every platform topic)
 *   --from TIME      records at or after TIME (ISO 8601, or @EPOCH_MS)
 *   --to TIME        records before TIME
 *   --offset T:P:O   start partition P of T at offset O (repeatable)
 *   --type TYPE      only this event type (repeatable)
 *   --county CODE    only records whose county header is CODE
 *   --key KEY        only records keyed KEY (reads only its partition)
 *   --format F       ndjson (default) or csv
 *   --output FILE    instead of stdout; --append adds to it
 *   --group G        commit positions to the replay's own group G; a later
 *                    run with the same group resumes where this one stopped
 *   --progress       a progress bar on stderr (default when stderr is a terminal)
 *   --quiet          none
 *
 * Brokers and topic prefix come from HC_KAFKA_BROKERS and
 * HC_KAFKA_TOPIC_PREFIX.  Ctrl-C stops cleanly: output flushed, positions
 * committed (with --group), and the positions printed to stderr.  Exit
 * status 0 when the range was read to its end, 1 on error, 2 on usage, 130
 * after an interrupt.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/base/rfc3339.h"
#include "common/bus/bus.h"
#include "common/jspec/jspec.h"
#include "common/event/catalog.h"
#include "services/admin/replay.h"

static const char *const all_topics[] = {
    TOPIC_EMPLOYER_APPLICATION,
    TOPIC_REVIEW_DECISION,
    TOPIC_DECLARATION,
    TOPIC_CORRECTION,
    TOPIC_ASSESSMENT,
    TOPIC_CERTIFICATE,
    TOPIC_VEHICLE_PASS,
    TOPIC_CODE,
    TOPIC_SCAN,
};

#define MAX_LIST 64

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

typedef struct replay {
	FILE *out;
	int csv;
	const char *types[MAX_LIST];
	size_t ntypes;
	const char *county;
	const char *key;
	int progress; /* 1: show it; 2: shown complete */
	struct timespec started, shown;
	int64_t written;
	char *line; /* output buffer: lines accumulate, written out past OUT_FLUSH */
	size_t len, cap;
	int64_t ts_second;  /* the second ts_prefix formats */
	char ts_prefix[48]; /* "YYYY-MM-DDTHH:MM:SS." */
} replay;

#define OUT_FLUSH (1u << 20)

int64_t replay_parse_us(const char *s)
{
	if (s[0] == '@') {
		char *end;
		long long v = strtoll(s + 1, &end, 10);

		return *end == '\0' && end != s + 1 && v >= 0 ? v * 1000 : -1;
	}
	return hc_rfc3339_us(s);
}

/*
 * 1 when buf[0..n) is one JSON value (RFC 8259 grammar, strings' UTF-8 not
 * checked): records that are not are written escaped rather than verbatim, so
 * every output line stays valid NDJSON without parsing every record.
 */

/* Room for need more bytes after r->len. */
static void grow(replay *r, size_t need)
{
	if (r->len + need <= r->cap)
		return;
	r->cap = (r->len + need) * 2;
	r->line = realloc(r->line, r->cap);
	if (r->line == NULL)
		abort();
}

static void out_flush(replay *r)
{
	if (r->len > 0)
		fwrite(r->line, 1, r->len, r->out);
	r->len = 0;
}

/* Appends the decimal digits of v. */
static size_t put_u64(char *o, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, j;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	for (j = 0; j < n; j++)
		o[j] = tmp[n - 1 - j];
	return n;
}

static size_t put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return n;
}

/* Appends s[0..n) as the body of a JSON string (quotes not included). */
static size_t put_json_text(char *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t j = 0;

	for (j = 0; j < n && (unsigned char)s[j] >= 0x20 && (unsigned char)s[j] < 0x7f &&
	            s[j] != '"' && s[j] != '\\';
	     j++)
		; /* the usual key (hex, a UUID) needs no escape: copied at once */
	if (j == n) {
		memcpy(o, s, n);
		return n;
	}
	j = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			o[j++] = '\\';
			o[j++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o[j++] = '\\';
			o[j++] = 'u';
			o[j++] = '0';
			o[j++] = '0';
			o[j++] = hex[c >> 4];
			o[j++] = hex[c & 15];
		} else {
			o[j++] = (char)c;
		}
	}
	return j;
}

/* Appends s[0..n) as one CSV field, quoted. */
static size_t put_csv(char *o, const char *s, size_t n)
{
	size_t j = 0;

	o[j++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			o[j++] = '"';
		o[j++] = s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
	}
	o[j++] = '"';
	return j;
}

/* The record's timestamp as RFC 3339 UTC with milliseconds (24 bytes); the date is formatted once a
 * second. */
static size_t put_time(replay *r, char *o, int64_t ms)
{
	int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
	int frac = (int)(ms - sec * 1000);

	if (sec != r->ts_second || r->ts_prefix[0] == '\0') {
		time_t t = (time_t)sec;
		struct tm tm;

		gmtime_r(&t, &tm);
		snprintf(r->ts_prefix, sizeof(r->ts_prefix), "%04d-%02d-%02dT%02d:%02d:%02d.",
		         (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100, tm.tm_mday % 100,
		         tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100);
		r->ts_second = sec;
	}
	memcpy(o, r->ts_prefix, 20);
	o[20] = (char)('0' + frac / 100);
	o[21] = (char)('0' + frac / 10 % 10);
	o[22] = (char)('0' + frac % 10);
	o[23] = 'Z';
	return 24;
}

static int on_record(void *ctx, const bus_record *rec, hc_err *err)
{
	replay *r = ctx;
	size_t i;
	char *o;
	int valid;

	(void)err;
	if (r->ntypes > 0) {
		for (i = 0; i < r->ntypes && strcmp(r->types[i], rec->type) != 0; i++)
			;
		if (i == r->ntypes)
			return 0;
	}
	if (r->county != NULL && strcmp(r->county, rec->county) != 0)
		return 0;
	if (r->key != NULL && (rec->key == NULL || rec->keylen != strlen(r->key) ||
	                       memcmp(rec->key, r->key, rec->keylen) != 0))
		return 0;
	grow(r, 512 + strlen(rec->topic) + 6 * (rec->len + rec->keylen) + strlen(rec->type) +
	            strlen(rec->county) + strlen(rec->id));
	o = r->line + r->len;
	valid = rec->value != NULL && jspec_json_valid(rec->value, rec->len);
	if (r->csv) {
		o += put_str(o, rec->topic);
		*o++ = ',';
		o += put_u64(o, (unsigned long long)rec->partition);
		*o++ = ',';
		o += put_u64(o, (unsigned long long)rec->offset);
		*o++ = ',';
		o += put_time(r, o, rec->timestamp_ms);
		*o++ = ',';
		o += put_csv(o, rec->key ? rec->key : "", rec->key ? rec->keylen : 0);
		*o++ = ',';
		o += put_str(o, rec->id);
		*o++ = ',';
		o += put_str(o, rec->type);
		*o++ = ',';
		o += put_str(o, rec->county);
		*o++ = ',';
		o += put_csv(o, rec->value ? rec->value : "", rec->value ? rec->len : 0);
	} else {
		o += put_str(o, "{\"topic\":\"");
		o += put_str(o, rec->topic);
		o += put_str(o, "\",\"partition\":");
		o += put_u64(o, (unsigned long long)rec->partition);
		o += put_str(o, ",\"offset\":");
		o += put_u64(o, (unsigned long long)rec->offset);
		o += put_str(o, ",\"timestamp\":\"");
		o += put_time(r, o, rec->timestamp_ms);
		o += put_str(o, "\",\"key\":");
		if (rec->key == NULL) {
			o += put_str(o, "null");
		} else {
			*o++ = '"';
			o += put_json_text(o, rec->key, rec->keylen);
			*o++ = '"';
		}
		if (valid) {
			o += put_str(o, ",\"event\":");
			memcpy(o, rec->value, rec->len);
			/* a valid JSON value: raw newlines in it can only be whitespace */
			for (char *nl = o;
			     (nl = memchr(nl, '\n', rec->len - (size_t)(nl - o))) != NULL;)
				*nl = ' ';
			for (char *cr = o;
			     (cr = memchr(cr, '\r', rec->len - (size_t)(cr - o))) != NULL;)
				*cr = ' ';
			o += rec->len;
		} else {
			o += put_str(o, ",\"invalid\":\"");
			o += put_json_text(o, rec->value ? rec->value : "",
			                   rec->value ? rec->len : 0);
			*o++ = '"';
		}
		*o++ = '}';
	}
	*o++ = '\n';
	r->len = (size_t)(o - r->line);
	if (r->len >= OUT_FLUSH)
		out_flush(r);
	r->written++;
	return 0;
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static void on_progress(void *ctx, int64_t done, int64_t total)
{
	replay *r = ctx;
	struct timespec now;
	double el, rate, eta;
	int bar, i;
	char line[160];

	if (!r->progress || r->progress == 2)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (done != 0 && done != total && since(&r->shown, &now) < 0.2)
		return;
	r->shown = now;
	el = since(&r->started, &now);
	rate = el > 0 ? (double)done / el : 0;
	eta = rate > 0 ? (double)(total - done) / rate : 0;
	bar = total > 0 ? (int)(30 * done / total) : 30;
	i = snprintf(line, sizeof(line), "\r[");
	for (int k = 0; k < 30; k++)
		line[i++] = k < bar ? '=' : (k == bar ? '>' : ' ');
	snprintf(line + i, sizeof(line) - (size_t)i, "] %3d%% %lld/%lld %.0f rec/s ETA %d:%02d ",
	         total > 0 ? (int)(100 * done / total) : 100, (long long)done, (long long)total,
	         rate, (int)eta / 60, (int)eta % 60);
	fputs(line, stderr);
	if (done == total) {
		fputc('\n', stderr);
		r->progress = 2;
	}
}

static void on_flush(void *ctx)
{
	out_flush(ctx);
	fflush(((replay *)ctx)->out);
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: hc-replay [read] [--topic T]... [--from TIME] [--to TIME] [--offset T:P:O]...\n"
	    "                 [--type TYPE]... [--county CODE] [--key KEY] [--format ndjson|csv]\n"
	    "                 [--output FILE [--append]] [--group G] [--progress|--quiet]\n"
	    "       hc-replay as-of --key KEY --at TIME\n"
	    "       hc-replay project NAME --check|--rebuild\n"
	    "TIME: ISO 8601 with zone (2026-11-27T08:00:00Z) or @EPOCH_MS\n");
	return 2;
}

void replay_base_config(bus_reader_config *cfg)
{
	const char *b = getenv("HC_KAFKA_BROKERS");
	const char *p = getenv("HC_KAFKA_TOPIC_PREFIX");

	memset(cfg, 0, sizeof(*cfg));
	cfg->brokers = b != NULL && *b != '\0' ? b : "127.0.0.1:9092";
	cfg->topic_prefix = p != NULL ? p : "";
	cfg->from_ms = -1;
	cfg->to_ms = -1;
}

void replay_on_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags =
	    SA_RESTART; /* a write blocked on a slow reader completes; the loop then stops */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

volatile sig_atomic_t *replay_stop_flag(void)
{
	return &stop_flag;
}

static int cmd_read(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"topic", required_argument, NULL, 't'},  {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 'T'},     {"offset", required_argument, NULL, 'o'},
	    {"type", required_argument, NULL, 'y'},   {"county", required_argument, NULL, 'c'},
	    {"key", required_argument, NULL, 'k'},    {"format", required_argument, NULL, 'F'},
	    {"output", required_argument, NULL, 'O'}, {"append", no_argument, NULL, 'a'},
	    {"group", required_argument, NULL, 'g'},  {"progress", no_argument, NULL, 'p'},
	    {"quiet", no_argument, NULL, 'q'},        {NULL, 0, NULL, 0},
	};
	static bus_position starts[MAX_LIST];
	const char *topics[MAX_LIST], *output = NULL;
	bus_reader_config cfg;
	bus_position *pos = NULL;
	replay r;
	size_t ntopics = 0, npos = 0;
	int c, append = 0, progress = -1, rc;
	hc_err err;

	memset(&r, 0, sizeof(r));
	replay_base_config(&cfg);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			if (ntopics == MAX_LIST)
				return usage();
			topics[ntopics++] = optarg;
			break;
		case 'f':
		case 'T':
			if (replay_parse_us(optarg) < 0) {
				fprintf(stderr, "hc-replay: bad time %s\n", optarg);
				return usage();
			}
			/* to the millisecond of the log's timestamps, rounding up */
			*(c == 'f' ? &cfg.from_ms : &cfg.to_ms) =
			    (replay_parse_us(optarg) + 999) / 1000;
			break;
		case 'o': {
			bus_position *s = &starts[cfg.nstart];
			char *colon = strrchr(optarg, ':'), *mid;

			if (cfg.nstart == MAX_LIST || colon == NULL)
				return usage();
			*colon = '\0';
			mid = strrchr(optarg, ':');
			if (mid == NULL)
				return usage();
			*mid = '\0';
			snprintf(s->topic, sizeof(s->topic), "%s", optarg);
			s->partition = atoi(mid + 1);
			s->start = atoll(colon + 1);
			cfg.nstart++;
			break;
		}
		case 'y':
			if (r.ntypes == MAX_LIST)
				return usage();
			r.types[r.ntypes++] = optarg;
			break;
		case 'c': r.county = optarg; break;
		case 'k': r.key = cfg.key = optarg; break;
		case 'F':
			if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "ndjson") != 0)
				return usage();
			r.csv = strcmp(optarg, "csv") == 0;
			break;
		case 'O': output = optarg; break;
		case 'a': append = 1; break;
		case 'g': cfg.group_id = optarg; break;
		case 'p': progress = 1; break;
		case 'q': progress = 0; break;
		default: return usage();
		}
	}
	if (optind != argc)
		return usage();
	cfg.start = starts;
	if (ntopics == 0) {
		cfg.topics = all_topics;
		cfg.ntopics = sizeof(all_topics) / sizeof(all_topics[0]);
	} else {
		cfg.topics = topics;
		cfg.ntopics = ntopics;
	}
	r.out = stdout;
	if (output != NULL && (r.out = fopen(output, append ? "a" : "w")) == NULL) {
		fprintf(stderr, "hc-replay: could not open %s\n", output);
		return 1;
	}
	setvbuf(r.out, NULL, _IOFBF, 1 << 20);
	r.progress = progress >= 0 ? progress : isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &r.started);
	if (r.csv && !append)
		fputs("topic,partition,offset,timestamp,key,id,type,county,event\n", r.out);
	cfg.progress = on_progress;
	cfg.flush = on_flush;
	cfg.headers =
	    r.csv || r.ntypes > 0 || r.county != NULL; /* NDJSON carries them in the event */
	replay_on_signals();
	hc_err_clear(&err);
	rc = bus_read(&cfg, on_record, &r, &stop_flag, &pos, &npos, &err);
	out_flush(&r);
	if (fclose(r.out) != 0 && rc == 0)
		rc = hc_err_set(&err, HC_ERR_FATAL, "could not write the output");
	free(r.line);
	if (rc != 0)
		fprintf(stderr, "hc-replay: %s\n", err.msg);
	if (stop_flag) {
		fprintf(stderr, "hc-replay: interrupted after %lld records; resume with:",
		        (long long)r.written);
		for (size_t i = 0; i < npos; i++)
			if (pos[i].next < pos[i].end)
				fprintf(stderr, " --offset %s:%d:%lld", pos[i].topic,
				        (int)pos[i].partition, (long long)pos[i].next);
		fputc('\n', stderr);
	}
	free(pos);
	return rc != 0 ? 1 : stop_flag ? 130 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "as-of") == 0)
		return replay_as_of(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "project") == 0)
		return replay_project(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "read") == 0)
		return cmd_read(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return usage();
	return cmd_read(argc, argv);
}
