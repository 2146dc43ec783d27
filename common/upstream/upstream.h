/*
 * The HTTP client the gateway uses to reach a service's internal API, on
 * libcurl's multi interface.
 *
 * One loop thread runs every forwarded request: a worker thread submits a
 * request and returns at once (its HTTP connection suspended), the loop
 * sends it on kept-alive connections and calls back with the answer.  A
 * slow service therefore holds no worker thread, only its own requests.
 * The loop keeps up to 64 idle connections (test 70 checks reuse; test 91
 * the callbacks' loop's).
 */
#ifndef HC_UPSTREAM_UPSTREAM_H
#define HC_UPSTREAM_UPSTREAM_H

#include <stddef.h>
#include <sys/socket.h>

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
	const char *const *headers; /* more "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;           /* may be NULL */
	size_t body_len;
	long timeout_ms;
	/*
	 * 1: connect only to public addresses (common/base/netaddr), so that a
	 * name resolving to the platform's own network is never reached
	 * (partners' callbacks).  A refused address fails the request with a
	 * message that says so.  In a loop started public_only (below) the
	 * request may reuse that loop's kept connections, every one of which was
	 * checked when it was opened; in any other loop it opens a connection of
	 * its own and keeps none, so that a kept connection to one of the
	 * platform's services is never used.
	 */
	int public_only;
} upstream_request;

typedef struct upstream_response {
	long status;
	char content_type[128];
	char location[256];
	char retry_after[32];
	char replayed[8]; /* Idempotent-Replayed: the service's answer to an earlier request */
	char *body;       /* owned; NUL-terminated */
	size_t body_len;
} upstream_response;

/* Call once at start, before any loop starts. */
int upstream_global_init(hc_err *err);
void upstream_global_cleanup(void);

typedef struct upstream_loop upstream_loop;
typedef struct upstream_job upstream_job;

/*
 * The answer to a submitted request, called on the loop thread: resp (freed
 * after the call returns) for any HTTP answer, or NULL and err
 * (HC_ERR_TRANSIENT; err->field "timeout" for a timeout) when the service
 * could not be reached, did not answer in time, or the loop is stopping.
 */
typedef void (*upstream_done_fn)(void *ctx, const upstream_response *resp, const hc_err *err);

/*
 * Starts a loop; name labels its gauge hc_upstream_inflight{loop="name"}.
 * public_only: the loop is for requests to public addresses only (the
 * gateway's callbacks, in a loop apart from its services'): its connections
 * are kept and reused, each checked once when it is opened.  A request it
 * is given without public_only is refused (a programming error).
 */
int upstream_loop_start(upstream_loop **out, const char *name, int public_only, hc_err *err);

/*
 * Replaces the check a public_only request's addresses must pass
 * (hc_addr_is_public) before anything is submitted: the unit tests accept
 * loopback with it, to see when connections are opened.
 */
void upstream_loop_address_check(upstream_loop *l,
                                 int (*is_public)(const struct sockaddr *, socklen_t));

/*
 * Refuses new requests (answered at once with an error), lets those in
 * flight finish (each within its timeout) and stops the thread.
 * upstream_loop_free (which stops first) releases it once no one submits.
 */
void upstream_loop_stop(upstream_loop *l);
void upstream_loop_free(upstream_loop *l);

/*
 * Sends req; done(ctx, ...) is called exactly once, on the loop thread (or
 * at once on this thread when the loop is stopping).  req's strings are
 * copied, except the body, which must stay valid until done.
 */
void upstream_submit(upstream_loop *l, const upstream_request *req, upstream_done_fn done,
                     void *ctx);

void upstream_response_cleanup(upstream_response *resp);

/*
 * libcurl callback helpers, shared with common/client: copies the value of
 * header line `line` into out[cap] when its name is `name`; appends data to
 * *buf (NUL-terminated) unless that would pass max bytes (returns -1).
 */
void upstream_header_value(const char *line, size_t len, const char *name, char *out, size_t cap);
int upstream_append(char **buf, size_t *len, const char *data, size_t n, size_t max);

#endif
