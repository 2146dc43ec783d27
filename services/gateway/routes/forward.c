/*
 * Forwarding of public routes to the owning service's internal API, after
 * authentication (authenticate.c).
 *
 * The request's method, path, query string, body, Content-Type, trace
 * context and the caller's principal (X-HC-Client, X-HC-Role, X-HC-County)
 * go to the service; nothing else of the caller's headers does; its status, body, Content-Type,
 * Location and Retry-After come back unchanged.  A service that cannot be reached gives 503
 * (retry), one that does not answer in time 504; neither is ever retried here, since a POST may
 * have taken effect.  The worker thread does not wait: the request is deferred to the upstream
 * loop (common/upstream), which answers it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log/log.h"
#include "common/upstream/upstream.h"
#include "services/gateway/app.h"

/* Percent-encodes path for the upstream URL, keeping '/' and unreserved characters. */
static int forward_path(const char *path, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *path != '\0'; path++) {
		unsigned char c = (unsigned char)*path;

		if (n + 4 > cap)
			return -1;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* A request being forwarded: what the upstream loop needs until it answers. */
typedef struct forward_job {
	gateway_app *app;
	http_req *req;
	upstream_request u;
	char url[3200];
	gateway_principal p;
	gateway_idem idem;
	int claimed;
	char idem_header[300];        /* "Idempotency-Key: ...", forwarded with a claimed key */
	const char *extra_headers[2]; /* u.headers */
} forward_job;

/* The owning service's answer (or failure), on the upstream loop's thread. */
static void forward_done(void *ctx, const upstream_response *resp, const hc_err *err)
{
	forward_job *j = ctx;
	http_req *req = j->req;
	gateway_app *app = j->app;

	if (resp == NULL) {
		if (j->claimed)
			gateway_idem_finish(app, &j->idem, 0, NULL, NULL, NULL);
		log_warn("%s %s: %s", j->u.method, http_req_path(req), err->msg);
		if (strcmp(err->field, "timeout") == 0) {
			http_reply_problem(req, PROBLEM_UPSTREAM_TIMEOUT, NULL,
			                   "the owning service did not answer within %ld ms",
			                   app->cfg.timeout_ms);
		} else {
			http_reply_header(req, "Retry-After", "1");
			http_reply_problem(req, PROBLEM_UNAVAILABLE, NULL,
			                   "the owning service is unavailable; retry");
		}
	} else {
		if (j->claimed)
			gateway_idem_finish(app, &j->idem, resp->status,
			                    resp->content_type[0] ? resp->content_type : NULL,
			                    resp->location[0] ? resp->location : NULL,
			                    resp->body ? resp->body : "");
		if (resp->location[0] != '\0')
			http_reply_header(req, "Location", resp->location);
		if (resp->retry_after[0] != '\0')
			http_reply_header(req, "Retry-After", resp->retry_after);
		if (resp->replayed[0] != '\0')
			http_reply_header(req, "Idempotent-Replayed", resp->replayed);
		http_reply_bytes(req, (int)resp->status,
		                 resp->content_type[0] ? resp->content_type : NULL, resp->body,
		                 resp->body_len);
	}
	free(j);
	gateway_release(app, req);
	http_req_resume(req);
}

/* Runs once the client's connection is suspended: hands the request to the loop. */
static void forward_start(void *ctx)
{
	forward_job *j = ctx;

	upstream_submit(j->app->upstream, &j->u, forward_done, j);
}

/*
 * Forwards req to the owning service without holding this worker: the
 * reply comes from forward_done, which also releases the admission
 * (gateway_admit) and finishes a claimed Idempotency-Key.
 */
static void gateway_forward(gateway_app *app, http_req *req, const char *base,
                            const gateway_principal *p, const gateway_idem *idem, int suspended)
{
	char path[1024], query[2048];
	forward_job *j;
	size_t len = 0;
	int qlen;

	qlen = http_req_query_string(req, query, sizeof(query));
	if (qlen < 0 || forward_path(http_req_path(req), path, sizeof(path)) != 0) {
		if (idem != NULL)
			gateway_idem_finish(app, idem, 0, NULL, NULL, NULL);
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, NULL, "the URL is too long");
		gateway_done(app, req, suspended);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		abort();
	j->app = app;
	j->req = req;
	snprintf(j->url, sizeof(j->url), "%s%s%s%s", base, path, qlen > 0 ? "?" : "", query);
	j->u.method = http_req_method(req);
	j->u.url = j->url;
	j->u.content_type = http_req_header(req, "Content-Type");
	j->u.traceparent = http_req_traceparent(req);
	if (p != NULL) {
		j->p = *p;
		j->u.client = j->p.client;
		j->u.role = j->p.role;
		j->u.county = j->p.county[0] ? j->p.county : NULL;
	}
	if (idem != NULL) {
		/* the owning service claims the key too, with the effect: a retry after a 504
		   then gets the first answer from it, not a second effect (common/svc/idem.c) */
		j->idem = *idem;
		j->claimed = 1;
		snprintf(j->idem_header, sizeof(j->idem_header), "Idempotency-Key: %s", idem->key);
		j->extra_headers[0] = j->idem_header;
		j->u.headers = j->extra_headers;
	}
	j->u.body = http_req_body(req, &len);
	j->u.body_len = len;
	if (len == 0 && strcmp(j->u.method, "GET") == 0)
		j->u.body = NULL;
	j->u.timeout_ms = app->cfg.timeout_ms;
	if (suspended)
		forward_start(j);
	else
		http_req_defer(req, forward_start, j);
}

const char *gateway_owner_url(const gateway_config *cfg, const char *owner)
{
	const char *const names[] = {"intake",      "review",  "matching",
	                             "certificate", "codegen", "analytics"};
	const char *const urls[] = {cfg->intake_url,      cfg->review_url,  cfg->matching_url,
	                            cfg->certificate_url, cfg->codegen_url, cfg->analytics_url};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], owner) == 0)
			return urls[i];
	abort(); /* the route table names only these */
}

void gateway_done(gateway_app *app, http_req *req, int suspended)
{
	gateway_release(app, req);
	if (suspended)
		http_req_resume(req);
}

void gateway_proceed(gateway_app *app, http_req *req, const gateway_route *route,
                     gateway_principal *p, int suspended)
{
	gateway_idem idem;

	if (gateway_authorize(req, route, p) != 0 ||
	    gateway_quota_take(app, req, p->client, p->quota_rate, p->quota_burst) != 0) {
		gateway_done(app, req, suspended); /* replied: 403 or 429 */
	} else if (route->local != NULL) {
		/* the gateway's own routes (callbacks): no Idempotency-Key records */
		route->local(app, req, p);
		gateway_done(app, req, suspended);
	} else if (gateway_idem_begin(app, req, p->client, &idem) == 0) {
		gateway_forward(app, req, gateway_owner_url(&app->cfg, route->owner), p,
		                idem.claimed ? &idem : NULL, suspended);
	} else {
		gateway_done(app, req, suspended); /* replied: the idempotent replay or refusal */
	}
}

void gateway_handle(void *app_, http_req *req)
{
	gateway_app *app = app_;
	const gateway_route *route = &app->routes[http_req_route(req) - app->http_routes];
	gateway_principal p;
	gateway_claim c;

	if (app->cfg.auth && route->roles != 0) {
		gateway_claim_read(app, req, &c); /* the signature parsed once, here */
		if (gateway_quota_claimed(app, req, &c) != 0)
			return; /* 429: its client is past its quota, whatever the load */
	}
	if (gateway_admit(app, req, route->priority) != 0)
		return; /* shed: 503 */
	if (route->local != NULL && !app->cfg.auth) {
		http_reply_problem(req, PROBLEM_FORBIDDEN, NULL,
		                   "callbacks belong to a client: HC_GATEWAY_AUTH is off");
		gateway_release(app, req);
	} else if (!app->cfg.auth || route->roles == 0) {
		/* public routes (roles 0), or local development without keys */
		gateway_forward(app, req,
		                route->local ? NULL : gateway_owner_url(&app->cfg, route->owner),
		                NULL, NULL, 0);
	} else if (gateway_identify(app, req, &c, &p) != 0) {
		gateway_release(app, req); /* replied: 401 or 503 */
	} else if (p.nonce[0] != '\0') {
		gateway_nonce_then_proceed(app, req, route, &p); /* once the nonce is claimed */
	} else {
		gateway_proceed(app, req, route, &p, 0);
	}
}
