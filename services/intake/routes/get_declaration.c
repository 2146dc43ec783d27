/*
 * GET /v1/declarations/{id}: the state of a health-code application, with
 * no personal data: status, person key, masked name, county.  Scoped like
 * employer applications (a partner its own, a county its county's).
 */
#include "services/intake/app.h"
#include "services/intake/store.h"

void intake_get_declaration(void *app, http_req *req)
{
	intake_reply_scoped(app, req, intake_store_declaration_get);
}
