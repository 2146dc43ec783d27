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

typedef struct submission {
	http_req *req;
	intake_app *app;
	declaration d;
	char id[HC_UUID_LEN + 1], submitted_at[40];
} submission;

static int submission_write(db_conn *tx, void *ctx, hc_err *err)
{
	submission *sub = ctx;
	int rc = 0;

	if (sub->d.employer_application_id != NULL)
		rc = intake_store_declaration_employer(tx, &sub->d, err);
	if (rc == 0)
		rc = intake_store_declaration_insert(tx, &sub->d, sub->id,
		                                     http_req_principal(sub->req).client,
		                                     sub->app->cfg.pii_key, sub->submitted_at, err);
	if (rc == 0) {
		json_t *data = declaration_event_data(&sub->d, sub->id, sub->submitted_at);
		const char *client = http_req_principal(sub->req).client;

		/* the partner app it came through: the people a partner may read */
		if (client != NULL)
			json_object_set_new(data, "submitted_by", json_string(client));
		rc = bus_outbox_emit(tx, TOPIC_DECLARATION, sub->d.person_key, sub->d.county_code,
		                     TYPE_DECLARATION_SUBMITTED, INTAKE_EVENT_SOURCE, sub->id, data,
		                     http_req_traceparent(sub->req), err);
	}
	return rc;
}

void intake_post_declarations(void *app_, http_req *req)
{
	intake_app *app = app_;
	submission sub = {.req = req, .app = app};
	json_t *body = http_req_json(req);
	char location[80];
	hc_err err;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (declaration_parse(&sub.d, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v4(sub.id);
	if (svc_http_tx(&app->svc, req, submission_write, &sub) != 0)
		goto out;
	log_info("declaration %s pending in county %s", sub.id, sub.d.county_code);
	snprintf(location, sizeof(location), "/v1/declarations/%s", sub.id);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", sub.id, "status", "pending",
	                          "person_key", sub.d.person_key, "county_code", sub.d.county_code,
	                          "submitted_at", sub.submitted_at));
out:
	json_decref(body);
}
