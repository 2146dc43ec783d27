/* County decisions on employer applications; see decision.h. */
#include "services/review/domain/decision.h"

#include <string.h>

#include "common/identity/identity.h"
#include "common/jspec/jspec.h"

static const char *const decisions[] = {"approve", "reject", NULL};

static const jspec_field decision_spec[] = {
    {"decision", JSPEC_STRING, 1, 1, 16, NULL, decisions, NULL, 0},
    {"opinion", JSPEC_STRING, 1, 2, 2000, pii_text_check, NULL, NULL, 0},
    {"reviewer", JSPEC_STRING, 1, 1, 64, NULL, NULL, NULL, 0},
};

int review_decision_parse(review_decision *d, json_t *body, hc_err *err)
{
	memset(d, 0, sizeof(*d));
	if (jspec_check(body, decision_spec, sizeof(decision_spec) / sizeof(decision_spec[0]), "",
	                err) != 0)
		return HC_ERR_PERMANENT;
	d->status = strcmp(json_string_value(json_object_get(body, "decision")), "approve") == 0
	                ? "approved"
	                : "rejected";
	d->opinion = json_string_value(json_object_get(body, "opinion"));
	d->reviewer = json_string_value(json_object_get(body, "reviewer"));
	return 0;
}

json_t *review_decision_event_data(json_t *item)
{
	static const char *const fields[] = {"application_id", "county_code", "status",
	                                     "opinion",        "reviewer",    "decided_at",
	                                     "submitted_at",   "due_at"};
	json_t *data = json_object();
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		json_object_set(data, fields[i], json_object_get(item, fields[i]));
	return data;
}
