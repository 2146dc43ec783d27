/* Object-level scope of intake's reads; see app.h. */
#include <string.h>

#include "services/intake/app.h"

const char *intake_partner_scope(const http_principal *p)
{
	return p->role != NULL && strcmp(p->role, "partner") == 0 ? p->client : NULL;
}
