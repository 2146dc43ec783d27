/*
 * Unit tests of the services' pure domain code: intake's employer
 * application rules and review's queue-entry rules.
 */
#include "common/identity/identity.h"
#include "common/region/region.h"
#include "services/intake/domain/employer_application.h"
#include "services/review/domain/queue.h"
#include "tests/unit/unit.h"

static const unsigned char secret[32] = {7};

static json_t *application(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s}, {s:s, s:s, s:s}]}",
	                 "employer_name", "武汉市自来水有限公司", "credit_code",
	                 "91420100MA4K3W5T0H", "county_code", "420102", "category",
	                 "public_utilities", "workers", "name", "张三丰", "resident_id",
	                 "42010219850315123x", "phone", "13800138000", "name", "Li Si",
	                 "resident_id", "420106199207084567", "phone", "13900139000");
}

TEST(valid_application_parses)
{
	json_t *body = application();
	employer_application ea;
	char key[65];
	hc_err err;

	/* the x is upper-cased; the fixture's check character is 4, so make it valid */
	json_object_set_new(json_array_get(json_object_get(body, "workers"), 0), "resident_id",
	                    json_string("420102198503151234"));
	CHECK_EQ_INT(employer_application_parse(&ea, body, secret, &err), 0);
	CHECK_EQ_INT(ea.nworkers, 2);
	CHECK_EQ_STR(ea.workers[0].masked_name, "张**");
	person_key_derive(secret, "420102198503151234", key);
	CHECK_EQ_STR(ea.workers[0].person_key, key);
	employer_application_cleanup(&ea);
	json_decref(body);
}

TEST(event_data_carries_no_personal_data)
{
	json_t *body = application(), *data;
	employer_application ea;
	char *text;
	hc_err err;

	json_object_set_new(json_array_get(json_object_get(body, "workers"), 0), "resident_id",
	                    json_string("420102198503151234"));
	CHECK_EQ_INT(employer_application_parse(&ea, body, secret, &err), 0);
	data = employer_application_event_data(&ea, "0b5e1f0e-9a4c-4b7e-8c1d-2f3a4b5c6d7e",
	                                       "2026-02-01T08:00:00.000000Z");
	text = json_dumps(data, 0);
	CHECK(strstr(text, "420102198503151234") == NULL);
	CHECK(strstr(text, "13800138000") == NULL);
	CHECK(strstr(text, "张三丰") == NULL);
	CHECK(strstr(text, "Li Si") == NULL);
	CHECK(strstr(text, "\"masked_name\": \"L****\"") != NULL);
	/* and review accepts what intake publishes */
	CHECK_EQ_INT(queue_check_submitted(data, &err), 0);
	free(text);
	json_decref(data);
	employer_application_cleanup(&ea);
	json_decref(body);
}

TEST(same_person_twice_is_refused)
{
	json_t *body = application();
	json_t *workers = json_object_get(body, "workers");
	employer_application ea;
	hc_err err;

	json_object_set_new(json_array_get(workers, 0), "resident_id",
	                    json_string("420106199207084567"));
	CHECK_EQ_INT(employer_application_parse(&ea, body, secret, &err), HC_ERR_PERMANENT);
	CHECK_EQ_STR(err.field, "workers[1].resident_id");
	employer_application_cleanup(&ea);
	json_decref(body);
}

TEST(rules_name_the_field)
{
	static const struct {
		const char *key, *value, *field;
	} cases[] = {
	    {"county_code", "110101", "county_code"},
	    {"county_code", "42010x", "county_code"},
	    {"category", "leisure", "category"},
	    {"credit_code", "91420100MA4K3W5T0A", "credit_code"},
	    {"employer_name", "x", "employer_name"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *body = application();
		employer_application ea;
		hc_err err;

		json_object_set_new(body, cases[i].key, json_string(cases[i].value));
		CHECK_EQ_INT(employer_application_parse(&ea, body, secret, &err), HC_ERR_PERMANENT);
		CHECK_EQ_STR(err.field, cases[i].field);
		employer_application_cleanup(&ea);
		json_decref(body);
	}
}

TEST(queue_refuses_inconsistent_events)
{
	json_t *data = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:[{s:s, s:s}]}", "application_id",
	    "0b5e1f0e-9a4c-4b7e-8c1d-2f3a4b5c6d7e", "employer_name", "e", "credit_code",
	    "91420100MA4K3W5T0H", "county_code", "420102", "category", "public_utilities",
	    "submitted_at", "2026-02-01T08:00:00.000000Z", "worker_count", 2, "workers",
	    "person_key", "0000000000000000000000000000000000000000000000000000000000000000",
	    "masked_name", "王*");
	hc_err err;

	CHECK_EQ_INT(queue_check_submitted(data, &err), HC_ERR_PERMANENT);
	CHECK_EQ_STR(err.field, "data.worker_count");
	json_object_set_new(data, "worker_count", json_integer(1));
	CHECK_EQ_INT(queue_check_submitted(data, &err), 0);
	json_object_set_new(data, "submitted_at", json_string("yesterday"));
	CHECK_EQ_INT(queue_check_submitted(data, &err), HC_ERR_PERMANENT);
	CHECK_EQ_STR(err.field, "data.submitted_at");
	json_decref(data);
}

TEST(region_table)
{
	char city[7];

	CHECK_EQ_INT(region_county_count(), 103);
	CHECK_EQ_STR(region_county_name("420102"), "江岸区");
	CHECK_EQ_STR(region_county_name("429021"), "神农架林区");
	CHECK(region_county_name("420100") == NULL); /* a city, not a county */
	CHECK(region_county_name("110101") == NULL);
	region_city_of("420111", city);
	CHECK_EQ_STR(city, "420100");
}

UNIT_MAIN(T(valid_application_parses), T(event_data_carries_no_personal_data),
          T(same_person_twice_is_refused), T(rules_name_the_field),
          T(queue_refuses_inconsistent_events), T(region_table))
