/* County review queue rules; see queue.h. */
#include "services/review/domain/queue.h"

#include <string.h>

#include "common/base/rand.h"
#include "common/jspec/jspec.h"
#include "common/region/region.h"

const char *const queue_statuses[] = {"pending", "approved", "rejected", NULL};

static int check_person_key(const char *s, hc_err *err)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "must be 64 lower-case hex characters");
	return i == 64 ? 0
	               : hc_err_set(err, HC_ERR_PERMANENT, "must be 64 lower-case hex characters");
}

static int check_time(const char *s, hc_err *err)
{
	/* RFC 3339 as intake writes it: 2026-01-31T08:00:00.000000Z */
	if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[strlen(s) - 1] != 'Z')
		return hc_err_set(err, HC_ERR_PERMANENT, "must be an RFC 3339 UTC time");
	return 0;
}

static const jspec_field worker_spec[] = {
    {"person_key", JSPEC_STRING, 1, 64, 64, check_person_key, NULL, NULL, 0},
    {"masked_name", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
};

static const jspec_field submitted_spec[] = {
    {"application_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"employer_name", JSPEC_STRING, 1, 1, 200, NULL, NULL, NULL, 0},
    {"credit_code", JSPEC_STRING, 1, 18, 18, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"category", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"submitted_at", JSPEC_STRING, 1, 20, 40, check_time, NULL, NULL, 0},
    {"submitted_by", JSPEC_STRING, 0, 1, 40, NULL, NULL, NULL, 0},
    {"worker_count", JSPEC_INTEGER, 1, 1, 100000, NULL, NULL, NULL, 0},
    {"workers", JSPEC_ARRAY, 1, 1, 100000, NULL, NULL, worker_spec,
     sizeof(worker_spec) / sizeof(worker_spec[0])},
};

int queue_check_submitted(json_t *data, hc_err *err)
{
	if (jspec_check_event(data, submitted_spec,
	                      sizeof(submitted_spec) / sizeof(submitted_spec[0]), "data", err) != 0)
		return HC_ERR_PERMANENT;
	if (json_integer_value(json_object_get(data, "worker_count")) !=
	    (json_int_t)json_array_size(json_object_get(data, "workers")))
		return hc_err_field(err, HC_ERR_PERMANENT, "data.worker_count",
		                    "data.worker_count does not match the workers listed");
	return 0;
}
