/*
 * hc.intake.employer-application.submitted.v1: an employer applied; the
 * application enters the review queue of its county, due for review within
 * the configured deadline.  Malformed data is a permanent failure: the bus
 * dead-letters the record.
 */
#include "common/log/log.h"
#include "services/review/app.h"
#include "services/review/projection.h"

int review_on_employer_application_submitted(void *app_, db_conn *tx, const cloudevent *ev,
                                             hc_err *err)
{
	int rc;

	(void)app_;
	rc = review_queue_apply(tx, ev, err);
	if (rc == 0)
		log_info("application %s queued for county %s",
		         json_string_value(json_object_get(ev->data, "application_id")),
		         json_string_value(json_object_get(ev->data, "county_code")));
	return rc;
}
