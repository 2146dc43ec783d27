/*
 * The libmicrohttpd server: request lifecycle, routing, body cap, built-in
 * probes and metrics; see http.h.
 *
 * Responses are queued on the last call of the access handler, never on the
 * first one: libmicrohttpd closes keep-alive connections when a response is
 * queued before it has read the request (libmicrohttpd issue 14).  The one
 * exception is a Content-Length above the cap, refused at once so the body
 * is never read.
 */
#include "common/http/http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/evp.h>

#include "common/base/rand.h"
#include "common/event/cloudevent.h"
#include "common/log/log.h"
#include "common/metrics/metrics.h"

#define HTTP_MAX_PARAMS     8
#define HTTP_MAX_HEADERS    16
#define HTTP_STATUS_CLASSES 5

typedef struct route_metrics {
	metric *by_class[HTTP_STATUS_CLASSES]; /* 1xx..5xx */
	metric *duration;
} route_metrics;

struct http_server {
	struct MHD_Daemon *daemon;
	http_config cfg;
	const http_route *routes;
	size_t nroutes;
	route_metrics *metrics; /* one per route, then one for unmatched */
	void *app;
	int port;
};

struct http_req {
	http_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	char *body;
	size_t body_len;
	int too_large;
	size_t received; /* body bytes read, kept or not */
	struct timespec started;
	const http_route *route;
	size_t route_index;
	int nparams;
	char *param_names[HTTP_MAX_PARAMS];
	char *param_values[HTTP_MAX_PARAMS];
	char traceparent[TRACEPARENT_LEN + 1];
	struct MHD_Response *response;
	int status;
	http_reply_hook on_reply; /* http_req_on_reply: sees the reply before it is made */
	void *on_reply_ctx;
	http_reply_hook on_send; /* http_req_on_send: sees the reply on its worker, as it goes */
	void *on_send_ctx;
	int pending; /* a reply made and kept for on_send (pending_*), its response not built */
	char *pending_body;
	size_t pending_len;
	char *pending_type;          /* NULL: none */
	void (*deferred)(void *ctx); /* http_req_defer: runs once the connection is suspended */
	void *deferred_ctx;
	int suspended;
	int nheaders;
	char *header_names[HTTP_MAX_HEADERS];
	char *header_values[HTTP_MAX_HEADERS];
};

/* ---- request accessors ---- */

const char *http_req_method(const http_req *req)
{
	return req->method;
}

const char *http_req_path(const http_req *req)
{
	return req->path;
}

const char *http_req_param(const http_req *req, const char *name)
{
	int i;

	for (i = 0; i < req->nparams; i++)
		if (strcmp(req->param_names[i], name) == 0)
			return req->param_values[i];
	return NULL;
}

const char *http_req_query(const http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_req_header(const http_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_req_body(const http_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

http_principal http_req_principal(const http_req *req)
{
	http_principal p = {http_req_header(req, HTTP_HEADER_CLIENT),
	                    http_req_header(req, HTTP_HEADER_ROLE),
	                    http_req_header(req, HTTP_HEADER_COUNTY)};

	return p;
}

const http_route *http_req_route(const http_req *req)
{
	return req->route;
}

double http_req_age(const http_req *req)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - req->started.tv_sec) +
	       (double)(now.tv_nsec - req->started.tv_nsec) / 1e9;
}

const char *http_req_traceparent(const http_req *req)
{
	return req->traceparent;
}

typedef struct query_buf {
	char *out;
	size_t cap, len;
	int overflow;
} query_buf;

static void query_append(query_buf *q, const char *s, int encode)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = !encode || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';

		if (q->len + 4 > q->cap) {
			q->overflow = 1;
			return;
		}
		if (plain) {
			q->out[q->len++] = (char)c;
		} else {
			q->out[q->len++] = '%';
			q->out[q->len++] = hex[c >> 4];
			q->out[q->len++] = hex[c & 15];
		}
	}
}

static enum MHD_Result query_each(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
	query_buf *q = cls;

	(void)kind;
	if (q->len > 0)
		query_append(q, "&", 0);
	query_append(q, key, 1);
	if (value != NULL) {
		query_append(q, "=", 0);
		query_append(q, value, 1);
	}
	return MHD_YES;
}

int http_req_query_string(const http_req *req, char *out, size_t cap)
{
	query_buf q = {out, cap, 0, 0};

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_each, &q);
	if (q.overflow)
		return -1;
	out[q.len] = '\0';
	return (int)q.len;
}

/* ---- replies ---- */

void http_reply_header(http_req *req, const char *name, const char *value)
{
	assert(req->nheaders < HTTP_MAX_HEADERS);
	req->header_names[req->nheaders] = strdup(name);
	req->header_values[req->nheaders] = strdup(value);
	req->nheaders++;
}

const char *http_reply_header_value(const http_req *req, const char *name)
{
	int i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->header_names[i], name) == 0)
			return req->header_values[i];
	return NULL;
}

void http_req_fingerprint(const http_req *req, char out[65])
{
	const char *parts[3] = {req->method, req->path, NULL};
	unsigned char digest[32];
	unsigned int dlen = 0;
	char query[2048];
	size_t i;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		abort();
	if (http_req_query_string(req, query, sizeof(query)) >= 0)
		parts[2] = query;
	for (i = 0; i < 3; i++) {
		if (parts[i] != NULL)
			EVP_DigestUpdate(c, parts[i], strlen(parts[i]));
		EVP_DigestUpdate(c, "\n", 1);
	}
	if (req->body_len > 0)
		EVP_DigestUpdate(c, req->body, req->body_len);
	EVP_DigestFinal_ex(c, digest, &dlen);
	EVP_MD_CTX_free(c);
	hc_hex_encode(digest, sizeof(digest), out);
}

/* Builds the MHD response of a reply: its body (taken) and the headers added for it. */
static void http_reply_make(http_req *req, int status, const char *content_type, char *body,
                            size_t len)
{
	int i;

	req->response = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (req->response == NULL)
		abort();
	req->status = status;
	if (content_type != NULL)
		MHD_add_response_header(req->response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (i = 0; i < req->nheaders; i++)
		MHD_add_response_header(req->response, req->header_names[i], req->header_values[i]);
}

/* Whether a reply was made (built, or pending for on_send). */
static int http_replied(const http_req *req)
{
	return req->response != NULL || req->pending;
}

static void http_reply_raw(http_req *req, int status, const char *content_type, char *body,
                           size_t len)
{
	if (http_replied(req)) {
		/* A second reply is a handler bug: keep the first, say so. */
		log_error("second reply to %s %s ignored", req->method, req->path);
		free(body);
		return;
	}
	if (req->on_reply != NULL) {
		http_reply_hook hook = req->on_reply;

		req->on_reply = NULL;
		hook(req->on_reply_ctx, req, status, content_type, body, len);
	}
	if (req->on_send != NULL) { /* built on the connection's worker, as it goes (http_queue) */
		req->pending = 1;
		req->status = status;
		req->pending_body = body;
		req->pending_len = len;
		req->pending_type = NULL;
		if (content_type != NULL && (req->pending_type = strdup(content_type)) == NULL)
			abort();
		return;
	}
	http_reply_make(req, status, content_type, body, len);
}

/* A pending reply: on_send sees it, then its response is built (on the worker). */
static void http_reply_send_pending(http_req *req)
{
	http_reply_hook hook = req->on_send;

	if (!req->pending)
		return;
	req->pending = 0;
	req->on_send = NULL;
	if (hook != NULL) /* taken away (http_req_on_send with NULL) after the reply was made */
		hook(req->on_send_ctx, req, req->status, req->pending_type, req->pending_body,
		     req->pending_len);
	http_reply_make(req, req->status, req->pending_type, req->pending_body, req->pending_len);
	free(req->pending_type);
	req->pending_type = NULL;
	req->pending_body = NULL;
}

void http_reply_discard(http_req *req)
{
	int i;

	if (req->response != NULL)
		MHD_destroy_response(req->response);
	req->response = NULL;
	if (req->pending) {
		free(req->pending_body);
		free(req->pending_type);
		req->pending_body = req->pending_type = NULL;
		req->pending = 0;
	}
	req->status = 0;
	for (i = 0; i < req->nheaders; i++) {
		free(req->header_names[i]);
		free(req->header_values[i]);
	}
	req->nheaders = 0;
}

void http_reply_bytes(http_req *req, int status, const char *content_type, const char *body,
                      size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		abort();
	memcpy(copy, body, len);
	http_reply_raw(req, status, content_type, copy, len);
}

void http_reply_created(http_req *req, const char *collection, const char *id, json_t *body)
{
	char location[256];

	snprintf(location, sizeof(location), "%s/%s", collection, id);
	http_reply_header(req, "Location", location);
	http_reply_json(req, 201, body);
}

void http_reply_json(http_req *req, int status, json_t *body)
{
	char *text = NULL;

	if (body != NULL) {
		text = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text == NULL)
			abort();
	}
	http_reply_raw(req, status, body ? "application/json" : NULL, text ? text : strdup(""),
	               text ? strlen(text) : 0);
}

static void http_problem_v(http_req *req, enum problem_code code, const char *field,
                           const char *fmt, va_list ap) __attribute__((format(printf, 4, 0)));

static void http_problem_v(http_req *req, enum problem_code code, const char *field,
                           const char *fmt, va_list ap)
{
	const problem_def *def = problem_get(code);
	char detail[512], type[96], trace[33];
	json_t *o = json_object();
	char *text;

	vsnprintf(detail, sizeof(detail), fmt, ap);
	snprintf(type, sizeof(type), "urn:hc:problem:%s", def->code);
	traceparent_trace_id(req->traceparent, trace);
	json_object_set_new(o, "type", json_string(type));
	json_object_set_new(o, "title", json_string(def->title));
	json_object_set_new(o, "status", json_integer(def->status));
	json_object_set_new(o, "detail", json_string(detail));
	json_object_set_new(o, "code", json_string(def->code));
	if (field != NULL && field[0] != '\0')
		json_object_set_new(o, "field", json_string(field));
	json_object_set_new(o, "instance", json_string(req->path));
	json_object_set_new(o, "trace_id", json_string(trace));
	text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (text == NULL)
		abort();
	http_reply_raw(req, def->status, "application/problem+json", text, strlen(text));
}

void http_reply_problem(http_req *req, enum problem_code code, const char *field, const char *fmt,
                        ...)
{
	va_list ap;

	va_start(ap, fmt);
	http_problem_v(req, code, field, fmt, ap);
	va_end(ap);
}

void http_reply_err(http_req *req, const hc_err *err)
{
	int kind = err->kind;

	/*
	 * Input is checked before it reaches SQL, so a database refusing our own
	 * statement is our bug: never shown to the client, never a 400.
	 */
	if (err->sqlstate[0] != '\0' && (kind == HC_ERR_PERMANENT || kind == HC_ERR_CONFLICT))
		kind = HC_ERR_FATAL;
	switch (kind) {
	case HC_ERR_PERMANENT:
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, err->field, "%s", err->msg);
		return;
	case HC_ERR_NOT_FOUND:
		http_reply_problem(req, PROBLEM_NOT_FOUND, NULL, "%s", err->msg);
		return;
	case HC_ERR_CONFLICT:
		http_reply_problem(req, PROBLEM_CONFLICT, err->field, "%s", err->msg);
		return;
	case HC_ERR_TRANSIENT:
		log_warn("%s %s: %s", req->method, req->path, err->msg);
		http_reply_header(req, "Retry-After", "1");
		http_reply_problem(req, PROBLEM_UNAVAILABLE, NULL,
		                   "a dependency is unavailable; retry");
		return;
	default:
		log_error("%s %s: %s", req->method, req->path, err->msg);
		http_reply_problem(req, PROBLEM_INTERNAL, NULL,
		                   "internal error; quote the trace id");
		return;
	}
}

json_t *http_req_json(http_req *req)
{
	const char *ct = http_req_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	json_error_t jerr;
	json_t *body;

	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    (ct[16] != '\0' && ct[16] != ';' && ct[16] != ' ')) {
		http_reply_problem(req, PROBLEM_UNSUPPORTED_MEDIA_TYPE, NULL,
		                   "Content-Type must be application/json");
		return NULL;
	}
	body = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (body == NULL) {
		http_reply_problem(req, PROBLEM_MALFORMED_JSON, NULL, "%s at line %d column %d",
		                   jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, NULL,
		                   "the body must be a JSON object");
		return NULL;
	}
	return body;
}

/* ---- routing ---- */

static void req_clear_params(http_req *req)
{
	int i;

	for (i = 0; i < req->nparams; i++) {
		free(req->param_names[i]);
		free(req->param_values[i]);
	}
	req->nparams = 0;
}

/* Matches path against pattern, capturing {params}.  Returns 1 on a match. */
static int route_match(http_req *req, const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;

	req_clear_params(req);
	while (*p != '\0' && *s != '\0') {
		if (*p == '{') {
			const char *pend = strchr(p, '}');
			size_t slen = strcspn(s, "/");

			if (pend == NULL || slen == 0 || req->nparams == HTTP_MAX_PARAMS)
				return 0;
			req->param_names[req->nparams] = strndup(p + 1, (size_t)(pend - p - 1));
			req->param_values[req->nparams] = strndup(s, slen);
			req->nparams++;
			p = pend + 1;
			s += slen;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

static void http_builtin(http_req *req)
{
	if (strcmp(req->path, "/livez") == 0) {
		http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
	} else if (strcmp(req->path, "/readyz") == 0) {
		hc_err err;

		hc_err_clear(&err);
		if (req->srv->cfg.ready == NULL || req->srv->cfg.ready(req->srv->app, &err) == 0)
			http_reply_json(req, 200, json_pack("{s:s}", "status", "ready"));
		else
			http_reply_problem(req, PROBLEM_UNAVAILABLE, NULL, "not ready: %s",
			                   err.msg);
	} else {
		size_t len;
		char *text = metrics_render(&len);

		http_reply_raw(req, 200, "text/plain; version=0.0.4", text, len);
	}
}

static int http_is_builtin(const char *method, const char *path)
{
	return strcmp(method, "GET") == 0 &&
	       (strcmp(path, "/livez") == 0 || strcmp(path, "/readyz") == 0 ||
	        strcmp(path, "/metrics") == 0);
}

static void http_dispatch(http_req *req)
{
	http_server *srv = req->srv;
	char allow[64] = "";
	size_t i;

	req->route_index = srv->nroutes; /* unmatched */
	if (http_is_builtin(req->method, req->path)) {
		http_builtin(req);
		return;
	}
	for (i = 0; i < srv->nroutes; i++) {
		if (!route_match(req, srv->routes[i].pattern, req->path))
			continue;
		if (strcmp(srv->routes[i].method, req->method) == 0) {
			req->route = &srv->routes[i];
			req->route_index = i;
			break;
		}
		if (strlen(allow) + strlen(srv->routes[i].method) + 3 < sizeof(allow))
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			         allow[0] ? ", " : "", srv->routes[i].method);
	}
	if (req->route == NULL) {
		req_clear_params(req);
		if (allow[0] != '\0') {
			http_reply_header(req, "Allow", allow);
			http_reply_problem(req, PROBLEM_METHOD_NOT_ALLOWED, NULL,
			                   "%s is not allowed here", req->method);
		} else {
			http_reply_problem(req, PROBLEM_NOT_FOUND, NULL, "no route for %s",
			                   req->path);
		}
		return;
	}
	if (req->too_large) {
		http_reply_problem(req, PROBLEM_BODY_TOO_LARGE, NULL, "the body exceeds %ld bytes",
		                   srv->cfg.max_body);
		return;
	}
	route_match(req, req->route->pattern, req->path); /* recapture this route's params */
	req->route->fn(srv->app, req);
	if (!http_replied(req) && req->deferred == NULL) {
		log_error("handler for %s %s did not reply", req->method, req->route->pattern);
		http_reply_problem(req, PROBLEM_INTERNAL, NULL,
		                   "internal error; quote the trace id");
	}
}

void http_req_on_reply(http_req *req, http_reply_hook hook, void *ctx)
{
	req->on_reply = hook;
	req->on_reply_ctx = ctx;
}

void http_req_on_send(http_req *req, http_reply_hook hook, void *ctx)
{
	req->on_send = hook;
	req->on_send_ctx = ctx;
}

void http_req_defer(http_req *req, void (*start)(void *ctx), void *ctx)
{
	req->deferred = start;
	req->deferred_ctx = ctx;
}

void http_req_resume(http_req *req)
{
	if (!http_replied(req)) {
		log_error("deferred %s %s resumed without a reply", req->method, req->path);
		http_reply_problem(req, PROBLEM_INTERNAL, NULL,
		                   "internal error; quote the trace id");
	}
	MHD_resume_connection(req->conn);
}

/* ---- libmicrohttpd callbacks ---- */

static enum MHD_Result http_queue(http_req *req)
{
	enum MHD_Result r;

	http_reply_send_pending(req);
	r = MHD_queue_response(req->conn, (unsigned)req->status, req->response);

	MHD_destroy_response(req->response);
	req->response = NULL;
	return r;
}

static http_req *http_req_new(http_server *srv, struct MHD_Connection *conn, const char *url,
                              const char *method)
{
	http_req *req = calloc(1, sizeof(*req));
	if (req == NULL)
		abort();
	req->srv = srv;
	req->conn = conn;
	req->method = method;
	req->path = url;
	clock_gettime(CLOCK_MONOTONIC, &req->started);
	traceparent_child(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "traceparent"),
	                  req->traceparent);
	return req;
}

/* Bytes of an oversized body read and discarded before the refusal is sent anyway. */
static long http_drain_max(const http_server *srv)
{
	return srv->cfg.max_body * 4 > 4 * 1024 * 1024 ? srv->cfg.max_body * 4 : 4 * 1024 * 1024;
}

static int expects_continue(struct MHD_Connection *conn)
{
	const char *e = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_EXPECT);

	return e != NULL && strcasecmp(e, "100-continue") == 0;
}

/* This thread's log lines carry req's trace id from here (log_trace_set(NULL) ends it). */
static void http_trace_enter(const http_req *req)
{
	char trace[33];

	traceparent_trace_id(req->traceparent, trace);
	log_trace_set(trace);
}

/* http_queue on a resumed connection, under the request's trace id (the on_send hook logs). */
static enum MHD_Result http_queue_traced(http_req *req)
{
	enum MHD_Result r;

	http_trace_enter(req);
	r = http_queue(req);
	log_trace_set(NULL);
	return r;
}

static enum MHD_Result http_refuse_too_large(http_req *req)
{
	req->route_index = req->srv->nroutes;
	http_reply_problem(req, PROBLEM_BODY_TOO_LARGE, NULL, "the body exceeds %ld bytes",
	                   req->srv->cfg.max_body);
	return http_queue(req);
}

static enum MHD_Result http_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                       const char *method, const char *version,
                                       const char *upload_data, size_t *upload_data_size,
                                       void **con_cls)
{
	http_server *srv = cls;
	http_req *req = *con_cls;

	(void)version;
	if (req == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		                                             MHD_HTTP_HEADER_CONTENT_LENGTH);

		req = http_req_new(srv, conn, url, method);
		*con_cls = req;
		if (cl != NULL && strtoll(cl, NULL, 10) > srv->cfg.max_body) {
			req->too_large = 1;
			/*
			 * A client waiting for 100 Continue, or one announcing more than
			 * we would drain, is answered now. Any other client is already
			 * sending: refusing before its body is read would close the
			 * connection under it (a reset, and the 413 lost), so the body is
			 * read and discarded and the refusal comes at its end.
			 */
			if (expects_continue(conn) || strtoll(cl, NULL, 10) > http_drain_max(srv))
				return http_refuse_too_large(req);
		}
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		req->received += n;
		*upload_data_size = 0;
		if (req->status != 0)
			return MHD_YES; /* refused already; the rest is discarded */
		if (req->too_large && req->received > (size_t)http_drain_max(srv))
			return http_refuse_too_large(req); /* an endless chunked body */
		if (!req->too_large && req->body_len + n <= (size_t)srv->cfg.max_body) {
			char *grown = realloc(req->body, req->body_len + n + 1);

			if (grown == NULL)
				abort();
			req->body = grown;
			memcpy(req->body + req->body_len, upload_data, n);
			req->body_len += n;
			req->body[req->body_len] = '\0';
		} else {
			req->too_large = 1; /* keep reading, discard, refuse at the end */
		}
		return MHD_YES;
	}
	if (req->suspended)
		return http_replied(req) ? http_queue_traced(req) : MHD_YES; /* resumed: answer */
	if (http_replied(req) || req->status != 0)
		return MHD_YES; /* already answered (oversized Content-Length) */
	http_trace_enter(req);
	http_dispatch(req);
	log_trace_set(NULL);
	if (req->deferred != NULL && !http_replied(req)) {
		/* suspended before the work is handed on, so no resume can come first */
		req->suspended = 1;
		MHD_suspend_connection(conn);
		req->deferred(req->deferred_ctx);
		return MHD_YES;
	}
	return http_queue(req);
}

static void http_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
	http_server *srv = cls;
	http_req *req = *con_cls;
	route_metrics *rm;
	int cls_index, i;

	(void)conn;
	(void)toe;
	if (req == NULL)
		return;
	rm = &srv->metrics[req->route_index];
	cls_index = req->status / 100 - 1;
	if (cls_index >= 0 && cls_index < HTTP_STATUS_CLASSES)
		metrics_add(rm->by_class[cls_index], 1);
	metrics_observe(rm->duration, http_req_age(req));
	if (req->response != NULL)
		MHD_destroy_response(req->response);
	free(req->pending_body);
	free(req->pending_type);
	req_clear_params(req);
	for (i = 0; i < req->nheaders; i++) {
		free(req->header_names[i]);
		free(req->header_values[i]);
	}
	free(req->body);
	free(req);
	*con_cls = NULL;
}

static void http_on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void http_on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[256];

	(void)cls;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_warn("http: %s", buf);
}

static void http_metrics_init(http_server *srv)
{
	size_t i;
	int c;

	srv->metrics = calloc(srv->nroutes + 1, sizeof(*srv->metrics));
	if (srv->metrics == NULL)
		abort();
	for (i = 0; i <= srv->nroutes; i++) {
		char labels[128];

		for (c = 0; c < HTTP_STATUS_CLASSES; c++) {
			if (i < srv->nroutes)
				snprintf(labels, sizeof(labels),
				         "method=\"%s\",route=\"%s\",code=\"%dxx\"",
				         srv->routes[i].method, srv->routes[i].pattern, c + 1);
			else
				snprintf(labels, sizeof(labels),
				         "method=\"\",route=\"other\",code=\"%dxx\"", c + 1);
			srv->metrics[i].by_class[c] =
			    metrics_counter("hc_http_requests_total", labels,
			                    "HTTP requests by route and status class");
		}
		if (i < srv->nroutes)
			snprintf(labels, sizeof(labels), "method=\"%s\",route=\"%s\"",
			         srv->routes[i].method, srv->routes[i].pattern);
		else
			snprintf(labels, sizeof(labels), "method=\"\",route=\"other\"");
		srv->metrics[i].duration = metrics_histogram("hc_http_request_duration_seconds",
		                                             labels, "HTTP request latency");
	}
}

int http_server_start(http_server **out, const http_config *cfg, const http_route *routes, size_t n,
                      void *app, hc_err *err)
{
	http_server *srv = calloc(1, sizeof(*srv));
	struct sockaddr_in sin;
	const union MHD_DaemonInfo *info;

	if (srv == NULL)
		abort();
	srv->cfg = *cfg;
	srv->routes = routes;
	srv->nroutes = n;
	srv->app = app;
	http_metrics_init(srv);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)cfg->port);
	if (inet_pton(AF_INET, cfg->addr, &sin.sin_addr) != 1) {
		free(srv->metrics);
		free(srv);
		return hc_err_set(err, HC_ERR_FATAL, "could not parse listen address %s",
		                  cfg->addr);
	}
	srv->daemon = MHD_start_daemon(
	    MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME,
	    (uint16_t)cfg->port, NULL, NULL, http_on_request, srv, MHD_OPTION_EXTERNAL_LOGGER,
	    http_on_mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)cfg->threads, MHD_OPTION_NOTIFY_COMPLETED,
	    http_on_completed, srv, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)4096, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		free(srv->metrics);
		free(srv);
		return hc_err_set(err, HC_ERR_FATAL, "could not listen on %s:%ld", cfg->addr,
		                  cfg->port);
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : (int)cfg->port;
	*out = srv;
	return 0;
}

void http_server_stop(http_server *srv)
{
	if (srv == NULL)
		return;
	MHD_stop_daemon(srv->daemon);
	free(srv->metrics);
	free(srv);
}

int http_server_port(const http_server *srv)
{
	return srv->port;
}
