/*
 * Shared by the libFuzzer targets: each target checks a property of one
 * parser (a round trip, or a contract between services), and aborts when
 * it breaks, so a fuzzing run finds wrong answers as well as crashes.
 */
#ifndef HC_TESTS_FUZZ_H
#define HC_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond)                                                                   \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, \
			        #cond);                                                     \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* A NUL-terminated copy of the input, to free(). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
