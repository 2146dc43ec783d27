/*
 * Certificate status as codegen sees it, a projection (see
 * common/svc/projection.h): which certificates of a person are valid
 * follows from the certificate topic alone.  The consumer applies it before
 * deciding whether a pass changes the person's code; hc-replay project
 * codegen.certificates rebuilds it.
 */
#include <string.h>

#include "common/event/catalog.h"
#include "common/event/checks.h"
#include "services/codegen/projection.h"

static const db_stmt certificate_statements[] = {
    /* revoked is final: an issued event arriving after its revocation changes nothing */
    {"codegen_proj_certificate",
     "INSERT INTO certificates (certificate_id, person_key, status) VALUES ($1, $2, $3)"
     " ON CONFLICT (certificate_id) DO UPDATE SET status = CASE"
     " WHEN certificates.status = 'revoked' THEN 'revoked' ELSE EXCLUDED.status END",
     3},
    {NULL, NULL, 0},
};

int codegen_certificates_apply(db_conn *tx, const cloudevent *ev, hc_err *err)
{
	int revoked = strcmp(ev->type, TYPE_CERTIFICATE_REVOKED) == 0;

	if (!revoked && strcmp(ev->type, TYPE_CERTIFICATE_ISSUED) != 0)
		return 0;
	if (event_check_certificate(ev->data, err) != 0)
		return HC_ERR_PERMANENT;
	{
		const char *params[3] = {
		    json_string_value(json_object_get(ev->data, "certificate_id")),
		    json_string_value(json_object_get(ev->data, "person_key")),
		    revoked ? "revoked" : "valid"};

		return db_run(tx, "codegen_proj_certificate", 3, params, NULL, err);
	}
}

static const char *const certificate_tables[] = {"certificates", NULL};
static const char *const certificate_topics[] = {TOPIC_CERTIFICATE, NULL};

const projection codegen_certificates_projection = {
    .name = "codegen.certificates",
    .schema = "codegen",
    .tables = certificate_tables,
    .topics = certificate_topics,
    .statements = certificate_statements,
    .configure = NULL,
    .apply = codegen_certificates_apply,
};
