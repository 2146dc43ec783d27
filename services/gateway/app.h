/*
 * gateway: the public HTTP API of the platform.  It owns no domain data; each
 * route is forwarded to the internal API of the service that owns it, over
 * kept-alive connections (common/upstream).  Clients, roles, request
 * signing, idempotency, quotas and callbacks live here as they arrive.
 */
#ifndef HC_GATEWAY_APP_H
#define HC_GATEWAY_APP_H

#include "common/svc/svc.h"

typedef struct gateway_config {
	const char *intake_url; /* HC_INTAKE_URL */
	const char *review_url; /* HC_REVIEW_URL */
	long timeout_ms;        /* HC_UPSTREAM_TIMEOUT_MS */
} gateway_config;

typedef struct gateway_app {
	svc svc; /* first: the runtime casts the app to its svc */
	gateway_config cfg;
} gateway_app;

/* Routes owned by intake and by review, forwarded (routes/forward.c). */
void gateway_to_intake(void *app, http_req *req);
void gateway_to_review(void *app, http_req *req);

#endif
