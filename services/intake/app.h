/*
 * intake: accepts employers' return-to-work applications and workers'
 * personal health-code applications (declarations), daily check-ins and
 * correction requests, seals personal data, and publishes events through its
 * outbox.  The app struct every handler
 * receives.
 */
#ifndef HC_INTAKE_APP_H
#define HC_INTAKE_APP_H

#include "common/base/batcher.h"
#include "common/event/cloudevent.h"
#include "common/metrics/metrics.h"
#include "common/svc/svc.h"

typedef struct intake_config {
	unsigned char pii_key[32];           /* HC_PII_KEY: seals names, IDs, phones */
	unsigned char person_key_secret[32]; /* HC_PERSON_KEY_SECRET: derives person keys */
} intake_config;

typedef struct intake_app {
	svc svc; /* first: the runtime casts the app to its svc */
	intake_config cfg;
	/* the group-committing writer of declarations (routes/post_declarations.c) */
	batcher declarations;
	metric *declaration_batches, *declarations_committed, *declarations_refused;
	metric *declarations_waiting;
} intake_app;

/* Starts the declaration writer; stopping answers everything queued, later ones get 503. */
int intake_declarations_start(intake_app *app, hc_err *err);
void intake_declarations_stop(intake_app *app);

/* The CloudEvents source of every event intake publishes. */
#define INTAKE_EVENT_SOURCE "/hc/intake"

/*
 * A read of one object by {id} within the caller's scope (scope.c): 400 for
 * a malformed id, 404 outside the scope.  get is a store getter.
 */
typedef int (*intake_getter_fn)(db_conn *conn, const char *id, const char *partner,
                                const char *county, json_t **out, hc_err *err);
void intake_reply_scoped(intake_app *app, http_req *req, intake_getter_fn get);

/* Consumed events, one file each under events/. */
int intake_on_employer_application_decided(void *app, db_conn *tx, const cloudevent *ev,
                                           hc_err *err);

int intake_on_correction_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes, under routes/. */
void intake_post_employer_applications(void *app, http_req *req);
void intake_get_employer_application(void *app, http_req *req);
void intake_post_declarations(void *app, http_req *req);
void intake_get_declaration(void *app, http_req *req);
void intake_post_checkins(void *app, http_req *req);
void intake_post_corrections(void *app, http_req *req);
void intake_get_correction(void *app, http_req *req);

#endif
