/*
 * GET /v1/employer-applications/{id}: the application as its employer and
 * county see it, with workers shown by masked name and person key only.  A
 * partner app sees only applications it submitted, a county system only its
 * county's; anything else is 404, so existence is not revealed.
 */
#include "services/intake/app.h"
#include "services/intake/store.h"

void intake_get_employer_application(void *app, http_req *req)
{
	intake_reply_scoped(app, req, intake_store_application_get);
}
