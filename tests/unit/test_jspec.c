/* Unit tests of common/jspec: declarative JSON checks that name the field. */
#include "common/jspec/jspec.h"
#include "tests/unit/unit.h"

static int no_sevens(const char *s, hc_err *err)
{
	return strchr(s, '7') ? hc_err_set(err, HC_ERR_PERMANENT, "must not contain 7") : 0;
}

static const char *const colours[] = {"red", "yellow", "green", NULL};

static const jspec_field item_spec[] = {
    {"code", JSPEC_STRING, 1, 2, 4, no_sevens, NULL, NULL, 0},
};

static const jspec_field spec[] = {
    {"name", JSPEC_STRING, 1, 1, 3, NULL, NULL, NULL, 0},
    {"age", JSPEC_INTEGER, 0, 0, 150, NULL, NULL, NULL, 0},
    {"colour", JSPEC_STRING, 0, 1, 10, NULL, colours, NULL, 0},
    {"items", JSPEC_ARRAY, 0, 0, 2, NULL, NULL, item_spec, 1},
};

static void expect(const char *text, int rc, const char *field)
{
	/* JSON_ALLOW_NUL lets the NUL case reach jspec (request bodies never allow it). */
	json_t *o = json_loads(text, JSON_ALLOW_NUL, NULL);
	hc_err err;
	int got;

	hc_err_clear(&err);
	if (o == NULL) {
		fprintf(stderr, "    bad fixture %s\n", text);
		exit(1);
	}
	got = jspec_check(o, spec, sizeof(spec) / sizeof(spec[0]), "", &err);
	if (got != rc || strcmp(err.field, field) != 0) {
		fprintf(stderr, "    %s: rc %d field \"%s\" (%s)\n", text, got, err.field, err.msg);
		exit(1);
	}
	json_decref(o);
}

TEST(valid_bodies)
{
	expect("{\"name\":\"张三\"}", 0, "");
	expect("{\"name\":\"abc\",\"age\":0,\"colour\":\"green\",\"items\":[{\"code\":\"ab\"}]}", 0,
	       "");
	expect("{\"name\":\"a\",\"age\":null}", 0, "");
}

TEST(each_failure_names_its_field)
{
	expect("{}", HC_ERR_PERMANENT, "name");
	expect("{\"name\":\"\"}", HC_ERR_PERMANENT, "name");
	expect("{\"name\":\"abcd\"}", HC_ERR_PERMANENT, "name");
	expect("{\"name\":\"张三丰\"}", 0, ""); /* 3 characters, 9 bytes */
	expect("{\"name\":1}", HC_ERR_PERMANENT, "name");
	expect("{\"name\":\"a\",\"age\":\"9\"}", HC_ERR_PERMANENT, "age");
	expect("{\"name\":\"a\",\"age\":1.5}", HC_ERR_PERMANENT, "age");
	expect("{\"name\":\"a\",\"age\":151}", HC_ERR_PERMANENT, "age");
	expect("{\"name\":\"a\",\"colour\":\"blue\"}", HC_ERR_PERMANENT, "colour");
	expect("{\"name\":\"a\",\"extra\":1}", HC_ERR_PERMANENT, "extra");
	expect("{\"name\":\"a\",\"items\":[{},{}]}", HC_ERR_PERMANENT, "items[0].code");
	expect("{\"name\":\"a\",\"items\":[{\"code\":\"ab\"},{\"code\":\"a7\"}]}", HC_ERR_PERMANENT,
	       "items[1].code");
	expect("{\"name\":\"a\",\"items\":[{\"code\":\"ab\",\"x\":1}]}", HC_ERR_PERMANENT,
	       "items[0].x");
	expect("{\"name\":\"a\",\"items\":[1]}", HC_ERR_PERMANENT, "items[0]");
	expect("{\"name\":\"a\",\"items\":[{},{},{}]}", HC_ERR_PERMANENT, "items");
}

TEST(embedded_nul_is_refused)
{
	expect("{\"name\":\"a\\u0000b\"}", HC_ERR_PERMANENT, "name");
}

/* Event data: a newer producer's optional fields are ignored; the known ones are still checked. */
TEST(event_data_tolerates_new_fields)
{
	static const char *const cases[][3] = {
	    {"{\"name\":\"ab\",\"added\":1,\"items\":[{\"code\":\"12\",\"more\":true}]}", "0", ""},
	    {"{\"name\":\"ab\",\"added\":1,\"age\":151}", "p", "age"},
	    {"{\"added\":1}", "p", "name"},
	    {"{\"name\":\"ab\",\"items\":[{\"code\":\"17\",\"more\":1}]}", "p", "items[0].code"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *o = json_loads(cases[i][0], 0, NULL);
		hc_err err;
		int got;

		hc_err_clear(&err);
		got = jspec_check_event(o, spec, sizeof(spec) / sizeof(spec[0]), "", &err);
		CHECK(got == (cases[i][1][0] == '0' ? 0 : HC_ERR_PERMANENT));
		CHECK(strcmp(err.field, cases[i][2]) == 0);
		/* the same data as a request body: the unknown field is refused */
		if (cases[i][1][0] == '0')
			CHECK(jspec_check(o, spec, sizeof(spec) / sizeof(spec[0]), "", &err) ==
			      HC_ERR_PERMANENT);
		json_decref(o);
	}
}

/* The validity scan hc-replay copies records with. */
TEST(json_scan)
{
	static const char *const good[] = {
	    "{}",
	    " [ ] ",
	    "0",
	    "-0.5e+10",
	    "\"\\u00e9\\n\"",
	    "{\"a\":[1,{\"b\":null}],\"c\":true}",
	    "{\"long string, more than eight bytes\":\"\xe5\xbc\xa0*\"}"};
	static const char *const bad[] = {"",     "{",           "{\"a\":1,}",   "[1 2]",  "01",
	                                  "1.",   "\"\\u00k9\"", "\"\\x\"",      "{a:1}",  "nul",
	                                  "[1]]", "\"a\nb\"",    "not an event", "{\"a\"}"};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(jspec_json_valid(good[i], strlen(good[i])) == 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(jspec_json_valid(bad[i], strlen(bad[i])) == 0);
	CHECK(jspec_json_valid("\"a\0\"", 4) == 0); /* a raw NUL in a string */
}

UNIT_MAIN(T(valid_bodies), T(each_failure_names_its_field), T(embedded_nul_is_refused),
          T(event_data_tolerates_new_fields), T(json_scan))
