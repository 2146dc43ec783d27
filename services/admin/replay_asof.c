/*
 * hc-replay as-of: a person's colour at a moment, from the code topic alone.
 *
 *   hc-replay as-of --key KEY --at TIME
 *   hc-replay as-of --batch FILE      ("KEY TIME" per line; - for stdin)
 *
 * Every code version codegen publishes names its rule, evidence, decider
 * and the moment it took force (changed_at); the version in force at TIME is
 * the one with the latest changed_at not after TIME.  One answer per query,
 * as one JSON line, in the order asked: the version's colour, rule, evidence
 * and cause, or "colour": null when the person had no code yet.  A single
 * query reads only the key's partition; a batch reads the topic once.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/event/catalog.h"
#include "services/admin/replay.h"

typedef struct asof_query {
	char key[65];
	char at_text[64];
	int64_t at_us;
	json_t *best; /* the data of the version in force, or NULL */
	int64_t best_us;
	long best_version;
} asof_query;

typedef struct asof {
	asof_query *q;
	size_t n;
	size_t bad; /* code records that could not be decoded */
} asof;

static int by_key(const void *a, const void *b)
{
	return strcmp(((const asof_query *)a)->key, ((const asof_query *)b)->key);
}

static int on_code(void *ctx, const bus_record *rec, hc_err *err)
{
	asof *a = ctx;
	asof_query probe, *hit;
	json_t *ev, *data;
	int64_t changed;
	long version;
	size_t i;

	(void)err;
	if (rec->key == NULL || rec->keylen != 64 || strcmp(rec->type, TYPE_CODE_CHANGED) != 0)
		return 0;
	memset(&probe, 0, sizeof(probe));
	memcpy(probe.key, rec->key, 64);
	probe.key[64] = '\0';
	hit = bsearch(&probe, a->q, a->n, sizeof(*a->q), by_key);
	if (hit == NULL)
		return 0;
	ev = json_loadb(rec->value, rec->len, 0, NULL);
	data = json_object_get(ev, "data");
	changed = json_is_string(json_object_get(data, "changed_at"))
	              ? replay_parse_us(json_string_value(json_object_get(data, "changed_at")))
	              : -1;
	version = (long)json_integer_value(json_object_get(data, "version"));
	if (changed < 0 || version < 1) {
		a->bad++;
		json_decref(ev);
		return 0;
	}
	/* every query of this key (they sit together after sorting) */
	while (hit > a->q && strcmp(hit[-1].key, probe.key) == 0)
		hit--;
	for (i = (size_t)(hit - a->q); i < a->n && strcmp(a->q[i].key, probe.key) == 0; i++) {
		asof_query *q = &a->q[i];

		if (changed > q->at_us)
			continue;
		if (q->best != NULL &&
		    (changed < q->best_us || (changed == q->best_us && version <= q->best_version)))
			continue;
		json_decref(q->best);
		q->best = json_incref(data);
		q->best_us = changed;
		q->best_version = version;
	}
	json_decref(ev);
	return 0;
}

static void asof_print(const asof_query *q)
{
	static const char *const fields[] = {"colour",       "pass",       "version",    "rule_id",
	                                     "rule_version", "evidence",   "decided_by", "cause",
	                                     "changed_at",   "county_code"};
	json_t *out = json_pack("{s:s, s:s}", "person_key", q->key, "at", q->at_text);
	char *text;

	if (q->best == NULL) {
		json_object_set_new(out, "colour", json_null());
		json_object_set_new(out, "reason", json_string("no code at that time"));
	} else {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			json_object_set(out, fields[i], json_object_get(q->best, fields[i]));
	}
	text = json_dumps(out, JSON_COMPACT);
	puts(text);
	free(text);
	json_decref(out);
}

static int load_batch(const char *path, asof *a)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[256];
	size_t cap = 0;

	if (f == NULL) {
		fprintf(stderr, "hc-replay: could not open %s\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		asof_query *q;

		if (line[0] == '\n' || line[0] == '#')
			continue;
		if (a->n == cap) {
			cap = cap ? cap * 2 : 64;
			a->q = realloc(a->q, cap * sizeof(*a->q));
			if (a->q == NULL)
				abort();
		}
		q = &a->q[a->n];
		memset(q, 0, sizeof(*q));
		if (sscanf(line, "%64s %63s", q->key, q->at_text) != 2 || strlen(q->key) != 64 ||
		    (q->at_us = replay_parse_us(q->at_text)) < 0) {
			fprintf(stderr, "hc-replay: bad query line %zu: want KEY TIME\n", a->n + 1);
			if (f != stdin)
				fclose(f);
			return -1;
		}
		a->n++;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

int replay_as_of(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"at", required_argument, NULL, 'a'},
	    {"batch", required_argument, NULL, 'b'},
	    {NULL, 0, NULL, 0},
	};
	static const char *const topics[] = {TOPIC_CODE};
	const char *key = NULL, *at = NULL, *batch = NULL;
	bus_reader_config cfg;
	bus_position *pos = NULL;
	size_t npos = 0, *order;
	asof a = {NULL, 0, 0};
	hc_err err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'k')
			key = optarg;
		else if (c == 'a')
			at = optarg;
		else if (c == 'b')
			batch = optarg;
		else
			return 2;
	}
	if (optind != argc || (batch == NULL) == (key == NULL || at == NULL)) {
		fprintf(stderr, "usage: hc-replay as-of --key KEY --at TIME | --batch FILE\n");
		return 2;
	}
	if (batch != NULL) {
		if (load_batch(batch, &a) != 0) {
			free(a.q);
			return 2;
		}
	} else {
		a.q = calloc(1, sizeof(*a.q));
		if (a.q == NULL)
			abort();
		if (strlen(key) != 64 || strlen(at) >= sizeof(a.q->at_text) ||
		    (a.q->at_us = replay_parse_us(at)) < 0) {
			fprintf(stderr,
			        "hc-replay: want a 64-hex person key and a time with a zone\n");
			free(a.q);
			return 2;
		}
		snprintf(a.q->key, sizeof(a.q->key), "%s", key);
		snprintf(a.q->at_text, sizeof(a.q->at_text), "%s", at);
		a.n = 1;
	}
	/* answers go out in the order asked: remember it through the sort */
	order = malloc((a.n ? a.n : 1) * sizeof(*order));
	if (order == NULL)
		abort();
	for (size_t i = 0; i < a.n; i++)
		a.q[i].best_version = -(long)i - 1; /* the position, until a version is found */
	qsort(a.q, a.n, sizeof(*a.q), by_key);
	for (size_t i = 0; i < a.n; i++)
		order[(size_t)(-a.q[i].best_version - 1)] = i;
	for (size_t i = 0; i < a.n; i++)
		a.q[i].best_version = 0;

	replay_base_config(&cfg);
	cfg.topics = topics;
	cfg.ntopics = 1;
	cfg.key = a.n == 1 ? a.q[0].key : NULL;
	cfg.headers = 1;
	replay_on_signals();
	hc_err_clear(&err);
	rc = bus_read(&cfg, on_code, &a, replay_stop_flag(), &pos, &npos, &err);
	free(pos);
	if (rc != 0)
		fprintf(stderr, "hc-replay: %s\n", err.msg);
	else if (*replay_stop_flag())
		rc = 130;
	else
		for (size_t i = 0; i < a.n; i++)
			asof_print(&a.q[order[i]]);
	if (a.bad > 0)
		fprintf(stderr, "hc-replay: %zu code records could not be decoded\n", a.bad);
	for (size_t i = 0; i < a.n; i++)
		json_decref(a.q[i].best);
	free(a.q);
	free(order);
	return rc == 0 ? 0 : rc == 130 ? 130 : 1;
}
