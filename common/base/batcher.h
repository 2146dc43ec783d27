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

#endif
