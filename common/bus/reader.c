/*
 * Reading a bounded stretch of the log without taking part in any service's
 * work: partitions are assigned, never subscribed, so no consumer group is
 * joined unless the caller names one of its own (then positions are
 * committed to it and a later run resumes from them).  The end of every
 * partition is fixed when reading starts, so a read always finishes even
 * while the platform keeps producing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/bus/bus_internal.h"

#define READER_TIMEOUT_MS 10000
#define READER_MAX_PARTS  4096
#define READER_BATCH      256
/* records prefetched: fetching stops at READER_QUEUE_FULL (queued.min.messages) */
#define READER_QUEUE_FULL "200000"
#define READER_QUEUE_HIGH 150000
#define READER_QUEUE_LOW  50000

static rd_kafka_t *reader_new(const bus_reader_config *cfg, hc_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	rd_kafka_t *rk;

	if (bus_conf_set(conf, "bootstrap.servers", cfg->brokers, err) != 0 ||
	    bus_conf_set(conf, "client.id", "hc-replay", err) != 0 ||
	    bus_conf_set(conf, "enable.auto.commit", "false", err) != 0 ||
	    bus_conf_set(conf, "enable.auto.offset.store", "false", err) != 0 ||
	    bus_conf_set(conf, "enable.partition.eof", "true", err) != 0 ||
	    bus_conf_set(conf, "fetch.wait.max.ms", "50", err) != 0 ||
	    bus_conf_set(conf, "queued.min.messages", READER_QUEUE_FULL, err) != 0 ||
	    /* each time the prefetch queue fills, its refill waits until the broker thread
	       wakes (reader_wake): with the default 64 MiB a replay of 1,000,000 events (760 MB)
	       stalled a dozen times and ran at 0.3x kcat; 256 MiB of prefetched records brought
	       it to 0.8x, before the wake */
	    bus_conf_set(conf, "queued.max.messages.kbytes", "262144", err) != 0 ||
	    /* librdkafka wants a group id even to assign; without the caller's own group the
	       reader never joins it and never commits to it */
	    bus_conf_set(conf, "group.id", cfg->group_id != NULL ? cfg->group_id : "hc-replay",
	                 err) != 0) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		hc_err_set(err, HC_ERR_FATAL, "could not create the reader: %s", errstr);
	}
	return rk;
}

/* Partition counts of the configured topics, appended to pos (start/end unset). */
static int reader_partitions(rd_kafka_t *rk, const bus_reader_config *cfg, bus_position **pos,
                             size_t *n, hc_err *err)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_resp_err_t e;
	char full[256];
	size_t i;
	int j, k;

	e = rd_kafka_metadata(rk, 1, NULL, &md, READER_TIMEOUT_MS);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return hc_err_set(err, HC_ERR_TRANSIENT, "no metadata from the brokers: %s",
		                  rd_kafka_err2str(e));
	*pos = calloc(READER_MAX_PARTS, sizeof(**pos));
	if (*pos == NULL)
		abort();
	for (i = 0; i < cfg->ntopics; i++) {
		snprintf(full, sizeof(full), "%s%s", cfg->topic_prefix ? cfg->topic_prefix : "",
		         cfg->topics[i]);
		for (j = 0; j < md->topic_cnt && strcmp(md->topics[j].topic, full) != 0; j++)
			;
		if (j == md->topic_cnt || md->topics[j].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
			rd_kafka_metadata_destroy(md);
			return hc_err_set(err, HC_ERR_PERMANENT, "no topic %s", full);
		}
		for (k = 0; k < md->topics[j].partition_cnt; k++) {
			int32_t p = md->topics[j].partitions[k].id;

			if (cfg->key != NULL && p != rd_kafka_msg_partitioner_murmur2(
			                                 NULL, cfg->key, strlen(cfg->key),
			                                 md->topics[j].partition_cnt, NULL, NULL))
				continue; /* the key's records are all in one partition */
			if (*n == READER_MAX_PARTS) {
				rd_kafka_metadata_destroy(md);
				return hc_err_set(err, HC_ERR_PERMANENT, "more than %d partitions",
				                  READER_MAX_PARTS);
			}
			snprintf((*pos)[*n].topic, sizeof((*pos)[*n].topic), "%s", cfg->topics[i]);
			(*pos)[*n].partition = p;
			(*n)++;
		}
	}
	rd_kafka_metadata_destroy(md);
	return 0;
}

static rd_kafka_topic_partition_list_t *reader_list(const bus_reader_config *cfg,
                                                    const bus_position *pos, size_t n)
{
	rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new((int)n);
	char full[256];

	for (size_t i = 0; i < n; i++) {
		snprintf(full, sizeof(full), "%s%s", cfg->topic_prefix ? cfg->topic_prefix : "",
		         pos[i].topic);
		rd_kafka_topic_partition_list_add(l, full, pos[i].partition);
	}
	return l;
}

/* Offsets of the first records at or after ms, per partition (-1: none yet). */
static int reader_times(rd_kafka_t *rk, const bus_reader_config *cfg, const bus_position *pos,
                        size_t n, int64_t ms, int64_t *out, hc_err *err)
{
	rd_kafka_topic_partition_list_t *l = reader_list(cfg, pos, n);
	rd_kafka_resp_err_t e;

	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = ms;
	e = rd_kafka_offsets_for_times(rk, l, READER_TIMEOUT_MS);
	for (int i = 0; e == RD_KAFKA_RESP_ERR_NO_ERROR && i < l->cnt; i++)
		out[i] = l->elems[i].err == RD_KAFKA_RESP_ERR_NO_ERROR ? l->elems[i].offset : -1;
	rd_kafka_topic_partition_list_destroy(l);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
		return hc_err_set(err, HC_ERR_TRANSIENT, "offsets for times failed: %s",
		                  rd_kafka_err2str(e));
	return 0;
}

/* Decides every partition's [start, end): see bus_reader_config. */
static int reader_bounds(rd_kafka_t *rk, const bus_reader_config *cfg, bus_position *pos, size_t n,
                         hc_err *err)
{
	int64_t *at = calloc(n ? n : 1, sizeof(*at));
	rd_kafka_topic_partition_list_t *committed = NULL;
	char full[256];
	size_t i, j;
	int rc = 0;

	if (at == NULL)
		abort();
	for (i = 0; i < n && rc == 0; i++) {
		int64_t lo, hi;
		rd_kafka_resp_err_t e;

		snprintf(full, sizeof(full), "%s%s", cfg->topic_prefix ? cfg->topic_prefix : "",
		         pos[i].topic);
		e = rd_kafka_query_watermark_offsets(rk, full, pos[i].partition, &lo, &hi,
		                                     READER_TIMEOUT_MS);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
			rc = hc_err_set(err, HC_ERR_TRANSIENT, "no watermarks for %s[%d]: %s", full,
			                (int)pos[i].partition, rd_kafka_err2str(e));
		pos[i].low = lo;
		pos[i].start = lo;
		pos[i].end = hi;
	}
	if (rc == 0 && cfg->to_ms >= 0 &&
	    (rc = reader_times(rk, cfg, pos, n, cfg->to_ms, at, err)) == 0)
		for (i = 0; i < n; i++)
			if (at[i] >= 0 && at[i] < pos[i].end)
				pos[i].end = at[i];
	if (rc == 0 && cfg->from_ms >= 0 &&
	    (rc = reader_times(rk, cfg, pos, n, cfg->from_ms, at, err)) == 0)
		for (i = 0; i < n; i++)
			pos[i].start = at[i] >= 0 ? at[i] : pos[i].end;
	if (rc == 0 && cfg->group_id != NULL) {
		committed = reader_list(cfg, pos, n);
		if (rd_kafka_committed(rk, committed, READER_TIMEOUT_MS) !=
		    RD_KAFKA_RESP_ERR_NO_ERROR)
			rc =
			    hc_err_set(err, HC_ERR_TRANSIENT, "could not read the group's offsets");
		for (i = 0; rc == 0 && i < n; i++)
			if (committed->elems[i].offset >= 0)
				pos[i].start = committed->elems[i].offset;
		rd_kafka_topic_partition_list_destroy(committed);
	}
	for (i = 0; rc == 0 && i < cfg->nends; i++)
		for (j = 0; j < n; j++)
			if (strcmp(cfg->ends[i].topic, pos[j].topic) == 0 &&
			    cfg->ends[i].partition == pos[j].partition &&
			    cfg->ends[i].end < pos[j].end)
				pos[j].end = cfg->ends[i].end;
	for (i = 0; rc == 0 && i < cfg->nstart; i++)
		for (j = 0; j < n; j++)
			if (strcmp(cfg->start[i].topic, pos[j].topic) == 0 &&
			    cfg->start[i].partition == pos[j].partition)
				pos[j].start = cfg->start[i].start;
	for (i = 0; i < n; i++) {
		if (pos[i].start < pos[i].low)
			pos[i].start = pos[i].low;
		if (pos[i].start > pos[i].end)
			pos[i].start = pos[i].end;
		pos[i].next = pos[i].start;
	}
	free(at);
	return rc;
}

static void reader_header(rd_kafka_headers_t *h, const char *name, char *out, size_t cap)
{
	const void *v;
	size_t len;

	out[0] = '\0';
	if (h != NULL &&
	    rd_kafka_header_get_last(h, name, &v, &len) == RD_KAFKA_RESP_ERR_NO_ERROR &&
	    v != NULL) {
		if (len >= cap)
			len = cap - 1;
		memcpy(out, v, len);
		out[len] = '\0';
	}
}

/* The position of (topic, partition) among pos, by a short scan (few partitions). */
static bus_position *reader_find(bus_position *pos, size_t n, const char *topic, size_t skip,
                                 int32_t partition)
{
	for (size_t i = 0; i < n; i++)
		if (pos[i].partition == partition && strcmp(pos[i].topic, topic + skip) == 0)
			return &pos[i];
	return NULL;
}

static int reader_commit(rd_kafka_t *rk, const bus_reader_config *cfg, const bus_position *pos,
                         size_t n)
{
	rd_kafka_topic_partition_list_t *l = reader_list(cfg, pos, n);
	rd_kafka_resp_err_t e;

	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = pos[i].next;
	e = rd_kafka_commit(rk, l, 0);
	rd_kafka_topic_partition_list_destroy(l);
	return e == RD_KAFKA_RESP_ERR_NO_ERROR ? 0 : -1;
}

atomic_ulong bus_reader_wakes; /* bus_internal.h */

/*
 * Wakes the broker threads.  Once the prefetched records pass
 * queued.min.messages, librdkafka (2.0) stops fetching and decides again
 * only when a broker thread wakes for something else, up to a second
 * later: a replay faster than its output stalled there for 0.2-0.6 s a
 * time.  A request through each broker thread (the latest offsets of the
 * partitions read, one request per leader) has it decide again at once.
 * Called when the queue, once near full, has drained.
 */
static void reader_wake(rd_kafka_t *rk, const bus_reader_config *cfg, const bus_position *pos,
                        size_t n)
{
	rd_kafka_topic_partition_list_t *l = reader_list(cfg, pos, n);

	atomic_fetch_add(&bus_reader_wakes, 1);

	for (int i = 0; i < l->cnt; i++)
		l->elems[i].offset = -1; /* the latest */
	(void)rd_kafka_offsets_for_times(rk, l, READER_TIMEOUT_MS);
	rd_kafka_topic_partition_list_destroy(l);
}

/*
 * One message read: a record within its partition's stretch goes to fn (when
 * its time is in the window); the end of a partition closes it.  Returns 0,
 * or fn's error or a fatal one of the read.
 */
static int reader_take(const bus_reader_config *cfg, rd_kafka_message_t *m, bus_position *pos,
                       size_t n, size_t skip, int64_t *done, size_t *open, bus_record_fn fn,
                       void *ctx, hc_err *err)
{
	bus_position *p = reader_find(pos, n, rd_kafka_topic_name(m->rkt), skip, m->partition);
	int rc = 0;

	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		/* at the log's end, past the fixed end: nothing below it is left */
		if (p != NULL && m->offset >= p->end && p->next < p->end)
			p->next = p->end;
	} else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
		    m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
		    m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
		    m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
		    m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
			return hc_err_set(err, HC_ERR_FATAL, "reading %s: %s",
			                  rd_kafka_topic_name(m->rkt), rd_kafka_message_errstr(m));
		return 0;
	} else if (p != NULL && m->offset >= p->next && m->offset < p->end) {
		rd_kafka_timestamp_type_t tt;
		rd_kafka_headers_t *h = NULL;
		bus_record r;
		char type[128], county[16], id[64];

		r.timestamp_ms = rd_kafka_message_timestamp(m, &tt);
		p->next = m->offset + 1;
		(*done)++;
		if ((cfg->from_ms < 0 || r.timestamp_ms >= cfg->from_ms) &&
		    (cfg->to_ms < 0 || r.timestamp_ms < cfg->to_ms)) {
			if (cfg->headers)
				(void)rd_kafka_message_headers(m, &h);
			reader_header(h, "ce_type", type, sizeof(type));
			reader_header(h, "county", county, sizeof(county));
			reader_header(h, "ce_id", id, sizeof(id));
			r.topic = p->topic;
			r.partition = m->partition;
			r.offset = m->offset;
			r.key = m->key;
			r.keylen = m->key_len;
			r.value = m->payload;
			r.len = m->len;
			r.type = type;
			r.county = county;
			r.id = id;
			rc = fn(ctx, &r, err);
		}
	}
	if (p != NULL && p->next >= p->end && !p->closed) {
		p->closed = 1;
		(*open)--;
	}
	return rc;
}

int bus_positions(const bus_reader_config *cfg, bus_position **out, size_t *nout, hc_err *err)
{
	rd_kafka_t *rk = reader_new(cfg, err);
	int rc;

	*out = NULL;
	*nout = 0;
	if (rk == NULL)
		return HC_ERR_FATAL;
	rc = reader_partitions(rk, cfg, out, nout, err);
	if (rc == 0)
		rc = reader_bounds(rk, cfg, *out, *nout, err);
	rd_kafka_destroy(rk);
	return rc;
}

int bus_read(const bus_reader_config *cfg, bus_record_fn fn, void *ctx, volatile sig_atomic_t *stop,
             bus_position **out, size_t *nout, hc_err *err)
{
	rd_kafka_t *rk = reader_new(cfg, err);
	rd_kafka_topic_partition_list_t *assign;
	bus_position *pos = NULL;
	size_t n = 0, open = 0, skip = cfg->topic_prefix ? strlen(cfg->topic_prefix) : 0;
	int64_t done = 0, total = 0;
	time_t last_commit = time(NULL);
	rd_kafka_message_t *batch[READER_BATCH];
	rd_kafka_queue_t *q = NULL;
	size_t queued;
	int rc, filled = 0;

	*out = NULL;
	*nout = 0;
	if (rk == NULL)
		return HC_ERR_FATAL;
	rc = reader_partitions(rk, cfg, &pos, &n, err);
	if (rc == 0)
		rc = reader_bounds(rk, cfg, pos, n, err);
	if (rc != 0) {
		rd_kafka_destroy(rk);
		free(pos);
		return rc;
	}
	assign = rd_kafka_topic_partition_list_new((int)n);
	for (size_t i = 0; i < n; i++) {
		char full[256];

		total += pos[i].end - pos[i].start;
		if (pos[i].start >= pos[i].end)
			continue;
		snprintf(full, sizeof(full), "%s%s", cfg->topic_prefix ? cfg->topic_prefix : "",
		         pos[i].topic);
		rd_kafka_topic_partition_list_add(assign, full, pos[i].partition)->offset =
		    pos[i].start;
		open++;
	}
	if (cfg->progress != NULL)
		cfg->progress(ctx, 0, total);
	if (open > 0) {
		rd_kafka_resp_err_t e = rd_kafka_assign(rk, assign);

		if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
			rc = hc_err_set(err, HC_ERR_TRANSIENT,
			                "could not assign the partitions: %s", rd_kafka_err2str(e));
	}
	rd_kafka_topic_partition_list_destroy(assign);

	q = rd_kafka_queue_get_consumer(rk); /* there is one: a group id is always set */
	if (q == NULL && rc == 0)
		rc = hc_err_set(err, HC_ERR_FATAL, "the reader has no consumer queue");
	while (rc == 0 && open > 0 && (stop == NULL || !*stop)) {
		/* a batch at a time: one poll per record took a tenth of the CPU (its clocks
		   and queue locks) */
		ssize_t got = rd_kafka_consume_batch_queue(q, 100, batch, READER_BATCH);

		for (ssize_t k = 0; k < got; k++) {
			if (rc == 0 && (stop == NULL || !*stop))
				rc = reader_take(cfg, batch[k], pos, n, skip, &done, &open, fn, ctx,
				                 err);
			rd_kafka_message_destroy(batch[k]);
		}
		queued = rd_kafka_queue_length(q);
		if (queued >= READER_QUEUE_HIGH) {
			filled = 1;
		} else if (filled && queued < READER_QUEUE_LOW) {
			reader_wake(rk, cfg, pos, n);
			filled = 0;
		}
		if (cfg->progress != NULL)
			cfg->progress(ctx, done, total);
		if (cfg->group_id != NULL && time(NULL) - last_commit >= 2) {
			if (cfg->flush != NULL)
				cfg->flush(ctx);
			(void)reader_commit(rk, cfg, pos, n);
			last_commit = time(NULL);
		}
	}
	if (cfg->flush != NULL)
		cfg->flush(ctx);
	if (cfg->group_id != NULL && reader_commit(rk, cfg, pos, n) != 0 && rc == 0)
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "could not commit the positions to %s",
		                cfg->group_id);
	if (cfg->progress != NULL)
		cfg->progress(ctx, done, total);
	if (q != NULL)
		rd_kafka_queue_destroy(q);
	rd_kafka_consumer_close(rk);
	rd_kafka_destroy(rk);
	*out = pos;
	*nout = n;
	return rc;
}
