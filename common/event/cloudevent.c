/* CloudEvents 1.0 structured JSON mode and W3C trace context; see cloudevent.h. */
#include "common/event/cloudevent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/base/jsonw.h"
#include "common/base/rand.h"

void traceparent_new(char out[TRACEPARENT_LEN + 1])
{
	traceparent_child(NULL, out);
}

static int is_lower_hex(const char *s, size_t n)
{
	size_t i;
	int nonzero = 0;

	for (i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
		if (s[i] != '0')
			nonzero = 1;
	}
	return nonzero; /* all-zero ids are invalid in W3C trace context */
}

int traceparent_valid(const char *s)
{
	if (s == NULL || strlen(s) != TRACEPARENT_LEN)
		return 0;
	return s[0] == '0' && s[1] == '0' && s[2] == '-' && is_lower_hex(s + 3, 32) &&
	       s[35] == '-' && is_lower_hex(s + 36, 16) && s[52] == '-' &&
	       (s[53] >= '0' && s[53] <= 'f') && (s[54] >= '0' && s[54] <= 'f');
}

void traceparent_child(const char *parent, char out[TRACEPARENT_LEN + 1])
{
	unsigned char b[16];
	char trace[33], span[17];

	if (traceparent_valid(parent)) {
		memcpy(trace, parent + 3, 32);
		trace[32] = '\0';
	} else {
		hc_rand_bytes(b, 16);
		hc_hex_encode(b, 16, trace);
	}
	hc_rand_bytes(b, 8);
	hc_hex_encode(b, 8, span);
	snprintf(out, TRACEPARENT_LEN + 1, "00-%s-%s-01", trace, span);
}

void traceparent_trace_id(const char *traceparent, char out[33])
{
	memcpy(out, traceparent + 3, 32);
	out[32] = '\0';
}

void cloudevent_init(cloudevent *ev, const char *type, const char *source, const char *subject,
                     json_t *data, const char *traceparent)
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	memset(ev, 0, sizeof(*ev));
	hc_uuid_v7(ev->id);
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->source, sizeof(ev->source), "%s", source);
	snprintf(ev->subject, sizeof(ev->subject), "%s", subject ? subject : "");
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ev->time, sizeof(ev->time), "%s.%06ldZ", stamp, (long)tv.tv_usec);
	traceparent_child(traceparent, ev->traceparent);
	ev->data = data;
}

void cloudevent_cleanup(cloudevent *ev)
{
	json_decref(ev->data);
	ev->data = NULL;
}

static int encode_data(const char *buffer, size_t size, void *w)
{
	jsonw_raw(w, buffer, size);
	return 0;
}

/* The envelope written as text around data's compact dump (common/base/jsonw.h). */
char *cloudevent_encode(const cloudevent *ev)
{
	jsonw w = {0};

	jsonw_begin(&w);
	jsonw_string(&w, "specversion", "1.0");
	jsonw_string(&w, "id", ev->id);
	jsonw_string(&w, "source", ev->source);
	jsonw_string(&w, "type", ev->type);
	if (ev->subject[0] != '\0')
		jsonw_string(&w, "subject", ev->subject);
	jsonw_string(&w, "time", ev->time);
	jsonw_string(&w, "datacontenttype", "application/json");
	if (ev->traceparent[0] != '\0')
		jsonw_string(&w, "traceparent", ev->traceparent);
	if (ev->data != NULL) {
		jsonw_name(&w, "data");
		if (json_dump_callback(ev->data, encode_data, &w, JSON_COMPACT) != 0)
			abort(); /* only invalid UTF-8 fails, and jansson's strings are valid */
	}
	return jsonw_end(&w, NULL);
}

/* Copies the string attribute `name` of o into out[cap]; required or optional. */
static int ce_attr(json_t *o, const char *name, int required, char *out, size_t cap, hc_err *err)
{
	json_t *v = json_object_get(o, name);
	const char *s;

	if (v == NULL) {
		if (required)
			return hc_err_field(err, HC_ERR_PERMANENT, name,
			                    "could not decode event: attribute %s is missing",
			                    name);
		out[0] = '\0';
		return 0;
	}
	if (!json_is_string(v))
		return hc_err_field(err, HC_ERR_PERMANENT, name,
		                    "could not decode event: attribute %s is not a string", name);
	s = json_string_value(v);
	if ((required && s[0] == '\0') || strlen(s) >= cap)
		return hc_err_field(
		    err, HC_ERR_PERMANENT, name,
		    "could not decode event: attribute %s is empty or longer than %zu", name,
		    cap - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int cloudevent_decode(cloudevent *ev, const char *buf, size_t len, hc_err *err)
{
	json_error_t jerr;
	json_t *o = NULL, *spec;
	int rc = HC_ERR_PERMANENT;

	memset(ev, 0, sizeof(*ev));
	if (buf == NULL || len == 0)
		return hc_err_set(err, HC_ERR_PERMANENT, "could not decode event: empty record");
	if (len > CLOUDEVENT_MAX_BYTES)
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "could not decode event: %zu bytes exceeds %d", len,
		                  CLOUDEVENT_MAX_BYTES);
	o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		hc_err_set(err, HC_ERR_PERMANENT, "could not decode event: %s at byte %d",
		           jerr.text, jerr.position);
		goto out;
	}
	if (!json_is_object(o)) {
		hc_err_set(err, HC_ERR_PERMANENT, "could not decode event: not a JSON object");
		goto out;
	}
	spec = json_object_get(o, "specversion");
	if (!json_is_string(spec) || strcmp(json_string_value(spec), "1.0") != 0) {
		hc_err_field(err, HC_ERR_PERMANENT, "specversion",
		             "could not decode event: specversion must be \"1.0\"");
		goto out;
	}
	if (ce_attr(o, "id", 1, ev->id, sizeof(ev->id), err) != 0 ||
	    ce_attr(o, "type", 1, ev->type, sizeof(ev->type), err) != 0 ||
	    ce_attr(o, "source", 1, ev->source, sizeof(ev->source), err) != 0 ||
	    ce_attr(o, "subject", 0, ev->subject, sizeof(ev->subject), err) != 0 ||
	    ce_attr(o, "time", 0, ev->time, sizeof(ev->time), err) != 0 ||
	    ce_attr(o, "traceparent", 0, ev->traceparent, sizeof(ev->traceparent), err) != 0)
		goto out;
	if (ev->traceparent[0] != '\0' && !traceparent_valid(ev->traceparent))
		ev->traceparent[0] = '\0'; /* a bad trace header never costs the event */
	ev->data = json_object_get(o, "data");
	if (!json_is_object(ev->data)) {
		ev->data = NULL;
		hc_err_field(err, HC_ERR_PERMANENT, "data",
		             "could not decode event: data must be a JSON object");
		goto out;
	}
	json_incref(ev->data);
	rc = 0;
out:
	json_decref(o);
	return rc;
}
