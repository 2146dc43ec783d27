/* hc-matching: wiring only; see app.h for what the service does. */
#include <stddef.h>
#include <string.h>

#include "common/event/catalog.h"
#include "services/matching/app.h"
#include "services/matching/store.h"

extern const db_migration matching_migrations[];
extern const size_t matching_migrations_count;

static const http_route matching_routes[] = {
    {"POST", "/v1/reference-records", matching_post_records},
    {"GET", "/v1/people/{person_key}/assessments", matching_get_assessments},
    {"GET", "/v1/rules", matching_get_rules},
    {"GET", "/v1/rules/{rule_id}", matching_get_rule},
    {"POST", "/v1/rules", matching_post_rule},
};

static const bus_route matching_consumes[] = {
    {TOPIC_DECLARATION, TYPE_DECLARATION_SUBMITTED, matching_on_declaration, NULL,
     matching_on_declarations, 0},
    {TOPIC_DECLARATION, TYPE_CHECKIN_SUBMITTED, matching_on_checkin, NULL, NULL, 0},
    {TOPIC_SCAN, TYPE_SCAN_RECORDED, matching_on_scan, matching_wants_scan, NULL, 0},
    {TOPIC_REVIEW_DECISION, TYPE_CORRECTION_DECIDED, matching_on_correction_decided, NULL, NULL, 0},
};

static const config_var matching_vars[] = {
    {"HC_PERSON_KEY_SECRET", CONFIG_KEY32, NULL, offsetof(matching_config, person_key_secret), 0, 0,
     "HMAC-SHA256 secret deriving person keys, 64 hex characters"},
    {"HC_REASSESS_SYNC_MAX", CONFIG_INT, "500", offsetof(matching_config, reassess_sync_max), 0,
     10000000,
     "people an imported batch re-assesses in its own transaction; more are queued for the "
     "re-assessment workers"},
    {"HC_REASSESS_WORKERS", CONFIG_INT, "2", offsetof(matching_config, reassess_workers), 1,
     MATCHING_REASSESS_WORKERS_MAX,
     "threads re-assessing the queue of people touched by large records, each with its own "
     "database connection"},
};

static int matching_starting(void *app, hc_err *err)
{
	return matching_reassessor_start(app, err);
}

static void matching_stopping(void *app)
{
	matching_reassessor_stop(app);
}

int main(int argc, char **argv)
{
	static matching_app app;
	svc_spec spec = {
	    .name = "matching",
	    .default_port = "8083",
	    .migrations = matching_migrations,
	    .nmigrations = matching_migrations_count,
	    .statements = matching_statements,
	    .routes = matching_routes,
	    .nroutes = sizeof(matching_routes) / sizeof(matching_routes[0]),
	    .consumes = matching_consumes,
	    .nconsumes = sizeof(matching_consumes) / sizeof(matching_consumes[0]),
	    .vars = matching_vars,
	    .nvars = sizeof(matching_vars) / sizeof(matching_vars[0]),
	    .starting = matching_starting,
	    .stopping = matching_stopping,
	};

	if (argc > 1 && strcmp(argv[1], "import") == 0)
		return matching_import_command(argc, argv, &spec, &app.cfg);
	return svc_main(argc, argv, &spec, &app, &app.cfg);
}
