/*
 * hc.intake.correction.filed.v1: a holder asked for a correction; it waits
 * for the county headquarters of the holder's residence.
 */
#include "common/log/log.h"
#include "services/review/app.h"
#include "services/review/projection.h"

int review_on_correction_filed(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	int rc;

	(void)app;
	rc = review_queue_apply(tx, ev, err);
	if (rc == 0)
		log_info("correction %s queued for county %s",
		         json_string_value(json_object_get(ev->data, "correction_id")),
		         json_string_value(json_object_get(ev->data, "county_code")));
	return rc;
}
