/*
 * analytics: read models for analysts, built from the event log alone.
 *
 * Consumes declarations and check-ins, code versions, certificates, review
 * decisions and checkpoint scans into its projections (projection.c), and
 * serves per county, day and colour the daily figures (JSON or CSV) and any
 * person's colour as of a moment, with its rule and evidence.  Its tables
 * can be dropped and rebuilt from the log (hc-replay project analytics.*).
 * It holds no personal data: person keys, counties, colours, rules.
 */
#ifndef HC_ANALYTICS_APP_H
#define HC_ANALYTICS_APP_H

#include "common/event/cloudevent.h"
#include "common/svc/svc.h"

typedef struct analytics_config {
	const char *tz; /* HC_ANALYTICS_TZ (the projections read it too) */
} analytics_config;

typedef struct analytics_app {
	svc svc; /* first: the runtime casts the app to its svc */
	analytics_config cfg;
} analytics_app;

/* Consumed events (routes.c): every event goes through the projections. */
int analytics_on_event(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes (routes.c). */
void analytics_get_daily(void *app, http_req *req);
void analytics_get_as_of(void *app, http_req *req);

extern const db_stmt analytics_statements[];

#endif
