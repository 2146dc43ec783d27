/*
 * codegen: the code each person holds.  A new code version is made only
 * when an event arrives that changes it: an assessment (colour, rule,
 * evidence, who decided) or a certificate issued or revoked (a green code
 * with a valid certificate is a return-to-work pass).  Every version keeps
 * its reason; the history is the list of versions.  Checkpoint scans are
 * recorded and published: only a green code and a temperature under
 * 37.3 C pass.
 */
#ifndef HC_CODEGEN_APP_H
#define HC_CODEGEN_APP_H

#include "common/event/cloudevent.h"
#include "common/svc/svc.h"

typedef struct codegen_app {
	svc svc; /* first: the runtime casts the app to its svc */
} codegen_app;

#define CODEGEN_EVENT_SOURCE "/hc/codegen"

/* Consumed events (events.c). */
int codegen_on_assessment(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int codegen_on_certificate(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes (routes.c). */
void codegen_get_code(void *app, http_req *req);
void codegen_get_history(void *app, http_req *req);
void codegen_post_scan(void *app, http_req *req);

#endif
