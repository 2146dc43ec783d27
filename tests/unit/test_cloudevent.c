/* Unit tests of common/event: CloudEvents structured mode and W3C traceparent. */
#include "common/event/cloudevent.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common/base/rand.h"
#include "tests/unit/unit.h"

TEST(encode_decode_round_trip)
{
	cloudevent ev, back;
	char *text;
	hc_err err;

	cloudevent_init(&ev, "hc.test.thing.happened.v1", "/hc/test", "subject-1",
	                json_pack("{s:s, s:i}", "a", "b", "n", 7), NULL);
	text = cloudevent_encode(&ev);
	CHECK_EQ_INT(cloudevent_decode(&back, text, strlen(text), &err), 0);
	CHECK_EQ_STR(back.id, ev.id);
	CHECK_EQ_STR(back.type, "hc.test.thing.happened.v1");
	CHECK_EQ_STR(back.source, "/hc/test");
	CHECK_EQ_STR(back.subject, "subject-1");
	CHECK_EQ_STR(back.time, ev.time);
	CHECK_EQ_STR(back.traceparent, ev.traceparent);
	CHECK(json_equal(back.data, ev.data));
	CHECK(strstr(text, "\"specversion\":\"1.0\"") != NULL);
	CHECK(strstr(text, "\"datacontenttype\":\"application/json\"") != NULL);
	free(text);
	cloudevent_cleanup(&ev);
	cloudevent_cleanup(&back);
}

TEST(ids_are_unique_uuids)
{
	cloudevent a, b;

	cloudevent_init(&a, "t", "/s", NULL, json_object(), NULL);
	cloudevent_init(&b, "t", "/s", NULL, json_object(), NULL);
	CHECK(strcmp(a.id, b.id) != 0);
	CHECK_EQ_INT(strlen(a.id), 36);
	CHECK_EQ_STR(a.subject, "");
	cloudevent_cleanup(&a);
	cloudevent_cleanup(&b);
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* version 7: the first 48 bits are the time of making in ms, so later ids sort later */
TEST(uuid_v7_layout_and_order)
{
	char a[HC_UUID_LEN + 1], b[HC_UUID_LEN + 1], stamp[13];
	struct timespec pause = {0, 2000000};
	uint64_t before = now_ms(), after, ms;

	hc_uuid_v7(a);
	after = now_ms();
	CHECK(hc_uuid_valid(a));
	CHECK_EQ_INT(a[14], '7');
	CHECK(strchr("89ab", a[19]) != NULL);
	memcpy(stamp, a, 8);
	memcpy(stamp + 8, a + 9, 4);
	stamp[12] = '\0';
	ms = strtoull(stamp, NULL, 16);
	CHECK(ms >= before && ms <= after);
	nanosleep(&pause, NULL);
	hc_uuid_v7(b);
	CHECK(strcmp(a, b) < 0);
	CHECK(strcmp(a + 14, b + 14) != 0); /* the rest is random */
}

TEST(trace_continues_from_parent)
{
	const char *parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
	cloudevent ev;

	cloudevent_init(&ev, "t", "/s", NULL, json_object(), parent);
	CHECK(traceparent_valid(ev.traceparent));
	CHECK(strncmp(ev.traceparent, parent, 35) == 0);      /* same trace id */
	CHECK(strcmp(ev.traceparent + 36, parent + 36) != 0); /* new span id */
	cloudevent_cleanup(&ev);
	cloudevent_init(&ev, "t", "/s", NULL, json_object(), "garbage");
	CHECK(traceparent_valid(ev.traceparent));
	cloudevent_cleanup(&ev);
}

TEST(traceparent_validation)
{
	CHECK(traceparent_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
	CHECK(!traceparent_valid("00-00000000000000000000000000000000-00f067aa0ba902b7-01"));
	CHECK(!traceparent_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01"));
	CHECK(!traceparent_valid("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
	CHECK(!traceparent_valid("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7"));
	CHECK(!traceparent_valid(""));
	CHECK(!traceparent_valid(NULL));
}

static void expect_refused(const char *text, const char *needle)
{
	cloudevent ev;
	hc_err err;

	hc_err_clear(&err);
	if (cloudevent_decode(&ev, text, strlen(text), &err) != HC_ERR_PERMANENT ||
	    strstr(err.msg, needle) == NULL) {
		fprintf(stderr, "    %s -> %s\n", text, err.msg);
		exit(1);
	}
}

TEST(decode_refuses_bad_events)
{
	expect_refused("", "empty");
	expect_refused("nope", "could not decode");
	expect_refused("[1]", "not a JSON object");
	expect_refused("{\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":{}}",
	               "specversion");
	expect_refused(
	    "{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":{}}",
	    "specversion");
	expect_refused("{\"specversion\":\"1.0\",\"source\":\"/s\",\"type\":\"t\",\"data\":{}}",
	               "id is missing");
	expect_refused(
	    "{\"specversion\":\"1.0\",\"id\":\"\",\"source\":\"/s\",\"type\":\"t\",\"data\":{}}",
	    "id is empty");
	expect_refused(
	    "{\"specversion\":\"1.0\",\"id\":1,\"source\":\"/s\",\"type\":\"t\",\"data\":{}}",
	    "not a string");
	expect_refused(
	    "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\",\"data\":[]}",
	    "data must be");
	expect_refused("{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\"}",
	               "data must be");
	expect_refused("{\"specversion\":\"1.0\",\"id\":\"1\",\"id\":\"2\",\"source\":\"/"
	               "s\",\"type\":\"t\",\"data\":{}}",
	               "duplicate");
}

TEST(decode_refuses_oversized)
{
	size_t n = CLOUDEVENT_MAX_BYTES + 1;
	char *big = malloc(n + 1);
	cloudevent ev;
	hc_err err;

	memset(big, ' ', n);
	big[n] = '\0';
	CHECK_EQ_INT(cloudevent_decode(&ev, big, n, &err), HC_ERR_PERMANENT);
	CHECK(strstr(err.msg, "exceeds") != NULL);
	free(big);
}

TEST(decode_drops_invalid_traceparent_only)
{
	const char *text = "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"/s\",\"type\":\"t\","
	                   "\"traceparent\":\"bogus\",\"data\":{}}";
	cloudevent ev;
	hc_err err;

	CHECK_EQ_INT(cloudevent_decode(&ev, text, strlen(text), &err), 0);
	CHECK_EQ_STR(ev.traceparent, "");
	cloudevent_cleanup(&ev);
}

static unsigned rand_below(unsigned n)
{
	unsigned char b[4];

	hc_rand_bytes(b, sizeof(b));
	return (
	    unsigned)(((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]) %
	              n);
}

/* The envelope as jansson writes it: an object of the attributes, dumped compact. */
static char *encode_with_jansson(const cloudevent *ev)
{
	json_t *o = json_object();
	char *text;

	json_object_set_new(o, "specversion", json_string("1.0"));
	json_object_set_new(o, "id", json_string(ev->id));
	json_object_set_new(o, "source", json_string(ev->source));
	json_object_set_new(o, "type", json_string(ev->type));
	if (ev->subject[0] != '\0')
		json_object_set_new(o, "subject", json_string(ev->subject));
	json_object_set_new(o, "time", json_string(ev->time));
	json_object_set_new(o, "datacontenttype", json_string("application/json"));
	if (ev->traceparent[0] != '\0')
		json_object_set_new(o, "traceparent", json_string(ev->traceparent));
	json_object_set(o, "data", ev->data);
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return text;
}

/* A random valid UTF-8 string of up to max-1 bytes: ASCII (controls, quotes and
 * backslashes often), and two-, three- and four-byte characters. */
static void random_text(char *out, size_t max)
{
	static const char *const pieces[] = {
	    "\"",   "\\",   "/", "\b", "\f", "\n", "\r",       "\t",           "\x01",
	    "\x1f", "\x7f", "a", "Z",  "9",  " ",  "\xc3\xa9", "\xe5\xbc\xa0", "\xf0\x9f\x98\x80"};
	size_t len = 0, n = (size_t)rand_below(24), k;

	for (k = 0; k < n; k++) {
		const char *p = pieces[rand_below(sizeof(pieces) / sizeof(pieces[0]))];
		size_t plen = strlen(p);

		if (plen >= max - len)
			break;
		memcpy(out + len, p, plen);
		len += plen;
	}
	out[len] = '\0';
}

/* The envelope written as text is byte for byte jansson's, whatever its attributes hold. */
TEST(encode_writes_what_jansson_writes)
{
	int i;

	for (i = 0; i < 2000; i++) {
		char s[5][64];
		cloudevent ev;
		char *ours, *theirs;
		int k;

		for (k = 0; k < 5; k++)
			random_text(s[k], sizeof(s[k]));
		cloudevent_init(&ev, s[0], s[1], i % 3 == 0 ? NULL : s[2],
		                json_pack("{s:s, s:i, s:[s, b], s:n}", s[3], s[4], "n", i, "list",
		                          s[4], i % 2, "none"),
		                NULL);
		if (i % 5 == 0)
			ev.traceparent[0] = '\0';
		if (i % 7 == 0) { /* no data: no member */
			json_decref(ev.data);
			ev.data = NULL;
		}
		ours = cloudevent_encode(&ev);
		theirs = encode_with_jansson(&ev);
		CHECK(theirs != NULL);
		CHECK_EQ_STR(ours, theirs);
		free(ours);
		free(theirs);
		cloudevent_cleanup(&ev);
	}
}

UNIT_MAIN(T(encode_decode_round_trip), T(encode_writes_what_jansson_writes),
          T(ids_are_unique_uuids), T(uuid_v7_layout_and_order), T(trace_continues_from_parent),
          T(traceparent_validation), T(decode_refuses_bad_events), T(decode_refuses_oversized),
          T(decode_drops_invalid_traceparent_only))
