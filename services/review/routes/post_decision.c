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

void review_post_decision(void *app_, http_req *req)
{
	review_app *app = app_;
	const char *id = http_req_param(req, "application_id");
	json_t *body = NULL, *item = NULL;
	review_decision d;
	cloudevent ev = {0};
	db_conn *tx = NULL;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "application_id",
		                   "application_id must be a UUID");
		return;
	}
	body = http_req_json(req);
	if (body == NULL)
		return;
	if (review_decision_parse(&d, body, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = review_store_decide(tx, id, http_req_principal(req).county, d.status,
		                         d.opinion, d.reviewer, &item, &err);
	if (rc == 0) {
		cloudevent_init(&ev, TYPE_EMPLOYER_APPLICATION_DECIDED, REVIEW_EVENT_SOURCE, id,
		                review_decision_event_data(item), http_req_traceparent(req));
		rc = bus_outbox_add(tx, TOPIC_REVIEW_DECISION, id, &ev,
		                    json_string_value(json_object_get(item, "county_code")), &err);
	}
	if (rc == 0)
		rc = db_tx_commit(tx, &err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, &err);
		goto out;
	}
	log_info("application %s %s by county %s", id, d.status,
	         json_string_value(json_object_get(item, "county_code")));
	http_reply_json(req, 200, item);
	item = NULL;
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	cloudevent_cleanup(&ev);
	json_decref(item);
	json_decref(body);
}
