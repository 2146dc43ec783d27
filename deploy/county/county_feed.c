/*
 * county_feed: an example county system's consumer, for one county only.
 *
 *   county_feed --county CODE [--brokers HOST:PORT] [--prefix P] [--group G]
 *               [--idle-exit SECONDS]
 *
 * Follows the topics a county headquarters' own system consumes
 * (proto/asyncapi.json): employer applications to review, correction
 * requests, review decisions and certificates.  It joins its own consumer
 * group (default county-CODE, so every county's system keeps its own
 * position), keeps only records whose `county` header is its county (no
 * payload is decoded to decide), and prints each as one JSON line: topic,
 * partition, offset, event type and the CloudEvent.  A record's offset is
 * committed only after its line is written (at least once: a county system
 * deduplicates by the event id).  Stops on SIGINT/SIGTERM, or after
 * --idle-exit seconds without a record.
 *
 * It uses librdkafka directly, as a county's own program would: it needs
 * nothing of the platform but the broker address and the topic names.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

static const char *const topics[] = {
    "hc.intake.employer-application.v1",
    "hc.intake.correction.v1",
    "hc.review.decision.v1",
    "hc.certificate.certificate.v1",
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int set(rd_kafka_conf_t *conf, const char *name, const char *value)
{
	char errstr[256];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		fprintf(stderr, "county_feed: %s: %s\n", name, errstr);
		return -1;
	}
	return 0;
}

/* The header's value, NUL-terminated into out, or "" when absent. */
static void header(const rd_kafka_message_t *m, const char *name, char *out, size_t cap)
{
	rd_kafka_headers_t *h = NULL;
	const void *v = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    v != NULL) {
		if (len >= cap)
			len = cap - 1;
		memcpy(out, v, len);
		out[len] = '\0';
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"county", required_argument, NULL, 'c'},    {"brokers", required_argument, NULL, 'b'},
	    {"prefix", required_argument, NULL, 'p'},    {"group", required_argument, NULL, 'g'},
	    {"idle-exit", required_argument, NULL, 'i'}, {NULL, 0, NULL, 0},
	};
	const char *county = NULL, *brokers = "127.0.0.1:9092", *prefix = "";
	char group[96] = "", errstr[512], name[256], county_h[16], type[128];
	rd_kafka_topic_partition_list_t *subs;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	struct sigaction sa;
	long idle_exit = 0, seen = 0, kept = 0;
	time_t last = time(NULL);
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'c': county = optarg; break;
		case 'b': brokers = optarg; break;
		case 'p': prefix = optarg; break;
		case 'g': snprintf(group, sizeof(group), "%s", optarg); break;
		case 'i': idle_exit = atol(optarg); break;
		default: return 2;
		}
	}
	if (county == NULL || strlen(county) != 6 || optind != argc) {
		fprintf(stderr, "usage: county_feed --county CODE [--brokers B] [--prefix P] "
		                "[--group G] [--idle-exit S]\n");
		return 2;
	}
	if (group[0] == '\0')
		snprintf(group, sizeof(group), "county-%s", county);
	conf = rd_kafka_conf_new();
	if (set(conf, "bootstrap.servers", brokers) != 0 || set(conf, "group.id", group) != 0 ||
	    set(conf, "auto.offset.reset", "earliest") != 0 ||
	    set(conf, "enable.auto.offset.store", "false") != 0)
		return 1;
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "county_feed: %s\n", errstr);
		return 1;
	}
	rd_kafka_poll_set_consumer(rk);
	subs = rd_kafka_topic_partition_list_new(4);
	for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", prefix, topics[i]);
		rd_kafka_topic_partition_list_add(subs, name, RD_KAFKA_PARTITION_UA);
	}
	if (rd_kafka_subscribe(rk, subs) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		fprintf(stderr, "county_feed: could not subscribe\n");
		return 1;
	}
	rd_kafka_topic_partition_list_destroy(subs);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	while (!stop && (idle_exit <= 0 || time(NULL) - last < idle_exit)) {
		rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

		if (m == NULL)
			continue;
		if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
				fprintf(stderr, "county_feed: %s\n", rd_kafka_message_errstr(m));
			rd_kafka_message_destroy(m);
			continue;
		}
		last = time(NULL);
		seen++;
		header(m, "county", county_h, sizeof(county_h));
		if (strcmp(county_h, county) == 0) {
			header(m, "ce_type", type, sizeof(type));
			printf("{\"topic\":\"%s\",\"partition\":%d,\"offset\":%lld,\"type\":\"%s\","
			       "\"event\":%.*s}\n",
			       rd_kafka_topic_name(m->rkt) + strlen(prefix), (int)m->partition,
			       (long long)m->offset, type, (int)m->len, (const char *)m->payload);
			fflush(stdout);
			kept++;
		}
		rd_kafka_offset_store(m->rkt, m->partition, m->offset);
		rd_kafka_message_destroy(m);
	}
	fprintf(stderr, "county_feed: %ld records read, %ld of county %s\n", seen, kept, county);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	return 0;
}
