/*
 * POST /v1/declarations: a worker applies for a health code with basic
 * information and health status; the application starts pending.
 *
 * A worker applying through an employer must be listed in that employer's
 * application, which its county must have approved (409 otherwise).  The
 * declaration (personal data and health answers sealed) and its event,
 * which carries only the person key, masked name and county, commit
 * together.
 */
#include <stdio.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/declaration.h"
#include "services/intake/store.h"

void intake_post_declarations(void *app_, http_req *req)
{
	intake_app *app = app_;
	json_t *body = http_req_json(req);
	char id[HC_UUID_LEN + 1], submitted_at[40], location[80];
	declaration d;
	cloudevent ev = {0};
	db_conn *tx = NULL;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (declaration_parse(&d, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v4(id);
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0 && d.employer_application_id != NULL)
		rc = intake_store_declaration_employer(tx, &d, &err);
	if (rc == 0)
		rc = intake_store_declaration_insert(tx, &d, id, http_req_principal(req).client,
		                                     app->cfg.pii_key, submitted_at, &err);
	if (rc == 0) {
		cloudevent_init(&ev, TYPE_DECLARATION_SUBMITTED, INTAKE_EVENT_SOURCE, id,
		                declaration_event_data(&d, id, submitted_at),
		                http_req_traceparent(req));
		rc = bus_outbox_add(tx, TOPIC_DECLARATION, d.person_key, &ev, d.county_code, &err);
	}
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
		goto out;
	}
	log_info("declaration %s pending in county %s", id, d.county_code);
	snprintf(location, sizeof(location), "/v1/declarations/%s", id);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "status", "pending",
	                          "person_key", d.person_key, "county_code", d.county_code,
	                          "submitted_at", submitted_at));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	cloudevent_cleanup(&ev);
	json_decref(body);
}
