/*
 * hc.intake.employer-application.submitted.v1: an employer applied; the
 * application enters the review queue of its county, due for review within
 * the configured deadline.  Malformed data is a permanent failure: the bus
 * dead-letters the record.
 */
#include "common/log/log.h"
#include "services/review/app.h"
#include "services/review/domain/queue.h"
#include "services/review/store.h"

int review_on_employer_application_submitted(void *app_, db_conn *tx, const cloudevent *ev,
                                             hc_err *err)
{
	review_app *app = app_;
	int rc;

	rc = queue_check_submitted(ev->data, err);
	if (rc != 0)
		return rc;
	rc = review_store_enqueue(tx, ev->id, ev->data, app->cfg.deadline_hours, err);
	if (rc == 0)
		log_info("application %s queued for county %s",
		         json_string_value(json_object_get(ev->data, "application_id")),
		         json_string_value(json_object_get(ev->data, "county_code")));
	return rc;
}
