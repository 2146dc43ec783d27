/* hc-review: wiring only; see app.h for what the service does. */
#include <stddef.h>

#include "common/event/catalog.h"
#include "services/review/app.h"
#include "services/review/projection.h"
#include "services/review/store.h"

extern const db_migration review_migrations[];
extern const size_t review_migrations_count;

static const http_route review_routes[] = {
    {"GET", "/v1/counties/{county}/queue", review_get_county_queue},
    {"GET", "/v1/queue-items/{application_id}", review_get_queue_item},
    {"POST", "/v1/queue-items/{application_id}/decision", review_post_decision},
    {"GET", "/v1/counties/{county}/correction-reviews", review_get_county_corrections},
    {"GET", "/v1/correction-reviews/{id}", review_get_correction},
    {"POST", "/v1/correction-reviews/{id}/county-decision", review_post_correction_county},
    {"POST", "/v1/correction-reviews/{id}/city-decision", review_post_correction_city},
};

static const bus_route review_consumes[] = {
    {TOPIC_EMPLOYER_APPLICATION, TYPE_EMPLOYER_APPLICATION_SUBMITTED,
     review_on_employer_application_submitted, NULL, NULL, 0},
    {TOPIC_CORRECTION, TYPE_CORRECTION_FILED, review_on_correction_filed, NULL, NULL, 0},
};

static const config_var review_vars[] = {
    {"HC_REVIEW_DEADLINE_HOURS", CONFIG_INT, "24", offsetof(review_config, deadline_hours), 1, 720,
     "hours a county has to review an application"},
};

int main(int argc, char **argv)
{
	static review_app app;
	static const projection *const projections[] = {&review_queue_projection, NULL};
	svc_spec spec = {
	    .name = "review",
	    .default_port = "8082",
	    .migrations = review_migrations,
	    .nmigrations = review_migrations_count,
	    .statements = review_statements,
	    .routes = review_routes,
	    .nroutes = sizeof(review_routes) / sizeof(review_routes[0]),
	    .consumes = review_consumes,
	    .nconsumes = sizeof(review_consumes) / sizeof(review_consumes[0]),
	    .vars = review_vars,
	    .nvars = sizeof(review_vars) / sizeof(review_vars[0]),
	    .projections = projections,
	};

	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
