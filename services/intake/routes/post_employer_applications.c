/*
 * POST /v1/employer-applications: an employer applies to its county
 * headquarters to resume work, listing the workers who must return.
 *
 * The application, its sealed worker rows and the submitted event are
 * written in one transaction; the outbox relay publishes the event.  Bad
 * input is refused with 400 naming the field, and nothing is stored.
 */
#include <stdio.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "services/intake/app.h"
#include "services/intake/domain/employer_application.h"
#include "services/intake/store.h"

#include "common/log/log.h"

void intake_post_employer_applications(void *app_, http_req *req)
{
	intake_app *app = app_;
	employer_application ea = {0};
	json_t *body = http_req_json(req);
	char id[HC_UUID_LEN + 1], submitted_at[40], location[96];
	db_conn *tx = NULL;
	cloudevent ev = {0};
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return; /* http_req_json replied */
	if (employer_application_parse(&ea, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v4(id);
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = intake_store_application_insert(tx, &ea, id, http_req_principal(req).client,
		                                     app->cfg.pii_key, submitted_at, &err);
	if (rc == 0) {
		cloudevent_init(&ev, TYPE_EMPLOYER_APPLICATION_SUBMITTED, INTAKE_EVENT_SOURCE, id,
		                employer_application_event_data(&ea, id, submitted_at),
		                http_req_traceparent(req));
		rc = bus_outbox_add(tx, TOPIC_EMPLOYER_APPLICATION, id, &ev, ea.county_code, &err);
	}
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
		goto out;
	}
	log_info("employer application %s submitted to county %s with %zu workers", id,
	         ea.county_code, ea.nworkers);
	snprintf(location, sizeof(location), "/v1/employer-applications/%s", id);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "status", "submitted",
	                          "county_code", ea.county_code, "submitted_at", submitted_at,
	                          "worker_count", (json_int_t)ea.nworkers));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	cloudevent_cleanup(&ev);
	employer_application_cleanup(&ea);
	json_decref(body);
}
