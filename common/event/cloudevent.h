/*
 * CloudEvents 1.0 in structured JSON mode (content type
 * application/cloudevents+json), with the W3C trace context carried in the
 * `traceparent` extension attribute.  Every event on Kafka is one of these;
 * the bus copies id, type, source and time into ce_* record headers.
 *
 * An event's id is assigned once, when it is written to the outbox, so that a
 * re-published event keeps its id and consumers can drop the duplicate.
 */
#ifndef HC_EVENT_CLOUDEVENT_H
#define HC_EVENT_CLOUDEVENT_H

#include <stddef.h>

#include <jansson.h>

#include "common/base/err.h"

#define CLOUDEVENT_MAX_BYTES    (1024 * 1024) /* larger records are refused */
#define CLOUDEVENT_CONTENT_TYPE "application/cloudevents+json"
#define TRACEPARENT_LEN         55

typedef struct cloudevent {
	char id[128];
	char type[128];
	char source[128];
	char subject[128];                     /* optional; "" when absent */
	char time[40];                         /* RFC 3339, UTC */
	char traceparent[TRACEPARENT_LEN + 1]; /* "" when absent */
	json_t *data;                          /* owned: an object */
	long long
	    log_ms; /* the Kafka record's timestamp (ms) when read from the log; 0 otherwise */
} cloudevent;

/*
 * Starts a new event with a fresh id and the current time.  data is stolen
 * (must be a JSON object).  traceparent continues the caller's trace when
 * valid, else a new trace is started.  subject may be NULL.
 */
void cloudevent_init(cloudevent *ev, const char *type, const char *source, const char *subject,
                     json_t *data, const char *traceparent);

/* Releases ev->data; the struct may be reused. */
void cloudevent_cleanup(cloudevent *ev);

/* Encodes ev as compact JSON.  Returns a new string to free(). */
char *cloudevent_encode(const cloudevent *ev);

/*
 * Decodes and validates a structured-mode event: specversion "1.0", non-empty
 * id, source and type, an object as data, size within CLOUDEVENT_MAX_BYTES.
 * Returns 0 and fills ev (clean up with cloudevent_cleanup), or
 * HC_ERR_PERMANENT with err saying what is wrong.
 */
int cloudevent_decode(cloudevent *ev, const char *buf, size_t len, hc_err *err);

/* Writes a new W3C traceparent ("00-<trace>-<span>-01") into out. */
void traceparent_new(char out[TRACEPARENT_LEN + 1]);

/* Returns 1 when s is a valid version-00 traceparent, else 0. */
int traceparent_valid(const char *s);

/*
 * Writes a traceparent for a child span of parent (same trace id, new span
 * id) into out; starts a new trace when parent is NULL or invalid.
 */
void traceparent_child(const char *parent, char out[TRACEPARENT_LEN + 1]);

/* Copies the 32-hex trace id of a valid traceparent into out[33]. */
void traceparent_trace_id(const char *traceparent, char out[33]);

#endif
