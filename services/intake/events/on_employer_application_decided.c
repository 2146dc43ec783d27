/*
 * hc.review.employer-application.decided.v1: the county headquarters decided
 * an application; intake records the decision and opinion so the employer
 * sees them, and (in later work) tells its workers to apply for codes.
 */
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/employer_application.h"
#include "services/intake/store.h"

int intake_on_employer_application_decided(void *app, db_conn *tx, const cloudevent *ev,
                                           hc_err *err)
{
	int rc;

	(void)app;
	rc = employer_application_check_decided(ev->data, err);
	if (rc == 0)
		rc = intake_store_application_decide(tx, ev->data, err);
	if (rc == 0)
		log_info("application %s %s",
		         json_string_value(json_object_get(ev->data, "application_id")),
		         json_string_value(json_object_get(ev->data, "status")));
	return rc;
}
