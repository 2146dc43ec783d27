/* codegen's projection: certificate status (projection.c). */
#ifndef HC_CODEGEN_PROJECTION_H
#define HC_CODEGEN_PROJECTION_H

#include "common/svc/projection.h"

extern const projection codegen_certificates_projection;

/* Applies a certificate event inside tx (the projection's apply). */
int codegen_certificates_apply(db_conn *tx, const cloudevent *ev, hc_err *err);

#endif
