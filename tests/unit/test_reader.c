/*
 * The log reader (common/bus/reader.c: hc-replay, the as-of explanations and
 * the rebuilds read through it) against librdkafka's mock cluster, which can
 * move leaders, fail requests and stop brokers on cue; the integration tests
 * read the real broker.  Every test checks the same thing of a read: each
 * record of the range exactly once, offsets without gaps within each
 * partition, and a key's records in the order they were produced.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "common/bus/bus.h"
#include "common/bus/bus_internal.h"
#include "tests/unit/unit.h"

#define TOPIC   "events"
#define PARTS   3
#define KEYS    97
#define FETCH   1 /* the Fetch request's ApiKey */
#define MAXRECS 200000

static rd_kafka_t *producer;
static rd_kafka_mock_cluster_t *cluster;
static const char *bootstraps;

/* A mock cluster of brokers brokers with the topic (PARTS partitions) and n records in it:
 * record i has the key "k<i % KEYS>" and the value i. */
static void cluster_with(int brokers, long n)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[256], num[16], key[24], val[24];

	snprintf(num, sizeof(num), "%d", brokers);
	CHECK(rd_kafka_conf_set(conf, "test.mock.num.brokers", num, errstr, sizeof(errstr)) ==
	      RD_KAFKA_CONF_OK);
	CHECK(rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ==
	      RD_KAFKA_CONF_OK);
	CHECK(rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ==
	      RD_KAFKA_CONF_OK);
	CHECK(rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr)) ==
	      RD_KAFKA_CONF_OK);
	producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	CHECK(producer != NULL);
	cluster = rd_kafka_handle_mock_cluster(producer);
	CHECK(cluster != NULL);
	CHECK(rd_kafka_mock_topic_create(cluster, TOPIC, PARTS, brokers < 3 ? brokers : 3) ==
	      RD_KAFKA_RESP_ERR_NO_ERROR);
	bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
	for (long i = 0; i < n; i++) {
		rd_kafka_resp_err_t e;

		snprintf(key, sizeof(key), "k%ld", i % KEYS);
		snprintf(val, sizeof(val), "%ld", i);
		while ((e = rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(TOPIC),
		                              RD_KAFKA_V_KEY(key, strlen(key)),
		                              RD_KAFKA_V_VALUE(val, strlen(val)),
		                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		                              RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
			rd_kafka_poll(producer, 10);
		CHECK_EQ_INT(e, RD_KAFKA_RESP_ERR_NO_ERROR);
	}
	CHECK_EQ_INT(rd_kafka_flush(producer, 15000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Stops the mock cluster (it lives in the producer). */
static void cluster_down(void)
{
	rd_kafka_destroy(producer);
	producer = NULL;
	cluster = NULL;
}

/* What a read saw. */
typedef struct seen {
	long n;                 /* records passed to the callback */
	unsigned char *times;   /* by value: how often */
	int64_t last[PARTS];    /* by partition: the last offset, -1 before the first */
	long last_of_key[KEYS]; /* by key: the last value, -1 before the first */
	long stop_after;        /* > 0: set *stop after this many records */
	volatile sig_atomic_t *stop;
	void (*at_half)(void); /* called once, at record half (a fault on cue) */
	long half;
	unsigned sleep_first_ms; /* the first record waits this long (the prefetch fills) */
	char why[160];           /* the first thing wrong, "" while nothing is */
} seen;

static void seen_init(seen *s)
{
	memset(s, 0, sizeof(*s));
	s->times = calloc(MAXRECS, 1);
	CHECK(s->times != NULL);
	for (int p = 0; p < PARTS; p++)
		s->last[p] = -1;
	for (int k = 0; k < KEYS; k++)
		s->last_of_key[k] = -1;
}

static void seen_free(seen *s)
{
	free(s->times);
	s->times = NULL;
}

/* Notes the first thing wrong with what was read (checked once the read is over: librdkafka's
 * own log is silenced during it, see read_with). */
#define BAD(s, ...)                                                        \
	do {                                                               \
		if ((s)->why[0] == '\0')                                   \
			snprintf((s)->why, sizeof((s)->why), __VA_ARGS__); \
		return 0;                                                  \
	} while (0)

static int on_record(void *ctx, const bus_record *r, hc_err *err)
{
	seen *s = ctx;
	char buf[16];
	long v, k;

	(void)err;
	if (strcmp(r->topic, TOPIC) != 0 || r->partition < 0 || r->partition >= PARTS ||
	    r->len == 0 || r->len >= sizeof(buf) || r->keylen < 2 || r->keylen >= sizeof(buf))
		BAD(s, "a record of %s[%d] not produced here", r->topic, (int)r->partition);
	memcpy(buf, r->value, r->len);
	buf[r->len] = '\0';
	v = strtol(buf, NULL, 10);
	memcpy(buf, r->key, r->keylen);
	buf[r->keylen] = '\0';
	k = strtol(buf + 1, NULL, 10);
	if (v < 0 || v >= MAXRECS || k != v % KEYS)
		BAD(s, "record %ld with key k%ld", v, k);
	/* no gap and no repeat within the partition (a resumed read starts past 0) */
	if (s->last[r->partition] >= 0 && r->offset != s->last[r->partition] + 1)
		BAD(s, "partition %d: offset %lld after %lld", (int)r->partition,
		    (long long)r->offset, (long long)s->last[r->partition]);
	s->last[r->partition] = r->offset;
	if (v <= s->last_of_key[k]) /* the key's order */
		BAD(s, "key k%ld: record %ld after %ld", k, v, s->last_of_key[k]);
	s->last_of_key[k] = v;
	s->times[v]++;
	s->n++;
	if (s->n == 1 && s->sleep_first_ms > 0) {
		struct timespec ts = {(time_t)(s->sleep_first_ms / 1000),
		                      (long)(s->sleep_first_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
	if (s->at_half != NULL && s->n == s->half)
		s->at_half();
	if (s->stop_after > 0 && s->n == s->stop_after)
		*s->stop = 1;
	return 0;
}

static void read_with(const char *group, seen *s, volatile sig_atomic_t *stop, bus_position **pos,
                      size_t *npos)
{
	static const char *const topics[] = {TOPIC};
	bus_reader_config cfg = {.brokers = bootstraps,
	                         .topic_prefix = "",
	                         .topics = topics,
	                         .ntopics = 1,
	                         .from_ms = -1,
	                         .to_ms = -1,
	                         .group_id = group};
	hc_err err;
	int rc;

	int saved = dup(2), null = open("/dev/null", O_WRONLY);

	/* librdkafka logs every disconnect the faults cause to stderr: not the test's output */
	CHECK(saved >= 0 && null >= 0 && dup2(null, 2) == 2);
	hc_err_clear(&err);
	rc = bus_read(&cfg, on_record, s, stop, pos, npos, &err);
	CHECK(dup2(saved, 2) == 2);
	close(saved);
	close(null);
	if (rc != 0)
		fprintf(stderr, "    bus_read: %s\n", err.msg);
	CHECK_EQ_INT(rc, 0);
	if (s->why[0] != '\0')
		fprintf(stderr, "    %s\n", s->why);
	CHECK(s->why[0] == '\0');
	CHECK_EQ_INT(*npos, PARTS);
}

/* Every value below n seen exactly once; the positions read to the end. */
static void check_all_once(const seen *s, long n, const bus_position *pos, size_t npos)
{
	int64_t span = 0;

	for (long v = 0; v < n; v++)
		if (s->times[v] != 1) {
			fprintf(stderr, "    value %ld seen %d times\n", v, s->times[v]);
			CHECK(s->times[v] == 1);
		}
	for (size_t i = 0; i < npos; i++) {
		CHECK_EQ_INT(pos[i].next, pos[i].end);
		span += pos[i].end - pos[i].low;
	}
	CHECK_EQ_INT(span, n);
}

static pthread_t restarter; /* brokers_down's */
static int restarting;

/* A read of a whole topic of n records on brokers brokers, fault() called at record at (none:
 * NULL), the first record waiting sleep_ms: each record once, in order, to the end. */
static void read_whole(int brokers, long n, void (*fault)(void), long at, unsigned sleep_ms)
{
	bus_position *pos;
	size_t npos;
	seen s;

	cluster_with(brokers, n);
	seen_init(&s);
	s.at_half = fault;
	s.half = at;
	s.sleep_first_ms = sleep_ms;
	read_with(NULL, &s, NULL, &pos, &npos);
	if (restarting)
		pthread_join(restarter, NULL);
	CHECK_EQ_INT(s.n, n);
	check_all_once(&s, n, pos, npos);
	free(pos);
	seen_free(&s);
	cluster_down();
}

TEST(a_read_gives_every_record_once_in_order)
{
	read_whole(1, 3000, NULL, 0, 0);
}

/* Halfway through: every partition's leader moves to another broker, and the next fetches
 * fail as a leader that stepped down and a broker that timed out answer. */
static void move_leaders(void)
{
	for (int p = 0; p < PARTS; p++)
		rd_kafka_mock_partition_set_leader(cluster, TOPIC, p, 1 + (p + 1) % 3);
	rd_kafka_mock_push_request_errors(
	    cluster, FETCH, 4, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
	    RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT,
	    RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
}

TEST(a_read_goes_on_past_leader_changes_and_failed_fetches)
{
	read_whole(3, 6000, move_leaders, 1500, 0);
}

static void *broker_back(void *arg)
{
	struct timespec ts = {0, 700 * 1000000L};

	(void)arg;
	nanosleep(&ts, NULL);
	for (int b = 1; b <= 3; b++)
		rd_kafka_mock_broker_set_up(cluster, b);
	return NULL;
}

/* Halfway through: every broker down, back 0.7 s later. */
static void brokers_down(void)
{
	for (int b = 1; b <= 3; b++)
		rd_kafka_mock_broker_set_down(cluster, b);
	CHECK(pthread_create(&restarter, NULL, broker_back, NULL) == 0);
	restarting = 1;
}

TEST(a_read_waits_out_brokers_that_go_down)
{
	read_whole(3, 6000, brokers_down, 1000, 0);
}

TEST(a_stopped_read_resumes_from_its_group_where_it_stopped)
{
	volatile sig_atomic_t stop = 0;
	bus_position *pos;
	size_t npos;
	seen s;
	long first;

	cluster_with(1, 4000);
	seen_init(&s);
	s.stop_after = 1300;
	s.stop = &stop;
	read_with("analyst-1", &s, &stop, &pos, &npos);
	first = s.n;
	CHECK_EQ_INT(first, 1300); /* nothing passed on after the stop */
	free(pos);
	/* the second run: from the group's committed positions, the rest, once */
	s.stop_after = 0;
	stop = 0;
	read_with("analyst-1", &s, &stop, &pos, &npos);
	CHECK_EQ_INT(s.n, 4000);
	check_all_once(&s, 4000, pos, npos);
	free(pos);
	/* and a third finds nothing left */
	read_with("analyst-1", &s, &stop, &pos, &npos);
	CHECK_EQ_INT(s.n, 4000);
	free(pos);
	seen_free(&s);
	cluster_down();
}

TEST(a_read_past_a_full_prefetch_queue_wakes_its_fetchers)
{
	/* more records than the reader's queue high mark (150,000): the first record waits
	 * while they are all fetched, so the queue fills; as it drains the reader wakes its
	 * broker threads (reader_wake) and the read must still give each record once */
	atomic_store(&bus_reader_wakes, 0);
	read_whole(1, 170000, NULL, 0, 3000);
	CHECK(atomic_load(&bus_reader_wakes) >= 1);
}

UNIT_MAIN(T(a_read_gives_every_record_once_in_order),
          T(a_read_goes_on_past_leader_changes_and_failed_fetches),
          T(a_read_waits_out_brokers_that_go_down),
          T(a_stopped_read_resumes_from_its_group_where_it_stopped),
          T(a_read_past_a_full_prefetch_queue_wakes_its_fetchers))
