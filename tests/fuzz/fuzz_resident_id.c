/* Fuzzes resident ID validation: accepted IDs are normalised idempotently with the right check
 * character. */
#include "common/identity/identity.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char out[RESIDENT_ID_LEN + 1], again[RESIDENT_ID_LEN + 1];
	hc_err err;

	if (resident_id_normalise(s, out, &err) == 0) {
		FUZZ_ASSERT(strlen(out) == RESIDENT_ID_LEN);
		FUZZ_ASSERT(resident_id_check_char(out) == out[17]);
		FUZZ_ASSERT(resident_id_normalise(out, again, &err) == 0);
		FUZZ_ASSERT(strcmp(out, again) == 0);
	} else {
		FUZZ_ASSERT(err.kind == HC_ERR_PERMANENT && err.msg[0] != '\0');
	}
	free(s);
	return 0;
}
