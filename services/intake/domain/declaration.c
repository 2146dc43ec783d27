/* Personal health-code applications; see declaration.h. */
#include "services/intake/domain/declaration.h"

#include <stdio.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/jspec/jspec.h"
#include "common/region/region.h"

static const char *const symptoms[] = {"fever",
                                       "cough",
                                       "fatigue",
                                       "sore_throat",
                                       "shortness_of_breath",
                                       "diarrhea",
                                       "loss_of_taste_or_smell",
                                       NULL};

static const jspec_field health_spec[] = {
    /* tenths of a degree are not needed by any rule; degrees Celsius as a number */
    {"temperature", JSPEC_NUMBER, 1, 34, 43, NULL, NULL, NULL, 0},
    {"symptoms", JSPEC_ARRAY, 1, 0, 7, NULL, NULL, NULL, 0},
    {"contact_with_cases", JSPEC_BOOLEAN, 1, 0, 0, NULL, NULL, NULL, 0},
    {"risk_area_travel_14d", JSPEC_BOOLEAN, 1, 0, 0, NULL, NULL, NULL, 0},
};

static const jspec_field declaration_spec[] = {
    {"name", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"resident_id", JSPEC_STRING, 1, 18, 18, resident_id_check, NULL, NULL, 0},
    {"phone", JSPEC_STRING, 1, 11, 11, mobile_phone_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_residence, NULL, NULL, 0},
    {"employer_application_id", JSPEC_STRING, 0, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"health", JSPEC_OBJECT, 1, 0, 0, NULL, NULL, health_spec,
     sizeof(health_spec) / sizeof(health_spec[0])},
};

/* Each symptom is a known one, listed once. */
static int check_symptoms(json_t *list, hc_err *err)
{
	size_t i, j, k;

	for (i = 0; i < json_array_size(list); i++) {
		json_t *v = json_array_get(list, i);
		char field[40];

		snprintf(field, sizeof(field), "health.symptoms[%zu]", i);
		if (!json_is_string(v))
			return hc_err_field(err, HC_ERR_PERMANENT, field, "%s must be a string",
			                    field);
		for (k = 0; symptoms[k] != NULL && strcmp(symptoms[k], json_string_value(v)) != 0;
		     k++)
			;
		if (symptoms[k] == NULL)
			return hc_err_field(err, HC_ERR_PERMANENT, field,
			                    "%s is not a known symptom", field);
		for (j = 0; j < i; j++)
			if (json_equal(json_array_get(list, j), v))
				return hc_err_field(err, HC_ERR_PERMANENT, field,
				                    "%s is listed twice", field);
	}
	return 0;
}

static const jspec_field checkin_spec[] = {
    {"resident_id", JSPEC_STRING, 1, 18, 18, resident_id_check, NULL, NULL, 0},
    {"health", JSPEC_OBJECT, 1, 0, 0, NULL, NULL, health_spec,
     sizeof(health_spec) / sizeof(health_spec[0])},
};

static const jspec_field correction_spec[] = {
    {"resident_id", JSPEC_STRING, 1, 18, 18, resident_id_check, NULL, NULL, 0},
    {"reason", JSPEC_STRING, 1, 2, 1000, pii_text_check, NULL, NULL, 0},
};

/* Normalises the body's resident_id and derives its person key. */
static void person_of(json_t *body, const unsigned char secret[32],
                      char resident_id[RESIDENT_ID_LEN + 1], char person_key[PERSON_KEY_LEN + 1])
{
	resident_id_normalise(json_string_value(json_object_get(body, "resident_id")), resident_id,
	                      NULL);
	person_key_derive(secret, resident_id, person_key);
}

int declaration_parse(declaration *d, json_t *body, const unsigned char secret[32], hc_err *err)
{
	memset(d, 0, sizeof(*d));
	if (jspec_check(body, declaration_spec,
	                sizeof(declaration_spec) / sizeof(declaration_spec[0]), "", err) != 0)
		return HC_ERR_PERMANENT;
	d->health = json_object_get(body, "health");
	if (check_symptoms(json_object_get(d->health, "symptoms"), err) != 0)
		return HC_ERR_PERMANENT;
	d->name = json_string_value(json_object_get(body, "name"));
	d->phone = json_string_value(json_object_get(body, "phone"));
	d->county_code = json_string_value(json_object_get(body, "county_code"));
	d->employer_application_id =
	    json_string_value(json_object_get(body, "employer_application_id"));
	person_of(body, secret, d->resident_id, d->person_key);
	name_mask(d->name, d->masked_name, sizeof(d->masked_name));
	return 0;
}

json_t *health_declared(json_t *health)
{
	json_t *out = json_array();

	if (json_number_value(json_object_get(health, "temperature")) >= FEVER_CELSIUS)
		json_array_append_new(out, json_string("fever"));
	if (json_array_size(json_object_get(health, "symptoms")) > 0)
		json_array_append_new(out, json_string("symptom"));
	if (json_is_true(json_object_get(health, "contact_with_cases")))
		json_array_append_new(out, json_string("contact"));
	if (json_is_true(json_object_get(health, "risk_area_travel_14d")))
		json_array_append_new(out, json_string("risk_travel"));
	return out;
}

json_t *declaration_event_data(const declaration *d, const char *id, const char *submitted_at)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:s}", "declaration_id", id, "person_key",
	                 d->person_key, "masked_name", d->masked_name, "county_code",
	                 d->county_code, "employer_application_id", d->employer_application_id,
	                 "declared", health_declared(d->health), "submitted_at", submitted_at);
}

int checkin_parse(checkin *c, json_t *body, const unsigned char secret[32], hc_err *err)
{
	memset(c, 0, sizeof(*c));
	if (jspec_check(body, checkin_spec, sizeof(checkin_spec) / sizeof(checkin_spec[0]), "",
	                err) != 0)
		return HC_ERR_PERMANENT;
	c->health = json_object_get(body, "health");
	if (check_symptoms(json_object_get(c->health, "symptoms"), err) != 0)
		return HC_ERR_PERMANENT;
	person_of(body, secret, c->resident_id, c->person_key);
	return 0;
}

int correction_parse(correction *c, json_t *body, const unsigned char secret[32], hc_err *err)
{
	memset(c, 0, sizeof(*c));
	if (jspec_check(body, correction_spec, sizeof(correction_spec) / sizeof(correction_spec[0]),
	                "", err) != 0)
		return HC_ERR_PERMANENT;
	c->reason = json_string_value(json_object_get(body, "reason"));
	person_of(body, secret, c->resident_id, c->person_key);
	return 0;
}

static const char *const correction_stages[] = {"county", "city", NULL};
static const char *const correction_statuses[] = {"county_approved", "approved", "rejected", NULL};
static const jspec_field correction_decided_spec[] = {
    {"correction_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, NULL, NULL, NULL, 0},
    {"stage", JSPEC_STRING, 1, 4, 6, NULL, correction_stages, NULL, 0},
    {"status", JSPEC_STRING, 1, 1, 20, NULL, correction_statuses, NULL, 0},
    {"opinion", JSPEC_STRING, 1, 1, 2000, NULL, NULL, NULL, 0},
    {"reviewer", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"county_reviewer", JSPEC_STRING, 0, 1, 64, NULL, NULL, NULL, 0},
    {"decided_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

int correction_check_decided(json_t *data, hc_err *err)
{
	return jspec_check_event(data, correction_decided_spec,
	                         sizeof(correction_decided_spec) /
	                             sizeof(correction_decided_spec[0]),
	                         "data", err) == 0
	           ? 0
	           : HC_ERR_PERMANENT;
}
