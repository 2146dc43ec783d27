/*
 * POST /v1/queue-items/{application_id}/decision: the county headquarters
 * approves or rejects an application with a written opinion.
 *
 * The decision and its event (hc.review.employer-application.decided.v1,
 * which county systems and intake consume) commit together.  A decision is
 * final: deciding again answers 409 and publishes nothing.  A county system
 * decides only for its own county (404 for another county's application).
 */
#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "services/review/app.h"
#include "services/review/domain/decision.h"
#include "services/review/store.h"

typedef struct deciding {
	http_req *req;
	const char *id;
	review_decision d;
	json_t *item;
} deciding;

static void deciding_reply(http_req *req, void *ctx)
{
	http_reply_json(req, 200, json_incref(((deciding *)ctx)->item));
}

static int deciding_write(db_conn *tx, void *ctx, hc_err *err)
{
	deciding *x = ctx;
	int rc = review_store_decide(tx, x->id, http_req_principal(x->req).county, x->d.status,
	                             x->d.opinion, x->d.reviewer, &x->item, err);

	if (rc == 0)
		rc = bus_outbox_emit(tx, TOPIC_REVIEW_DECISION, x->id,
		                     json_string_value(json_object_get(x->item, "county_code")),
		                     TYPE_EMPLOYER_APPLICATION_DECIDED, REVIEW_EVENT_SOURCE, x->id,
		                     review_decision_event_data(x->item),
		                     http_req_traceparent(x->req), err);
	return rc;
}

void review_post_decision(void *app_, http_req *req)
{
	review_app *app = app_;
	deciding x = {.req = req, .id = http_req_param(req, "application_id")};
	json_t *body = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(x.id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "application_id",
		                   "application_id must be a UUID");
		return;
	}
	body = http_req_json(req);
	if (body == NULL)
		return;
	if (review_decision_parse(&x.d, body, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	if (svc_http_tx(&app->svc, req, deciding_write, deciding_reply, &x) == 0)
		log_info("application %s %s by county %s", x.id, x.d.status,
		         json_string_value(json_object_get(x.item, "county_code")));
out:
	json_decref(x.item);
	json_decref(body);
}
