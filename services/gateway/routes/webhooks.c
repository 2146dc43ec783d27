/*
 * Callbacks to partner apps; see app.h.
 *
 *   POST   /v1/webhooks        {url, events: [type...]}: a subscription (201;
 *                              200 when it replaces the events of the
 *                              client's subscription to the same URL)
 *   GET    /v1/webhooks        the client's subscriptions, each with its
 *                              latest 20 deliveries (status, attempts)
 *   DELETE /v1/webhooks/{id}   (its deliveries still pending are cancelled:
 *                              nothing more is sent to it)
 *
 * The gateway consumes the events partners may hear of (a code changed, a
 * certificate issued or revoked, a correction decided, an employer
 * application decided: the latter reach the client that submitted the
 * application, the others the clients the person applied through) and, in the same
 * transaction as the consumer's processed_events row, writes one delivery
 * per subscription of each client the person applied through (unique per
 * subscription and event, so a redelivered event adds nothing).  A sender
 * thread claims due deliveries (a one-minute lease, so a crash retries
 * them) and posts each CloudEvent through the upstream loop, signed by the
 * platform like a response (common/httpsig: keyid "platform:<kid>"), with
 * HC-Event-Id for deduplication.  2xx delivers; anything else is retried
 * after HC_WEBHOOK_BACKOFF_MS doubled per attempt (at most an hour) until
 * the delivery is 24 hours old, then it fails.  Every send is its own
 * request in the loop with its own timeout (HC_WEBHOOK_TIMEOUT_MS), so a
 * slow or dead endpoint delays only its own deliveries.
 *
 * At most HC_WEBHOOK_MAX_INFLIGHT callbacks are on their way to one client
 * at once, from every gateway together: a claimed delivery is marked as
 * being sent until its attempt ends (or its timeout and 5 s pass, should
 * its gateway die), and the claim, serialised between gateways, takes a
 * client's deliveries only up to the limit.  So a slow endpoint holds a
 * bounded part of the gateways, however many of them run.
 *
 * A callback reaches only public addresses (unless HC_WEBHOOK_ALLOW_PRIVATE,
 * for local development): a URL naming a loopback, private, link-local or
 * reserved IP is refused when subscribed, and every connection refuses such
 * an address once the URL's name is resolved, so a partner cannot make the
 * gateway call the platform's own services or a cloud metadata endpoint
 * (the attempt fails and is retried like any other).  Callbacks go through
 * a loop of their own (app->callbacks_upstream) whose connections are all
 * checked so: they are kept and reused (no TCP and TLS handshake per
 * callback), and no connection to a service is ever among them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/base/netaddr.h"
#include "common/base/rand.h"
#include "common/event/catalog.h"
#include "common/httpsig/httpsig.h"
#include "common/identity/identity.h"
#include "common/log/log.h"
#include "services/gateway/app.h"

static const char *const webhook_types[] = {TYPE_CODE_CHANGED, TYPE_CERTIFICATE_ISSUED,
                                            TYPE_CERTIFICATE_REVOKED, TYPE_CORRECTION_DECIDED,
                                            TYPE_EMPLOYER_APPLICATION_DECIDED};

/* ---- the consumer ---- */

int gateway_on_partner_event(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *key = json_string_value(json_object_get(ev->data, "person_key"));
	char *payload;
	int rc;

	(void)app;
	if (!person_key_valid(key))
		return hc_err_field(err, HC_ERR_PERMANENT, "data.person_key",
		                    "data.person_key must be a person key");
	payload = cloudevent_encode(ev);
	{
		const char *params[4] = {key, ev->id, ev->type, payload};

		/* also kept for later when no client is linked yet (the declaration not read) */
		rc = db_run(tx, "gateway_deliveries_add", 4, params, NULL, err);
	}
	free(payload);
	return rc;
}

int gateway_on_partner_events(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err)
{
	db_text_array cols[4];
	db_text_array *const arrays[4] = {&cols[0], &cols[1], &cols[2], &cols[3]};
	json_t *seen = json_object();
	size_t i, c;
	int rc = 0;

	if (seen == NULL)
		abort();
	for (c = 0; c < 4; c++)
		db_text_array_init(&cols[c]);
	for (i = 0; i < n; i++) {
		const char *key = json_string_value(json_object_get(evs[i].data, "person_key"));
		char *payload;

		if (!person_key_valid(key) || json_object_get(seen, key) != NULL)
			break; /* one at a time: a bad one dead-lettered, a person's in order */
		json_object_set_new(seen, key, json_true());
		payload = cloudevent_encode(&evs[i]);
		db_text_array_add(&cols[0], key, strlen(key));
		db_text_array_add(&cols[1], evs[i].id, strlen(evs[i].id));
		db_text_array_add(&cols[2], evs[i].type, strlen(evs[i].type));
		db_text_array_add(&cols[3], payload, strlen(payload));
		free(payload);
	}
	if (i < n) {
		for (i = 0; i < n && rc == 0; i++)
			rc = gateway_on_partner_event(app, tx, &evs[i], err);
	} else {
		rc = db_run_text_arrays(tx, "gateway_deliveries_add_many", 4, arrays, NULL, err);
	}
	for (c = 0; c < 4; c++)
		db_text_array_free(&cols[c]);
	json_decref(seen);
	return rc;
}

int gateway_on_declaration_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *key = json_string_value(json_object_get(ev->data, "person_key"));
	const char *client = json_string_value(json_object_get(ev->data, "submitted_by"));
	const char *params[2] = {key, client};
	int rc = svc_on_declaration_client(app, tx, ev, err);

	if (rc == 0 && client != NULL)
		rc = db_run(tx, "gateway_pending_deliver", 2, params, NULL, err);
	return rc;
}

int gateway_on_declaration_clients(void *app, db_conn *tx, const cloudevent *evs, size_t n,
                                   hc_err *err)
{
	static const char *const stmts[] = {"person_clients_add_many",
	                                    "gateway_pending_deliver_many", NULL};

	(void)app;
	return svc_declaration_links(tx, evs, n, stmts, err);
}

int gateway_on_application_client(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *id = json_string_value(json_object_get(ev->data, "application_id"));
	const char *client = json_string_value(json_object_get(ev->data, "submitted_by"));
	const char *params[2] = {id, client};

	(void)app;
	if (!hc_uuid_valid(id))
		return hc_err_field(err, HC_ERR_PERMANENT, "data.application_id",
		                    "data.application_id must be a UUID");
	return client == NULL ? 0 : db_run(tx, "application_client_add", 2, params, NULL, err);
}

int gateway_on_application_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err)
{
	const char *id = json_string_value(json_object_get(ev->data, "application_id"));
	char *payload;
	int rc;

	(void)app;
	if (!hc_uuid_valid(id))
		return hc_err_field(err, HC_ERR_PERMANENT, "data.application_id",
		                    "data.application_id must be a UUID");
	payload = cloudevent_encode(ev);
	{
		const char *params[4] = {id, ev->id, ev->type, payload};

		rc = db_run(tx, "gateway_deliveries_add_application", 4, params, NULL, err);
	}
	free(payload);
	return rc;
}

/* ---- the routes ---- */

static int known_type(const char *t)
{
	size_t i;

	for (i = 0; t != NULL && i < sizeof(webhook_types) / sizeof(webhook_types[0]); i++)
		if (strcmp(t, webhook_types[i]) == 0)
			return 1;
	return 0;
}

/* The host of an absolute URL as written (no userinfo, no port; IPv6 in brackets), or "". */
static void url_host(const char *url, char *out, size_t cap)
{
	const char *a = strstr(url, "://"), *end, *at, *colon;
	size_t n;

	out[0] = '\0';
	if (a == NULL)
		return;
	a += 3;
	end = a + strcspn(a, "/?#");
	for (at = a; (at = memchr(at, '@', (size_t)(end - at))) != NULL; a = ++at)
		;
	if (*a == '[') {
		const char *close = memchr(a, ']', (size_t)(end - a));

		end = close != NULL ? close + 1 : end;
	} else if ((colon = memchr(a, ':', (size_t)(end - a))) != NULL) {
		end = colon;
	}
	n = (size_t)(end - a) < cap - 1 ? (size_t)(end - a) : cap - 1;
	memcpy(out, a, n);
	out[n] = '\0';
}

void gateway_post_webhook(gateway_app *app, http_req *req, const gateway_principal *p)
{
	json_t *body = http_req_json(req), *events, *e;
	const char *url;
	char id[HC_UUID_LEN + 1], list[512] = "{", host[256];
	size_t i;

	if (body == NULL)
		return; /* replied */
	url = json_string_value(json_object_get(body, "url"));
	events = json_object_get(body, "events");
	if (json_object_size(body) != 2 || url == NULL || strlen(url) > 500 ||
	    (strncmp(url, "https://", 8) != 0 &&
	     !(app->cfg.webhook_allow_http && strncmp(url, "http://", 7) == 0)) ||
	    strpbrk(url, " \t\r\n\"") != NULL) {
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, "url",
		                   "url must be an https URL of at most 500 characters%s",
		                   app->cfg.webhook_allow_http ? " (or http here)" : "");
		goto out;
	}
	url_host(url, host, sizeof(host));
	if (!app->cfg.webhook_allow_private && hc_host_is_public(host) == 0) {
		/* a name is checked each time it is resolved, when a callback connects */
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, "url",
		                   "url must reach a public address, not a loopback, private, "
		                   "link-local or reserved one");
		goto out;
	}
	if (!json_is_array(events) || json_array_size(events) == 0 || json_array_size(events) > 8) {
		http_reply_problem(req, PROBLEM_VALIDATION_FAILED, "events",
		                   "events must list 1-8 event types");
		goto out;
	}
	json_array_foreach (events, i, e) {
		if (!known_type(json_string_value(e))) {
			http_reply_problem(
			    req, PROBLEM_VALIDATION_FAILED, "events",
			    "events[%zu] is not an event type partners may subscribe to", i);
			goto out;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
		         json_string_value(e));
	}
	snprintf(list + strlen(list), sizeof(list) - strlen(list), "}");
	hc_uuid_v7(id);
	{
		const char *params[4] = {id, p->client, url, list};
		db_conn *conn = db_pool_take(app->svc.pool);
		db_res *res = NULL;
		hc_err err;

		hc_err_clear(&err);
		if (db_run(conn, "gateway_webhook_add", 4, params, &res, &err) != 0)
			http_reply_err(req, &err);
		else /* 201 for a new subscription, 200 when it replaced one to the same URL */
			http_reply_bytes(req, strcmp(db_res_get(res, 0, 1), "t") == 0 ? 201 : 200,
			                 "application/json", db_res_get(res, 0, 0),
			                 strlen(db_res_get(res, 0, 0)));
		db_res_free(res);
		db_pool_give(app->svc.pool, conn);
	}
out:
	json_decref(body);
}

void gateway_get_webhooks(gateway_app *app, http_req *req, const gateway_principal *p)
{
	const char *params[1] = {p->client};

	svc_http_reply_row(&app->svc, req, "gateway_webhook_list", 1, params, NULL, "subscription");
}

void gateway_delete_webhook(gateway_app *app, http_req *req, const gateway_principal *p)
{
	const char *id = http_req_param(req, "id");
	const char *params[2] = {id, p->client};
	db_conn *conn;
	db_res *res = NULL;
	hc_err err;

	hc_err_clear(&err);
	if (!hc_uuid_valid(id)) {
		http_reply_problem(req, PROBLEM_INVALID_PARAMETER, "id", "id must be a UUID");
		return;
	}
	conn = db_pool_take(app->svc.pool);
	if (db_run(conn, "gateway_webhook_delete", 2, params, &res, &err) != 0)
		http_reply_err(req, &err);
	else if (db_res_rows(res) == 0)
		http_reply_problem(req, PROBLEM_NOT_FOUND, "id", "no subscription %s", id);
	else
		http_reply_json(req, 204, NULL);
	db_res_free(res);
	db_pool_give(app->svc.pool, conn);
}

/* ---- the sender ---- */

typedef struct delivery {
	gateway_app *app;
	char id[24];
	char client[48];
	char event_id[128];
	int attempts;
	char *payload;
	char *lines[6]; /* NULL-terminated */
	upstream_request u;
} delivery;

static void delivery_free(delivery *d)
{
	size_t i;

	for (i = 0; d->lines[i] != NULL; i++)
		free(d->lines[i]);
	free(d->payload);
	free(d);
}

static char *line_of(const char *name, const char *value)
{
	char *s = NULL;

	if (asprintf(&s, "%s: %s", name, value) < 0)
		abort();
	return s;
}

/* The answer (or failure) of one send, on the upstream loop's thread. */
static void delivery_done(void *ctx, const upstream_response *resp, const hc_err *err)
{
	delivery *d = ctx;
	gateway_app *app = d->app;
	long status = resp != NULL ? resp->status : 0;
	double backoff = (double)app->cfg.webhook_backoff_ms / 1000.0;
	char st[16], secs[32], why[160] = "";
	db_conn *conn;
	hc_err e;
	int i;

	for (i = 0; i < d->attempts && backoff < 3600; i++)
		backoff *= 2;
	if (backoff > 3600)
		backoff = 3600;
	if (err != NULL)
		snprintf(why, sizeof(why), "%.150s", err->msg);
	else if (status < 200 || status > 299)
		snprintf(why, sizeof(why), "HTTP %ld", status);
	snprintf(st, sizeof(st), "%ld", status);
	snprintf(secs, sizeof(secs), "%.3f", backoff);
	{
		const char *params[4] = {d->id, st, why[0] ? why : NULL, secs};

		hc_err_clear(&e);
		conn = db_pool_take(app->svc.pool);
		if (db_run(conn, "gateway_delivery_done", 4, params, NULL, &e) != 0)
			log_warn("webhook delivery %s: could not record the attempt: %s", d->id,
			         e.msg);
		db_pool_give(app->svc.pool, conn);
	}
	log_info("webhook delivery %s of event %s to client %s, attempt %d: %s", d->id, d->event_id,
	         d->client, d->attempts + 1, why[0] ? why : "delivered");
	delivery_free(d);
}

/* Builds and submits the signed POST of one claimed delivery. */
static void delivery_send(gateway_app *app, db_res *res, int row)
{
	delivery *d = calloc(1, sizeof(*d));
	const char *url = db_res_get(res, row, 2), *host, *path;
	char digest[HTTPSIG_DIGEST_MAX + 1], input[512], signature[HTTPSIG_SIG_MAX * 2];
	char pathbuf[512], nonce[33], attempt[16], *query;
	unsigned char raw[16];

	if (d == NULL)
		abort();
	d->app = app;
	snprintf(d->id, sizeof(d->id), "%s", db_res_get(res, row, 0));
	snprintf(d->client, sizeof(d->client), "%s", db_res_get(res, row, 1));
	snprintf(d->event_id, sizeof(d->event_id), "%s", db_res_get(res, row, 3));
	d->payload = strdup(db_res_get(res, row, 4));
	if (d->payload == NULL)
		abort();
	d->attempts = atoi(db_res_get(res, row, 5));
	snprintf(attempt, sizeof(attempt), "%d", d->attempts + 1);
	d->lines[0] = line_of("HC-Event-Id", d->event_id);
	d->lines[1] = line_of("HC-Delivery-Attempt", attempt);
	httpsig_digest(d->payload, strlen(d->payload), digest);
	d->lines[2] = line_of("Content-Digest", digest);
	host = strstr(url, "://");
	path = host != NULL ? strchr(host + 3, '/') : NULL;
	snprintf(pathbuf, sizeof(pathbuf), "%s", path != NULL ? path : "/");
	query = strchr(pathbuf, '?');
	if (query != NULL)
		*query++ = '\0';
	hc_rand_bytes(raw, sizeof(raw));
	hc_hex_encode(raw, sizeof(raw), nonce);
	if (app->response_key != NULL &&
	    httpsig_sign_request(app->response_key, app->response_keyid, (int64_t)time(NULL), nonce,
	                         "POST", pathbuf, query, digest, input, sizeof(input), signature,
	                         sizeof(signature)) == 0) {
		d->lines[3] = line_of("Signature-Input", input);
		d->lines[4] = line_of("Signature", signature);
	}
	d->u.method = "POST";
	d->u.url = url; /* copied by upstream_submit */
	d->u.content_type = "application/cloudevents+json";
	d->u.headers = (const char *const *)d->lines;
	d->u.body = d->payload;
	d->u.body_len = strlen(d->payload);
	d->u.timeout_ms = app->cfg.webhook_timeout_ms;
	d->u.public_only = !app->cfg.webhook_allow_private;
	upstream_submit(app->callbacks_upstream, &d->u, delivery_done, d);
}

/*
 * Claims the deliveries due now, at most HC_WEBHOOK_MAX_INFLIGHT on their way
 * to one client counting every gateway's (in one transaction behind an
 * advisory lock, so that the claims of several gateways never overfill a
 * client).  Returns the rows (NULL when none or on failure, logged).
 */
static db_res *deliveries_claim(gateway_app *app)
{
	char limit[24], secs[32];
	const char *params[2] = {limit, secs};
	db_res *res = NULL;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	snprintf(limit, sizeof(limit), "%ld", app->cfg.webhook_max_inflight);
	snprintf(secs, sizeof(secs), "%.3f", (double)app->cfg.webhook_timeout_ms / 1000.0 + 5.0);
	conn = db_pool_take(app->svc.pool);
	rc = db_tx_begin(conn, &err);
	if (rc == 0)
		rc = db_run(conn, "gateway_deliveries_claim_lock", 0, NULL, NULL, &err);
	if (rc == 0)
		rc = db_run(conn, "gateway_deliveries_claim", 2, params, &res, &err);
	if (rc == 0)
		rc = db_tx_commit(conn, &err);
	else
		db_tx_rollback(conn);
	db_pool_give(app->svc.pool, conn);
	if (rc != 0) {
		log_warn("webhooks: %s", err.msg);
		db_res_free(res);
		return NULL;
	}
	return res;
}

static void *sender_main(void *arg)
{
	gateway_app *app = arg;
	time_t pruned = 0;

	while (!atomic_load(&app->sender_stop)) {
		db_res *res = deliveries_claim(app);
		db_conn *conn;
		int i, n = res != NULL ? db_res_rows(res) : 0;

		for (i = 0; i < n; i++)
			if (strcmp(db_res_get(res, i, 6), "cancelled") != 0) /* else: deleted */
				delivery_send(app, res, i);
		db_res_free(res);
		if (time(NULL) - pruned >= 60) {
			conn = db_pool_take(app->svc.pool);
			db_run(conn, "gateway_pending_prune", 0, NULL, NULL, NULL);
			db_pool_give(app->svc.pool, conn);
			pruned = time(NULL);
		}
		if (n < 50)
			usleep(100 * 1000);
	}
	return NULL;
}

int gateway_sender_start(gateway_app *app, hc_err *err)
{
	if (pthread_create(&app->sender, NULL, sender_main, app) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not start the webhook sender");
	pthread_setname_np(app->sender, "callback-sender");
	app->sender_running = 1;
	return 0;
}

void gateway_sender_stop(gateway_app *app)
{
	atomic_store(&app->sender_stop, 1);
	if (app->sender_running)
		pthread_join(app->sender, NULL);
	app->sender_running = 0;
}
