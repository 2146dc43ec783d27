/* review's projection: the county queues (projection.c). */
#ifndef HC_REVIEW_PROJECTION_H
#define HC_REVIEW_PROJECTION_H

#include "common/svc/projection.h"

extern const projection review_queue_projection;

/* Applies one event to the queues inside tx (the projection's apply). */
int review_queue_apply(db_conn *tx, const cloudevent *ev, hc_err *err);

#endif
