/* hc-gateway: wiring only; see app.h for what the service does. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/event/catalog.h"
#include "common/log/log.h"
#include "common/upstream/upstream.h"
#include "services/gateway/app.h"
#include "services/gateway/domain/auth.h"
#include "services/gateway/store.h"

extern const db_migration gateway_migrations[];
extern const size_t gateway_migrations_count;

/*
 * The public API: every route, the roles it admits, the path parameter a
 * county system must own, the service that owns it, and whether it keeps
 * priority under overload (code display and verification).
 */
#define P ROLE_PROVINCIAL
#define A ROLE_PARTNER
#define C ROLE_COUNTY
#define K ROLE_CHECKPOINT
#define N ROLE_ANALYST
static const gateway_route gateway_routes[] = {
    /* employers and workers (partner apps, the provincial platform) */
    {"POST", "/v1/employer-applications", "intake", P | A, NULL, 0, NULL},
    {"GET", "/v1/employer-applications/{id}", "intake", P | A | C, NULL, 0, NULL},
    {"POST", "/v1/declarations", "intake", P | A, NULL, 0, NULL},
    {"GET", "/v1/declarations/{id}", "intake", P | A | C, NULL, 0, NULL},
    {"POST", "/v1/check-ins", "intake", P | A, NULL, 0, NULL},
    {"POST", "/v1/corrections", "intake", P | A, NULL, 0, NULL},
    {"GET", "/v1/corrections/{id}", "intake", P | A | C, NULL, 0, NULL},
    /* county (and city) headquarters */
    {"GET", "/v1/counties/{county}/queue", "review", P | C, "county", 0, NULL},
    {"GET", "/v1/queue-items/{application_id}", "review", P | C, NULL, 0, NULL},
    {"POST", "/v1/queue-items/{application_id}/decision", "review", C, NULL, 0, NULL},
    {"GET", "/v1/counties/{county}/correction-reviews", "review", P | C, "county", 0, NULL},
    {"GET", "/v1/correction-reviews/{id}", "review", P | C, NULL, 0, NULL},
    {"POST", "/v1/correction-reviews/{id}/county-decision", "review", C, NULL, 0, NULL},
    {"POST", "/v1/correction-reviews/{id}/city-decision", "review", C, NULL, 0, NULL},
    /* the big-data platform */
    {"POST", "/v1/reference-records", "matching", P, NULL, 0, NULL},
    {"GET", "/v1/people/{person_key}/assessments", "matching", P | N, NULL, 0, NULL},
    {"GET", "/v1/rules", "matching", P | C | N, NULL, 0, NULL},
    {"GET", "/v1/rules/{rule_id}", "matching", P | C | N, NULL, 0, NULL},
    {"POST", "/v1/rules", "matching", P, NULL, 0, NULL},
    /* certificates and vehicle passes */
    {"GET", "/v1/people/{person_key}/certificates", "certificate", P | A | C, NULL, 0, NULL},
    {"POST", "/v1/vehicle-passes", "certificate", P | A, NULL, 0, NULL},
    {"GET", "/v1/vehicle-passes/{id}", "certificate", P | A | C | K, NULL, 0, NULL},
    /* codes and checkpoints */
    {"GET", "/v1/codes/{person_key}", "codegen", P | A, NULL, 1, NULL},
    {"GET", "/v1/codes/{person_key}/history", "codegen", P | A, NULL, 0, NULL},
    {"POST", "/v1/scans", "codegen", K, NULL, 0, NULL},
    {"GET", "/v1/codes/{person_key}/token", "codegen", P | A, NULL, 1, NULL},
    {"GET", "/v1/codes/{person_key}/qr.png", "codegen", P | A, NULL, 1, NULL},
    {"GET", "/v1/codes/{person_key}/qr.svg", "codegen", P | A, NULL, 1, NULL},
    {"POST", "/v1/verifications", "codegen", K, NULL, 1, NULL},
    /* analysts: figures and explanations built from the event log */
    {"GET", "/v1/analytics/daily", "analytics", P | N, NULL, 0, NULL},
    {"GET", "/v1/analytics/people/{person_key}/as-of", "analytics", P | N, NULL, 0, NULL},
    /* callbacks to partner apps, served by the gateway itself */
    {"POST", "/v1/webhooks", "gateway", A, NULL, 0, gateway_post_webhook},
    {"GET", "/v1/webhooks", "gateway", A, NULL, 0, gateway_get_webhooks},
    {"DELETE", "/v1/webhooks/{id}", "gateway", A, NULL, 0, gateway_delete_webhook},
    /* public: the keys that verify codes, for anyone */
    {"GET", "/.well-known/jwks.json", "codegen", 0, NULL, 0, NULL},
    {"GET", "/v1/keys/signed-list", "codegen", 0, NULL, 0, NULL},
};
#undef P
#undef A
#undef C
#undef K
#undef N
#define NROUTES (sizeof(gateway_routes) / sizeof(gateway_routes[0]))

static const config_var gateway_vars[] = {
    {"HC_INTAKE_URL", CONFIG_STRING, "http://127.0.0.1:8081", offsetof(gateway_config, intake_url),
     8, 256, "internal base URL of intake"},
    {"HC_REVIEW_URL", CONFIG_STRING, "http://127.0.0.1:8082", offsetof(gateway_config, review_url),
     8, 256, "internal base URL of review"},
    {"HC_MATCHING_URL", CONFIG_STRING, "http://127.0.0.1:8083",
     offsetof(gateway_config, matching_url), 8, 256, "internal base URL of matching"},
    {"HC_CERTIFICATE_URL", CONFIG_STRING, "http://127.0.0.1:8084",
     offsetof(gateway_config, certificate_url), 8, 256, "internal base URL of certificate"},
    {"HC_CODEGEN_URL", CONFIG_STRING, "http://127.0.0.1:8085",
     offsetof(gateway_config, codegen_url), 8, 256, "internal base URL of codegen"},
    {"HC_ANALYTICS_URL", CONFIG_STRING, "http://127.0.0.1:8086",
     offsetof(gateway_config, analytics_url), 8, 256, "internal base URL of analytics"},
    {"HC_UPSTREAM_TIMEOUT_MS", CONFIG_INT, "5000", offsetof(gateway_config, timeout_ms), 100,
     120000, "how long the gateway waits for a service's answer"},
    {"HC_QUOTA_RATE", CONFIG_INT, "500", offsetof(gateway_config, quota_rate), 1, 1000000,
     "requests a second each client may make (its own quota, if set, instead)"},
    {"HC_QUOTA_BURST", CONFIG_INT, "1000", offsetof(gateway_config, quota_burst), 1, 1000000,
     "requests a client may make at once beyond its rate"},
    {"HC_QUOTA_SYNC_MS", CONFIG_INT, "200", offsetof(gateway_config, quota_sync_ms), 0, 10000,
     "how often the gateways share what their clients took, so that a client has one quota "
     "between them; 0: each gateway its own"},
    {"HC_GATEWAY_MAX_INFLIGHT", CONFIG_INT, "128", offsetof(gateway_config, max_inflight), 4,
     100000,
     "requests handled at once, at most; ordinary routes get three quarters, beyond: 503 at once"},
    {"HC_GATEWAY_TARGET_MS", CONFIG_INT, "100", offsetof(gateway_config, target_ms), 1, 60000,
     "admitted requests' mean time above which, while demand is well past the limit, fewer are "
     "admitted"},
    {"HC_GATEWAY_CPU_LAG_US", CONFIG_INT, "1000", offsetof(gateway_config, cpu_lag_us), 100,
     1000000,
     "the admission probe's mean lateness (microseconds) above which, while demand is well past "
     "the limit, fewer are admitted"},
    {"HC_GATEWAY_API_KEYS", CONFIG_INT, "0", offsetof(gateway_config, api_keys), 0, 1,
     "1: API keys are accepted besides signed requests (local development only)"},
    {"HC_RESPONSE_KEY", CONFIG_STRING, "", offsetof(gateway_config, response_key_hex), 0, 1024,
     "hex DER (PKCS#8) of the P-256 or RSA private key that signs responses"},
    {"HC_WEBHOOK_ALLOW_HTTP", CONFIG_INT, "0", offsetof(gateway_config, webhook_allow_http), 0, 1,
     "1: callback URLs may be http:// (local development and tests)"},
    {"HC_WEBHOOK_ALLOW_PRIVATE", CONFIG_INT, "0", offsetof(gateway_config, webhook_allow_private),
     0, 1,
     "1: callbacks may reach loopback, private and link-local addresses (local development and "
     "tests)"},
    {"HC_WEBHOOK_BACKOFF_MS", CONFIG_INT, "1000", offsetof(gateway_config, webhook_backoff_ms), 10,
     600000, "delay before a failed callback's first retry, doubled each time (at most an hour)"},
    {"HC_WEBHOOK_TIMEOUT_MS", CONFIG_INT, "10000", offsetof(gateway_config, webhook_timeout_ms),
     100, 120000, "how long one callback may take"},
    {"HC_WEBHOOK_MAX_INFLIGHT", CONFIG_INT, "8", offsetof(gateway_config, webhook_max_inflight), 1,
     1000,
     "callbacks on their way to one client at once, from all gateways together; the client's "
     "others wait for one of them to end"},
    {"HC_GATEWAY_AUTH", CONFIG_INT, "1", offsetof(gateway_config, auth), 0, 1,
     "1: every call needs an API key; 0: open, for local development only"},
};

/*
 * Every effect here is an insert that a unique key makes a no-op when
 * repeated (a link, a delivery per subscription and event, a pending event),
 * so the routes are idempotent: no processed_events row each.
 */
static const bus_route gateway_consumes[] = {
    {TOPIC_DECLARATION, TYPE_DECLARATION_SUBMITTED, gateway_on_declaration_client, NULL,
     gateway_on_declaration_clients, 1},
    {TOPIC_CODE, TYPE_CODE_CHANGED, gateway_on_partner_event, NULL, gateway_on_partner_events, 1},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_ISSUED, gateway_on_partner_event, NULL,
     gateway_on_partner_events, 1},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_REVOKED, gateway_on_partner_event, NULL,
     gateway_on_partner_events, 1},
    {TOPIC_REVIEW_DECISION, TYPE_CORRECTION_DECIDED, gateway_on_partner_event, NULL,
     gateway_on_partner_events, 1},
    {TOPIC_EMPLOYER_APPLICATION, TYPE_EMPLOYER_APPLICATION_SUBMITTED, gateway_on_application_client,
     NULL, NULL, 1},
    {TOPIC_REVIEW_DECISION, TYPE_EMPLOYER_APPLICATION_DECIDED, gateway_on_application_decided, NULL,
     NULL, 1},
};

static int gateway_starting(void *app_, hc_err *err)
{
	gateway_app *app = app_;

	if (gateway_admission_start(app, err) != 0 || gateway_quota_sync_start(app, err) != 0 ||
	    gateway_response_key_load(app, err) != 0 ||
	    upstream_loop_start(&app->upstream, "services", 0, err) != 0 ||
	    upstream_loop_start(&app->callbacks_upstream, "callbacks",
	                        !app->cfg.webhook_allow_private, err) != 0 ||
	    cache_start(&app->clients, "clients", app->svc.cfg.database_url, app->svc.cfg.db_schema,
	                "hc_gateway_clients", 4096, err) != 0)
		return HC_ERR_FATAL;
	if (gateway_nonces_start(app, err) != 0)
		return HC_ERR_FATAL;
	return gateway_sender_start(app, err);
}

static void gateway_stopping(void *app_)
{
	gateway_app *app = app_;

	gateway_nonces_stop(app); /* lets every claimed request go on first */
	gateway_sender_stop(app);
	upstream_loop_stop(app->upstream); /* answers everything in flight first */
	upstream_loop_stop(app->callbacks_upstream);
	gateway_quota_sync_stop(app);
	gateway_admission_stop(app);
}

int main(int argc, char **argv)
{
	static gateway_app app = {.quotas = {.mu = PTHREAD_MUTEX_INITIALIZER},
	                          .keys = {.mu = PTHREAD_MUTEX_INITIALIZER},
	                          .nonces = {.b = BATCHER_INIT}};
	static http_route http_routes[NROUTES + 2];
	svc_spec spec = {
	    .name = "gateway",
	    .default_port = "8080",
	    /* its workers block on PostgreSQL for nonces and cache misses: with 4, a signed
	     * burst held the refusals of every connection behind them (docs/ARCHITECTURE.md) */
	    .default_threads = "16",
	    .migrations = gateway_migrations,
	    .nmigrations = gateway_migrations_count,
	    .statements = gateway_statements,
	    .routes = http_routes,
	    .nroutes = NROUTES + 2, /* the table's routes, then the gateway's own two */
	    .vars = gateway_vars,
	    .nvars = sizeof(gateway_vars) / sizeof(gateway_vars[0]),
	    .consumes = gateway_consumes,
	    .nconsumes = sizeof(gateway_consumes) / sizeof(gateway_consumes[0]),
	    .starting = gateway_starting,
	    .stopping = gateway_stopping,
	};
	hc_err err;
	size_t i;
	int rc;

	for (i = 0; i < NROUTES; i++) {
		http_routes[i].method = gateway_routes[i].method;
		http_routes[i].pattern = gateway_routes[i].pattern;
		http_routes[i].fn = gateway_handle;
	}
	app.shed = metrics_counter("hc_gateway_shed_total", "route=\"ordinary\"",
	                           "requests refused at once because the gateway was at capacity");
	app.shed_priority = metrics_counter("hc_gateway_shed_total", "route=\"priority\"",
	                                    "requests refused at once because the gateway was at "
	                                    "capacity");
	app.quota_syncs = metrics_counter("hc_gateway_quota_syncs_total", "",
	                                  "times the quotas were shared with the other gateways");
	app.quota_shared =
	    metrics_counter("hc_gateway_quota_shared_total", "",
	                    "requests the other gateways admitted that this one took "
	                    "out of its clients' buckets");
	app.admission_limit = metrics_gauge("hc_gateway_admission_limit", "",
	                                    "requests the gateway admits at once now (adaptive)");
	app.cpu_lag = metrics_gauge("hc_gateway_cpu_lag_microseconds", "",
	                            "how late the admission probe woke, on average over the last "
	                            "tenth of a second: the gateway's wait for CPU");
	http_routes[NROUTES] = (http_route){"GET", "/openapi.json", gateway_get_openapi};
	http_routes[NROUTES + 1] =
	    (http_route){"GET", "/.well-known/hc-response-key", gateway_get_response_key};
	app.routes = gateway_routes;
	app.http_routes = http_routes;
	if (argc > 1 && strcmp(argv[1], "routes") == 0)
		return gateway_print_routes(gateway_routes, NROUTES);
	if (argc > 1 && strcmp(argv[1], "client") == 0)
		return gateway_admin(argc, argv, &spec, &app.cfg);
	if (upstream_global_init(&err) != 0) {
		fprintf(stderr, "hc-gateway: %s\n", err.msg);
		return 1;
	}
	rc = svc_main(argc, argv, &spec, &app, &app.cfg);
	upstream_loop_free(app.upstream);
	upstream_loop_free(app.callbacks_upstream);
	cache_free(app.clients);
	gateway_keys_free(&app.keys);
	EVP_PKEY_free(app.response_key);
	upstream_global_cleanup();
	return rc;
}
