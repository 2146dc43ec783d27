/*
 * The idempotent producer shared by a service's outbox relay and its
 * dead-letter path; see bus.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bus/bus_internal.h"
#include "common/log/log.h"

static void bus_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	bus_delivery *d = m->_private;

	(void)rk;
	(void)opaque;
	if (d == NULL)
		return;
	d->persisted = m->err == RD_KAFKA_RESP_ERR_NO_ERROR &&
	               rd_kafka_message_status(m) == RD_KAFKA_MSG_STATUS_PERSISTED;
	if (!d->persisted)
		snprintf(d->error, sizeof(d->error), "%s", rd_kafka_err2str(m->err));
	atomic_store(&d->done, 1);
}

static void bus_on_error(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	(void)opaque;
	if (code == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[256];

		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		log_error("kafka fatal error: %s", buf);
		return;
	}
	/* Transport errors while the broker restarts are expected; librdkafka retries. */
	log_warn("kafka: %s", reason);
}

int bus_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, hc_err *err)
{
	char errstr[256];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
		return hc_err_set(err, HC_ERR_FATAL, "could not set kafka %s: %s", name, errstr);
	return 0;
}

int bus_new(bus **out, const bus_config *cfg, hc_err *err)
{
	static const char *const settings[][2] = {
	    {"enable.idempotence", "true"},    {"acks", "all"},
	    {"partitioner", "murmur2_random"}, {"linger.ms", "5"},
	    {"message.timeout.ms", "120000"},  {"socket.keepalive.enable", "true"},
	};
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	bus *b;
	size_t i;
	int rc;

	rc = bus_conf_set(conf, "bootstrap.servers", cfg->brokers, err);
	if (rc == 0)
		rc = bus_conf_set(conf, "client.id", cfg->client_id, err);
	for (i = 0; rc == 0 && i < sizeof(settings) / sizeof(settings[0]); i++)
		rc = bus_conf_set(conf, settings[i][0], settings[i][1], err);
	if (rc != 0) {
		rd_kafka_conf_destroy(conf);
		return rc;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, bus_on_delivery);
	rd_kafka_conf_set_error_cb(conf, bus_on_error);
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		abort();
	b->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (b->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		free(b);
		return hc_err_set(err, HC_ERR_FATAL, "could not create kafka producer: %s", errstr);
	}
	conf = NULL; /* owned by rk now */
	b->brokers = strdup(cfg->brokers);
	b->prefix = strdup(cfg->topic_prefix ? cfg->topic_prefix : "");
	b->client_id = strdup(cfg->client_id);
	if (b->brokers == NULL || b->prefix == NULL || b->client_id == NULL)
		abort();
	*out = b;
	return 0;
}

void bus_free(bus *b)
{
	if (b == NULL)
		return;
	if (rd_kafka_flush(b->rk, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
		log_warn(
		    "kafka producer closed with %d messages undelivered; the outbox keeps them",
		    rd_kafka_outq_len(b->rk));
	rd_kafka_destroy(b->rk);
	free(b->brokers);
	free(b->prefix);
	free(b->client_id);
	free(b);
}

int bus_ping(bus *b, int timeout_ms, hc_err *err)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e = rd_kafka_metadata(b->rk, 0, NULL, &md, timeout_ms);

	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not reach kafka: %s",
		                  rd_kafka_err2str(e));
	rd_kafka_metadata_destroy(md);
	return 0;
}

void bus_topic_full(const bus *b, const char *topic, char *out, size_t cap)
{
	snprintf(out, cap, "%s%s", b->prefix, topic);
}

int bus_produce(bus *b, const char *full_topic, const char *key, size_t keylen, const void *val,
                size_t len, rd_kafka_headers_t *hdrs, bus_delivery *d, hc_err *err)
{
	rd_kafka_resp_err_t e;
	int tries = 0;

	atomic_store(&d->done, 0);
	d->persisted = 0;
	d->error[0] = '\0';
	for (;;) {
		e = rd_kafka_producev(
		    b->rk, RD_KAFKA_V_TOPIC(full_topic), RD_KAFKA_V_KEY((void *)key, keylen),
		    RD_KAFKA_V_VALUE((void *)val, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
		    RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
		if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || ++tries > 100)
			break;
		rd_kafka_poll(b->rk, 100); /* make room: serve delivery reports */
	}
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rd_kafka_headers_destroy(hdrs);
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not produce to %s: %s", full_topic,
		                  rd_kafka_err2str(e));
	}
	return 0;
}

static size_t bus_pending(bus_delivery *d, size_t n)
{
	size_t i, left = 0;

	for (i = 0; i < n; i++)
		left += atomic_load(&d[i].done) == 0;
	return left;
}

void bus_delivery_wait(bus *b, bus_delivery *d, size_t n, atomic_int *stop)
{
	time_t deadline = 0;

	while (bus_pending(d, n) > 0) {
		rd_kafka_poll(b->rk, 50);
		if (stop != NULL && atomic_load(stop)) {
			if (deadline == 0)
				deadline = time(NULL) + 10;
			else if (time(NULL) > deadline) {
				rd_kafka_purge(b->rk,
				               RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
				deadline = time(NULL) + 3600;
			}
		}
	}
}
