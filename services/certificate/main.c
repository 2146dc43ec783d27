/* hc-certificate: wiring only; see app.h for what the service does. */
#include <stddef.h>

#include "common/event/catalog.h"
#include "services/certificate/app.h"

extern const db_migration certificate_migrations[];
extern const size_t certificate_migrations_count;
extern const db_stmt certificate_statements[];

static const http_route certificate_routes[] = {
    {"POST", "/v1/vehicle-passes", certificate_post_vehicle_pass},
    {"GET", "/v1/vehicle-passes/{id}", certificate_get_vehicle_pass},
    {"GET", "/v1/people/{person_key}/certificates", certificate_get_person_certificates},
};

static const bus_route certificate_consumes[] = {
    {TOPIC_EMPLOYER_APPLICATION, TYPE_EMPLOYER_APPLICATION_SUBMITTED,
     certificate_on_application_submitted, NULL, NULL, 0},
    {TOPIC_REVIEW_DECISION, TYPE_EMPLOYER_APPLICATION_DECIDED, certificate_on_application_decided,
     NULL, NULL, 0},
    {TOPIC_ASSESSMENT, TYPE_ASSESSMENT_COMPLETED, certificate_on_assessment, NULL, NULL, 0},
    {TOPIC_DECLARATION, TYPE_DECLARATION_SUBMITTED, svc_on_declaration_client, NULL,
     svc_on_declaration_clients, 1}, /* idempotent: a link, inserted once */
};

static const config_var certificate_vars[] = {
    {"HC_PERSON_KEY_SECRET", CONFIG_KEY32, NULL, offsetof(certificate_config, person_key_secret), 0,
     0, "HMAC-SHA256 secret deriving person keys, 64 hex characters"},
};

int main(int argc, char **argv)
{
	static certificate_app app;
	svc_spec spec = {
	    .name = "certificate",
	    .default_port = "8084",
	    .migrations = certificate_migrations,
	    .nmigrations = certificate_migrations_count,
	    .statements = certificate_statements,
	    .routes = certificate_routes,
	    .nroutes = sizeof(certificate_routes) / sizeof(certificate_routes[0]),
	    .consumes = certificate_consumes,
	    .nconsumes = sizeof(certificate_consumes) / sizeof(certificate_consumes[0]),
	    .vars = certificate_vars,
	    .nvars = sizeof(certificate_vars) / sizeof(certificate_vars[0]),
	};

	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
