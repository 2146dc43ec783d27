/*
 * Fuzzes the token decoder two ways.  Arbitrary text: token_verify never
 * crashes and never accepts (that would be a forgery).  Tampering: the
 * input is a list of (offset, xor) edits applied to the bytes of a token
 * this target signed; the result is accepted exactly when the edits cancel
 * out.
 */
#include "common/token/token.h"
#include "tests/fuzz/fuzz.h"

static EVP_PKEY *key;
static token_key keys[1];
static unsigned char *signed_bytes;
static size_t signed_len;

static void setup(void)
{
	token_claims c = {.iat = 1700000000, .exp = 1700000300, .county = 420102, .version = 3};
	char *t;

	key = token_key_new();
	FUZZ_ASSERT(key != NULL && token_kid(key, keys[0].kid) == 0);
	keys[0].pkey = key;
	strcpy(c.issuer, "HC");
	t = token_sign(&c, key);
	FUZZ_ASSERT(t != NULL);
	FUZZ_ASSERT(base45_decode(t + 4, strlen(t) - 4, &signed_bytes, &signed_len) == 0);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (key == NULL)
		setup();
	if (size > 0 && data[0] == 'T') { /* tampering */
		unsigned char *b = malloc(signed_len);
		char *text, *full;
		size_t i;
		int same;

		memcpy(b, signed_bytes, signed_len);
		for (i = 1; i + 1 < size; i += 2)
			b[data[i] % signed_len] ^= data[i + 1];
		same = memcmp(b, signed_bytes, signed_len) == 0;
		text = base45_encode(b, signed_len);
		full = malloc(strlen(text) + 5);
		sprintf(full, "HC1:%s", text);
		FUZZ_ASSERT((token_verify(full, keys, 1, 1700000001, NULL, NULL) == TOKEN_OK) ==
		            same);
		free(full);
		free(text);
		free(b);
	} else { /* arbitrary text */
		char *s = fuzz_cstr(data, size);

		FUZZ_ASSERT(token_verify(s, keys, 1, 1700000001, NULL, NULL) != TOKEN_OK);
		free(s);
	}
	return 0;
}
