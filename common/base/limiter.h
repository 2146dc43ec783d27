/*
 * An adaptive limit on the requests handled at once (it falls by a quarter
 * and grows by an eighth at a time), as the gateway admits requests under
 * load.
 *
 * A fixed limit lets the admitted work grow until it takes the whole
 * machine; then every answer waits for CPU, refusals included, and an
 * overload turns into a collapse.  This limit follows how long admitted
 * requests take, and how long the process waits for CPU.  Time is cut into
 * windows (LIMITER_WINDOW_S); at the end of each:
 *
 *   - when the admitted requests' mean time was above the target, or the
 *     process was short of CPU (its probe woke more than the lag limit
 *     late on average: limiter_note_lag), while at least one request was
 *     refused for every two admitted (demand well past the limit), in this
 *     window and the one before, or in this one alone when it lasted one
 *     and a half windows or more (a stall of a tenth of a second is not a
 *     burst): the limit falls by a quarter, never below the floor.
 *     Slowness while few or none are refused is the services' own pace (a
 *     backlog being worked off, a slow service), which a lower limit would
 *     not change but would turn into refusals, so it leaves the limit alone;
 *   - when the mean was within the target and the window not overrun as
 *     above: the limit grows by an eighth (at least one), never above the
 *     maximum, so that it is back at the maximum within seconds of a burst's
 *     end (a limit left low would turn the next stall of a service into
 *     refusals).  CPU lateness alone does not hold it back: on a machine
 *     loaded by something else it would keep the limit low and refuse
 *     ordinary traffic;
 *   - otherwise it stays.
 *
 * Ordinary requests get three quarters of the limit, priority ones all of
 * it.  Thread-safe: acquire is a few atomic operations; release and the
 * probe take a mutex to add to the window.
 */
#ifndef HC_BASE_LIMITER_H
#define HC_BASE_LIMITER_H

#include <pthread.h>
#include <stdatomic.h>

#define LIMITER_WINDOW_S 0.1 /* a decision at most this often */

typedef struct limiter {
	long max, floor; /* the limit's bounds */
	double target;   /* seconds: the mean time an admitted request may take */
	double lag_max;  /* seconds: a probe's mean lateness above which CPU is short */
	atomic_long limit, inflight;
	atomic_long admitted, refused; /* in the window */
	pthread_mutex_t mu;            /* the window below */
	double start, sum;             /* the window's start (monotonic seconds) and summed times */
	long n;                        /* requests released in the window */
	double lag_sum;                /* the window's probes: summed lateness (seconds) */
	long lag_n;
	int strikes;        /* windows in a row that were overrun */
	atomic_long lag_us; /* the last closed window's mean lateness, microseconds */
} limiter;

/*
 * max >= 4; floor between 1 and max; target and lag_max (the lag limit) in
 * seconds (> 0); now: monotonic seconds.
 */
void limiter_init(limiter *l, long max, long floor, double target, double lag_max, double now);
void limiter_destroy(limiter *l);

/* The share a request may take: the whole limit for priority, else three quarters. */
long limiter_share(long limit, int priority);

/* Takes a slot: 0, or -1 when the request's share is taken (nothing held). */
int limiter_acquire(limiter *l, int priority);

/*
 * Gives back a slot held for `held` seconds; `now` in monotonic seconds.
 * Returns the limit after the release (changed when a window closed).
 */
long limiter_release(limiter *l, double held, double now);

/*
 * Records how late a probe woke (seconds past the time it asked for): the
 * process's wait for CPU.  No probe in a window: CPU counts as to spare.
 */
void limiter_note_lag(limiter *l, double late);

/* The current limit. */
long limiter_limit(limiter *l);

/* Monotonic seconds (CLOCK_MONOTONIC). */
double limiter_now(void);

#endif
