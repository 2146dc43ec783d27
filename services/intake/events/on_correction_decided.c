/*
 * hc.review.correction.decided.v1: the county (first) or the city (second)
 * decided a correction request; intake records the state so the holder can
 * read it.  A decision out of order is dead-lettered.
 */
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/declaration.h"
#include "services/intake/store.h"

int intake_on_correction_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	int rc;

	(void)app;
	rc = correction_check_decided(ev->data, err);
	if (rc == 0)
		rc = intake_store_correction_decide(tx, ev->data, err);
	if (rc == 0)
		log_info("correction %s %s",
		         json_string_value(json_object_get(ev->data, "correction_id")),
		         json_string_value(json_object_get(ev->data, "status")));
	return rc;
}
