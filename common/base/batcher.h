/*
 * A queue worked by one thread in batches, for group commits: producers
 * push items; the thread takes every item waiting (up to max_batch) and
 * hands them to run as one list, so many requests share one database
 * transaction.  The queue is bounded: a push beyond max_queue, or before
 * start or after stop, is refused and the caller answers it at once.
 * Stopping runs everything already queued first.  Used by intake's
 * declarations, codegen's online verifications and the gateway's nonce
 * claims.
 */
#ifndef HC_BASE_BATCHER_H
#define HC_BASE_BATCHER_H

#include <pthread.h>
#include <stddef.h>

#include "common/base/err.h"

/* The first member of a queued item. */
typedef struct batch_item {
	struct batch_item *next;
} batch_item;

typedef struct batcher {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	batch_item *head, **tail;
	size_t queued, max_batch, max_queue;
	int running, stopping;
	void (*run)(void *ctx, batch_item *items, size_t n); /* items: a NULL-ended list */
	void *ctx;
	/* optional, set before start: told the number waiting after each push and take, in order */
	void (*waiting)(void *ctx, size_t queued);
	const char *name; /* optional, set before start: its thread's name (15 bytes shown) */
} batcher;

#define BATCHER_INIT                                                            \
	{                                                                       \
		.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER \
	}

/* Starts the thread.  Returns 0, or -1 when it cannot be created. */
int batcher_start(batcher *b, size_t max_batch, size_t max_queue,
                  void (*run)(void *ctx, batch_item *items, size_t n), void *ctx);

/* Queues item: 0, or -1 when refused (full, not started or stopping). */
int batcher_push(batcher *b, batch_item *item);

/* Runs everything queued, then stops the thread; later pushes are refused. */
void batcher_stop(batcher *b);

/*
 * A group commit of the n items of list (for a run callback): write(ctx,
 * list, err) commits a NULL-ended list in one transaction and returns 0 or
 * an hc_err kind.  When the batch fails for any reason but a transient one
 * (the database refused a row, not a lost connection) and holds more than
 * one item, each item is written again alone, so a refused row fails only
 * its own request.  answer(ctx, item, rc, err) is called once per item, in
 * order, right after the write that decided it (it may free the item);
 * `what` names the items in the log line of a retry.
 */
void batch_commit(batch_item *list, size_t n, const char *what, void *ctx,
                  int (*write)(void *ctx, batch_item *list, hc_err *err),
                  void (*answer)(void *ctx, batch_item *item, int rc, const hc_err *err));

#endif
