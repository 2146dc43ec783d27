/* Prometheus metrics registry; see metrics.h. */
#include "common/metrics/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX     512
#define METRICS_BUCKETS 12

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE, METRIC_HISTOGRAM };

static const double metrics_bounds[METRICS_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                       0.1,   0.25,   0.5,   1,    2.5,   10};

struct metric {
	enum metric_kind kind;
	char name[64];
	char labels[128];
	const char *help;
	atomic_long value;                    /* counter, gauge; histogram count */
	atomic_long sum_us;                   /* histogram: sum in microseconds */
	atomic_long buckets[METRICS_BUCKETS]; /* histogram: non-cumulative counts */
};

static pthread_mutex_t metrics_lock = PTHREAD_MUTEX_INITIALIZER;
static metric metrics_all[METRICS_MAX];
static atomic_int metrics_count;

static metric *metrics_get(enum metric_kind kind, const char *name, const char *labels,
                           const char *help)
{
	metric *m = NULL;
	int i, n;

	pthread_mutex_lock(&metrics_lock);
	n = atomic_load(&metrics_count);
	for (i = 0; i < n; i++) {
		if (strcmp(metrics_all[i].name, name) == 0 &&
		    strcmp(metrics_all[i].labels, labels) == 0) {
			m = &metrics_all[i];
			break;
		}
	}
	if (m == NULL) {
		if (n == METRICS_MAX)
			abort();
		m = &metrics_all[n];
		m->kind = kind;
		snprintf(m->name, sizeof(m->name), "%s", name);
		snprintf(m->labels, sizeof(m->labels), "%s", labels);
		m->help = help;
		atomic_store(&metrics_count, n + 1);
	}
	pthread_mutex_unlock(&metrics_lock);
	return m;
}

metric *metrics_counter(const char *name, const char *labels, const char *help)
{
	return metrics_get(METRIC_COUNTER, name, labels, help);
}

metric *metrics_gauge(const char *name, const char *labels, const char *help)
{
	return metrics_get(METRIC_GAUGE, name, labels, help);
}

metric *metrics_histogram(const char *name, const char *labels, const char *help)
{
	return metrics_get(METRIC_HISTOGRAM, name, labels, help);
}

void metrics_add(metric *m, long delta)
{
	atomic_fetch_add(&m->value, delta);
}

void metrics_set(metric *m, long value)
{
	atomic_store(&m->value, value);
}

void metrics_observe(metric *m, double seconds)
{
	int i;

	for (i = 0; i < METRICS_BUCKETS - 1 && seconds > metrics_bounds[i]; i++)
		;
	if (seconds <= metrics_bounds[i])
		atomic_fetch_add(&m->buckets[i], 1);
	atomic_fetch_add(&m->sum_us, (long)(seconds * 1e6));
	atomic_fetch_add(&m->value, 1);
}

typedef struct mbuf {
	char *p;
	size_t len, cap;
} mbuf;

static void mbuf_printf(mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void mbuf_printf(mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)n;
		b->p = realloc(b->p, b->cap);
		if (b->p == NULL)
			abort();
	}
}

static void metrics_render_histogram(mbuf *b, metric *m)
{
	const char *sep = m->labels[0] ? "," : "";
	long cumulative = 0;
	int i;

	for (i = 0; i < METRICS_BUCKETS; i++) {
		cumulative += atomic_load(&m->buckets[i]);
		mbuf_printf(b, "%s_bucket{%s%sle=\"%g\"} %ld\n", m->name, m->labels, sep,
		            metrics_bounds[i], cumulative);
	}
	mbuf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %ld\n", m->name, m->labels, sep,
	            atomic_load(&m->value));
	mbuf_printf(b, "%s_sum{%s} %.6f\n", m->name, m->labels,
	            (double)atomic_load(&m->sum_us) / 1e6);
	mbuf_printf(b, "%s_count{%s} %ld\n", m->name, m->labels, atomic_load(&m->value));
}

char *metrics_render(size_t *len)
{
	static const char *const kinds[] = {"counter", "gauge", "histogram"};
	mbuf b = {malloc(4096), 0, 4096};
	int i, j, n = atomic_load(&metrics_count);

	if (b.p == NULL)
		abort();
	b.p[0] = '\0';
	for (i = 0; i < n; i++) {
		int seen = 0;

		for (j = 0; j < i && !seen; j++)
			seen = strcmp(metrics_all[j].name, metrics_all[i].name) == 0;
		if (seen)
			continue; /* rendered with the first series of that name */
		mbuf_printf(&b, "# HELP %s %s\n# TYPE %s %s\n", metrics_all[i].name,
		            metrics_all[i].help, metrics_all[i].name, kinds[metrics_all[i].kind]);
		for (j = i; j < n; j++) {
			metric *m = &metrics_all[j];

			if (strcmp(m->name, metrics_all[i].name) != 0)
				continue;
			if (m->kind == METRIC_HISTOGRAM)
				metrics_render_histogram(&b, m);
			else if (m->labels[0])
				mbuf_printf(&b, "%s{%s} %ld\n", m->name, m->labels,
				            atomic_load(&m->value));
			else
				mbuf_printf(&b, "%s %ld\n", m->name, atomic_load(&m->value));
		}
	}
	*len = b.len;
	return b.p;
}
