/*
 * A county headquarters' decision on an employer application: approve or
 * reject, always with a written opinion and the reviewer who made it.  The
 * rules, no I/O.
 */
#ifndef HC_REVIEW_DECISION_H
#define HC_REVIEW_DECISION_H

#include <jansson.h>

#include "common/base/err.h"

typedef struct review_decision {
	const char *status;   /* "approved" or "rejected" (from decision) */
	const char *opinion;  /* borrowed from the body */
	const char *reviewer; /* borrowed from the body */
} review_decision;

/*
 * Checks a decision body {decision: approve|reject, opinion, reviewer} and
 * fills d with strings borrowed from body.  Returns 0, or HC_ERR_PERMANENT
 * naming the field.
 */
int review_decision_parse(review_decision *d, json_t *body, hc_err *err);

/*
 * The data of the decided event.  application is the queue item as the
 * store returns it.  Returns a new reference.
 */
json_t *review_decision_event_data(json_t *item);

#endif
