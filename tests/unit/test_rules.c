/*
 * Unit tests of matching's colour rules as data: priority, windows, the
 * default rule, the allow-list of sources, and reference-record checks.
 */
#include "services/matching/domain/rules.h"
#include "tests/unit/unit.h"

/* The default rules of migration 001, as the store returns them. */
static const char *const default_rules =
    "[{\"rule_id\":\"confirmed-case\",\"version\":1,\"colour\":\"red\","
    "\"sources\":[\"case_registry\",\"fever_clinic\"],"
    "\"kinds\":[\"confirmed\",\"suspected\",\"asymptomatic\",\"fever\"],\"window_days\":14},"
    "{\"rule_id\":\"close-contact\",\"version\":1,\"colour\":\"yellow\","
    "\"sources\":[\"contact_tracing\"],\"kinds\":[\"close_contact\"],\"window_days\":7},"
    "{\"rule_id\":\"self-declared\",\"version\":1,\"colour\":\"yellow\","
    "\"sources\":[\"self_declaration\",\"checkpoint\"],\"kinds\":[\"symptom\",\"contact\","
    "\"fever\"],\"window_days\":7},"
    "{\"rule_id\":\"no-risk\",\"version\":1,\"colour\":\"green\",\"sources\":[],\"kinds\":[],"
    "\"window_days\":0}]";

static json_t *evaluate(const char *rules, const char *evidence)
{
	json_t *r = json_loads(rules, 0, NULL), *e = json_loads(evidence, 0, NULL), *out;

	CHECK(r != NULL && e != NULL);
	out = rules_evaluate(r, e);
	json_decref(r);
	json_decref(e);
	return out;
}

static void expect(const char *evidence, const char *colour, const char *rule, size_t matched)
{
	json_t *o = evaluate(default_rules, evidence);

	CHECK(o != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(o, "colour")), colour);
	CHECK_EQ_STR(json_string_value(json_object_get(o, "rule_id")), rule);
	CHECK_EQ_INT((long)json_array_size(json_object_get(o, "evidence")), (long)matched);
	json_decref(o);
}

TEST(no_evidence_is_the_default_green)
{
	expect("[]", "green", "no-risk", 0);
}

TEST(first_rule_by_priority_decides)
{
	expect("[{\"source\":\"contact_tracing\",\"kind\":\"close_contact\",\"record_id\":\"c\","
	       "\"age_days\":1},{\"source\":\"case_registry\",\"kind\":\"confirmed\","
	       "\"record_id\":\"k\",\"age_days\":3}]",
	       "red", "confirmed-case", 1);
}

TEST(records_older_than_the_window_no_longer_count)
{
	expect("[{\"source\":\"contact_tracing\",\"kind\":\"close_contact\",\"record_id\":\"c\","
	       "\"age_days\":7}]",
	       "green", "no-risk", 0);
	expect("[{\"source\":\"contact_tracing\",\"kind\":\"close_contact\",\"record_id\":\"c\","
	       "\"age_days\":6}]",
	       "yellow", "close-contact", 1);
	expect("[{\"source\":\"case_registry\",\"kind\":\"confirmed\",\"record_id\":\"k\","
	       "\"age_days\":13}]",
	       "red", "confirmed-case", 1);
}

TEST(a_source_a_rule_does_not_list_never_changes_a_colour)
{
	/* the right kind from the wrong source: a purchase record, a kind no rule reads */
	expect(
	    "[{\"source\":\"commerce\",\"kind\":\"confirmed\",\"record_id\":\"p\",\"age_days\":0},"
	    "{\"source\":\"commerce\",\"kind\":\"purchase\",\"record_id\":\"q\",\"age_days\":0}]",
	    "green", "no-risk", 0);
	/* a checkpoint fever is the self-declared rule's, not the case registry's */
	expect(
	    "[{\"source\":\"checkpoint\",\"kind\":\"fever\",\"record_id\":\"s\",\"age_days\":0}]",
	    "yellow", "self-declared", 1);
}

TEST(every_matched_record_is_evidence)
{
	expect("[{\"source\":\"self_declaration\",\"kind\":\"symptom\",\"record_id\":\"a\","
	       "\"age_days\":0},{\"source\":\"self_declaration\",\"kind\":\"contact\","
	       "\"record_id\":\"b\",\"age_days\":2},{\"source\":\"self_declaration\","
	       "\"kind\":\"symptom\",\"record_id\":\"old\",\"age_days\":9}]",
	       "yellow", "self-declared", 2);
}

TEST(without_a_default_rule_there_is_no_answer)
{
	json_t *o = evaluate("[{\"rule_id\":\"x\",\"version\":2,\"colour\":\"red\","
	                     "\"sources\":[\"case_registry\"],\"kinds\":[\"confirmed\"],"
	                     "\"window_days\":14}]",
	                     "[]");

	CHECK(o == NULL);
}

static void record(const char *text, int rc, const char *field)
{
	static const unsigned char secret[32] = {1};
	json_t *in = json_loads(text, 0, NULL), *row = NULL;
	hc_err err;

	hc_err_clear(&err);
	CHECK(in != NULL);
	CHECK_EQ_INT(record_parse(in, "records[0]", secret, &row, &err), rc);
	CHECK_EQ_STR(err.field, field);
	if (rc == 0) {
		CHECK(json_object_get(row, "resident_id") == NULL);
		CHECK(json_object_get(row, "on_date") != NULL);
	}
	json_decref(row);
	json_decref(in);
}

TEST(reference_records_are_checked_per_source)
{
	record("{\"source\":\"contact_tracing\",\"record_id\":\"c1\",\"kind\":\"close_contact\","
	       "\"resident_id\":\"420111199001011232\",\"date\":\"2026-02-10\"}",
	       0, "");
	record("{\"source\":\"contact_tracing\",\"record_id\":\"c1\",\"kind\":\"confirmed\","
	       "\"resident_id\":\"420111199001011232\",\"date\":\"2026-02-10\"}",
	       HC_ERR_PERMANENT, "records[0].kind");
	record("{\"source\":\"contact_tracing\",\"record_id\":\"c1\",\"kind\":\"close_contact\","
	       "\"resident_id\":\"420111199001011233\",\"date\":\"2026-02-10\"}",
	       HC_ERR_PERMANENT, "records[0].resident_id");
	record("{\"source\":\"risk_areas\",\"record_id\":\"r1\",\"kind\":\"risk_level\","
	       "\"county_code\":\"420111\",\"date\":\"2026-02-10\"}",
	       HC_ERR_PERMANENT, "records[0].level");
	record("{\"source\":\"risk_areas\",\"record_id\":\"r1\",\"kind\":\"risk_level\","
	       "\"county_code\":\"110105\",\"level\":\"high\",\"date\":\"2026-02-10\"}",
	       HC_ERR_PERMANENT, "records[0].county_code");
	record("{\"source\":\"isolation_registry\",\"record_id\":\"i1\",\"kind\":\"isolation\","
	       "\"resident_id\":\"420111199001011232\",\"date\":\"2026-02-10\","
	       "\"until\":\"2026-02-01\"}",
	       HC_ERR_PERMANENT, "records[0].until");
	record("{\"source\":\"self_declaration\",\"record_id\":\"x\",\"kind\":\"symptom\","
	       "\"resident_id\":\"420111199001011232\",\"date\":\"2026-02-10\"}",
	       HC_ERR_PERMANENT, "records[0].source");
	record("{\"source\":\"fever_clinic\",\"record_id\":\"f1\",\"kind\":\"fever\","
	       "\"resident_id\":\"420111199001011232\",\"date\":\"2026-02-30x\"}",
	       HC_ERR_PERMANENT, "records[0].date");
}

static void rule_version(const char *json, int want, const char *field)
{
	json_t *in = json_loads(json, 0, NULL);
	hc_err err;

	hc_err_clear(&err);
	CHECK(in != NULL);
	CHECK_EQ_INT(rule_version_check(in, &err), want);
	CHECK_EQ_STR(err.field, field);
	json_decref(in);
}

#define RULE_HEAD "{\"rule_id\":\"late-contact\",\"priority\":900,\"description\":\"d\","

TEST(rule_versions_are_checked)
{
	rule_version(RULE_HEAD "\"colour\":\"yellow\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":30}",
	             0, "");
	rule_version(RULE_HEAD "\"colour\":\"green\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[],\"window_days\":0,"
	                       "\"valid_from\":\"2026-12-01T00:00:00.5+08:00\"}",
	             0, "");
	rule_version(RULE_HEAD "\"colour\":\"yellow\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[],\"window_days\":30}",
	             HC_ERR_PERMANENT, "kinds");
	rule_version(RULE_HEAD "\"colour\":\"blue\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":30}",
	             HC_ERR_PERMANENT, "colour");
	rule_version(RULE_HEAD "\"colour\":\"red\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\",\"Close\"],\"window_days\":30}",
	             HC_ERR_PERMANENT, "kinds[1]");
	rule_version(RULE_HEAD "\"colour\":\"red\",\"sources\":[],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":30}",
	             HC_ERR_PERMANENT, "sources");
	rule_version(RULE_HEAD "\"colour\":\"red\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":367}",
	             HC_ERR_PERMANENT, "window_days");
	rule_version(RULE_HEAD "\"colour\":\"red\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":3,"
	                       "\"valid_from\":\"2026-02-30T00:00:00Z\"}",
	             HC_ERR_PERMANENT, "valid_from");
	rule_version(RULE_HEAD "\"colour\":\"red\",\"sources\":[\"contact_tracing\"],"
	                       "\"kinds\":[\"close_contact\"],\"window_days\":3,"
	                       "\"valid_from\":\"2026-12-01 00:00:00+08:00\"}",
	             HC_ERR_PERMANENT, "valid_from");
	rule_version("{\"rule_id\":\"Late_Contact\",\"priority\":900,\"description\":\"d\","
	             "\"colour\":\"red\",\"sources\":[\"contact_tracing\"],"
	             "\"kinds\":[\"close_contact\"],\"window_days\":3}",
	             HC_ERR_PERMANENT, "rule_id");
}

UNIT_MAIN(T(no_evidence_is_the_default_green), T(first_rule_by_priority_decides),
          T(records_older_than_the_window_no_longer_count),
          T(a_source_a_rule_does_not_list_never_changes_a_colour),
          T(every_matched_record_is_evidence), T(without_a_default_rule_there_is_no_answer),
          T(reference_records_are_checked_per_source), T(rule_versions_are_checked))
