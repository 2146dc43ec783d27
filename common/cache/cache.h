/*
 * A small read-through cache of database rows that a NOTIFY invalidates.
 *
 * For rows read on every request and written rarely (the gateway's clients
 * and their keys): a trigger on the tables NOTIFYs a channel; one listener
 * thread per cache LISTENs on its own connection and, on every notification,
 * moves the cache to a new generation, which makes every entry stale at once.
 * An entry is stored with the generation read before its row was fetched,
 * so a row fetched while a change committed is never kept.  While the
 * listener is not connected and listening the cache is off: every lookup
 * misses and nothing is stored, so a lost notification cannot leave a
 * stale entry behind.
 *
 * Slots are direct-mapped (a colliding key replaces the entry); values are
 * copied in and out, up to CACHE_VALUE_MAX bytes.
 */
#ifndef HC_CACHE_CACHE_H
#define HC_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "common/base/err.h"

#define CACHE_KEY_MAX   160
#define CACHE_VALUE_MAX 512

typedef struct cache cache;

/*
 * Starts the cache name (its metrics' label) of nslots entries whose listener connects to db_url
 * (search path schema) and LISTENs on channel.  The cache is off until the listener is attached.
 * Returns 0 or HC_ERR_FATAL.
 */
int cache_start(cache **out, const char *name, const char *db_url, const char *schema,
                const char *channel, size_t nslots, hc_err *err);

/* Stops the listener and frees; NULL does nothing. */
void cache_free(cache *c);

/* The generation to pass to cache_put, read before fetching the row; 0 when the cache is off. */
uint64_t cache_generation(cache *c);

/* Copies the current entry of key into out (up to cap bytes) and returns its size; -1 on a miss. */
long cache_get(cache *c, const char *key, void *out, size_t cap);

/* Stores value for key unless gen is 0 or no longer current. */
void cache_put(cache *c, uint64_t gen, const char *key, const void *value, size_t size);

#endif
