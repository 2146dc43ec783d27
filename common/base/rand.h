/*
 * Identifiers and random bytes from the operating system's CSPRNG (OpenSSL's
 * RAND_bytes): event ids, application ids, W3C trace ids.
 */
#ifndef HC_BASE_RAND_H
#define HC_BASE_RAND_H

#include <stddef.h>

#include "common/base/err.h"

#define HC_UUID_LEN 36 /* without the terminating NUL */

/* Fills buf with n random bytes; aborts if the CSPRNG fails (it cannot recover). */
void hc_rand_bytes(unsigned char *buf, size_t n);

/*
 * Writes a version 7 UUID (RFC 9562) in lower-case text into out[37]: the
 * Unix time in milliseconds, then 74 random bits.  Ids made later sort later
 * (to the millisecond), so a B-tree keyed on them grows at its right edge
 * instead of at random pages: the events' processed-event keys, assessments,
 * scans, declarations.
 */
void hc_uuid_v7(char out[HC_UUID_LEN + 1]);

/* Returns 1 when s is a UUID in canonical text form (any case), else 0. */
int hc_uuid_valid(const char *s);

/* The same as a field check (see common/jspec): 0, or HC_ERR_PERMANENT. */
int hc_uuid_check(const char *s, hc_err *err);

/* Writes n bytes as lower-case hex into out, which holds 2n+1 chars. */
void hc_hex_encode(const unsigned char *in, size_t n, char *out);

/* The n bytes as a new lower-case hex string to free(). */
char *hc_hex_new(const unsigned char *in, size_t n);

/*
 * Decodes exactly 2n hex characters of in into out[n].  Returns 0, or -1 when
 * in is not 2n hex characters long.
 */
int hc_hex_decode(const char *in, unsigned char *out, size_t n);

#endif
