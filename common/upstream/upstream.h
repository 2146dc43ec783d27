/*
 * The HTTP client the gateway uses to reach a service's internal API, on
 * libcurl; the only module that includes curl.h.
 *
 * Each calling thread keeps its own curl handle for the life of the thread,
 * so connections to a service stay alive across requests (test 70 checks:
 * 200 requests through two gateway threads use at most two connections).
 * Handles are released when their thread exits.
 */
#ifndef HC_UPSTREAM_UPSTREAM_H
#define HC_UPSTREAM_UPSTREAM_H

#include <stddef.h>

#include "common/base/err.h"

#define UPSTREAM_MAX_RESPONSE (8 * 1024 * 1024)
#define UPSTREAM_MAX_HEADERS  8

typedef struct upstream_request {
	const char *method;
	const char *url;          /* absolute, with query string */
	const char *content_type; /* may be NULL */
	const char *traceparent;  /* may be NULL */
	const char *client;       /* principal headers (X-HC-*); each may be NULL */
	const char *role;
	const char *county;
	const char *body; /* may be NULL */
	size_t body_len;
	long timeout_ms;
} upstream_request;

typedef struct upstream_response {
	long status;
	char content_type[128];
	char location[256];
	char retry_after[32];
	char *body; /* owned; NUL-terminated */
	size_t body_len;
} upstream_response;

/* Call once at start, before any thread uses upstream_call. */
int upstream_global_init(hc_err *err);
void upstream_global_cleanup(void);

/*
 * Sends req and fills resp (clean up with upstream_response_cleanup).
 * Returns 0 for any HTTP answer, HC_ERR_TRANSIENT when the service could not
 * be reached or timed out (err->sqlstate is left empty; err->field is
 * "timeout" for a timeout).
 */
int upstream_call(const upstream_request *req, upstream_response *resp, hc_err *err);

void upstream_response_cleanup(upstream_response *resp);

#endif
