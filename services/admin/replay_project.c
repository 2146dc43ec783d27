/*
 * hc-replay project: rebuilds a projection from the log.
 *
 *   hc-replay project NAME --check     rebuild aside, compare with the live tables
 *   hc-replay project NAME --rebuild   rebuild aside, then replace the live content
 *   hc-replay project --list
 *
 * Connects as the owning service's role (HC_DATABASE_URL, as the service
 * itself is configured).  --check exits 0 when every table is identical to
 * its rebuild, 1 when not (the differing row counts and one sample are
 * printed).  Nothing is published and no service's offsets move; the live
 * service keeps consuming (a --rebuild holds its tables' write lock only for
 * the final catch-up and swap).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/admin/replay.h"
#include "services/analytics/projection.h"
#include "services/codegen/projection.h"
#include "services/review/projection.h"

static const projection *const registry[] = {
    &review_queue_projection,
    &codegen_certificates_projection,
    &analytics_facts_projection,
    &analytics_codes_projection,
    NULL,
};

int replay_project(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"check", no_argument, NULL, 'c'},
	    {"rebuild", no_argument, NULL, 'r'},
	    {"list", no_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	const projection *p = NULL;
	const char *url = getenv("HC_DATABASE_URL");
	bus_reader_config cfg;
	projection_report rep;
	int c, mode = 0, differs = 0, rc;
	hc_err err;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'l') {
			for (size_t i = 0; registry[i] != NULL; i++)
				printf("%s\n", registry[i]->name);
			return 0;
		}
		if (c != 'c' && c != 'r')
			return 2;
		mode = c;
	}
	if (optind + 1 != argc || mode == 0) {
		fprintf(stderr,
		        "usage: hc-replay project NAME --check|--rebuild (--list names them)\n");
		return 2;
	}
	for (size_t i = 0; registry[i] != NULL; i++)
		if (strcmp(registry[i]->name, argv[optind]) == 0)
			p = registry[i];
	if (p == NULL) {
		fprintf(stderr, "hc-replay: no projection %s (--list names them)\n", argv[optind]);
		return 2;
	}
	if (url == NULL || *url == '\0') {
		fprintf(stderr, "hc-replay: set HC_DATABASE_URL to the %s service's database URL\n",
		        p->schema);
		return 2;
	}
	replay_base_config(&cfg);
	replay_on_signals();
	hc_err_clear(&err);
	rc = projection_rebuild(p, url, &cfg, mode == 'r', replay_stop_flag(), &rep, &err);
	if (rc != 0) {
		fprintf(stderr, "hc-replay: %s: %s\n", p->name, err.msg);
		return 1;
	}
	printf("%s: %ld events applied, %ld refused, %ld undecodable%s\n", p->name, rep.events,
	       rep.refused, rep.undecodable, mode == 'r' ? "; live tables replaced" : "");
	for (size_t i = 0; i < rep.ntables; i++) {
		printf("  %-16s live %ld rows, rebuilt %ld rows, %ld differing\n",
		       rep.tables[i].table, rep.tables[i].live_rows, rep.tables[i].rebuilt_rows,
		       rep.tables[i].differing);
		differs |= rep.tables[i].differing != 0;
	}
	if (rep.sample[0] != '\0')
		printf("  e.g. %s\n", rep.sample);
	return differs ? 1 : 0;
}
