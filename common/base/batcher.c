/* A queue worked by one thread in batches; see batcher.h. */
#include <stdio.h>

#include "common/base/batcher.h"

#include "common/log/log.h"

static void *batcher_main(void *arg)
{
	batcher *b = arg;

	for (;;) {
		batch_item *items, *last;
		size_t n = 1;

		pthread_mutex_lock(&b->mu);
		while (b->head == NULL && !b->stopping)
			pthread_cond_wait(&b->cv, &b->mu);
		if (b->head == NULL) {
			pthread_mutex_unlock(&b->mu);
			break; /* stopping, and nothing left */
		}
		items = b->head;
		for (last = items; last->next != NULL && n < b->max_batch; last = last->next)
			n++;
		b->head = last->next;
		if (b->head == NULL)
			b->tail = &b->head;
		last->next = NULL;
		b->queued -= n;
		if (b->waiting != NULL)
			b->waiting(b->ctx, b->queued);
		pthread_mutex_unlock(&b->mu);
		b->run(b->ctx, items, n);
	}
	return NULL;
}

int batcher_start(batcher *b, size_t max_batch, size_t max_queue,
                  void (*run)(void *ctx, batch_item *items, size_t n), void *ctx)
{
	b->tail = &b->head;
	b->max_batch = max_batch > 0 ? max_batch : 1;
	b->max_queue = max_queue;
	b->run = run;
	b->ctx = ctx;
	if (pthread_create(&b->thread, NULL, batcher_main, b) != 0)
		return -1;
	if (b->name != NULL) {
		char name[16];

		snprintf(name, sizeof(name), "%s", b->name);
		pthread_setname_np(b->thread, name);
	}
	pthread_mutex_lock(&b->mu);
	b->running = 1;
	pthread_mutex_unlock(&b->mu);
	return 0;
}

int batcher_push(batcher *b, batch_item *item)
{
	int refused;

	item->next = NULL;
	pthread_mutex_lock(&b->mu);
	refused = b->stopping || !b->running || b->queued >= b->max_queue;
	if (!refused) {
		*b->tail = item;
		b->tail = &item->next;
		b->queued++;
		if (b->waiting != NULL)
			b->waiting(b->ctx, b->queued);
		pthread_cond_signal(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return refused ? -1 : 0;
}

void batcher_stop(batcher *b)
{
	int running;

	pthread_mutex_lock(&b->mu);
	running = b->running;
	b->stopping = 1;
	pthread_cond_signal(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (running) {
		pthread_join(b->thread, NULL);
		pthread_mutex_lock(&b->mu);
		b->running = 0;
		pthread_mutex_unlock(&b->mu);
	}
}

void batch_commit(batch_item *list, size_t n, const char *what, void *ctx,
                  int (*write)(void *ctx, batch_item *list, hc_err *err),
                  void (*answer)(void *ctx, batch_item *item, int rc, const hc_err *err))
{
	batch_item *it, *next;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	rc = write(ctx, list, &err);
	if (rc != 0 && rc != HC_ERR_TRANSIENT && n > 1) {
		/* a row refused: each alone, so only that one's request fails */
		log_warn("a group commit of %zu %s failed (%s); writing each alone", n, what,
		         err.msg);
		for (it = list; it != NULL; it = next) {
			next = it->next;
			it->next = NULL;
			hc_err_clear(&err);
			rc = write(ctx, it, &err);
			answer(ctx, it, rc, &err);
		}
		return;
	}
	for (it = list; it != NULL; it = next) {
		next = it->next;
		answer(ctx, it, rc, &err);
	}
}
