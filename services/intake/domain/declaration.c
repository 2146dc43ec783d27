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
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
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
	resident_id_normalise(json_string_value(json_object_get(body, "resident_id")),
	                      d->resident_id, NULL);
	person_key_derive(secret, d->resident_id, d->person_key);
	name_mask(d->name, d->masked_name, sizeof(d->masked_name));
	return 0;
}

json_t *declaration_event_data(const declaration *d, const char *id, const char *submitted_at)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s}", "declaration_id", id, "person_key",
	                 d->person_key, "masked_name", d->masked_name, "county_code",
	                 d->county_code, "employer_application_id", d->employer_application_id,
	                 "submitted_at", submitted_at);
}
