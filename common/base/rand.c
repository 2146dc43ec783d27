/* Identifiers and random bytes; see rand.h. */
#include "common/base/rand.h"

#include <assert.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

void hc_rand_bytes(unsigned char *buf, size_t n)
{
	assert(n <= (size_t)0x7fffffff);
	if (RAND_bytes(buf, (int)n) != 1)
		abort();
}

/* The 16 bytes of a UUID in canonical text form. */
static void uuid_text(const unsigned char b[16], char out[HC_UUID_LEN + 1])
{
	char hex[33];

	hc_hex_encode(b, 16, hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

void hc_uuid_v7(char out[HC_UUID_LEN + 1])
{
	unsigned char b[16];
	struct timespec now;
	uint64_t ms;
	int i;

	clock_gettime(CLOCK_REALTIME, &now);
	ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
	for (i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	hc_rand_bytes(b + 6, 10);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	uuid_text(b, out);
}

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hc_uuid_valid(const char *s)
{
	size_t i;

	if (strlen(s) != HC_UUID_LEN)
		return 0;
	for (i = 0; i < HC_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (hex_value((unsigned char)s[i]) < 0) {
			return 0;
		}
	}
	return 1;
}

int hc_uuid_check(const char *s, hc_err *err)
{
	return hc_uuid_valid(s) ? 0 : hc_err_set(err, HC_ERR_PERMANENT, "must be a UUID");
}

void hc_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

char *hc_hex_new(const unsigned char *in, size_t n)
{
	char *out = malloc(2 * n + 1);

	if (out == NULL)
		abort();
	hc_hex_encode(in, n, out);
	return out;
}

int hc_hex_decode(const char *in, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(in) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int hi = hex_value((unsigned char)in[2 * i]);
		int lo = hex_value((unsigned char)in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}
