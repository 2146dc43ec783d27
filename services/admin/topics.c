/*
 * hc-topics: creates or deletes the platform's topics from a topics file
 * (deploy/topics.txt: "name partitions" per line), each with its .dlq twin.
 *
 *   hc-topics create|delete BROKERS FILE [PREFIX] [REPLICATION]
 *   hc-topics delete-records BROKERS TOPIC PARTITION [BEFORE-OFFSET]
 *
 * delete-records drops a partition's records before an offset (all of them
 * without one), as retention does when they age: consumers' records of
 * what they processed follow the log's new start.
 *
 * Auto-create is off on our brokers, so topics exist only through this tool.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/bus/bus.h"

#define TOPICS_MAX 256

int main(int argc, char **argv)
{
	static char names[TOPICS_MAX][256];
	const char *ptrs[TOPICS_MAX];
	int parts[TOPICS_MAX];
	const char *prefix = argc > 4 ? argv[4] : "";
	int replication = argc > 5 ? atoi(argv[5]) : 1;
	char line[512];
	size_t n = 0;
	FILE *f;
	hc_err err;
	int rc;

	if (argc >= 5 && strcmp(argv[1], "delete-records") == 0) {
		hc_err_clear(&err);
		if (bus_records_delete(argv[2], argv[3], atoi(argv[4]),
		                       argc > 5 ? atoll(argv[5]) : -1, &err) != 0) {
			fprintf(stderr, "hc-topics: %s\n", err.msg);
			return 1;
		}
		return 0;
	}
	if (argc < 4 || (strcmp(argv[1], "create") != 0 && strcmp(argv[1], "delete") != 0)) {
		fprintf(
		    stderr,
		    "usage: hc-topics create|delete BROKERS FILE [PREFIX] [REPLICATION]\n"
		    "       hc-topics delete-records BROKERS TOPIC PARTITION [BEFORE-OFFSET]\n");
		return 2;
	}
	f = fopen(argv[3], "r");
	if (f == NULL) {
		fprintf(stderr, "hc-topics: could not open %s\n", argv[3]);
		return 1;
	}
	while (fgets(line, sizeof(line), f) != NULL && n + 2 <= TOPICS_MAX) {
		char name[200];
		int p;

		if (line[0] == '#' || sscanf(line, "%199s %d", name, &p) != 2)
			continue;
		if (p < 1 || p > 1000) {
			fprintf(stderr, "hc-topics: bad partition count for %s\n", name);
			fclose(f);
			return 1;
		}
		snprintf(names[n], sizeof(names[n]), "%s%s", prefix, name);
		parts[n++] = p;
		snprintf(names[n], sizeof(names[n]), "%s%s.dlq", prefix, name);
		parts[n++] = p;
	}
	fclose(f);
	for (size_t i = 0; i < n; i++)
		ptrs[i] = names[i];
	hc_err_clear(&err);
	if (strcmp(argv[1], "create") == 0)
		rc = bus_topics_create(argv[2], ptrs, parts, n, replication, &err);
	else
		rc = bus_topics_delete(argv[2], ptrs, n, &err);
	if (rc != 0) {
		fprintf(stderr, "hc-topics: %s\n", err.msg);
		return 1;
	}
	return 0;
}
