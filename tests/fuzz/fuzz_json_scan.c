/*
 * Fuzzes the JSON validity scan (common/jspec/scan.c) against jansson: what
 * jansson parses the scan accepts; what the scan accepts jansson parses,
 * unless jansson refused it for a reason the scan leaves aside on purpose
 * (invalid UTF-8 or a lone surrogate escape inside a string, a number too
 * large for a double).  And
 * what the scan accepts stays valid when hc-replay puts it inside a line.
 */
#include <jansson.h>

#include "common/jspec/jspec.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int ours = jspec_json_valid((const char *)data, size);
	json_error_t e;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);

	/* jansson stops at a NUL byte as at the end; the scan refuses one outside strings */
	if (j != NULL && memchr(data, 0, size) == NULL)
		FUZZ_ASSERT(ours);
	if (ours && j == NULL)
		FUZZ_ASSERT(strstr(e.text, "unable to decode byte") != NULL ||
		            strstr(e.text, "invalid Unicode") != NULL ||
		            strstr(e.text, "overflow") != NULL ||
		            strstr(e.text, "too big") != NULL);
	if (ours) {
		/* embedded in a line as hc-replay writes it: still one valid JSON value */
		char *line = malloc(size + 16);

		if (line == NULL)
			abort();
		memcpy(line, "{\"event\":", 9);
		memcpy(line + 9, data, size);
		line[9 + size] = '}';
		FUZZ_ASSERT(jspec_json_valid(line, size + 10));
		free(line);
	}
	json_decref(j);
	return 0;
}
