/*
 * Topic administration through the Kafka admin API: creating the platform's
 * topics with explicit partition counts (auto-create is off), deleting
 * them (test runs clean up their prefixed topics), and deleting a
 * partition's records before an offset (what retention does, at once).
 * Used by hc-topics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus/bus_internal.h"
#include "common/log/log.h"

typedef enum { ADMIN_CREATE, ADMIN_DELETE } admin_op;

/* A client for admin requests, or NULL with err set. */
static rd_kafka_t *admin_client(const char *brokers, hc_err *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char errstr[512];
	rd_kafka_t *rk;

	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		rd_kafka_conf_destroy(conf);
		hc_err_set(err, HC_ERR_FATAL, "could not configure admin client: %s", errstr);
		return NULL;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		rd_kafka_conf_destroy(conf);
		hc_err_set(err, HC_ERR_FATAL, "could not create admin client: %s", errstr);
	}
	return rk;
}

static int admin_run(const char *brokers, admin_op op, const char *const *names,
                     const int *partitions, size_t n, int replication, hc_err *err)
{
	rd_kafka_NewTopic_t **nt = calloc(n ? n : 1, sizeof(*nt));
	rd_kafka_DeleteTopic_t **dt = calloc(n ? n : 1, sizeof(*dt));
	rd_kafka_queue_t *q = NULL;
	rd_kafka_event_t *ev = NULL;
	rd_kafka_t *rk;
	char errstr[512];
	size_t i, nres = 0;
	int rc = 0;

	if (nt == NULL || dt == NULL)
		abort();
	rk = admin_client(brokers, err);
	if (rk == NULL) {
		free(nt);
		free(dt);
		return err->kind;
	}
	q = rd_kafka_queue_new(rk);
	if (op == ADMIN_CREATE) {
		for (i = 0; i < n; i++) {
			nt[i] = rd_kafka_NewTopic_new(names[i], partitions[i], replication, errstr,
			                              sizeof(errstr));
			if (nt[i] == NULL)
				abort();
		}
		rd_kafka_CreateTopics(rk, nt, n, NULL, q);
	} else {
		for (i = 0; i < n; i++)
			dt[i] = rd_kafka_DeleteTopic_new(names[i]);
		rd_kafka_DeleteTopics(rk, dt, n, NULL, q);
	}
	ev = rd_kafka_queue_poll(q, 60000);
	if (ev == NULL) {
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "no answer from kafka within 60 s");
		goto out;
	}
	if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "could not administer topics: %s",
		                rd_kafka_event_error_string(ev));
		goto out;
	}
	{
		const rd_kafka_topic_result_t **res =
		    op == ADMIN_CREATE ? rd_kafka_CreateTopics_result_topics(
		                             rd_kafka_event_CreateTopics_result(ev), &nres)
		                       : rd_kafka_DeleteTopics_result_topics(
		                             rd_kafka_event_DeleteTopics_result(ev), &nres);

		for (i = 0; i < nres; i++) {
			rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);

			if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
				printf("%s %s\n", op == ADMIN_CREATE ? "created" : "deleted",
				       rd_kafka_topic_result_name(res[i]));
			else if (op == ADMIN_CREATE && e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
				printf("exists  %s\n", rd_kafka_topic_result_name(res[i]));
			else if (op == ADMIN_DELETE && e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
				printf("absent  %s\n", rd_kafka_topic_result_name(res[i]));
			else
				rc = hc_err_set(err, HC_ERR_PERMANENT, "could not %s topic %s: %s",
				                op == ADMIN_CREATE ? "create" : "delete",
				                rd_kafka_topic_result_name(res[i]),
				                rd_kafka_err2str(e));
		}
	}
out:
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	for (i = 0; i < n; i++) {
		if (nt[i] != NULL)
			rd_kafka_NewTopic_destroy(nt[i]);
		if (dt[i] != NULL)
			rd_kafka_DeleteTopic_destroy(dt[i]);
	}
	free(nt);
	free(dt);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}

int bus_topics_create(const char *brokers, const char *const *names, const int *partitions,
                      size_t n, int replication, hc_err *err)
{
	return admin_run(brokers, ADMIN_CREATE, names, partitions, n, replication, err);
}

int bus_topics_delete(const char *brokers, const char *const *names, size_t n, hc_err *err)
{
	return admin_run(brokers, ADMIN_DELETE, names, NULL, n, 0, err);
}

int bus_records_delete(const char *brokers, const char *topic, int partition, long long before,
                       hc_err *err)
{
	rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
	rd_kafka_DeleteRecords_t *del;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	rd_kafka_t *rk = admin_client(brokers, err);
	int rc = 0;

	if (rk == NULL) {
		rd_kafka_topic_partition_list_destroy(offsets);
		return err->kind;
	}
	rd_kafka_topic_partition_list_add(offsets, topic, partition)->offset =
	    before < 0 ? RD_KAFKA_OFFSET_END : before;
	del = rd_kafka_DeleteRecords_new(offsets);
	rd_kafka_topic_partition_list_destroy(offsets);
	q = rd_kafka_queue_new(rk);
	rd_kafka_DeleteRecords(rk, &del, 1, NULL, q);
	rd_kafka_DeleteRecords_destroy(del);
	ev = rd_kafka_queue_poll(q, 60000);
	if (ev == NULL) {
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "no answer from kafka within 60 s");
	} else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		rc = hc_err_set(err, HC_ERR_TRANSIENT, "could not delete records: %s",
		                rd_kafka_event_error_string(ev));
	} else {
		const rd_kafka_topic_partition_list_t *res =
		    rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));

		if (res == NULL || res->cnt != 1)
			rc = hc_err_set(err, HC_ERR_TRANSIENT, "no result for %s [%d]", topic,
			                partition);
		else if (res->elems[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
			rc = hc_err_set(err, HC_ERR_PERMANENT,
			                "could not delete records of %s [%d]: %s", topic, partition,
			                rd_kafka_err2str(res->elems[0].err));
		else
			printf("%s [%d] starts at offset %lld\n", topic, partition,
			       (long long)res->elems[0].offset);
	}
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_destroy(rk);
	return rc;
}
