/* The rules of an employer's return-to-work application; see employer_application.h. */
#include "services/intake/domain/employer_application.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/jspec/jspec.h"
#include "common/region/region.h"

static const char *const categories[] = {"epidemic_prevention", "public_utilities",
                                         "daily_necessities", "key_enterprise", NULL};

static int check_credit_code(const char *s, hc_err *err)
{
	return credit_code_validate(s, err);
}

static const jspec_field worker_spec[] = {
    {"name", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"resident_id", JSPEC_STRING, 1, 18, 18, resident_id_check, NULL, NULL, 0},
    {"phone", JSPEC_STRING, 1, 11, 11, mobile_phone_check, NULL, NULL, 0},
};

static const jspec_field application_spec[] = {
    {"employer_name", JSPEC_STRING, 1, 2, 200, pii_text_check, NULL, NULL, 0},
    {"credit_code", JSPEC_STRING, 1, 18, 18, check_credit_code, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"category", JSPEC_STRING, 1, 1, 64, NULL, categories, NULL, 0},
    {"workers", JSPEC_ARRAY, 1, 1, EMPLOYER_APPLICATION_MAX_WORKERS, NULL, NULL, worker_spec,
     sizeof(worker_spec) / sizeof(worker_spec[0])},
};

static const char *const decided_statuses[] = {"approved", "rejected", NULL};

static const jspec_field decided_spec[] = {
    {"application_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"status", JSPEC_STRING, 1, 1, 16, NULL, decided_statuses, NULL, 0},
    {"opinion", JSPEC_STRING, 1, 1, 2000, NULL, NULL, NULL, 0},
    {"reviewer", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"decided_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

int employer_application_check_decided(json_t *data, hc_err *err)
{
	return jspec_check_event(data, decided_spec, sizeof(decided_spec) / sizeof(decided_spec[0]),
	                         "data", err) == 0
	           ? 0
	           : HC_ERR_PERMANENT;
}

int employer_application_parse(employer_application *app, json_t *body,
                               const unsigned char secret[32], hc_err *err)
{
	json_t *workers;
	size_t i, j;

	memset(app, 0, sizeof(*app));
	if (jspec_check(body, application_spec,
	                sizeof(application_spec) / sizeof(application_spec[0]), "", err) != 0)
		return HC_ERR_PERMANENT;
	app->employer_name = json_string_value(json_object_get(body, "employer_name"));
	app->credit_code = json_string_value(json_object_get(body, "credit_code"));
	app->county_code = json_string_value(json_object_get(body, "county_code"));
	app->category = json_string_value(json_object_get(body, "category"));
	workers = json_object_get(body, "workers");
	app->nworkers = json_array_size(workers);
	app->workers = calloc(app->nworkers, sizeof(*app->workers));
	if (app->workers == NULL)
		abort();
	for (i = 0; i < app->nworkers; i++) {
		application_worker *w = &app->workers[i];
		json_t *item = json_array_get(workers, i);

		w->name = json_string_value(json_object_get(item, "name"));
		w->phone = json_string_value(json_object_get(item, "phone"));
		/* Already checked by the spec; this normalises. */
		resident_id_normalise(json_string_value(json_object_get(item, "resident_id")),
		                      w->resident_id, NULL);
		person_key_derive(secret, w->resident_id, w->person_key);
		name_mask(w->name, w->masked_name, sizeof(w->masked_name));
		for (j = 0; j < i; j++) {
			if (strcmp(app->workers[j].person_key, w->person_key) == 0) {
				char field[64];

				snprintf(field, sizeof(field), "workers[%zu].resident_id", i);
				return hc_err_field(err, HC_ERR_PERMANENT, field,
				                    "%s: the same person is listed as workers[%zu]",
				                    field, j);
			}
		}
	}
	return 0;
}

void employer_application_cleanup(employer_application *app)
{
	free(app->workers);
	app->workers = NULL;
	app->nworkers = 0;
}

json_t *employer_application_event_data(const employer_application *app, const char *id,
                                        const char *submitted_at)
{
	json_t *workers = json_array();
	size_t i;

	for (i = 0; i < app->nworkers; i++)
		json_array_append_new(workers, json_pack("{s:s, s:s}", "person_key",
		                                         app->workers[i].person_key, "masked_name",
		                                         app->workers[i].masked_name));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "application_id", id,
	                 "employer_name", app->employer_name, "credit_code", app->credit_code,
	                 "county_code", app->county_code, "category", app->category, "submitted_at",
	                 submitted_at, "worker_count", (json_int_t)app->nworkers, "workers",
	                 workers);
}
