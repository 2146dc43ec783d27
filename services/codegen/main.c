/* hc-codegen: wiring only; see app.h for what the service does. */
#include <stddef.h>
#include <string.h>

#include "common/event/catalog.h"
#include "services/codegen/app.h"
#include "services/codegen/projection.h"

extern const db_migration codegen_migrations[];
extern const size_t codegen_migrations_count;
extern const db_stmt codegen_statements[];

static const http_route codegen_routes[] = {
    {"GET", "/v1/codes/{person_key}", codegen_get_code},
    {"GET", "/v1/codes/{person_key}/history", codegen_get_history},
    {"POST", "/v1/scans", codegen_post_scan},
    {"GET", "/v1/codes/{person_key}/token", codegen_get_token},
    {"GET", "/v1/codes/{person_key}/qr.png", codegen_get_qr_png},
    {"GET", "/v1/codes/{person_key}/qr.svg", codegen_get_qr_svg},
    {"POST", "/v1/verifications", codegen_post_verification},
    {"GET", "/.well-known/jwks.json", codegen_get_jwks},
    {"GET", "/v1/keys/signed-list", codegen_get_key_list},
};

static const config_var codegen_vars[] = {
    {"HC_CODE_KEY_SECRET", CONFIG_KEY32, NULL, offsetof(codegen_config, code_key_secret), 0, 0,
     "AES-256-GCM key sealing the signing keys, 64 hex characters"},
    {"HC_TOKEN_TTL_S", CONFIG_INT, "300", offsetof(codegen_config, token_ttl_s), 5, 3600,
     "lifetime of a code's token in seconds (a screenshot is useless after it)"},
    {"HC_TOKEN_ISSUER", CONFIG_STRING, "HC", offsetof(codegen_config, issuer), 1, 31,
     "the iss claim of every token"},
};

static const bus_route codegen_consumes[] = {
    {TOPIC_ASSESSMENT, TYPE_ASSESSMENT_COMPLETED, codegen_on_assessment, NULL,
     codegen_on_assessments, 0},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_ISSUED, codegen_on_certificate, NULL, NULL, 0},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_REVOKED, codegen_on_certificate, NULL, NULL, 0},
    {TOPIC_DECLARATION, TYPE_DECLARATION_SUBMITTED, svc_on_declaration_client, NULL,
     svc_on_declaration_clients, 1}, /* idempotent: a link, inserted once */
};

static int codegen_starting(void *app_, hc_err *err)
{
	codegen_app *app = app_;

	return verifier_start(&app->verifier, &app->svc, err);
}

static void codegen_stopping(void *app)
{
	verifier_stop(&((codegen_app *)app)->verifier);
}

int main(int argc, char **argv)
{
	static codegen_app app = {.keys = {.mu = PTHREAD_MUTEX_INITIALIZER},
	                          .verifier = {.b = BATCHER_INIT}};
	static const projection *const projections[] = {&codegen_certificates_projection, NULL};
	svc_spec spec = {
	    .name = "codegen",
	    .default_port = "8085",
	    /*
	     * Two consumer threads: codegen writes a code version for every
	     * assessment, and one thread (waiting on PostgreSQL half the time)
	     * fell 20 s behind matching's two workers when 100,000 people were
	     * re-assessed (docs/BENCHMARKS.md)
	     */
	    .default_consumers = "2",
	    .migrations = codegen_migrations,
	    .nmigrations = codegen_migrations_count,
	    .statements = codegen_statements,
	    .routes = codegen_routes,
	    .nroutes = sizeof(codegen_routes) / sizeof(codegen_routes[0]),
	    .consumes = codegen_consumes,
	    .nconsumes = sizeof(codegen_consumes) / sizeof(codegen_consumes[0]),
	    .vars = codegen_vars,
	    .nvars = sizeof(codegen_vars) / sizeof(codegen_vars[0]),
	    .starting = codegen_starting,
	    .stopping = codegen_stopping,
	    .projections = projections,
	};

	app.keys.secret = app.cfg.code_key_secret; /* filled when the settings load */
	if (argc > 1 && strcmp(argv[1], "keys") == 0)
		return codegen_keys_command(argc, argv, &spec, &app.cfg, app.cfg.code_key_secret,
		                            &app.cfg.token_ttl_s);
	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
