/* hc-intake: wiring only; see app.h for what the service does. */
#include <stddef.h>

#include "common/event/catalog.h"
#include "services/intake/app.h"
#include "services/intake/store.h"

extern const db_migration intake_migrations[];
extern const size_t intake_migrations_count;

static const http_route intake_routes[] = {
    {"POST", "/v1/employer-applications", intake_post_employer_applications},
    {"GET", "/v1/employer-applications/{id}", intake_get_employer_application},
    {"POST", "/v1/declarations", intake_post_declarations},
    {"GET", "/v1/declarations/{id}", intake_get_declaration},
    {"POST", "/v1/check-ins", intake_post_checkins},
    {"POST", "/v1/corrections", intake_post_corrections},
    {"GET", "/v1/corrections/{id}", intake_get_correction},
};

static const bus_route intake_consumes[] = {
    {TOPIC_REVIEW_DECISION, TYPE_EMPLOYER_APPLICATION_DECIDED,
     intake_on_employer_application_decided, NULL, NULL, 0},
    {TOPIC_REVIEW_DECISION, TYPE_CORRECTION_DECIDED, intake_on_correction_decided, NULL, NULL, 0},
};

static const config_var intake_vars[] = {
    {"HC_PII_KEY", CONFIG_KEY32, NULL, offsetof(intake_config, pii_key), 0, 0,
     "AES-256-GCM key sealing personal data, 64 hex characters"},
    {"HC_PERSON_KEY_SECRET", CONFIG_KEY32, NULL, offsetof(intake_config, person_key_secret), 0, 0,
     "HMAC-SHA256 secret deriving person keys, 64 hex characters"},
};

static int intake_starting(void *app, hc_err *err)
{
	return intake_declarations_start(app, err);
}

static void intake_stopping(void *app)
{
	intake_declarations_stop(app);
}

int main(int argc, char **argv)
{
	static intake_app app = {.declarations = BATCHER_INIT};
	svc_spec spec = {
	    .name = "intake",
	    .default_port = "8081",
	    .migrations = intake_migrations,
	    .nmigrations = intake_migrations_count,
	    .statements = intake_statements,
	    .routes = intake_routes,
	    .nroutes = sizeof(intake_routes) / sizeof(intake_routes[0]),
	    .consumes = intake_consumes,
	    .nconsumes = sizeof(intake_consumes) / sizeof(intake_consumes[0]),
	    .vars = intake_vars,
	    .nvars = sizeof(intake_vars) / sizeof(intake_vars[0]),
	    .starting = intake_starting,
	    .stopping = intake_stopping,
	};

	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
