/*
 * Shared by the files of common/bus only: the producer handle and the
 * delivery bookkeeping that the relay and the dead-letter path both use.
 */
#ifndef HC_BUS_INTERNAL_H
#define HC_BUS_INTERNAL_H

#include <stdatomic.h>

#include <librdkafka/rdkafka.h>

#include "common/bus/bus.h"

struct bus {
	rd_kafka_t *rk;
	char *brokers;
	char *prefix;
	char *client_id;
};

/* The outcome of one produced message, filled in by the delivery report. */
typedef struct bus_delivery {
	atomic_int done;
	int persisted; /* 1 only for RD_KAFKA_MSG_STATUS_PERSISTED without error */
	char error[160];
} bus_delivery;

/* Times bus_read woke its broker threads after a full prefetch queue drained (reader_wake):
 * read by the reader's tests, which must see that path taken. */
extern atomic_ulong bus_reader_wakes;

/* Sets one librdkafka property.  Returns 0 or HC_ERR_FATAL naming it. */
int bus_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, hc_err *err);

/* Writes prefix + topic into out[cap]. */
void bus_topic_full(const bus *bus, const char *topic, char *out, size_t cap);

/*
 * Produces one message; hdrs is stolen in every case.  d is reset and must
 * stay alive until d->done (see bus_delivery_wait).  Returns 0, or
 * HC_ERR_TRANSIENT when librdkafka refused the message outright.
 */
int bus_produce(bus *bus, const char *full_topic, const char *key, size_t keylen, const void *val,
                size_t len, rd_kafka_headers_t *hdrs, bus_delivery *d, hc_err *err);

/*
 * Serves delivery reports until every d[0..n) is done.  When *stop becomes
 * non-zero (stop may be NULL) it waits at most 10 s more, then purges what is
 * still queued so that every report arrives before it returns.
 */
void bus_delivery_wait(bus *bus, bus_delivery *d, size_t n, atomic_int *stop);

#endif
