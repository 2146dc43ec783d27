/*
 * Unit tests of common/base/limiter: the gateway's adaptive admission limit,
 * driven with explicit times (no clock, no sleeping).
 */
#include "common/base/limiter.h"
#include "tests/unit/unit.h"

/*
 * Fills the limit's ordinary share and is refused as many times again (demand
 * twice the share); `span` seconds on, releases every slot, each having taken
 * `held`.
 */
static long overrun(limiter *l, double held, double span, double *now)
{
	long taken = 0, limit = 0, i;

	while (limiter_acquire(l, 0) == 0)
		taken++;
	for (i = 1; i < taken; i++)
		CHECK_EQ_INT(limiter_acquire(l, 0), -1);
	*now += span;
	for (i = 0; i < taken; i++)
		limit = limiter_release(l, held, *now);
	return limit;
}

/* One request alone: admitted, answered in `held` seconds, `span` seconds on. */
static long lone(limiter *l, double held, double span, double *now)
{
	CHECK_EQ_INT(limiter_acquire(l, 0), 0);
	*now += span;
	return limiter_release(l, held, *now);
}

/* overrun for two windows' time: past the window, whatever the rounding */
static long crowd(limiter *l, double held, double *now)
{
	return overrun(l, held, 2 * LIMITER_WINDOW_S, now);
}

TEST(shares_and_refusals)
{
	limiter l;
	long i;

	limiter_init(&l, 16, 4, 0.1, 0.002, 0);
	for (i = 0; i < 12; i++)
		CHECK_EQ_INT(limiter_acquire(&l, 0), 0);
	CHECK_EQ_INT(limiter_acquire(&l, 0), -1); /* ordinary: three quarters */
	for (i = 0; i < 4; i++)
		CHECK_EQ_INT(limiter_acquire(&l, 1), 0); /* priority: the rest */
	CHECK_EQ_INT(limiter_acquire(&l, 1), -1);
	CHECK_EQ_INT(atomic_load(&l.inflight), 16); /* a refusal holds nothing */
	limiter_release(&l, 0.01, 0.01);            /* inside the first window: no decision */
	CHECK_EQ_INT(limiter_acquire(&l, 1), 0);
	limiter_destroy(&l);
}

TEST(slow_and_crowded_falls_to_the_floor)
{
	limiter l;
	double now = 0;
	long expect[] = {96, 72, 54, 41, 31, 24, 18, 14, 11, 9, 8, 8};
	size_t i;

	limiter_init(&l, 128, 8, 0.1, 0.002, now);
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		CHECK_EQ_INT(crowd(&l, 0.5, &now), expect[i]); /* a quarter less each window */
	limiter_destroy(&l);
}

TEST(fast_and_full_grows_back_to_the_max)
{
	limiter l;
	double now = 0;
	long last = 0, limit;
	int windows = 0;

	limiter_init(&l, 128, 8, 0.1, 0.002, now);
	while (crowd(&l, 0.5, &now) > 8)
		;
	CHECK_EQ_INT(limiter_limit(&l), 8);
	do {
		limit = crowd(&l, 0.02, &now);
		CHECK(limit > last); /* every full window within the target adds */
		CHECK(limit - last <= (last / 8 > 0 ? last / 8 : 1) || last == 0);
		last = limit;
		windows++;
	} while (limit < 128);
	CHECK_EQ_INT(limit, 128);
	CHECK(windows < 60);
	CHECK_EQ_INT(crowd(&l, 0.02, &now), 128); /* never past the max */
	limiter_destroy(&l);
}

TEST(slow_but_not_crowded_stays)
{
	limiter l;
	double now = 0;
	int w;

	limiter_init(&l, 128, 8, 0.1, 0.002, now);
	CHECK_EQ_INT(crowd(&l, 0.5, &now), 96);
	CHECK_EQ_INT(crowd(&l, 0.5, &now), 72);
	for (w = 0; w < 10; w++) { /* the services' own pace: 3 at once, 2 s each, none refused */
		long i;

		for (i = 0; i < 3; i++)
			CHECK_EQ_INT(limiter_acquire(&l, 0), 0);
		now += 1;
		for (i = 0; i < 3; i++)
			CHECK_EQ_INT(limiter_release(&l, 2.0, now), 72);
	}
	/* quick again, even with little demand: it grows back */
	CHECK_EQ_INT(lone(&l, 0.01, 1, &now), 72); /* this window still holds the slow */
	CHECK_EQ_INT(lone(&l, 0.01, 1, &now), 81);
	limiter_destroy(&l);
}

/*
 * 12 in flight and `refused` more refused: 11 answers in `fast` seconds, then
 * one in `slow` a window later.
 */
static long window_of_twelve(limiter *l, double fast, double slow, long refused, double *now)
{
	long i;

	for (i = 0; i < 12; i++)
		CHECK_EQ_INT(limiter_acquire(l, 0), 0);
	for (i = 0; i < refused; i++)
		CHECK_EQ_INT(limiter_acquire(l, 0), -1);
	for (i = 0; i < 11; i++)
		limiter_release(l, fast, *now);
	*now += 2 * LIMITER_WINDOW_S; /* past the window, whatever the rounding */
	return limiter_release(l, slow, *now);
}

TEST(a_window_is_its_own_mean)
{
	limiter l;
	double now = 0;

	limiter_init(&l, 16, 4, 0.1, 0.002, now);
	/* one slow answer among fast ones: the mean, 0.09 s, is within the target */
	CHECK_EQ_INT(window_of_twelve(&l, 0.0118, 0.95, 6, &now), 16);
	/* a little slower, 0.11 s, and 5 refused for 12 admitted: busy, not overrun; it stays */
	CHECK_EQ_INT(window_of_twelve(&l, 0.0118, 1.19, 5, &now), 16);
	/* the same with 6 refused: a quarter off */
	CHECK_EQ_INT(window_of_twelve(&l, 0.0118, 1.19, 6, &now), 12);
	/* the next window starts empty: one slow request alone, 1 in flight of 12, decides
	 * nothing */
	CHECK_EQ_INT(lone(&l, 5.0, 2 * LIMITER_WINDOW_S, &now), 12);
	limiter_destroy(&l);
}

/* Fills the share, is refused as often, and records lateness `late` before the answers. */
static long starved(limiter *l, double held, double late, double *now)
{
	int i;

	for (i = 0; i < 20; i++)
		limiter_note_lag(l, late);
	return crowd(l, held, now);
}

TEST(short_of_cpu_falls_even_when_answers_are_fast)
{
	limiter l;
	double now = 0;

	limiter_init(&l, 128, 8, 0.1, 0.002, now);
	/* answers well within the target, but the probe wakes 3 ms late: a quarter off */
	CHECK_EQ_INT(starved(&l, 0.01, 0.003, &now), 96);
	CHECK_EQ_INT(starved(&l, 0.01, 0.003, &now), 72);
	CHECK_EQ_INT(atomic_load(&l.lag_us), 3000);
	/* late but without demand past the limit, answers quick: it grows */
	limiter_note_lag(&l, 0.003);
	CHECK_EQ_INT(lone(&l, 0.01, 2 * LIMITER_WINDOW_S, &now), 81);
	/* on time again (early wakes count as 0): full windows of fast answers grow it */
	CHECK_EQ_INT(starved(&l, 0.01, -0.001, &now), 91);
	CHECK_EQ_INT(atomic_load(&l.lag_us), 0);
	CHECK_EQ_INT(starved(&l, 0.01, 0.0001, &now), 102);
	CHECK_EQ_INT(atomic_load(&l.lag_us), 100);
	limiter_destroy(&l);
}

TEST(the_lag_limit_is_the_one_given)
{
	limiter a, b;
	double now_a = 0, now_b = 0;

	/* a probe 1.5 ms late: short of CPU under a 1-ms limit, not under a 2-ms one */
	limiter_init(&a, 128, 8, 0.1, 0.001, now_a);
	limiter_init(&b, 128, 8, 0.1, 0.002, now_b);
	CHECK_EQ_INT(starved(&a, 0.01, 0.0015, &now_a), 96);
	CHECK_EQ_INT(starved(&a, 0.01, 0.0015, &now_a), 72);
	CHECK_EQ_INT(starved(&b, 0.01, 0.0015, &now_b), 128);
	CHECK_EQ_INT(starved(&b, 0.01, 0.0015, &now_b), 128);
	limiter_destroy(&a);
	limiter_destroy(&b);
}

TEST(a_short_stall_is_not_a_burst)
{
	limiter l;
	double now = 0;

	limiter_init(&l, 128, 8, 0.1, 0.002, now);
	/* one overrun window of 0.12 s: no change; a second in a row: a quarter off */
	CHECK_EQ_INT(overrun(&l, 0.5, 0.12, &now), 128);
	CHECK_EQ_INT(overrun(&l, 0.5, 0.12, &now), 96);
	CHECK_EQ_INT(overrun(&l, 0.5, 0.12, &now), 72);
	/* a window without refusals in between starts the count again */
	CHECK_EQ_INT(lone(&l, 0.5, 0.12, &now), 72);
	CHECK_EQ_INT(overrun(&l, 0.5, 0.12, &now), 72);
	CHECK_EQ_INT(overrun(&l, 0.5, 0.12, &now), 54);
	/* one overrun window of 0.15 s or more counts on its own */
	CHECK_EQ_INT(lone(&l, 0.5, 0.12, &now), 54);
	CHECK_EQ_INT(overrun(&l, 0.5, 0.16, &now), 41);
	limiter_destroy(&l);
}

TEST(floor_and_bounds_are_clamped)
{
	limiter l;
	double now = 0;

	limiter_init(&l, 4, 0, 0.1, 0.002, now); /* a floor of 0 becomes 1 */
	CHECK_EQ_INT(l.floor, 1);
	CHECK_EQ_INT(crowd(&l, 1.0, &now), 3);
	CHECK_EQ_INT(crowd(&l, 1.0, &now), 2);
	CHECK_EQ_INT(crowd(&l, 1.0, &now), 1);
	CHECK_EQ_INT(crowd(&l, 1.0, &now), 1);
	CHECK_EQ_INT(limiter_acquire(&l, 1), 0); /* one priority request still fits */
	limiter_destroy(&l);
	limiter_init(&l, 8, 20, 0.1, 0.002, now); /* a floor above the max becomes the max */
	CHECK_EQ_INT(l.floor, 8);
	limiter_destroy(&l);
}

UNIT_MAIN(T(shares_and_refusals), T(slow_and_crowded_falls_to_the_floor),
          T(fast_and_full_grows_back_to_the_max), T(slow_but_not_crowded_stays),
          T(a_window_is_its_own_mean), T(short_of_cpu_falls_even_when_answers_are_fast),
          T(the_lag_limit_is_the_one_given), T(a_short_stall_is_not_a_burst),
          T(floor_and_bounds_are_clamped))
