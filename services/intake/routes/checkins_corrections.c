/*
 * POST /v1/check-ins: a person's daily health check-in.
 * POST /v1/corrections: the holder believes the colour is wrong and asks for
 * a correction, reviewed by the county and then the city.
 * GET /v1/corrections/{id}: the state of a correction request.
 *
 * Both writes need a health-code application first (409 otherwise); they
 * belong to the county of residence of the latest one.  The row and its
 * event (person key, county, and for a check-in only the derived flags of
 * the health answers) commit together.
 */
#include <stdio.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/log/log.h"
#include "services/intake/app.h"
#include "services/intake/domain/declaration.h"
#include "services/intake/store.h"

typedef struct followup {
	intake_app *app;
	http_req *req;
	int is_checkin;
	checkin c;
	correction k;
	char id[HC_UUID_LEN + 1], at[40], county[7];
} followup;

static int followup_write(db_conn *tx, void *ctx, hc_err *err)
{
	followup *f = ctx;
	const char *client = http_req_principal(f->req).client;
	const char *key = f->is_checkin ? f->c.person_key : f->k.person_key;
	int rc;

	rc = intake_store_person_county(tx, key, f->county, err);
	if (rc == 0 && f->is_checkin)
		rc = intake_store_checkin_insert(tx, &f->c, f->id, f->county, client,
		                                 f->app->cfg.pii_key, f->at, err);
	else if (rc == 0)
		rc =
		    intake_store_correction_insert(tx, &f->k, f->id, f->county, client, f->at, err);
	if (rc != 0)
		return rc;
	if (f->is_checkin)
		return bus_outbox_emit(tx, TOPIC_DECLARATION, key, f->county,
		                       TYPE_CHECKIN_SUBMITTED, INTAKE_EVENT_SOURCE, f->id,
		                       json_pack("{s:s, s:s, s:s, s:o, s:s}", "checkin_id", f->id,
		                                 "person_key", key, "county_code", f->county,
		                                 "declared", health_declared(f->c.health),
		                                 "submitted_at", f->at),
		                       http_req_traceparent(f->req), err);
	return bus_outbox_emit(
	    tx, TOPIC_CORRECTION, key, f->county, TYPE_CORRECTION_FILED, INTAKE_EVENT_SOURCE, f->id,
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "correction_id", f->id, "person_key", key,
	              "county_code", f->county, "reason", f->k.reason, "filed_at", f->at),
	    http_req_traceparent(f->req), err);
}

static void followup_reply(http_req *req, void *ctx)
{
	const followup *f = ctx;

	if (f->is_checkin) {
		http_reply_json(req, 201,
		                json_pack("{s:s, s:s, s:s, s:s}", "id", f->id, "person_key",
		                          f->c.person_key, "county_code", f->county, "submitted_at",
		                          f->at));
		return;
	}
	http_reply_created(req, "/v1/corrections", f->id,
	                   json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", f->id, "status", "filed",
	                             "person_key", f->k.person_key, "county_code", f->county,
	                             "filed_at", f->at));
}

static void post_followup(intake_app *app, http_req *req, int is_checkin)
{
	json_t *body = http_req_json(req);
	followup f = {.app = app, .req = req, .is_checkin = is_checkin};
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	rc = is_checkin ? checkin_parse(&f.c, body, app->cfg.person_key_secret, &err)
	                : correction_parse(&f.k, body, app->cfg.person_key_secret, &err);
	if (rc != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v7(f.id);
	if (svc_http_tx(&app->svc, req, followup_write, followup_reply, &f) == 0 && !is_checkin)
		log_info("correction %s filed in county %s", f.id, f.county);
out:
	json_decref(body);
}

void intake_post_checkins(void *app, http_req *req)
{
	post_followup(app, req, 1);
}

void intake_post_corrections(void *app, http_req *req)
{
	post_followup(app, req, 0);
}

void intake_get_correction(void *app, http_req *req)
{
	intake_reply_scoped(app, req, intake_store_correction_get);
}
