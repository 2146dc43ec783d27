/* The NOTIFY-invalidated read-through cache; see cache.h. */
#include "common/cache/cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base/hash.h"
#include "common/db/db.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"

typedef struct cache_slot {
	uint64_t gen; /* 0: empty */
	size_t size;
	char key[CACHE_KEY_MAX];
	unsigned char value[CACHE_VALUE_MAX];
} cache_slot;

struct cache {
	pthread_mutex_t mu;
	cache_slot *slots;
	size_t nslots;
	_Atomic uint64_t gen; /* the current generation; entries of others are stale */
	atomic_int on;        /* the listener is attached */
	atomic_int stopping;
	pthread_t thread;
	char *db_url, *schema, *channel, *name;
	metric *hits, *misses, *resets;
};

static size_t cache_slot_of(const cache *c, const char *key)
{
	return (size_t)(hc_fnv1a64(key) % c->nslots);
}

uint64_t cache_generation(cache *c)
{
	return atomic_load(&c->on) ? atomic_load(&c->gen) : 0;
}

long cache_get(cache *c, const char *key, void *out, size_t cap)
{
	cache_slot *s = &c->slots[cache_slot_of(c, key)];
	uint64_t gen = cache_generation(c);
	long size = -1;

	if (gen != 0) {
		pthread_mutex_lock(&c->mu);
		if (s->gen == gen && strcmp(s->key, key) == 0 && s->size <= cap) {
			memcpy(out, s->value, s->size);
			size = (long)s->size;
		}
		pthread_mutex_unlock(&c->mu);
	}
	metrics_add(size >= 0 ? c->hits : c->misses, 1);
	return size;
}

void cache_put(cache *c, uint64_t gen, const char *key, const void *value, size_t size)
{
	cache_slot *s = &c->slots[cache_slot_of(c, key)];

	if (gen == 0 || size > CACHE_VALUE_MAX || strlen(key) >= CACHE_KEY_MAX)
		return;
	pthread_mutex_lock(&c->mu);
	/* checked under the lock: a reset that happened since the fetch wins */
	if (gen == cache_generation(c)) {
		s->gen = gen;
		s->size = size;
		snprintf(s->key, sizeof(s->key), "%s", key);
		memcpy(s->value, value, size);
	}
	pthread_mutex_unlock(&c->mu);
}

/* Makes every entry stale; on says whether the cache may serve afterwards. */
static void cache_reset(cache *c, int on)
{
	pthread_mutex_lock(&c->mu);
	atomic_fetch_add(&c->gen, 1);
	atomic_store(&c->on, on);
	pthread_mutex_unlock(&c->mu);
	metrics_add(c->resets, 1);
}

static void cache_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void *cache_main(void *arg)
{
	static const db_stmt_table no_statements[] = {NULL};
	cache *c = arg;
	db_conn *conn = NULL;
	long backoff = 100;

	while (!atomic_load(&c->stopping)) {
		hc_err err;
		char sql[160];
		int rc;

		hc_err_clear(&err);
		if (conn == NULL) {
			snprintf(sql, sizeof(sql), "LISTEN %s", c->channel);
			if (db_connect(&conn, c->db_url, c->schema, no_statements, &err) != 0 ||
			    db_exec(conn, sql, &err) != 0) {
				log_warn("cache %s: listener not attached, serving from the "
				         "database: %s",
				         c->name, err.msg);
				db_close(conn);
				conn = NULL;
				cache_sleep_ms(backoff);
				backoff = backoff < 5000 ? backoff * 2 : 5000;
				continue;
			}
			backoff = 100;
			cache_reset(c, 1); /* listening: what changes from now on is heard */
		}
		rc = db_wait_notify(conn, 500, &err);
		if (rc == 0)
			continue;
		if (rc < 0) {
			/* off until listening again: a change may go unheard meanwhile */
			log_warn("cache %s: listener lost (%s); reconnecting", c->name, err.msg);
			cache_reset(c, 0);
			db_close(conn);
			conn = NULL;
		} else {
			cache_reset(c, 1); /* a change */
		}
	}
	cache_reset(c, 0);
	db_close(conn);
	return NULL;
}

int cache_start(cache **out, const char *name, const char *db_url, const char *schema,
                const char *channel, size_t nslots, hc_err *err)
{
	cache *c = calloc(1, sizeof(*c));
	char labels[96];

	if (c == NULL || (c->slots = calloc(nslots, sizeof(*c->slots))) == NULL)
		abort();
	pthread_mutex_init(&c->mu, NULL);
	c->nslots = nslots;
	atomic_init(&c->gen, 1);
	c->name = strdup(name);
	c->db_url = strdup(db_url);
	c->schema = strdup(schema);
	c->channel = strdup(channel);
	if (c->name == NULL || c->db_url == NULL || c->schema == NULL || c->channel == NULL)
		abort();
	snprintf(labels, sizeof(labels), "cache=\"%s\"", name);
	c->hits = metrics_counter("hc_cache_hits_total", labels, "lookups answered from the cache");
	c->misses =
	    metrics_counter("hc_cache_misses_total", labels, "lookups that went to the database");
	c->resets = metrics_counter("hc_cache_resets_total", labels,
	                            "times the whole cache went stale (a change was notified)");
	if (pthread_create(&c->thread, NULL, cache_main, c) != 0) {
		cache_free(c);
		return hc_err_set(err, HC_ERR_FATAL, "could not start the %s cache's listener",
		                  name);
	}
	pthread_setname_np(c->thread, "cache");
	*out = c;
	return 0;
}

void cache_free(cache *c)
{
	if (c == NULL)
		return;
	if (c->thread) {
		atomic_store(&c->stopping, 1);
		pthread_join(c->thread, NULL);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->slots);
	free(c->name);
	free(c->db_url);
	free(c->schema);
	free(c->channel);
	free(c);
}
