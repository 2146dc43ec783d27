/*
 * Quotas and overload; see app.h.
 *
 * Quotas: one token bucket per client, in this process's memory (a client
 * spread over several gateways gets each one's quota).  Every authenticated
 * answer carries RateLimit-Limit (the burst), RateLimit-Remaining and
 * RateLimit-Reset (seconds until the bucket is full); a client past its
 * quota gets 429 with Retry-After (seconds until one request fits).
 *
 * A request naming a client whose bucket is already empty is refused first
 * of all, from the client's name in its headers (gateway_quota_claimed):
 * before admission, so it takes no slot and gets its own 429 even while the
 * gateway is at capacity; no key looked up, no signature verified, no nonce
 * written, so a client's burst past its quota costs the gateway next to
 * nothing.  The request only reads the bucket
 * (nothing unauthenticated can take from it); its 429 is the one an
 * authenticated request would get at that moment, with the same headers,
 * but it is not signed.
 *
 * Overload: a limit on the requests being handled at once.  Ordinary
 * routes are admitted while fewer than three quarters of the limit are,
 * code display and checkpoint verification up to all of it; past that a
 * request is refused at once with 503 and Retry-After, before any database
 * work, so a hanging service never gathers an unbounded queue and the
 * priority routes always keep a quarter for themselves.  The limit adapts
 * (common/base/limiter.h): it starts at HC_GATEWAY_MAX_INFLIGHT and falls
 * while demand is well past it and admitted requests take longer than
 * HC_GATEWAY_TARGET_MS on average, or this process waits for CPU (a probe
 * thread, admission_probe, measures how late it wakes), down to a sixteenth
 * of the maximum (at least 4), so that under a burst the admitted work
 * leaves the machine room to refuse the rest quickly; it grows back while
 * the admitted are quick and not overrun.  Its current value is the gauge
 * hc_gateway_admission_limit, the probe's lateness
 * hc_gateway_cpu_lag_microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/base/hash.h"
#include "services/gateway/app.h"

struct quota_bucket {
	quota_bucket *next;
	char client[41];
	double tokens;
	double stamp;     /* CLOCK_MONOTONIC seconds of the last refill */
	long rate, burst; /* as of the last take (what an early refusal refills with) */
};

/* ceil of x >= 0, without libm */
static long quota_ceil(double x)
{
	long n = (long)x;

	return (double)n < x ? n + 1 : n;
}

static unsigned quota_slot(const char *client)
{
	return hc_fnv1a32(client) % GATEWAY_QUOTA_SLOTS;
}

/* The RateLimit headers; when not admitted, the 429 (returns -1). */
static int quota_answer(http_req *req, const char *client, long rate, long burst, double tokens,
                        int admitted)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", burst);
	http_reply_header(req, "RateLimit-Limit", text);
	snprintf(text, sizeof(text), "%ld", (long)tokens);
	http_reply_header(req, "RateLimit-Remaining", text);
	snprintf(text, sizeof(text), "%ld", quota_ceil(((double)burst - tokens) / (double)rate));
	http_reply_header(req, "RateLimit-Reset", text);
	if (admitted)
		return 0;
	snprintf(text, sizeof(text), "%ld", quota_ceil((1.0 - tokens) / (double)rate));
	http_reply_header(req, "Retry-After", text);
	http_reply_problem(req, PROBLEM_RATE_LIMITED, NULL,
	                   "client %s is over its quota of %ld requests a second (burst %ld)",
	                   client, rate, burst);
	return -1;
}

int gateway_quota_take(gateway_app *app, http_req *req, const char *client, long rate, long burst)
{
	gateway_quotas *q = &app->quotas;
	quota_bucket *b;
	double now = limiter_now(), tokens;
	unsigned slot = quota_slot(client);
	int admitted;

	if (rate <= 0)
		rate = app->cfg.quota_rate;
	if (burst <= 0)
		burst = app->cfg.quota_burst;
	pthread_mutex_lock(&q->mu);
	for (b = q->slots[slot]; b != NULL && strcmp(b->client, client) != 0; b = b->next)
		;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			abort();
		snprintf(b->client, sizeof(b->client), "%s", client);
		b->tokens = (double)burst;
		b->stamp = now;
		b->next = q->slots[slot];
		q->slots[slot] = b;
	}
	b->rate = rate;
	b->burst = burst;
	b->tokens += (now - b->stamp) * (double)rate;
	if (b->tokens > (double)burst)
		b->tokens = (double)burst;
	b->stamp = now;
	admitted = b->tokens >= 1.0;
	if (admitted)
		b->tokens -= 1.0;
	tokens = b->tokens;
	pthread_mutex_unlock(&q->mu);
	return quota_answer(req, client, rate, burst, tokens, admitted);
}

int gateway_quota_early(gateway_app *app, http_req *req, const char *client)
{
	gateway_quotas *q = &app->quotas;
	quota_bucket *b;
	double tokens = 1.0;
	long rate = 0, burst = 0;

	pthread_mutex_lock(&q->mu);
	for (b = q->slots[quota_slot(client)]; b != NULL && strcmp(b->client, client) != 0;
	     b = b->next)
		;
	if (b != NULL) {
		tokens = b->tokens + (limiter_now() - b->stamp) * (double)b->rate;
		rate = b->rate;
		burst = b->burst;
	}
	pthread_mutex_unlock(&q->mu);
	if (tokens >= 1.0)
		return 0;
	return quota_answer(req, client, rate, burst, tokens, 0);
}

#define PROBE_PERIOD_NS 5000000L

/* Sleeps 5 ms at a time and records how late it woke: the wait for CPU. */
static void *admission_probe(void *arg)
{
	gateway_app *app = arg;
	const struct timespec period = {0, PROBE_PERIOD_NS};

	while (!atomic_load(&app->probe_stop)) {
		double t0 = limiter_now();

		nanosleep(&period, NULL);
		limiter_note_lag(&app->admission,
		                 limiter_now() - t0 - (double)PROBE_PERIOD_NS / 1e9);
	}
	return NULL;
}

int gateway_admission_start(gateway_app *app, hc_err *err)
{
	long max = app->cfg.max_inflight;

	limiter_init(&app->admission, max, max / 16 > 4 ? max / 16 : 4,
	             (double)app->cfg.target_ms / 1000.0, limiter_now());
	metrics_set(app->admission_limit, max);
	if (pthread_create(&app->probe, NULL, admission_probe, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the admission probe");
	app->probe_running = 1;
	return 0;
}

void gateway_admission_stop(gateway_app *app)
{
	if (!app->probe_running)
		return;
	atomic_store(&app->probe_stop, 1);
	pthread_join(app->probe, NULL);
	app->probe_running = 0;
}

int gateway_admit(gateway_app *app, http_req *req, int priority)
{
	if (limiter_acquire(&app->admission, priority) == 0)
		return 0;
	metrics_add(priority ? app->shed_priority : app->shed, 1);
	http_reply_header(req, "Retry-After", "1");
	http_reply_problem(req, PROBLEM_OVERLOADED, NULL,
	                   "the gateway is at capacity; retry in a second");
	return -1;
}

void gateway_release(gateway_app *app, const http_req *req)
{
	metrics_set(app->admission_limit,
	            limiter_release(&app->admission, http_req_age(req), limiter_now()));
	metrics_set(app->cpu_lag, atomic_load(&app->admission.lag_us));
}
