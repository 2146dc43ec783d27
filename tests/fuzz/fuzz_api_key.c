/* Fuzzes API key parsing: a parsed key rebuilds to exactly the header it came from. */
#include "services/gateway/domain/auth.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char id[AUTH_CLIENT_ID_MAX + 1], secret[AUTH_SECRET_HEX + 1], rebuilt[160];
	hc_err err;

	if (auth_key_parse(s, id, secret, &err) == 0) {
		snprintf(rebuilt, sizeof(rebuilt), "Bearer hc_%s_%s", id, secret);
		FUZZ_ASSERT(strcmp(rebuilt, s) == 0);
		FUZZ_ASSERT(strlen(secret) == AUTH_SECRET_HEX);
	}
	free(s);
	return 0;
}
