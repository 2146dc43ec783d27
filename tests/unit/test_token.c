/*
 * Unit tests of common/token: base45 against RFC 9285's examples, the
 * COSE_Sign1 CWT round trip, and every way a token is refused, each with
 * its own error: prefix, base45, structure, algorithm, unknown and revoked
 * kid, signature (every single-bit flip), expiry.
 */
#include <openssl/evp.h>

#include "common/token/token.h"
#include "tests/unit/unit.h"

static void b45(const char *in, const char *want)
{
	char *got = base45_encode((const unsigned char *)in, strlen(in));
	unsigned char *back;
	size_t n;

	CHECK_EQ_STR(got, want);
	CHECK(base45_decode(got, strlen(got), &back, &n) == 0);
	CHECK(n == strlen(in) && memcmp(back, in, n) == 0);
	free(back);
	free(got);
}

TEST(base45_rfc9285_examples)
{
	unsigned char *out;
	size_t n;

	b45("AB", "BB8");
	b45("Hello!!", "%69 VD92EX0");
	b45("base-45", "UJCLQE7W581");
	CHECK(base45_decode("QED8WEX0", 8, &out, &n) == 0);
	CHECK(n == 5 && memcmp(out, "ietf!", 5) == 0);
	free(out);
	CHECK(base45_decode("GGW", 3, &out, &n) == -1);  /* 65536: one beyond two bytes */
	CHECK(base45_decode("ABCD", 4, &out, &n) == -1); /* a length of 3n + 1 */
	CHECK(base45_decode("abc", 3, &out, &n) == -1);  /* not in the alphabet */
	CHECK(base45_decode("", 0, &out, &n) == 0 && n == 0);
	free(out);
}

static EVP_PKEY *new_key(void)
{
	EVP_PKEY *k = token_key_new();

	CHECK(k != NULL);
	return k;
}

static token_claims sample(int64_t now)
{
	token_claims c = {
	    .iat = now, .exp = now + 300, .colour = TOKEN_GREEN, .county = 420102, .version = 7};

	strcpy(c.issuer, "HC");
	memset(c.subject, 0xab, sizeof(c.subject));
	return c;
}

TEST(round_trip_and_size)
{
	EVP_PKEY *k = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000), got;
	char *t;

	CHECK(token_kid(k, keys[0].kid) == 0);
	t = token_sign(&c, k);
	CHECK(t != NULL);
	CHECK(strncmp(t, "HC1:", 4) == 0);
	CHECK(strlen(t) < 240);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, &got, NULL), TOKEN_OK);
	CHECK(memcmp(&got.subject, c.subject, 32) == 0 && got.county == 420102 &&
	      got.version == 7 && got.exp == c.exp && strcmp(got.issuer, "HC") == 0);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000300, NULL, NULL), TOKEN_E_EXPIRED);
	free(t);
	/* with the kid given: the same token; a kid the key list does not hold is refused */
	t = token_sign_kid(&c, k, keys[0].kid);
	CHECK(t != NULL);
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, &got, NULL), TOKEN_OK);
	CHECK(got.version == 7 && got.exp == c.exp);
	free(t);
	{
		unsigned char other[TOKEN_KID_LEN];

		memcpy(other, keys[0].kid, TOKEN_KID_LEN);
		other[0] ^= 1;
		t = token_sign_kid(&c, k, other);
		CHECK(t != NULL);
		CHECK_EQ_INT(token_verify(t, keys, 1, 1700000100, NULL, NULL), TOKEN_E_KID_UNKNOWN);
		free(t);
	}
	EVP_PKEY_free(k);
}

TEST(every_single_bit_flip_is_refused)
{
	EVP_PKEY *k = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000);
	char *t = token_sign(&c, k), *b;
	unsigned char *bytes;
	size_t n, i, len = strlen(t);
	int bit;

	CHECK(token_kid(k, keys[0].kid) == 0);
	CHECK(base45_decode(t + 4, len - 4, &bytes, &n) == 0);
	for (i = 0; i < n; i++)
		for (bit = 0; bit < 8; bit++) {
			char *flipped, *full;

			bytes[i] ^= (unsigned char)(1 << bit);
			flipped = base45_encode(bytes, n);
			full = malloc(strlen(flipped) + 5);
			sprintf(full, "HC1:%s", flipped);
			if (token_verify(full, keys, 1, 1700000001, NULL, NULL) == TOKEN_OK) {
				fprintf(stderr, "    byte %zu bit %d accepted\n", i, bit);
				exit(1);
			}
			free(full);
			free(flipped);
			bytes[i] ^= (unsigned char)(1 << bit);
		}
	/* and every flip of the text's bytes */
	b = strdup(t);
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 7; bit++) {
			b[i] ^= (char)(1 << bit);
			CHECK(token_verify(b, keys, 1, 1700000001, NULL, NULL) != TOKEN_OK);
			b[i] ^= (char)(1 << bit);
		}
	CHECK_EQ_INT(token_verify(b, keys, 1, 1700000001, NULL, NULL), TOKEN_OK);
	free(b);
	free(bytes);
	free(t);
	EVP_PKEY_free(k);
}

TEST(each_refusal_has_its_own_error)
{
	EVP_PKEY *k = new_key(), *other = new_key();
	token_key keys[1] = {{.pkey = k}};
	token_claims c = sample(1700000000);
	char *t = token_sign(&c, k), *forged = token_sign(&c, other), *b;
	unsigned char *bytes;
	size_t n, i;

	CHECK(token_kid(k, keys[0].kid) == 0);
	CHECK_EQ_INT(token_verify("HC2:ABC", keys, 1, 1700000001, NULL, NULL), TOKEN_E_PREFIX);
	CHECK_EQ_INT(token_verify("HC1:abc", keys, 1, 1700000001, NULL, NULL), TOKEN_E_BASE45);
	CHECK_EQ_INT(token_verify("HC1:BB8", keys, 1, 1700000001, NULL, NULL), TOKEN_E_CBOR);
	CHECK_EQ_INT(token_verify(forged, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_UNKNOWN);
	keys[0].revoked = 1;
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_REVOKED);
	keys[0].revoked = 0;
	keys[0].not_after = 1700000000;
	CHECK_EQ_INT(token_verify(t, keys, 1, 1700000001, NULL, NULL), TOKEN_E_KID_UNKNOWN);
	keys[0].not_after = 0;
	/* the algorithm in the protected header: ES256 (-7, 0x26) swapped for EdDSA (-8) */
	CHECK(base45_decode(t + 4, strlen(t) - 4, &bytes, &n) == 0);
	for (i = 0; i + 1 < n && !(bytes[i] == 0x01 && bytes[i + 1] == 0x26); i++)
		;
	CHECK(i + 1 < n);
	bytes[i + 1] = 0x27;
	b = base45_encode(bytes, n);
	{
		char full[TOKEN_MAX];

		snprintf(full, sizeof(full), "HC1:%s", b);
		CHECK_EQ_INT(token_verify(full, keys, 1, 1700000001, NULL, NULL),
		             TOKEN_E_ALGORITHM);
	}
	CHECK_EQ_STR(token_error_code(TOKEN_E_SUPERSEDED), "token-superseded");
	free(b);
	free(bytes);
	free(t);
	free(forged);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

TEST(declared_sizes_must_fit_the_input)
{
	/* COSE_Sign1 whose first item claims 2^32 array elements (found by fuzz_token) */
	static const unsigned char huge[] = {0xd2, 0x84, 0x9a, 0xff, 0xff,
	                                     0xff, 0xff, 0x40, 0xa0, 0x40};
	EVP_PKEY *k = token_key_new();
	token_key keys[1] = {{.pkey = k}};
	char *b = base45_encode(huge, sizeof(huge)), full[64];

	CHECK(token_kid(k, keys[0].kid) == 0);
	snprintf(full, sizeof(full), "HC1:%s", b);
	CHECK_EQ_INT(token_verify(full, keys, 1, 1700000001, NULL, NULL), TOKEN_E_CBOR);
	free(b);
	EVP_PKEY_free(k);
}

TEST(qr_images)
{
	unsigned char *png;
	char *svg;
	size_t n;

	CHECK(token_qr_png("HC1:ABC", 4, &png, &n) == 0);
	CHECK(n > 100 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
	free(png);
	CHECK(token_qr_svg("HC1:ABC", 4, &svg, &n) == 0);
	CHECK(strncmp(svg, "<svg", 4) == 0 && strstr(svg, "</svg>") != NULL);
	free(svg);
}

UNIT_MAIN(T(base45_rfc9285_examples), T(round_trip_and_size), T(every_single_bit_flip_is_refused),
          T(each_refusal_has_its_own_error), T(declared_sizes_must_fit_the_input), T(qr_images))
