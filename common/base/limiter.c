/* The adaptive limit on requests in flight; see limiter.h. */
#include "common/base/limiter.h"

#include <time.h>

void limiter_init(limiter *l, long max, long floor, double target, double lag_max, double now)
{
	l->max = max;
	l->floor = floor < 1 ? 1 : floor > max ? max : floor;
	l->target = target;
	l->lag_max = lag_max;
	atomic_init(&l->limit, max);
	atomic_init(&l->inflight, 0);
	atomic_init(&l->admitted, 0);
	atomic_init(&l->refused, 0);
	pthread_mutex_init(&l->mu, NULL);
	l->start = now;
	l->sum = 0;
	l->n = 0;
	l->lag_sum = 0;
	l->lag_n = 0;
	l->strikes = 0;
	atomic_init(&l->lag_us, 0);
}

void limiter_destroy(limiter *l)
{
	pthread_mutex_destroy(&l->mu);
}

long limiter_share(long limit, int priority)
{
	return priority ? limit : limit - limit / 4;
}

int limiter_acquire(limiter *l, int priority)
{
	long share = limiter_share(atomic_load(&l->limit), priority);
	int admitted = atomic_fetch_add(&l->inflight, 1) < share;

	if (!admitted)
		atomic_fetch_sub(&l->inflight, 1);
	atomic_fetch_add(admitted ? &l->admitted : &l->refused, 1);
	return admitted ? 0 : -1;
}

/* The window's decision (l->mu held): the new limit. */
static long limiter_decide(limiter *l, long limit, double span, double mean, double lag,
                           long admitted, long refused)
{
	int slow = mean > l->target || lag > l->lag_max;
	int overrun = slow && refused > 0 && 2 * refused >= admitted;

	l->strikes = overrun ? l->strikes + 1 : 0;
	if (l->strikes >= 2 || (l->strikes == 1 && span >= 1.5 * LIMITER_WINDOW_S)) {
		long cut = limit / 4 > 0 ? limit / 4 : 1;

		return limit - cut < l->floor ? l->floor : limit - cut;
	}
	if (!overrun && mean <= l->target) {
		long step = limit / 8 > 0 ? limit / 8 : 1;

		return limit + step > l->max ? l->max : limit + step;
	}
	return limit;
}

long limiter_release(limiter *l, double held, double now)
{
	long limit;

	atomic_fetch_sub(&l->inflight, 1);
	pthread_mutex_lock(&l->mu);
	l->sum += held;
	l->n++;
	limit = atomic_load(&l->limit);
	if (now - l->start >= LIMITER_WINDOW_S) {
		long admitted = atomic_exchange(&l->admitted, 0);
		double lag = l->lag_n > 0 ? l->lag_sum / (double)l->lag_n : 0;

		limit = limiter_decide(l, limit, now - l->start, l->sum / (double)l->n, lag,
		                       admitted, atomic_exchange(&l->refused, 0));
		atomic_store(&l->limit, limit);
		atomic_store(&l->lag_us, (long)(lag * 1e6 + 0.5));
		l->start = now;
		l->sum = 0;
		l->n = 0;
		l->lag_sum = 0;
		l->lag_n = 0;
	}
	pthread_mutex_unlock(&l->mu);
	return limit;
}

void limiter_note_lag(limiter *l, double late)
{
	pthread_mutex_lock(&l->mu);
	l->lag_sum += late > 0 ? late : 0;
	l->lag_n++;
	pthread_mutex_unlock(&l->mu);
}

long limiter_limit(limiter *l)
{
	return atomic_load(&l->limit);
}

double limiter_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
