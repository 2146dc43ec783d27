/* Shared checks of event data; see checks.h. */
#include "common/event/checks.h"

#include "common/base/rand.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"

static const char *const colours[] = {"red", "yellow", "green", NULL};

static const jspec_field assessment_spec[] = {
    {"assessment_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"masked_name", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, NULL, NULL, NULL, 0},
    {"colour", JSPEC_STRING, 1, 3, 6, NULL, colours, NULL, 0},
    {"rule_id", JSPEC_STRING, 1, 1, 48, NULL, NULL, NULL, 0},
    {"rule_version", JSPEC_INTEGER, 1, 1, 1000000, NULL, NULL, NULL, 0},
    {"evidence", JSPEC_ARRAY, 1, 1, 1000, NULL, NULL, NULL, 0},
    {"decided_by", JSPEC_STRING, 1, 1, 160, NULL, NULL, NULL, 0},
    {"trigger", JSPEC_OBJECT, 1, 0, 0, NULL, NULL, NULL, 0},
    {"isolation_until", JSPEC_STRING, 0, 10, 10, NULL, NULL, NULL, 0},
    {"assessed_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
};

static const char *const cert_statuses[] = {"valid", "revoked", NULL};

static const jspec_field certificate_spec[] = {
    {"certificate_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"person_key", JSPEC_STRING, 1, 64, 64, person_key_check, NULL, NULL, 0},
    {"application_id", JSPEC_STRING, 1, 36, 36, hc_uuid_check, NULL, NULL, 0},
    {"county_code", JSPEC_STRING, 1, 6, 6, NULL, NULL, NULL, 0},
    {"status", JSPEC_STRING, 1, 5, 7, NULL, cert_statuses, NULL, 0},
    {"issued_at", JSPEC_STRING, 1, 20, 40, NULL, NULL, NULL, 0},
    {"revoked_at", JSPEC_STRING, 0, 20, 40, NULL, NULL, NULL, 0},
    {"revoke_reason", JSPEC_STRING, 0, 1, 200, NULL, NULL, NULL, 0},
};

int event_check_assessment(json_t *data, hc_err *err)
{
	return jspec_check_event(data, assessment_spec,
	                         sizeof(assessment_spec) / sizeof(assessment_spec[0]), "data",
	                         err) == 0
	           ? 0
	           : HC_ERR_PERMANENT;
}

int event_check_certificate(json_t *data, hc_err *err)
{
	return jspec_check_event(data, certificate_spec,
	                         sizeof(certificate_spec) / sizeof(certificate_spec[0]), "data",
	                         err) == 0
	           ? 0
	           : HC_ERR_PERMANENT;
}
