/* hc-codegen: wiring only; see app.h for what the service does. */
#include <stddef.h>

#include "common/event/catalog.h"
#include "services/codegen/app.h"

extern const db_migration codegen_migrations[];
extern const size_t codegen_migrations_count;
extern const db_stmt codegen_statements[];

static const http_route codegen_routes[] = {
    {"GET", "/v1/codes/{person_key}", codegen_get_code},
    {"GET", "/v1/codes/{person_key}/history", codegen_get_history},
    {"POST", "/v1/scans", codegen_post_scan},
};

static const bus_route codegen_consumes[] = {
    {TOPIC_ASSESSMENT, TYPE_ASSESSMENT_COMPLETED, codegen_on_assessment},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_ISSUED, codegen_on_certificate},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_REVOKED, codegen_on_certificate},
};

int main(int argc, char **argv)
{
	static codegen_app app;
	svc_spec spec = {
	    .name = "codegen",
	    .default_port = "8085",
	    .migrations = codegen_migrations,
	    .nmigrations = codegen_migrations_count,
	    .statements = codegen_statements,
	    .routes = codegen_routes,
	    .nroutes = sizeof(codegen_routes) / sizeof(codegen_routes[0]),
	    .consumes = codegen_consumes,
	    .nconsumes = sizeof(codegen_consumes) / sizeof(codegen_consumes[0]),
	};

	return svc_main(argc, argv, &spec, &app, NULL);
}
