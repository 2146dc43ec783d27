/* base45 (RFC 9285); see token.h. */
#include <stdlib.h>
#include <string.h>

#include "common/token/token.h"

static const char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

char *base45_encode(const unsigned char *in, size_t n)
{
	char *out = malloc(n / 2 * 3 + (n % 2) * 2 + 1);
	size_t i, o = 0;

	if (out == NULL)
		abort();
	for (i = 0; i + 1 < n; i += 2) {
		unsigned v = (unsigned)in[i] * 256u + in[i + 1];

		out[o++] = alphabet[v % 45];
		out[o++] = alphabet[v / 45 % 45];
		out[o++] = alphabet[v / 2025];
	}
	if (i < n) {
		out[o++] = alphabet[in[i] % 45];
		out[o++] = alphabet[in[i] / 45];
	}
	out[o] = '\0';
	return out;
}

static int value_of(char c)
{
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

int base45_decode(const char *in, size_t len, unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t i, o = 0;

	*out = NULL;
	if (len % 3 == 1)
		return -1;
	buf = malloc(len / 3 * 2 + 2);
	if (buf == NULL)
		abort();
	for (i = 0; i < len; i += 3) {
		int a = value_of(in[i]), b = value_of(in[i + 1]),
		    c = i + 2 < len ? value_of(in[i + 2]) : 0;
		unsigned v;

		if (a < 0 || b < 0 || c < 0)
			goto bad;
		v = (unsigned)a + (unsigned)b * 45u + (unsigned)c * 2025u;
		if (i + 2 < len) {
			if (v > 65535)
				goto bad;
			buf[o++] = (unsigned char)(v >> 8);
			buf[o++] = (unsigned char)(v & 0xff);
		} else {
			if (v > 255)
				goto bad;
			buf[o++] = (unsigned char)v;
		}
	}
	*out = buf;
	*outlen = o;
	return 0;
bad:
	free(buf);
	return -1;
}
