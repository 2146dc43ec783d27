/* Unit tests of common/metrics: Prometheus text exposition. */
#include "common/metrics/metrics.h"
#include "tests/unit/unit.h"

TEST(counters_gauges_histograms_render)
{
	metric *a = metrics_counter("t_requests_total", "route=\"/a\"", "Requests");
	metric *b = metrics_counter("t_requests_total", "route=\"/b\"", "Requests");
	metric *g = metrics_gauge("t_lag", "", "Lag");
	metric *h = metrics_histogram("t_seconds", "route=\"/a\"", "Latency");
	size_t len;
	char *text;

	CHECK(metrics_counter("t_requests_total", "route=\"/a\"", "Requests") == a);
	metrics_add(a, 2);
	metrics_add(b, 5);
	metrics_set(g, 42);
	metrics_observe(h, 0.0005);
	metrics_observe(h, 0.02);
	metrics_observe(h, 60);
	text = metrics_render(&len);
	CHECK_EQ_INT(strlen(text), len);
	CHECK(strstr(text, "# HELP t_requests_total Requests\n# TYPE t_requests_total counter\n") !=
	      NULL);
	CHECK(strstr(text, "t_requests_total{route=\"/a\"} 2\n") != NULL);
	CHECK(strstr(text, "t_requests_total{route=\"/b\"} 5\n") != NULL);
	/* one HELP per name */
	CHECK(strstr(strstr(text, "# HELP t_requests_total") + 1, "# HELP t_requests_total") ==
	      NULL);
	CHECK(strstr(text, "# TYPE t_lag gauge\nt_lag 42\n") != NULL);
	CHECK(strstr(text, "t_seconds_bucket{route=\"/a\",le=\"0.001\"} 1\n") != NULL);
	CHECK(strstr(text, "t_seconds_bucket{route=\"/a\",le=\"0.025\"} 2\n") != NULL);
	CHECK(strstr(text, "t_seconds_bucket{route=\"/a\",le=\"10\"} 2\n") != NULL);
	CHECK(strstr(text, "t_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n") != NULL);
	CHECK(strstr(text, "t_seconds_count{route=\"/a\"} 3\n") != NULL);
	free(text);
}

UNIT_MAIN(T(counters_gauges_histograms_render))
