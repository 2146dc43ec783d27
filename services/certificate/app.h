/*
 * certificate: health certificates and vehicle passes.
 *
 * A worker listed in an approved employer application gets a health
 * certificate from the county of residence (the employer's county when the
 * worker lives outside the province) as soon as matching has assessed the
 * worker green and no isolation period is still running.  It is revoked
 * when the holder turns yellow or red.  A vehicle pass is issued only when
 * the driver and every passenger are green, and is revoked by itself when
 * any of them stops being green.
 */
#ifndef HC_CERTIFICATE_APP_H
#define HC_CERTIFICATE_APP_H

#include "common/event/cloudevent.h"
#include "common/svc/svc.h"

typedef struct certificate_config {
	unsigned char person_key_secret[32]; /* HC_PERSON_KEY_SECRET: riders' keys */
} certificate_config;

typedef struct certificate_app {
	svc svc; /* first: the runtime casts the app to its svc */
	certificate_config cfg;
} certificate_app;

#define CERTIFICATE_EVENT_SOURCE "/hc/certificate"

/* Consumed events (events.c). */
int certificate_on_application_submitted(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int certificate_on_application_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int certificate_on_assessment(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes (routes.c). */
void certificate_post_vehicle_pass(void *app, http_req *req);
void certificate_get_vehicle_pass(void *app, http_req *req);
void certificate_get_person_certificates(void *app, http_req *req);

#endif
