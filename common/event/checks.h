/*
 * Checks of event data that more than one consumer reads.  Each returns 0,
 * or HC_ERR_PERMANENT naming the field (the record is then dead-lettered).
 */
#ifndef HC_EVENT_CHECKS_H
#define HC_EVENT_CHECKS_H

#include <jansson.h>

#include "common/base/err.h"

/* hc.matching.assessment.completed.v1 */
int event_check_assessment(json_t *data, hc_err *err);

/* hc.certificate.certificate.issued.v1 and .revoked.v1 */
int event_check_certificate(json_t *data, hc_err *err);

#endif
