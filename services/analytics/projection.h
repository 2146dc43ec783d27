/* analytics' projections (projection.c): daily facts, code history and current codes. */
#ifndef HC_ANALYTICS_PROJECTION_H
#define HC_ANALYTICS_PROJECTION_H

#include "common/svc/projection.h"

extern const projection analytics_facts_projection;
extern const projection analytics_codes_projection;

/* The projections' apply functions, for the consumer. */
int analytics_facts_apply(db_conn *tx, const cloudevent *ev, hc_err *err);
int analytics_codes_apply(db_conn *tx, const cloudevent *ev, hc_err *err);

#endif
