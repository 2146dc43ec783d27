/*
 * hc.intake.correction.filed.v1: a holder asked for a correction; it waits
 * for the county headquarters of the holder's residence.
 */
#include "common/base/rand.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "common/region/region.h"
#include "services/review/app.h"
#include "services/review/store.h"

static const jspec_field filed_spec[] = {
    {"correction_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"reason", JSPEC_STRING, 1, 1, 1000, NULL, NULL, NULL, 0},
    {"filed_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

int review_on_correction_filed(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	int rc;

	(void)app;
	if (jspec_check(ev->data, filed_spec, sizeof(filed_spec) / sizeof(filed_spec[0]), "data",
	                err) != 0)
		return HC_ERR_PERMANENT;
	rc = review_store_correction_enqueue(tx, ev->id, ev->data, err);
	if (rc == 0)
		log_info("correction %s queued for county %s",
		         json_string_value(json_object_get(ev->data, "correction_id")),
		         json_string_value(json_object_get(ev->data, "county_code")));
	return rc;
}
