/* Colour rules and reference records; see rules.h. */
#include "services/matching/domain/rules.h"

#include <stdio.h>
#include <string.h>

#include "common/base/rfc3339.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/region/region.h"

static int in_list(json_t *list, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < json_array_size(list); i++)
		if (strcmp(json_string_value(json_array_get(list, i)), s) == 0)
			return 1;
	return 0;
}

static json_t *outcome(json_t *rule, json_t *matched)
{
	return json_pack("{s:O, s:O, s:O, s:o}", "colour", json_object_get(rule, "colour"),
	                 "rule_id", json_object_get(rule, "rule_id"), "rule_version",
	                 json_object_get(rule, "version"), "evidence", matched);
}

json_t *rules_evaluate(json_t *rules, json_t *evidence)
{
	json_t *fallback = NULL;
	size_t i, j;

	for (i = 0; i < json_array_size(rules); i++) {
		json_t *rule = json_array_get(rules, i);
		json_t *sources = json_object_get(rule, "sources");
		json_t *kinds = json_object_get(rule, "kinds");
		json_int_t window = json_integer_value(json_object_get(rule, "window_days"));
		json_t *matched;

		if (json_array_size(kinds) == 0) {
			if (fallback == NULL)
				fallback = rule;
			continue;
		}
		matched = json_array();
		for (j = 0; j < json_array_size(evidence); j++) {
			json_t *e = json_array_get(evidence, j);

			if (in_list(sources, json_string_value(json_object_get(e, "source"))) &&
			    in_list(kinds, json_string_value(json_object_get(e, "kind"))) &&
			    json_integer_value(json_object_get(e, "age_days")) < window)
				json_array_append(matched, e);
		}
		if (json_array_size(matched) > 0)
			return outcome(rule, matched);
		json_decref(matched);
	}
	return fallback != NULL ? outcome(fallback, json_array()) : NULL;
}

/* What each importable source holds: its kinds and the fields it needs. */
enum { NEED_PERSON = 1, NEED_COUNTY = 2, NEED_UNTIL = 4, NEED_LEVEL = 8 };
static const struct {
	const char *source;
	const char *const kinds[4];
	unsigned need;
} sources[] = {
    {"case_registry", {"confirmed", "suspected", "asymptomatic", NULL}, NEED_PERSON},
    {"fever_clinic", {"fever", NULL}, NEED_PERSON},
    {"contact_tracing", {"close_contact", NULL}, NEED_PERSON},
    {"isolation_registry", {"isolation", NULL}, NEED_PERSON | NEED_UNTIL},
    {"travel_records", {"travel", NULL}, NEED_PERSON | NEED_COUNTY},
    {"risk_areas", {"risk_level", NULL}, NEED_COUNTY | NEED_LEVEL},
    {"commerce", {"purchase", NULL}, NEED_PERSON},
};
#define NSOURCES (sizeof(sources) / sizeof(sources[0]))

static const char *const source_names[] = {
    "case_registry",  "fever_clinic", "contact_tracing", "isolation_registry",
    "travel_records", "risk_areas",   "commerce",        NULL};
static const char *const levels[] = {"low", "medium", "high", NULL};

static int code6_check(const char *s, hc_err *err)
{
	size_t i;

	for (i = 0; i < 6; i++)
		if (s[i] < '0' || s[i] > '9')
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "must be a 6-digit GB/T 2260 county code");
	return 0;
}

static const jspec_field record_spec[] = {
    {"source", JSPEC_STRING, 1, 2, 32, NULL, source_names, NULL, 0},
    {"record_id", JSPEC_STRING, 1, 1, 64, pii_text_check, NULL, NULL, 0},
    {"kind", JSPEC_STRING, 1, 2, 32, NULL, NULL, NULL, 0},
    {"resident_id", JSPEC_STRING, 0, 18, 18, resident_id_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 0, 6, 6, code6_check, NULL, NULL, 0},
    {"date", JSPEC_STRING, 1, 10, 10, jspec_date_check, NULL, NULL, 0},
    {"until", JSPEC_STRING, 0, 10, 10, jspec_date_check, NULL, NULL, 0},
    {"level", JSPEC_STRING, 0, 3, 6, NULL, levels, NULL, 0},
};

static int need(json_t *in, const char *path, const char *field, int needed, hc_err *err)
{
	int present =
	    json_object_get(in, field) != NULL && !json_is_null(json_object_get(in, field));
	char f[64];

	if (present == needed)
		return 0;
	snprintf(f, sizeof(f), "%.40s.%s", path, field);
	return hc_err_field(err, HC_ERR_PERMANENT, f, "%s is %s for source %s", f,
	                    needed ? "required" : "not allowed",
	                    json_string_value(json_object_get(in, "source")));
}

int record_parse(json_t *in, const char *path, const unsigned char secret[32], json_t **row,
                 hc_err *err)
{
	const char *source, *kind;
	size_t s, k;
	unsigned n;

	*row = NULL;
	if (!json_is_object(in))
		return hc_err_field(err, HC_ERR_PERMANENT, path, "%s must be an object", path);
	if (jspec_check(in, record_spec, sizeof(record_spec) / sizeof(record_spec[0]), path, err) !=
	    0)
		return HC_ERR_PERMANENT;
	source = json_string_value(json_object_get(in, "source"));
	kind = json_string_value(json_object_get(in, "kind"));
	for (s = 0; strcmp(sources[s].source, source) != 0; s++)
		;
	for (k = 0; sources[s].kinds[k] != NULL && strcmp(sources[s].kinds[k], kind) != 0; k++)
		;
	if (sources[s].kinds[k] == NULL) {
		char f[64];

		snprintf(f, sizeof(f), "%.40s.kind", path);
		return hc_err_field(err, HC_ERR_PERMANENT, f, "%s is not a kind of source %s", f,
		                    source);
	}
	n = sources[s].need;
	if (need(in, path, "resident_id", (n & NEED_PERSON) != 0, err) != 0 ||
	    need(in, path, "county_code", (n & NEED_COUNTY) != 0, err) != 0 ||
	    need(in, path, "until", (n & NEED_UNTIL) != 0, err) != 0 ||
	    need(in, path, "level", (n & NEED_LEVEL) != 0, err) != 0)
		return HC_ERR_PERMANENT;
	if ((n & NEED_LEVEL) != 0 &&
	    region_check_county(json_string_value(json_object_get(in, "county_code")), err) != 0) {
		char f[64];

		snprintf(f, sizeof(f), "%.40s.county_code", path);
		return hc_err_field(err, HC_ERR_PERMANENT, f, "%s: %s", f, err->msg);
	}
	if ((n & NEED_UNTIL) != 0 && strcmp(json_string_value(json_object_get(in, "until")),
	                                    json_string_value(json_object_get(in, "date"))) < 0) {
		char f[64];

		snprintf(f, sizeof(f), "%.40s.until", path);
		return hc_err_field(err, HC_ERR_PERMANENT, f, "%s is before the date", f);
	}
	*row =
	    json_pack("{s:O, s:O, s:O, s:O?, s:O?, s:O?, s:O?}", "source",
	              json_object_get(in, "source"), "record_id", json_object_get(in, "record_id"),
	              "kind", json_object_get(in, "kind"), "county_code",
	              json_object_get(in, "county_code"), "on_date", json_object_get(in, "date"),
	              "until", json_object_get(in, "until"), "level", json_object_get(in, "level"));
	if ((n & NEED_PERSON) != 0) {
		char rid[RESIDENT_ID_LEN + 1], key[PERSON_KEY_LEN + 1];

		resident_id_normalise(json_string_value(json_object_get(in, "resident_id")), rid,
		                      NULL);
		person_key_derive(secret, rid, key);
		json_object_set_new(*row, "person_key", json_string(key));
	}
	return 0;
}

static int rule_id_check(const char *s, hc_err *err)
{
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "must be lower-case letters, digits and hyphens");
	return 0;
}

/*
 * An RFC 3339 time (hc_rfc3339_us) written in full, YYYY-MM-DDTHH:MM:SS, of a
 * day its month has and an offset of at most 19:59, so that the database's
 * cast of it cannot fail.
 */
static int rfc3339_check(const char *s, hc_err *err)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	static const int days[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *zone = s + strlen(s) - 6;
	int year, month, day;
	size_t i;

	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
			goto bad;
	if (hc_rfc3339_us(s) < 0 || sscanf(s, "%4d-%2d-%2d", &year, &month, &day) != 3 ||
	    month < 1 || month > 12 || day < 1 || day > days[month - 1] ||
	    (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))))
		goto bad;
	if (s[strlen(s) - 1] == 'Z' ||
	    (zone[1] >= '0' && zone[1] <= '1' && zone[2] >= '0' && zone[2] <= '9' &&
	     zone[4] >= '0' && zone[4] <= '5' && zone[5] >= '0' && zone[5] <= '9'))
		return 0;
bad:
	return hc_err_set(err, HC_ERR_PERMANENT,
	                  "must be an RFC 3339 time, such as 2026-12-01T00:00:00+08:00");
}

static const char *const colours[] = {"red", "yellow", "green", NULL};
static const jspec_field rule_spec[] = {
    {"rule_id", JSPEC_STRING, 1, 2, 48, rule_id_check, NULL, NULL, 0},
    {"priority", JSPEC_INTEGER, 1, 1, 100000, NULL, NULL, NULL, 0},
    {"colour", JSPEC_STRING, 1, 3, 6, NULL, colours, NULL, 0},
    {"sources", JSPEC_ARRAY, 1, 1, 8, NULL, NULL, NULL, 0},
    {"kinds", JSPEC_ARRAY, 1, 0, 16, NULL, NULL, NULL, 0},
    {"window_days", JSPEC_INTEGER, 1, 0, 366, NULL, NULL, NULL, 0},
    {"valid_from", JSPEC_STRING, 0, 20, 35, rfc3339_check, NULL, NULL, 0},
    {"description", JSPEC_STRING, 1, 1, 200, NULL, NULL, NULL, 0},
};

/* Every item of the array field name: a name of lower-case letters and underscores, once. */
static int names_check(json_t *in, const char *name, hc_err *err)
{
	json_t *list = json_object_get(in, name), *v;
	char field[48];
	size_t i, j, k;

	json_array_foreach (list, i, v) {
		const char *t = json_string_value(v);
		size_t n = t != NULL ? strlen(t) : 0;

		snprintf(field, sizeof(field), "%s[%zu]", name, i);
		for (k = 0; k < n && ((t[k] >= 'a' && t[k] <= 'z') || t[k] == '_'); k++)
			;
		if (t == NULL || n < 2 || n > 32 || k < n)
			return hc_err_field(err, HC_ERR_PERMANENT, field,
			                    "%s must be 2 to 32 lower-case letters or underscores",
			                    field);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(json_array_get(list, j)), t) == 0)
				return hc_err_field(err, HC_ERR_PERMANENT, field,
				                    "%s is given twice", field);
	}
	return 0;
}

int rule_version_check(json_t *in, hc_err *err)
{
	if (jspec_check(in, rule_spec, sizeof(rule_spec) / sizeof(rule_spec[0]), "", err) != 0 ||
	    names_check(in, "sources", err) != 0 || names_check(in, "kinds", err) != 0)
		return HC_ERR_PERMANENT;
	if (json_array_size(json_object_get(in, "kinds")) == 0 &&
	    strcmp(json_string_value(json_object_get(in, "colour")), "green") != 0)
		return hc_err_field(err, HC_ERR_PERMANENT, "kinds",
		                    "kinds may be empty only for a green rule (the default)");
	return 0;
}
