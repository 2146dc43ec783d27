/*
 * Fuzzes intake's declaration rules on arbitrary JSON bodies: an accepted
 * declaration's person key is the HMAC of its normalised ID number, and its
 * event holds exactly the allowed fields, with none of the name, ID number,
 * phone or health answers, only the flags derived from them (digits the
 * submitter itself wrote into a non-personal field, such as the employer
 * application id, are exempt).
 */
#include "services/intake/domain/declaration.h"
#include "tests/fuzz/fuzz.h"

static const unsigned char secret[32] = {5};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {
	    "declaration_id",          "person_key",   "masked_name", "county_code",
	    "employer_application_id", "submitted_at", "declared"};
	static const char *const flags[] = {"fever", "symptom", "contact", "risk_travel"};
	json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	char key[PERSON_KEY_LEN + 1], chosen[128];
	declaration d;
	hc_err err;

	if (body == NULL || !json_is_object(body)) {
		json_decref(body);
		return 0;
	}
	if (declaration_parse(&d, body, secret, &err) == 0) {
		json_t *ev = declaration_event_data(&d, "0b5e1f0e-9a4c-4b7e-8c1d-2f3a4b5c6d7e",
		                                    "2026-02-01T08:00:00.000000Z");
		const char *name;
		json_t *v;
		char *text = json_dumps(ev, 0);

		person_key_derive(secret, d.resident_id, key);
		FUZZ_ASSERT(strcmp(key, d.person_key) == 0);
		json_object_foreach (ev, name, v) {
			size_t i;

			for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
				if (strcmp(allowed[i], name) == 0)
					break;
			FUZZ_ASSERT(i < sizeof(allowed) / sizeof(allowed[0]));
		}
		/* Digits the submitter chose for a non-personal field are not a leak. */
		snprintf(chosen, sizeof(chosen), "%s|%s",
		         d.employer_application_id ? d.employer_application_id : "", d.county_code);
		if (strstr(chosen, d.resident_id) == NULL)
			FUZZ_ASSERT(strstr(text, d.resident_id) == NULL);
		if (strstr(chosen, d.phone) == NULL)
			FUZZ_ASSERT(strstr(text, d.phone) == NULL);
		FUZZ_ASSERT(strstr(text, "health") == NULL);
		/* of the health answers, only the derived flags, each once */
		v = json_object_get(ev, "declared");
		FUZZ_ASSERT(json_is_array(v) && json_array_size(v) <= 4);
		for (size_t i = 0; i < json_array_size(v); i++) {
			size_t k;

			for (k = 0; k < 4 &&
			            strcmp(flags[k], json_string_value(json_array_get(v, i))) != 0;
			     k++)
				;
			FUZZ_ASSERT(k < 4);
		}
		free(text);
		json_decref(ev);
	}
	json_decref(body);
	return 0;
}
