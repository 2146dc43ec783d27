/*
 * Quotas and overload; see app.h.
 *
 * Quotas: one token bucket per client, in this process's memory, shared
 * with the other gateways through PostgreSQL (quota_usage): every
 * HC_QUOTA_SYNC_MS each gateway adds the requests it admitted for each
 * client since the last time to its own row, and takes what the other
 * gateways' rows gained meanwhile out of its own bucket (which may go below
 * zero: the client then waits for the refill).  A client spread over several
 * gateways gets one quota between them, give or take what they admit within
 * one interval before they hear of each other.  Every authenticated
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
#include "common/log/log.h"
#include "services/gateway/app.h"

struct quota_bucket {
	quota_bucket *next;
	char client[41];
	double tokens;
	double stamp;     /* CLOCK_MONOTONIC seconds of the last refill */
	long rate, burst; /* as of the last take (what an early refusal refills with) */
	long taken;       /* admitted here since the last sync */
	long long others; /* the other gateways' total for the client, as last synced */
	int others_known; /* others holds a total (the first one is not taken out) */
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

/* The client's bucket, or NULL (q->mu held). */
static quota_bucket *quota_find(gateway_quotas *q, const char *client)
{
	quota_bucket *b;

	for (b = q->slots[quota_slot(client)]; b != NULL && strcmp(b->client, client) != 0;
	     b = b->next)
		;
	return b;
}

/* The RateLimit headers; when not admitted, the 429 (returns -1). */
static int quota_answer(http_req *req, const char *client, long rate, long burst, double tokens,
                        int admitted)
{
	char text[32];

	snprintf(text, sizeof(text), "%ld", burst);
	http_reply_header(req, "RateLimit-Limit", text);
	snprintf(text, sizeof(text), "%ld", tokens > 0 ? (long)tokens : 0L);
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
	b = quota_find(q, client);
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
	if (admitted) {
		b->tokens -= 1.0;
		b->taken++;
	}
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
	b = quota_find(q, client);
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

/* Each bucket's taken since the last sync, as [{c: client, n: taken}], taken reset. */
static json_t *quota_sync_collect(gateway_quotas *q, json_t **clients)
{
	json_t *taken = json_array();
	quota_bucket *b;
	size_t i;

	*clients = json_array();
	pthread_mutex_lock(&q->mu);
	for (i = 0; i < GATEWAY_QUOTA_SLOTS; i++)
		for (b = q->slots[i]; b != NULL; b = b->next) {
			json_array_append_new(*clients, json_string(b->client));
			if (b->taken > 0)
				json_array_append_new(taken, json_pack("{s:s, s:I}", "c", b->client,
				                                       "n", (json_int_t)b->taken));
			b->taken = 0;
		}
	pthread_mutex_unlock(&q->mu);
	return taken;
}

/* A failed sync: what was taken goes with the next one. */
static void quota_sync_restore(gateway_quotas *q, json_t *taken)
{
	quota_bucket *b;
	size_t i;
	json_t *t;

	pthread_mutex_lock(&q->mu);
	json_array_foreach (taken, i, t) {
		const char *client = json_string_value(json_object_get(t, "c"));

		b = quota_find(q, client);
		if (b != NULL)
			b->taken += (long)json_integer_value(json_object_get(t, "n"));
	}
	pthread_mutex_unlock(&q->mu);
}

/* The other gateways' totals: what each gained since the last sync leaves the bucket. */
static long quota_sync_apply(gateway_quotas *q, db_res *res)
{
	long shared = 0;
	quota_bucket *b;
	int r;

	pthread_mutex_lock(&q->mu);
	for (r = 0; r < db_res_rows(res); r++) {
		const char *client = db_res_get(res, r, 0);
		long long total = strtoll(db_res_get(res, r, 1), NULL, 10);

		b = quota_find(q, client);
		if (b == NULL)
			continue;
		if (b->others_known && total > b->others) {
			b->tokens -= (double)(total - b->others);
			shared += (long)(total - b->others);
		}
		b->others = total; /* lower: an idle row was purged */
		b->others_known = 1;
	}
	pthread_mutex_unlock(&q->mu);
	return shared;
}

/* One sync: this gateway's taken in, the others' totals out, in one statement. */
static void quota_sync_once(gateway_app *app)
{
	json_t *clients, *taken = quota_sync_collect(&app->quotas, &clients);
	char *taken_text, *clients_text;
	const char *params[3];
	db_conn *conn;
	db_res *res = NULL;
	hc_err err;
	time_t now = time(NULL);

	if (json_array_size(clients) == 0) { /* no client has come yet */
		json_decref(taken);
		json_decref(clients);
		return;
	}
	taken_text = json_dumps(taken, JSON_COMPACT);
	clients_text = json_dumps(clients, JSON_COMPACT);
	if (taken_text == NULL || clients_text == NULL)
		abort();
	params[0] = app->instance;
	params[1] = taken_text;
	params[2] = clients_text;
	hc_err_clear(&err);
	conn = db_pool_take(app->svc.pool);
	if (db_run(conn, "gateway_quota_sync", 3, params, &res, &err) != 0) {
		log_warn("quotas: could not share with the other gateways: %s", err.msg);
		quota_sync_restore(&app->quotas, taken);
	} else {
		metrics_add(app->quota_shared, quota_sync_apply(&app->quotas, res));
		metrics_add(app->quota_syncs, 1);
	}
	db_res_free(res);
	if (now - app->quotas.purged >= 60) { /* rows idle for an hour */
		app->quotas.purged = now;
		if (db_run(conn, "gateway_quota_purge", 0, NULL, NULL, &err) != 0)
			log_warn("quotas: %s", err.msg);
	}
	db_pool_give(app->svc.pool, conn);
	free(taken_text);
	free(clients_text);
	json_decref(taken);
	json_decref(clients);
}

static void *quota_sync_main(void *arg)
{
	gateway_app *app = arg;
	long waited;

	while (!atomic_load(&app->quota_sync_stop)) {
		for (waited = 0;
		     waited < app->cfg.quota_sync_ms && !atomic_load(&app->quota_sync_stop);
		     waited += 50) {
			long ms = app->cfg.quota_sync_ms - waited < 50
			              ? app->cfg.quota_sync_ms - waited
			              : 50;
			struct timespec t = {0, ms * 1000000L};

			nanosleep(&t, NULL);
		}
		quota_sync_once(app); /* and once more when stopping: nothing taken is left out */
	}
	return NULL;
}

int gateway_quota_sync_start(gateway_app *app, hc_err *err)
{
	hc_uuid_v7(app->instance);
	if (app->cfg.quota_sync_ms <= 0)
		return 0;
	if (pthread_create(&app->quota_sync, NULL, quota_sync_main, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the quota sync");
	pthread_setname_np(app->quota_sync, "quota-sync");
	app->quota_sync_running = 1;
	return 0;
}

void gateway_quota_sync_stop(gateway_app *app)
{
	if (!app->quota_sync_running)
		return;
	atomic_store(&app->quota_sync_stop, 1);
	pthread_join(app->quota_sync, NULL);
	app->quota_sync_running = 0;
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
	             (double)app->cfg.target_ms / 1000.0, (double)app->cfg.cpu_lag_us / 1e6,
	             limiter_now());
	metrics_set(app->admission_limit, max);
	if (pthread_create(&app->probe, NULL, admission_probe, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the admission probe");
	pthread_setname_np(app->probe, "admission-probe");
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
