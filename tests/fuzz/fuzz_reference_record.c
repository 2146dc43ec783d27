/*
 * Fuzzes matching's reference-record parser on arbitrary JSON: an accepted
 * record never keeps the resident ID (only its person key, the HMAC of the
 * normalised number), names a known source with one of its kinds, and
 * carries exactly the fields the store reads.
 */
#include "common/identity/identity.h"
#include "services/matching/domain/rules.h"
#include "tests/fuzz/fuzz.h"

static const unsigned char secret[32] = {7};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = {"source",  "record_id", "kind",  "county_code",
	                                      "on_date", "until",     "level", "person_key"};
	json_t *in = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	json_t *row = NULL, *v;
	const char *name;
	hc_err err;

	if (in == NULL)
		return 0;
	if (record_parse(in, "record", secret, &row, &err) == 0) {
		const char *rid = json_string_value(json_object_get(in, "resident_id"));
		char *text = json_dumps(row, 0);

		FUZZ_ASSERT(row != NULL && text != NULL);
		json_object_foreach (row, name, v) {
			size_t i;

			for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
				if (strcmp(allowed[i], name) == 0)
					break;
			FUZZ_ASSERT(i < sizeof(allowed) / sizeof(allowed[0]));
		}
		if (rid != NULL) {
			char norm[RESIDENT_ID_LEN + 1], key[PERSON_KEY_LEN + 1];

			FUZZ_ASSERT(resident_id_normalise(rid, norm, &err) == 0);
			person_key_derive(secret, norm, key);
			FUZZ_ASSERT(strcmp(key, json_string_value(
			                            json_object_get(row, "person_key"))) == 0);
			FUZZ_ASSERT(strstr(text, norm) == NULL);
		} else {
			FUZZ_ASSERT(json_object_get(row, "person_key") == NULL);
		}
		free(text);
		json_decref(row);
	} else {
		FUZZ_ASSERT(row == NULL && err.msg[0] != '\0');
	}
	json_decref(in);
	return 0;
}
