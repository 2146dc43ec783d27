/*
 * Correction requests, reviewed twice:
 *   GET  /v1/counties/{county}/correction-reviews?status=  a county's requests
 *   GET  /v1/correction-reviews/{id}                  one request
 *   POST /v1/correction-reviews/{id}/county-decision  the county headquarters
 *   POST /v1/correction-reviews/{id}/city-decision    then the city's, by another reviewer
 * Bodies are {decision: approve|reject, opinion, reviewer}.  Each decision
 * and its event (hc.review.correction.decided.v1, keyed by person) commit
 * together; only a city approval changes a colour (in matching).
 */
#include <string.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "common/region/region.h"
#include "services/review/app.h"
#include "services/review/domain/decision.h"
#include "services/review/store.h"

static const char *const correction_statuses[] = {"pending_county", "pending_city", "approved",
                                                  "rejected", NULL};

void review_get_county_corrections(void *app_, http_req *req)
{
	review_app *app = app_;
	const char *county = http_req_param(req, "county");
	const char *status = http_req_query(req, "status");
	const char *scope = http_req_principal(req).county;
	json_t *items = NULL;
	db_conn *conn;
	hc_err err;
	size_t i;

	hc_err_clear(&err);
	if (region_county_name(county) == NULL ||
	    (scope != NULL && !region_within(scope, county))) {
		http_reply_problem(req, PROBLEM_NOT_FOUND, "county", "no county %.6s", county);
		return;
	}
	for (i = 0; status != NULL && correction_statuses[i] != NULL &&
	            strcmp(correction_statuses[i], status) != 0;
	     i++)
		;
	if (status != NULL && correction_statuses[i] == NULL) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "status",
		                   "status must be pending_county, pending_city, approved or "
		                   "rejected");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (review_store_correction_list(conn, county, status, &items, &err) == 0)
		http_reply_json(req, 200,
		                json_pack("{s:s, s:o}", "county_code", county, "items", items));
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}

void review_get_correction(void *app_, http_req *req)
{
	review_app *app = app_;
	const char *id = http_req_param(req, "id");
	json_t *out = NULL;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (review_store_correction_get(conn, id, http_req_principal(req).county, &out, &err) == 0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}

/* The data of the decided event: no reason text, the stage's outcome. */
static json_t *decided_data(json_t *c, const char *stage)
{
	int city = strcmp(stage, "city") == 0;
	const char *status = json_string_value(json_object_get(c, "status"));

	return json_pack(
	    "{s:O, s:O, s:O, s:s, s:s, s:O, s:O, s:O*, s:O}", "correction_id",
	    json_object_get(c, "correction_id"), "person_key", json_object_get(c, "person_key"),
	    "county_code", json_object_get(c, "county_code"), "stage", stage, "status",
	    strcmp(status, "pending_city") == 0 ? "county_approved" : status, "opinion",
	    json_object_get(c, city ? "city_opinion" : "county_opinion"), "reviewer",
	    json_object_get(c, city ? "city_reviewer" : "county_reviewer"), "county_reviewer",
	    city ? json_object_get(c, "county_reviewer") : NULL, "decided_at",
	    json_object_get(c, city ? "city_decided_at" : "county_decided_at"));
}

typedef struct deciding {
	http_req *req;
	const char *id, *stage, *scope;
	review_decision d;
	json_t *c;
} deciding;

static void deciding_reply(http_req *req, void *ctx)
{
	http_reply_json(req, 200, json_incref(((deciding *)ctx)->c));
}

static int deciding_write(db_conn *tx, void *ctx, hc_err *err)
{
	deciding *x = ctx;
	int rc = review_store_correction_decide(tx, x->id, x->stage, x->scope, &x->d, &x->c, err);

	if (rc == 0)
		rc = bus_outbox_emit(tx, TOPIC_REVIEW_DECISION,
		                     json_string_value(json_object_get(x->c, "person_key")),
		                     json_string_value(json_object_get(x->c, "county_code")),
		                     TYPE_CORRECTION_DECIDED, REVIEW_EVENT_SOURCE, x->id,
		                     decided_data(x->c, x->stage), http_req_traceparent(x->req),
		                     err);
	return rc;
}

static void decide(review_app *app, http_req *req, const char *stage)
{
	deciding x = {.req = req,
	              .id = http_req_param(req, "id"),
	              .stage = stage,
	              .scope = http_req_principal(req).county};
	json_t *body = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(x.id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	if (x.scope != NULL && region_is_city(x.scope) != (strcmp(stage, "city") == 0)) {
		http_reply_problem(req, PROBLEM_FORBIDDEN, NULL,
		                   "the %s decision belongs to the %s headquarters", stage, stage);
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
		log_info("correction %s: %s decision, now %s", x.id, stage,
		         json_string_value(json_object_get(x.c, "status")));
out:
	json_decref(x.c);
	json_decref(body);
}

void review_post_correction_county(void *app, http_req *req)
{
	decide(app, req, "county");
}

void review_post_correction_city(void *app, http_req *req)
{
	decide(app, req, "city");
}
