/* Every SQL statement of review, in one place (store.c), and the functions that run them. */
#ifndef HC_REVIEW_STORE_H
#define HC_REVIEW_STORE_H

#include <jansson.h>

#include "common/db/db.h"
#include "services/review/domain/decision.h"

extern const db_stmt review_statements[];

typedef struct review_queue_query {
	const char *county;
	const char *status; /* NULL: any */
	int overdue_only;
	const char *after; /* application id cursor, or NULL */
	int limit;
} review_queue_query;

/* Lists a county's queue in submission order; *out is a new JSON array. */
int review_store_queue_list(db_conn *conn, const review_queue_query *q, json_t **out, hc_err *err);

/*
 * One queue item; when county is set, only an item of that county.
 * HC_ERR_NOT_FOUND when absent or out of scope.
 */
int review_store_item_get(db_conn *conn, const char *application_id, const char *county,
                          json_t **out, hc_err *err);

/*
 * Records a decision on a pending item inside tx and returns the decided
 * item in *item (new reference).  When county is set, only an item of that
 * county.  HC_ERR_NOT_FOUND when there is no such item (in scope),
 * HC_ERR_CONFLICT when it was already decided.
 */
int review_store_decide(db_conn *tx, const char *application_id, const char *county,
                        const char *status, const char *opinion, const char *reviewer,
                        json_t **item, hc_err *err);

/* A county's correction requests (status may be NULL: any), oldest first. */
int review_store_correction_list(db_conn *conn, const char *county, const char *status,
                                 json_t **out, hc_err *err);

/*
 * One correction request; when scope (a county or city code) is set, only
 * one of that county or city.  HC_ERR_NOT_FOUND otherwise.
 */
int review_store_correction_get(db_conn *conn, const char *id, const char *scope, json_t **out,
                                hc_err *err);

/*
 * Records the county's (stage "county") or the city's (stage "city")
 * decision inside tx and returns the request in *out.  HC_ERR_NOT_FOUND out
 * of scope; HC_ERR_CONFLICT when the stage is not due, was decided, or the
 * city reviewer is the county's.
 */
int review_store_correction_decide(db_conn *tx, const char *id, const char *stage,
                                   const char *scope, const review_decision *d, json_t **out,
                                   hc_err *err);

#endif
