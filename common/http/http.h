/*
 * The HTTP server every service uses, on libmicrohttpd; this is the only
 * module that includes microhttpd.h.
 *
 * A service gives a table of routes (method, pattern with {param} segments,
 * handler).  The server adds /livez, /readyz and /metrics, caps request
 * bodies (413 beyond the cap), answers unknown routes with 404 and wrong
 * methods with 405, counts requests per route and status class, and makes
 * sure every request gets exactly one response: a handler that forgets to
 * reply yields a 500.  Errors are RFC 9457 problem+json (see problem.h).
 *
 * Handlers run on the server's worker threads and may block (database).  A
 * handler is called once per request, after the whole body has arrived.  A
 * handler may instead defer its reply (http_req_defer) to work done on
 * another thread, which frees the worker thread for other connections.
 */
#ifndef HC_HTTP_HTTP_H
#define HC_HTTP_HTTP_H

#include <stddef.h>

#include <jansson.h>

#include "common/base/err.h"
#include "common/http/problem.h"

typedef struct http_server http_server;
typedef struct http_req http_req;

typedef void (*http_handler_fn)(void *app, http_req *req);
/* /readyz: 0 when the service's dependencies answer, else an error kind. */
typedef int (*http_ready_fn)(void *app, hc_err *err);

typedef struct http_route {
	const char *method;  /* "GET", "POST", ... */
	const char *pattern; /* "/v1/counties/{county}/queue" */
	http_handler_fn fn;
} http_route;

typedef struct http_config {
	const char *addr;    /* listen address, "127.0.0.1" */
	long port;           /* 0 picks a free port; see http_server_port */
	long threads;        /* worker threads */
	long max_body;       /* bytes */
	http_ready_fn ready; /* may be NULL: always ready */
} http_config;

/*
 * Starts serving routes[0..n) for app.  routes must outlive the server.
 * Returns 0, or HC_ERR_FATAL when the address cannot be bound.
 */
int http_server_start(http_server **out, const http_config *cfg, const http_route *routes, size_t n,
                      void *app, hc_err *err);

/* Stops accepting, finishes in-flight requests and frees; NULL does nothing. */
void http_server_stop(http_server *srv);

/* The port actually bound. */
int http_server_port(const http_server *srv);

/*
 * Who is calling, as the gateway vouches on the internal API (headers
 * X-HC-Client, X-HC-Role, X-HC-County).  Services use it for object-level
 * scope: a partner sees what it submitted, a county system its county.
 * All NULL on a direct internal call, which is trusted with everything:
 * internal ports must never be reachable from outside.
 */
typedef struct http_principal {
	const char *client; /* client id */
	const char *role;   /* provincial, partner, county, checkpoint, analyst */
	const char *county; /* set for county systems */
} http_principal;

#define HTTP_HEADER_CLIENT "X-HC-Client"
#define HTTP_HEADER_ROLE   "X-HC-Role"
#define HTTP_HEADER_COUNTY "X-HC-County"

/* The caller's principal; strings borrowed from req. */
http_principal http_req_principal(const http_req *req);

/* The route that matched (an element of the table given to the server). */
const http_route *http_req_route(const http_req *req);

/* Request accessors; returned strings are borrowed from req. */
const char *http_req_method(const http_req *req);
const char *http_req_path(const http_req *req);
const char *http_req_param(const http_req *req, const char *name);  /* {param} of the route */
const char *http_req_query(const http_req *req, const char *name);  /* NULL when absent */
const char *http_req_header(const http_req *req, const char *name); /* NULL when absent */
const char *http_req_body(const http_req *req, size_t *len);
/* Seconds since the request's headers arrived (CLOCK_MONOTONIC). */
double http_req_age(const http_req *req);
/* The request's W3C traceparent: a child of the caller's, or a new trace. */
const char *http_req_traceparent(const http_req *req);

/*
 * Parses the body as a JSON object.  On failure replies 415 or 400
 * problem+json and returns NULL; the handler then just returns.  Returns a
 * new reference.
 */
json_t *http_req_json(http_req *req);

/*
 * Writes the request's query string, re-encoded ("a=1&b=x%20y", without
 * '?'), into out[cap].  Returns its length, or -1 when it does not fit.
 */
int http_req_query_string(const http_req *req, char *out, size_t cap);

/*
 * The SHA-256, in hex, of the request's method, path, query string
 * (re-encoded) and body: what makes two requests the same request for an
 * Idempotency-Key.  out[65].
 */
void http_req_fingerprint(const http_req *req, char out[65]);

/* Adds a response header; call before the reply. */
void http_reply_header(http_req *req, const char *name, const char *value);

/* The value of a response header added so far (the first of that name), or NULL. */
const char *http_reply_header_value(const http_req *req, const char *name);

/* Replies with body as application/json; body is stolen (may be NULL: no body). */
void http_reply_json(http_req *req, int status, json_t *body);

/* Replies 201 with body as application/json (stolen) and Location: <collection>/<id>. */
void http_reply_created(http_req *req, const char *collection, const char *id, json_t *body);

/* Replies with a copy of body[0..len) as content_type (may be NULL). */
void http_reply_bytes(http_req *req, int status, const char *content_type, const char *body,
                      size_t len);

/*
 * Takes back a reply made but not yet sent (a reply goes out only when the
 * handler returns, or at http_req_resume), with the headers added for it,
 * so that another can be made: a write that replied in its transaction and
 * then failed to commit answers with its error instead.  Nothing when no
 * reply was made.
 */
void http_reply_discard(http_req *req);

/* Replies with problem+json; field (may be NULL) names the input at fault. */
void http_reply_problem(http_req *req, enum problem_code code, const char *field, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));

/*
 * Replies with the problem that matches err's kind: PERMANENT -> 400
 * validation-failed (naming err->field), NOT_FOUND -> 404, CONFLICT -> 409,
 * TRANSIENT -> 503 with Retry-After, anything else -> 500 (logged, the
 * detail withheld).  A refusal by the database (err->sqlstate set) is never
 * a 400 or 409: it is answered 500, since input is checked before SQL.
 */
void http_reply_err(http_req *req, const hc_err *err);

/*
 * Defers the reply: the handler returns without replying, the connection is
 * suspended, and then start(ctx) runs (on the worker thread), typically to
 * hand req to another thread.  That thread replies with http_reply_* and
 * then calls http_req_resume, after which req must not be touched.  The
 * request (its body, params and principal) stays valid until then.
 */
void http_req_defer(http_req *req, void (*start)(void *ctx), void *ctx);

/*
 * hook(ctx, req, status, content_type, body, len) runs once, when the reply
 * is made, before its headers are fixed: it may add headers
 * (http_reply_header) that depend on the body, such as a signature of the
 * response, or keep the reply (content_type may be NULL).
 */
typedef void (*http_reply_hook)(void *ctx, http_req *req, int status, const char *content_type,
                                const char *body, size_t len);
void http_req_on_reply(http_req *req, http_reply_hook hook, void *ctx);

/*
 * hook runs once, as the reply goes out, on the HTTP worker that owns the
 * connection, whichever thread made the reply: for work on the reply alone,
 * such as signing it, that a deferred request's replying thread (one for
 * many connections) should not do for all of them.  It may add headers, as
 * on_reply's.  The reply's response is built after it, on that worker.
 * A NULL hook takes it away, until the reply goes out.
 */
void http_req_on_send(http_req *req, http_reply_hook hook, void *ctx);
void http_req_resume(http_req *req);

#endif
