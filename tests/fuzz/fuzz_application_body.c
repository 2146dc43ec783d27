/*
 * Fuzzes intake's employer application rules on arbitrary JSON bodies, and
 * the contract between services: every application intake accepts yields
 * an event that review accepts, and no worker's ID number or phone flows
 * into it.  (A submitter can still write the same digits into an
 * organisation field such as a valid credit code; that is the employer's
 * identifier, not the worker's data leaking, so such inputs are exempt.)
 */
#include "services/intake/domain/employer_application.h"
#include "services/review/domain/queue.h"
#include "tests/fuzz/fuzz.h"

static const unsigned char secret[32] = {3};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	employer_application ea;
	hc_err err;

	if (body == NULL || !json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	if (employer_application_parse(&ea, body, secret, &err) == 0) {
		json_t *ev = employer_application_event_data(
		    &ea, "0b5e1f0e-9a4c-4b7e-8c1d-2f3a4b5c6d7e", "2026-02-01T08:00:00.000000Z");
		char *text = json_dumps(ev, 0);
		size_t i;

		char org[512];

		snprintf(org, sizeof(org), "%s|%s|%s|%s", ea.employer_name, ea.credit_code,
		         ea.county_code, ea.category);
		FUZZ_ASSERT(queue_check_submitted(ev, &err) == 0);
		for (i = 0; i < ea.nworkers; i++) {
			if (strstr(org, ea.workers[i].resident_id) == NULL)
				FUZZ_ASSERT(strstr(text, ea.workers[i].resident_id) == NULL);
			if (strstr(org, ea.workers[i].phone) == NULL)
				FUZZ_ASSERT(strstr(text, ea.workers[i].phone) == NULL);
		}
		free(text);
		json_decref(ev);
	} else {
		FUZZ_ASSERT(err.kind == HC_ERR_PERMANENT && err.msg[0] != '\0');
	}
	employer_application_cleanup(&ea);
	json_decref(body);
	return 0;
}
