/*
 * matching: the big-data platform.  Holds reference records from the
 * health data sources (imported by command or over HTTP; ID numbers become
 * person keys at once and are never stored), the colour rules as versioned
 * data, and an assessment for every declaration and check-in: colour, rule
 * and version, evidence.  New records re-assess only the people they touch:
 * the person a record names, or the residents and recent travellers of a
 * county whose risk level changed.
 */
#ifndef HC_MATCHING_APP_H
#define HC_MATCHING_APP_H

#include "common/event/cloudevent.h"
#include "common/svc/svc.h"

typedef struct matching_config {
	unsigned char person_key_secret[32]; /* HC_PERSON_KEY_SECRET */
	long reassess_sync_max;              /* HC_REASSESS_SYNC_MAX */
	long reassess_workers;               /* HC_REASSESS_WORKERS */
} matching_config;

typedef struct matching_reassessor matching_reassessor;

typedef struct matching_app {
	svc svc; /* first: the runtime casts the app to its svc */
	matching_config cfg;
	matching_reassessor *reassessor; /* reassess.c */
} matching_app;

#define MATCHING_EVENT_SOURCE "/hc/matching"
#define MATCHING_BATCH_MAX    1000 /* records per HTTP request and per import transaction */

/* What caused an assessment. */
typedef struct matching_trigger {
	const char *kind;       /* declaration, checkin, import, checkpoint, correction, rule */
	const char *id;         /* its id */
	const char *source;     /* data source of the trigger, for the evidence of a green */
	const char *decided_by; /* "rules", or "correction:<county>,<city>" */
	int always;             /* publish even when the outcome did not change */
	const char *traceparent;
} matching_trigger;

/*
 * Assesses one person inside tx (assess.c): evaluates the rules in force
 * over the person's evidence, records the assessment and publishes
 * hc.matching.assessment.completed.v1, unless the outcome equals the latest
 * and the trigger does not ask for one always.  An unknown person (never
 * declared) is skipped: *published is 0.
 */
int matching_assess(db_conn *tx, const char *person_key, const matching_trigger *t, int *published,
                    hc_err *err);

/*
 * Assesses many people inside tx (assess.c), as matching_assess does each, a
 * chunk of MATCHING_ASSESS_CHUNK at a time: the chunk's people locked in key
 * order with one statement, their inputs read with one, their assessments
 * and events written with one each.  people: a JSON array of person keys,
 * sorted (so concurrent callers lock in one order); unknown people are
 * skipped.  Adds the assessments recorded to *published.
 */
#define MATCHING_ASSESS_CHUNK 500
int matching_assess_many(db_conn *tx, const json_t *people, const matching_trigger *t,
                         long *published, hc_err *err);
/* The same, person people[i] for the trigger ts[i]. */
int matching_assess_each(db_conn *tx, const json_t *people, const matching_trigger *const *ts,
                         long *published, hc_err *err);

/*
 * For a decided correction (assess.c): sets aside, for that person, every
 * record behind a colour other than green, so the next assessment is green
 * unless new records arrive.
 */
int matching_exclude_until_green(db_conn *tx, const char *person_key, const char *correction_id,
                                 hc_err *err);

/* What an import did: records stored, people re-assessed at once, people queued. */
typedef struct matching_import_counts {
	long inserted, reassessed, queued;
} matching_import_counts;

/*
 * Stores rows (parsed records, see record_parse) inside tx and re-assesses
 * everyone they touch (import.c): at once when they are at most sync_max,
 * else they are queued in tx for the re-assessment workers (reassess.c), so
 * that a county of a hundred thousand people is not one long transaction
 * and codegen starts on the first chunk.  Adds to *c.
 */
int matching_import_rows(db_conn *tx, json_t *rows, const char *traceparent, long sync_max,
                         matching_import_counts *c, hc_err *err);

/*
 * The re-assessment workers (reassess.c): HC_REASSESS_WORKERS threads (2),
 * each with its own connection at background priority, take the queue a
 * chunk at a time (SKIP LOCKED, so they never wait for each other) and
 * re-assess it, deleting the chunk in the transaction that writes its
 * assessments.  Woken by the queue's NOTIFY, polled every second as well.
 */
#define MATCHING_REASSESS_WORKERS_MAX 8
int matching_reassessor_start(matching_app *app, hc_err *err);
void matching_reassessor_stop(matching_app *app);

/* `hc-matching import [--format csv|ndjson] FILE...` (import.c). */
int matching_import_command(int argc, char **argv, const svc_spec *spec, matching_config *cfg);

/* Consumed events (events.c). */
int matching_on_declaration(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/* A run of declarations at once, as matching_on_declaration on each in turn (bus_route.many). */
int matching_on_declarations(void *app, db_conn *tx, const cloudevent *evs, size_t n, hc_err *err);
int matching_on_checkin(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
int matching_on_scan(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);
/* Only a scan with fever changes anything: the others are skipped without a transaction. */
int matching_wants_scan(const cloudevent *ev, hc_err *err);
int matching_on_correction_decided(void *app, db_conn *tx, const cloudevent *ev, hc_err *err);

/* Routes (routes.c). */
void matching_post_records(void *app, http_req *req);
void matching_get_assessments(void *app, http_req *req);
void matching_get_rules(void *app, http_req *req);
void matching_get_rule(void *app, http_req *req);
void matching_post_rule(void *app, http_req *req);

#endif
