/*
 * Process metrics in the Prometheus text exposition format, served by every
 * service at /metrics.  Series are created on first use and live for the
 * process; updates are lock-free atomics, creation takes a mutex.  Label
 * values must never hold personal data (routes and status classes, not ids).
 */
#ifndef HC_METRICS_METRICS_H
#define HC_METRICS_METRICS_H

#include <stddef.h>

typedef struct metric metric;

/*
 * Returns the series name{labels}, creating it when new.  labels is the text
 * between the braces (`route="x",code="2xx"`) or "".  The pointer is borrowed
 * and stays valid for the process.  Aborts when the registry is full (a
 * programming error: label values must be bounded).
 */
metric *metrics_counter(const char *name, const char *labels, const char *help);
metric *metrics_gauge(const char *name, const char *labels, const char *help);
/* A histogram of seconds with fixed buckets from 1 ms to 10 s. */
metric *metrics_histogram(const char *name, const char *labels, const char *help);

void metrics_add(metric *m, long delta);
void metrics_set(metric *m, long value);
void metrics_observe(metric *m, double seconds);

/* Renders every series.  Returns a new string to free(), length in *len. */
char *metrics_render(size_t *len);

#endif
