/* Fuzzes credit code validation: accepted codes carry their own check character. */
#include "common/identity/identity.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	hc_err err;

	if (credit_code_validate(s, &err) == 0) {
		FUZZ_ASSERT(strlen(s) == CREDIT_CODE_LEN);
		FUZZ_ASSERT(credit_code_check_char(s) == s[17]);
	}
	free(s);
	return 0;
}
