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
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/employer_application.h"
#include "services/intake/store.h"

typedef struct submission {
	http_req *req;
	intake_app *app;
	employer_application ea;
	char id[HC_UUID_LEN + 1], submitted_at[40];
} submission;

static int submission_write(db_conn *tx, void *ctx, hc_err *err)
{
	submission *sub = ctx;
	int rc = intake_store_application_insert(tx, &sub->ea, sub->id,
	                                         http_req_principal(sub->req).client,
	                                         sub->app->cfg.pii_key, sub->submitted_at, err);

	if (rc == 0) {
		json_t *data =
		    employer_application_event_data(&sub->ea, sub->id, sub->submitted_at);
		const char *client = http_req_principal(sub->req).client;

		if (client != NULL) /* the partner's callbacks follow the application */
			json_object_set_new(data, "submitted_by", json_string(client));
		rc = bus_outbox_emit(tx, TOPIC_EMPLOYER_APPLICATION, sub->id, sub->ea.county_code,
		                     TYPE_EMPLOYER_APPLICATION_SUBMITTED, INTAKE_EVENT_SOURCE,
		                     sub->id, data, http_req_traceparent(sub->req), err);
	}
	return rc;
}

static void submission_reply(http_req *req, void *ctx)
{
	const submission *sub = ctx;

	http_reply_created(req, "/v1/employer-applications", sub->id,
	                   json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", sub->id, "status",
	                             "submitted", "county_code", sub->ea.county_code,
	                             "submitted_at", sub->submitted_at, "worker_count",
	                             (json_int_t)sub->ea.nworkers));
}

void intake_post_employer_applications(void *app_, http_req *req)
{
	intake_app *app = app_;
	submission sub = {.req = req, .app = app};
	json_t *body = http_req_json(req);
	hc_err err;

	hc_err_clear(&err);
	if (body == NULL)
		return; /* http_req_json replied */
	if (employer_application_parse(&sub.ea, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v7(sub.id);
	if (svc_http_tx(&app->svc, req, submission_write, submission_reply, &sub) == 0)
		log_info("employer application %s submitted to county %s with %zu workers", sub.id,
		         sub.ea.county_code, sub.ea.nworkers);
out:
	employer_application_cleanup(&sub.ea);
	json_decref(body);
}
