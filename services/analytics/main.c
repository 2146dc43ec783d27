/* hc-analytics: wiring only; see app.h for what the service does. */
#include <stddef.h>

#include "common/event/catalog.h"
#include "services/analytics/app.h"
#include "services/analytics/projection.h"

extern const db_migration analytics_migrations[];
extern const size_t analytics_migrations_count;

static const http_route analytics_routes[] = {
    {"GET", "/v1/analytics/daily", analytics_get_daily},
    {"GET", "/v1/analytics/people/{person_key}/as-of", analytics_get_as_of},
};

static const bus_route analytics_consumes[] = {
    {TOPIC_DECLARATION, TYPE_DECLARATION_SUBMITTED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_DECLARATION, TYPE_CHECKIN_SUBMITTED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_CODE, TYPE_CODE_CHANGED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_ISSUED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_CERTIFICATE, TYPE_CERTIFICATE_REVOKED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_REVIEW_DECISION, TYPE_EMPLOYER_APPLICATION_DECIDED, analytics_on_event, NULL, NULL, 0},
    {TOPIC_SCAN, TYPE_SCAN_RECORDED, analytics_on_event, NULL, NULL, 0},
};

static const config_var analytics_vars[] = {
    {"HC_ANALYTICS_TZ", CONFIG_STRING, "Asia/Shanghai", offsetof(analytics_config, tz), 1, 63,
     "the time zone whose days the daily figures count"},
};

int main(int argc, char **argv)
{
	static analytics_app app;
	static const projection *const projections[] = {&analytics_facts_projection,
	                                                &analytics_codes_projection, NULL};
	svc_spec spec = {
	    .name = "analytics",
	    .default_port = "8086",
	    .migrations = analytics_migrations,
	    .nmigrations = analytics_migrations_count,
	    .statements = analytics_statements,
	    .routes = analytics_routes,
	    .nroutes = sizeof(analytics_routes) / sizeof(analytics_routes[0]),
	    .consumes = analytics_consumes,
	    .nconsumes = sizeof(analytics_consumes) / sizeof(analytics_consumes[0]),
	    .vars = analytics_vars,
	    .nvars = sizeof(analytics_vars) / sizeof(analytics_vars[0]),
	    .projections = projections,
	};

	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
