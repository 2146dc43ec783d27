/*
 * County review queues: what a submitted application must carry to enter a
 * queue, and when its review falls due.  No I/O.
 */
#ifndef HC_REVIEW_QUEUE_H
#define HC_REVIEW_QUEUE_H

#include <jansson.h>

#include "common/base/err.h"

/*
 * Checks the data of an employer-application submitted event.  Returns 0, or
 * HC_ERR_PERMANENT naming the field (the event is then dead-lettered).
 */
int queue_check_submitted(json_t *data, hc_err *err);

/* Allowed values of the status filter of a queue listing; NULL-terminated. */
extern const char *const queue_statuses[];

#endif
