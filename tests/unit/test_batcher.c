/*
 * Unit tests of common/base/batcher: the queue behind the group commits of
 * declarations and verifications.  The worker's run function is held on a
 * condition variable, so what is queued meanwhile is known exactly.
 */
#include <pthread.h>

#include "common/base/batcher.h"
#include "tests/unit/unit.h"

#define MAX_SEEN 32

typedef struct probe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int running, release; /* the run function has started / may return */
	size_t batches[MAX_SEEN], nbatches;
	size_t waiting[MAX_SEEN], nwaiting; /* what the hook was told, in order */
} probe;

static probe p = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void probe_run(void *ctx, batch_item *items, size_t n)
{
	(void)ctx, (void)items;
	pthread_mutex_lock(&p.mu);
	p.batches[p.nbatches++] = n;
	p.running = 1;
	pthread_cond_broadcast(&p.cv);
	while (!p.release)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
}

/* Called under the batcher's mutex; p.mu is never held while pushing. */
static void probe_waiting(void *ctx, size_t queued)
{
	(void)ctx;
	if (p.nwaiting < MAX_SEEN)
		p.waiting[p.nwaiting++] = queued;
}

static void wait_running(void)
{
	pthread_mutex_lock(&p.mu);
	while (!p.running)
		pthread_cond_wait(&p.cv, &p.mu);
	pthread_mutex_unlock(&p.mu);
}

static void release_all(void)
{
	pthread_mutex_lock(&p.mu);
	p.release = 1;
	pthread_cond_broadcast(&p.cv);
	pthread_mutex_unlock(&p.mu);
}

/* Starts b with the probe's hook and has it running `first` alone, held. */
static void start_held(batcher *b, size_t max_queue, batch_item *first)
{
	b->waiting = probe_waiting;
	CHECK_EQ_INT(batcher_start(b, 16, max_queue, probe_run, NULL), 0);
	CHECK_EQ_INT(batcher_push(b, first), 0);
	wait_running();
}

/* While one batch runs, the next gathers; the hook follows the queue push by push. */
TEST(the_next_batch_gathers_and_the_hook_follows)
{
	batcher b = BATCHER_INIT;
	batch_item items[4];
	size_t i;

	start_held(&b, 16, &items[0]);
	for (i = 1; i < 4; i++)
		CHECK_EQ_INT(batcher_push(&b, &items[i]), 0);
	release_all();
	batcher_stop(&b);
	CHECK_EQ_INT((int)p.nbatches, 2);
	CHECK_EQ_INT((int)p.batches[0], 1);
	CHECK_EQ_INT((int)p.batches[1], 3);
	{
		const size_t want[] = {1, 0, 1, 2, 3, 0};

		CHECK_EQ_INT((int)p.nwaiting, 6);
		for (i = 0; i < 6; i++)
			CHECK_EQ_INT((int)p.waiting[i], (int)want[i]);
	}
}

/* The thread carries the batcher's name (top -H, perf), cut to the 15 bytes a name holds. */
TEST(the_thread_is_named)
{
	batcher b = BATCHER_INIT;
	batch_item item;
	char name[32] = "";

	b.name = "a-writer-with-a-long-name";
	start_held(&b, 4, &item);
	CHECK_EQ_INT(pthread_getname_np(b.thread, name, sizeof(name)), 0);
	CHECK_EQ_STR(name, "a-writer-with-a");
	release_all();
	batcher_stop(&b);
}

/* Beyond max_queue a push is refused; so is one after stop. */
TEST(a_full_queue_refuses)
{
	batcher b = BATCHER_INIT;
	batch_item items[5];
	size_t i;

	start_held(&b, 2, &items[0]);
	CHECK_EQ_INT(batcher_push(&b, &items[1]), 0);
	CHECK_EQ_INT(batcher_push(&b, &items[2]), 0);
	CHECK_EQ_INT(batcher_push(&b, &items[3]), -1); /* two already wait */
	for (i = 0; i < p.nwaiting; i++)
		CHECK(p.waiting[i] <= 2);
	release_all();
	batcher_stop(&b);
	CHECK_EQ_INT(batcher_push(&b, &items[4]), -1);
	CHECK_EQ_INT((int)p.nbatches, 2);
	CHECK_EQ_INT((int)p.batches[1], 2);
}

/* batch_commit: a batch the database refuses is written again one item at a time. */
static int writes, fail_kind;
static int answered[4], answered_rc[4];
static batch_item rows[4];

static int write_failing_many(void *ctx, batch_item *list, hc_err *err)
{
	(void)ctx;
	writes++;
	return list->next != NULL ? hc_err_set(err, fail_kind, "the batch failed") : 0;
}

static void answer_each(void *ctx, batch_item *item, int rc, const hc_err *err)
{
	(void)ctx, (void)err;
	answered[item - rows]++;
	answered_rc[item - rows] = rc;
}

static void commit_four(int kind)
{
	size_t i;

	for (i = 0; i < 4; i++)
		rows[i].next = i < 3 ? &rows[i + 1] : NULL;
	writes = 0;
	fail_kind = kind;
	memset(answered, 0, sizeof(answered));
	batch_commit(rows, 4, "rows", NULL, write_failing_many, answer_each);
}

TEST(a_refused_batch_is_written_one_by_one)
{
	size_t i;

	commit_four(HC_ERR_FATAL); /* a row refused: each alone, and each succeeds alone */
	CHECK_EQ_INT(writes, 5);
	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(answered[i], 1);
		CHECK_EQ_INT(answered_rc[i], 0);
	}
}

TEST(an_unreachable_database_fails_the_batch_once)
{
	size_t i;

	commit_four(HC_ERR_TRANSIENT); /* no retry one by one: each answered with the error */
	CHECK_EQ_INT(writes, 1);
	for (i = 0; i < 4; i++) {
		CHECK_EQ_INT(answered[i], 1);
		CHECK_EQ_INT(answered_rc[i], HC_ERR_TRANSIENT);
	}
}

UNIT_MAIN(T(the_next_batch_gathers_and_the_hook_follows), T(the_thread_is_named),
          T(a_full_queue_refuses), T(a_refused_batch_is_written_one_by_one),
          T(an_unreachable_database_fails_the_batch_once))
