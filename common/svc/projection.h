/*
 * Projections: tables whose whole content follows from events on the log.
 *
 * A projection names its tables, the topics it reads, its statements and
 * one apply function.  The owning service calls apply from its consumer
 * (inside the consumer's transaction, like any handler); hc-replay calls the
 * same function to rebuild the tables from the log (projection_rebuild).
 * apply must be deterministic in the event alone (its data, id and log_ms)
 * and idempotent: applying an event again, or an older event after a newer
 * one of the same key, changes nothing.  That lets a rebuild catch up while
 * the service keeps consuming.
 */
#ifndef HC_SVC_PROJECTION_H
#define HC_SVC_PROJECTION_H

#include <signal.h>
#include <stddef.h>

#include "common/base/err.h"
#include "common/bus/bus.h"
#include "common/db/db.h"
#include "common/event/cloudevent.h"

typedef struct projection {
	const char *name;          /* "review.queue" */
	const char *schema;        /* the owning service's schema */
	const char *const *tables; /* NULL-terminated; rebuilt in this order */
	const char *const *topics; /* NULL-terminated; unprefixed */
	const db_stmt *statements; /* what apply runs; NULL-terminated */
	/* may be NULL: reads the projection's settings (environment, defaults as the service's) */
	void (*configure)(void);
	/* applies ev inside tx: 0, HC_ERR_PERMANENT/CONFLICT (the event is refused), or transient
	 */
	int (*apply)(db_conn *tx, const cloudevent *ev, hc_err *err);
} projection;

typedef struct projection_table_report {
	char table[64];
	long live_rows;
	long rebuilt_rows;
	long differing; /* rows in one and not the other, both ways */
} projection_table_report;

typedef struct projection_report {
	long events;  /* records applied */
	long refused; /* records apply refused (the live consumer dead-letters them) */
	long undecodable;
	projection_table_report tables[8];
	size_t ntables;
	char sample[1024]; /* a differing row, as JSON, when there is one */
} projection_report;

/*
 * Rebuilds p's tables from the log into temporary twins (same columns,
 * constraints and indexes) over a connection to db_url, then compares them
 * with the live tables (rep).  With swap, the live tables are locked against
 * writers, the records that arrived meanwhile are applied too, and the live
 * tables' content is replaced by the rebuilt one in one transaction.
 * reader supplies brokers and prefix.  Returns 0 or an error kind.
 */
int projection_rebuild(const projection *p, const char *db_url, const bus_reader_config *reader,
                       int swap, volatile sig_atomic_t *stop, projection_report *rep, hc_err *err);

#endif
