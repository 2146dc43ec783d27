/*
 * certificate's internal API:
 *   POST /v1/vehicle-passes        {plate, from_county, to_county, travel_date,
 *                                   driver: {resident_id}, passengers: [{resident_id}]}
 *                                  issued only when every rider is green (409 naming
 *                                  the first who is not); ID numbers become person
 *                                  keys at once and are not stored
 *   GET  /v1/vehicle-passes/{id}   a pass and its state (a partner: its own)
 *   GET  /v1/people/{person_key}/certificates
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"
#include "common/bus/bus.h"
#include "common/event/catalog.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "common/region/region.h"
#include "services/certificate/app.h"

/* A Chinese plate: a province character, then 6 or 7 of A-Z (no I, O) and 0-9. */
static int plate_check(const char *s, hc_err *err)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i;

	if (n < 9 || n > 10 || u[0] < 0xE4 || u[0] > 0xE9 || (u[1] & 0xC0) != 0x80 ||
	    (u[2] & 0xC0) != 0x80 || u[3] < 'A' || u[3] > 'Z')
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "must be a licence plate such as 鄂A12345");
	for (i = 4; i < n; i++)
		if (!((u[i] >= 'A' && u[i] <= 'Z' && u[i] != 'I' && u[i] != 'O') ||
		      (u[i] >= '0' && u[i] <= '9')))
			return hc_err_set(err, HC_ERR_PERMANENT,
			                  "must be a licence plate such as 鄂A12345");
	return 0;
}

static const jspec_field rider_spec[] = {
    {"resident_id", JSPEC_STRING, 1, 18, 18, resident_id_check, NULL, NULL, 0},
};
static const jspec_field pass_spec[] = {
    {"plate", JSPEC_STRING, 1, 7, 8, plate_check, NULL, NULL, 0},
    {"from_county", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"to_county", JSPEC_STRING, 1, 6, 6, region_check_county, NULL, NULL, 0},
    {"travel_date", JSPEC_STRING, 1, 10, 10, jspec_date_check, NULL, NULL, 0},
    {"driver", JSPEC_OBJECT, 1, 0, 0, NULL, NULL, rider_spec, 1},
    {"passengers", JSPEC_ARRAY, 1, 1, 60, NULL, NULL, rider_spec, 1},
};

static const char *field_of(json_t *body, const char *f)
{
	return json_string_value(json_object_get(body, f));
}

/* riders: [{person_key, role, position, field}] from the body. */
static json_t *riders_of(json_t *body, const unsigned char secret[32], hc_err *err)
{
	json_t *riders = json_array(), *list = json_object_get(body, "passengers");
	size_t i, j, n = json_array_size(list) + 1;

	for (i = 0; i < n; i++) {
		json_t *r = i == 0 ? json_object_get(body, "driver") : json_array_get(list, i - 1);
		char rid[RESIDENT_ID_LEN + 1], key[PERSON_KEY_LEN + 1], field[48];

		if (i == 0)
			snprintf(field, sizeof(field), "driver.resident_id");
		else
			snprintf(field, sizeof(field), "passengers[%zu].resident_id", i - 1);
		resident_id_normalise(field_of(r, "resident_id"), rid, NULL);
		person_key_derive(secret, rid, key);
		for (j = 0; j < i; j++)
			if (strcmp(json_string_value(
			               json_object_get(json_array_get(riders, j), "person_key")),
			           key) == 0) {
				json_decref(riders);
				hc_err_field(err, HC_ERR_PERMANENT, field,
				             "%s: the same person is listed twice", field);
				return NULL;
			}
		json_array_append_new(riders, json_pack("{s:s, s:s, s:I, s:s}", "person_key", key,
		                                        "role", i == 0 ? "driver" : "passenger",
		                                        "position", (json_int_t)i, "field", field));
	}
	return riders;
}

/* 0 when every rider is green; else HC_ERR_CONFLICT naming the first who is not. */
static int all_green(db_conn *tx, json_t *riders, hc_err *err)
{
	char *arr = NULL;
	size_t i, len = 2;
	json_t *colours = NULL;
	db_res *res = NULL;
	int rc;

	arr = malloc(json_array_size(riders) * 70 + 3);
	if (arr == NULL)
		abort();
	arr[0] = '{';
	arr[1] = '\0';
	for (i = 0; i < json_array_size(riders); i++)
		len += (size_t)sprintf(
		    arr + len - 1, "%s%s", i ? "," : "",
		    json_string_value(json_object_get(json_array_get(riders, i), "person_key")));
	strcpy(arr + len - 1, "}");
	{
		const char *params[1] = {arr};

		rc = db_run(tx, "pass_colours", 1, params, &res, err);
	}
	free(arr);
	if (rc != 0)
		return rc;
	colours = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	for (i = 0; rc == 0 && i < json_array_size(riders); i++) {
		json_t *r = json_array_get(riders, i);
		const char *c = json_string_value(
		    json_object_get(colours, json_string_value(json_object_get(r, "person_key"))));

		if (c == NULL || strcmp(c, "green") != 0)
			rc = hc_err_field(err, HC_ERR_CONFLICT,
			                  json_string_value(json_object_get(r, "field")),
			                  "%s does not hold a green code",
			                  json_string_value(json_object_get(r, "field")));
	}
	json_decref(colours);
	return rc;
}

typedef struct issuing {
	http_req *req;
	json_t *body, *riders, *pass;
	char id[HC_UUID_LEN + 1];
} issuing;

static void issuing_reply(http_req *req, void *ctx)
{
	http_reply_json(req, 201, json_incref(((issuing *)ctx)->pass));
}

static int issuing_write(db_conn *tx, void *ctx, hc_err *err)
{
	issuing *x = ctx;
	const char *pass_params[6] = {x->id,
	                              field_of(x->body, "plate"),
	                              field_of(x->body, "from_county"),
	                              field_of(x->body, "to_county"),
	                              field_of(x->body, "travel_date"),
	                              http_req_principal(x->req).client};
	const char *get_params[2] = {x->id, NULL};
	char *riders = json_dumps(x->riders, JSON_COMPACT);
	const char *rider_params[2] = {x->id, riders};
	json_t *data;
	db_res *res = NULL;
	int rc;

	if (riders == NULL)
		abort();
	rc = all_green(tx, x->riders, err);
	if (rc == 0)
		rc = db_run(tx, "pass_insert", 6, pass_params, NULL, err);
	if (rc == 0)
		rc = db_run(tx, "pass_riders_insert", 2, rider_params, NULL, err);
	free(riders);
	if (rc == 0)
		rc = db_run(tx, "pass_get", 2, get_params, &res, err);
	if (rc != 0)
		return rc;
	x->pass = json_loads(db_res_get(res, 0, 0), 0, NULL);
	db_res_free(res);
	data = json_deep_copy(x->pass);
	json_object_del(data, "plate"); /* the plate stays in this schema */
	return bus_outbox_emit(tx, TOPIC_VEHICLE_PASS, x->id, field_of(x->body, "from_county"),
	                       TYPE_VEHICLE_PASS_ISSUED, CERTIFICATE_EVENT_SOURCE, x->id, data,
	                       http_req_traceparent(x->req), err);
}

void certificate_post_vehicle_pass(void *app_, http_req *req)
{
	certificate_app *app = app_;
	issuing x = {.req = req, .body = http_req_json(req)};
	hc_err err;

	hc_err_clear(&err);
	if (x.body == NULL)
		return;
	if (jspec_check(x.body, pass_spec, sizeof(pass_spec) / sizeof(pass_spec[0]), "", &err) !=
	        0 ||
	    (x.riders = riders_of(x.body, app->cfg.person_key_secret, &err)) == NULL) {
		http_reply_err(req, &err);
		goto out;
	}
	hc_uuid_v7(x.id);
	if (svc_http_tx(&app->svc, req, issuing_write, issuing_reply, &x) == 0)
		log_info("vehicle pass %s issued for %zu riders", x.id, json_array_size(x.riders));
out:
	json_decref(x.pass);
	json_decref(x.riders);
	json_decref(x.body);
}

void certificate_get_vehicle_pass(void *app, http_req *req)
{
	const char *id = http_req_param(req, "id");
	const char *params[2] = {id, svc_partner_scope(req)};

	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	svc_http_reply_row(&((certificate_app *)app)->svc, req, "pass_get", 2, params, "id",
	                   "such vehicle pass");
}

void certificate_get_person_certificates(void *app, http_req *req)
{
	const char *params[3] = {svc_http_person_key(req), svc_partner_scope(req),
	                         http_req_principal(req).county};

	if (params[0] != NULL)
		svc_http_reply_row(app, req, "cert_person_list", 3, params, "person_key",
		                   "certificates");
}
