/* hc-gateway: wiring only; see app.h for what the service does. */
#include <stddef.h>
#include <stdio.h>

#include "common/log/log.h"
#include "common/upstream/upstream.h"
#include "services/gateway/app.h"

extern const db_migration gateway_migrations[];
extern const size_t gateway_migrations_count;

/* The public API: every route and the service that owns it. */
static const http_route gateway_routes[] = {
    {"POST", "/v1/employer-applications", gateway_to_intake},
    {"GET", "/v1/employer-applications/{id}", gateway_to_intake},
    {"GET", "/v1/counties/{county}/queue", gateway_to_review},
    {"GET", "/v1/queue-items/{application_id}", gateway_to_review},
    {"POST", "/v1/queue-items/{application_id}/decision", gateway_to_review},
};

static const db_stmt gateway_statements[] = {{NULL, NULL, 0}};

static const config_var gateway_vars[] = {
    {"HC_INTAKE_URL", CONFIG_STRING, "http://127.0.0.1:8081", offsetof(gateway_config, intake_url),
     8, 256, "internal base URL of intake"},
    {"HC_REVIEW_URL", CONFIG_STRING, "http://127.0.0.1:8082", offsetof(gateway_config, review_url),
     8, 256, "internal base URL of review"},
    {"HC_UPSTREAM_TIMEOUT_MS", CONFIG_INT, "5000", offsetof(gateway_config, timeout_ms), 100,
     120000, "how long the gateway waits for a service's answer"},
};

int main(int argc, char **argv)
{
	static gateway_app app;
	svc_spec spec = {
	    .name = "gateway",
	    .default_port = "8080",
	    .migrations = gateway_migrations,
	    .nmigrations = gateway_migrations_count,
	    .statements = gateway_statements,
	    .routes = gateway_routes,
	    .nroutes = sizeof(gateway_routes) / sizeof(gateway_routes[0]),
	    .vars = gateway_vars,
	    .nvars = sizeof(gateway_vars) / sizeof(gateway_vars[0]),
	};
	hc_err err;
	int rc;

	if (upstream_global_init(&err) != 0) {
		fprintf(stderr, "hc-gateway: %s\n", err.msg);
		return 1;
	}
	rc = svc_main(argc, argv, &spec, &app, &app.cfg);
	upstream_global_cleanup();
	return rc;
}
