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

/* Publishes ev in tx and commits; replies the error otherwise.  Returns 0 on commit. */
static int publish_commit(http_req *req, db_conn *tx, int rc, const char *topic, const char *key,
                          cloudevent *ev, const char *county, hc_err *err)
{
	if (rc == 0)
		rc = bus_outbox_add(tx, topic, key, ev, county, err);
	if (rc == 0)
		rc = db_tx_commit(tx, err);
	if (rc != 0) {
		db_tx_rollback(tx);
		http_reply_err(req, err);
	}
	return rc;
}

void intake_post_checkins(void *app_, http_req *req)
{
	intake_app *app = app_;
	json_t *body = http_req_json(req);
	char id[HC_UUID_LEN + 1], at[40], county[7];
	checkin c;
	cloudevent ev = {0};
	db_conn *tx = NULL;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (checkin_parse(&c, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v4(id);
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = intake_store_person_county(tx, c.person_key, county, &err);
	if (rc == 0)
		rc = intake_store_checkin_insert(tx, &c, id, county, http_req_principal(req).client,
		                                 app->cfg.pii_key, at, &err);
	if (rc == 0)
		cloudevent_init(&ev, TYPE_CHECKIN_SUBMITTED, INTAKE_EVENT_SOURCE, id,
		                json_pack("{s:s, s:s, s:s, s:o, s:s}", "checkin_id", id,
		                          "person_key", c.person_key, "county_code", county,
		                          "declared", health_declared(c.health), "submitted_at",
		                          at),
		                http_req_traceparent(req));
	if (publish_commit(req, tx, rc, TOPIC_DECLARATION, c.person_key, &ev, county, &err) != 0)
		goto out;
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s, s:s}", "id", id, "person_key", c.person_key,
	                          "county_code", county, "submitted_at", at));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	cloudevent_cleanup(&ev);
	json_decref(body);
}

void intake_post_corrections(void *app_, http_req *req)
{
	intake_app *app = app_;
	json_t *body = http_req_json(req);
	char id[HC_UUID_LEN + 1], at[40], county[7], location[64];
	correction c;
	cloudevent ev = {0};
	db_conn *tx = NULL;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (body == NULL)
		return;
	if (correction_parse(&c, body, app->cfg.person_key_secret, &err) != 0) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v4(id);
	tx = db_pool_take(app->svc.pool);
	rc = db_tx_begin(tx, &err);
	if (rc == 0)
		rc = intake_store_person_county(tx, c.person_key, county, &err);
	if (rc == 0)
		rc = intake_store_correction_insert(tx, &c, id, county,
		                                    http_req_principal(req).client, at, &err);
	if (rc == 0)
		cloudevent_init(&ev, TYPE_CORRECTION_FILED, INTAKE_EVENT_SOURCE, id,
		                json_pack("{s:s, s:s, s:s, s:s, s:s}", "correction_id", id,
		                          "person_key", c.person_key, "county_code", county,
		                          "reason", c.reason, "filed_at", at),
		                http_req_traceparent(req));
	if (publish_commit(req, tx, rc, TOPIC_CORRECTION, c.person_key, &ev, county, &err) != 0)
		goto out;
	log_info("correction %s filed in county %s", id, county);
	snprintf(location, sizeof(location), "/v1/corrections/%s", id);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201,
	                json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "status", "filed",
	                          "person_key", c.person_key, "county_code", county, "filed_at",
	                          at));
out:
	if (tx != NULL)
		db_pool_give(app->svc.pool, tx);
	cloudevent_cleanup(&ev);
	json_decref(body);
}

void intake_get_correction(void *app_, http_req *req)
{
	intake_app *app = app_;
	const char *id = http_req_param(req, "id");
	http_principal p = http_req_principal(req);
	json_t *out = NULL;
	db_conn *conn;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (intake_store_correction_get(conn, id, intake_partner_scope(&p), p.county, &out, &err) ==
	    0)
		http_reply_json(req, 200, out);
	else
		http_reply_err(req, &err);
	db_pool_give(app->svc.pool, conn);
}
