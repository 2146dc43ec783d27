/*
 * Fuzzes the request signature headers (common/httpsig): the input is
 * Signature-Input, a newline, then Signature.  A header that parses has its
 * parameters within their bounds and its raw member inside the header, and
 * a signature base can be built from it; a signature made by our own signer
 * over that base verifies, and fails for any other key.
 */
#include "common/httpsig/httpsig.h"
#include "common/token/token.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key, *other;
	unsigned char sig[HTTPSIG_SIG_MAX];
	char *s = fuzz_cstr(data, size), *nl, *base;
	httpsig_params p;
	size_t siglen = 0;

	if (key == NULL) {
		key = token_key_new();
		other = token_key_new();
	}
	nl = strchr(s, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (httpsig_parse(s, nl ? nl + 1 : NULL, HTTPSIG_REQUEST, &p, sig, &siglen) == HTTPSIG_OK) {
		unsigned char mine[64];

		FUZZ_ASSERT(p.raw == s + 3);
		FUZZ_ASSERT(p.created > 0 && p.keyid[0] != '\0');
		FUZZ_ASSERT(strlen(p.nonce) >= HTTPSIG_NONCE_MIN &&
		            strlen(p.nonce) <= HTTPSIG_NONCE_MAX);
		FUZZ_ASSERT(siglen > 0 && siglen <= HTTPSIG_SIG_MAX);
		base = httpsig_request_base("GET", "/v1/rules", NULL, "sha-256=:x:", p.raw);
		FUZZ_ASSERT(
		    token_es256_sign(key, (const unsigned char *)base, strlen(base), mine) == 0);
		FUZZ_ASSERT(httpsig_verify(key, "ecdsa-p256-sha256", base, mine, 64) == HTTPSIG_OK);
		FUZZ_ASSERT(httpsig_verify(other, "ecdsa-p256-sha256", base, mine, 64) !=
		            HTTPSIG_OK);
		FUZZ_ASSERT(httpsig_verify(key, "rsa-v1_5-sha256", base, mine, 64) != HTTPSIG_OK);
		free(base);
	}
	free(s);
	return 0;
}
