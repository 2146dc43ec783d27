/*
 * Unit tests of common/httpsig: Content-Digest against RFC 9530's example,
 * the exact signature base, sign and verify for P-256 and RSA-2048 requests
 * and responses (any change to a covered component, another key or another
 * algorithm fails), and every malformed header refused.
 */
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "common/httpsig/httpsig.h"
#include "common/token/token.h"
#include "tests/unit/unit.h"

#define GOOD_INPUT                                                                     \
	"hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1795730000;" \
	"nonce=\"abcdefghijklmnop\";keyid=\"partner-1:k1\";alg=\"ecdsa-p256-sha256\""
#define GOOD_SIG "hc=:AAAA:"

TEST(digest_rfc9530_example)
{
	char d[HTTPSIG_DIGEST_MAX + 1];

	httpsig_digest("{\"hello\": \"world\"}", 18, d);
	CHECK_EQ_STR(d, "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:");
	httpsig_digest(NULL, 0, d);
	CHECK_EQ_STR(d, "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:");
	CHECK(httpsig_digest_matches(d, "", 0));
	CHECK(!httpsig_digest_matches(d, "x", 1));
	CHECK(!httpsig_digest_matches(NULL, "", 0));
}

TEST(signature_base_is_rfc9421s)
{
	char *b =
	    httpsig_request_base("POST", "/v1/declarations", NULL, "sha-256=:x:", GOOD_INPUT + 3);

	CHECK_EQ_STR(b,
	             "\"@method\": POST\n\"@path\": /v1/declarations\n\"@query\": ?\n"
	             "\"content-digest\": sha-256=:x:\n\"@signature-params\": "
	             "(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1795730000;"
	             "nonce=\"abcdefghijklmnop\";keyid=\"partner-1:k1\";alg=\"ecdsa-p256-sha256\"");
	free(b);
	b = httpsig_request_base("GET", "/v1/counties/420102/queue", "limit=5", "d", "p");
	CHECK(strstr(b, "\"@query\": ?limit=5\n") != NULL);
	free(b);
	b = httpsig_response_base(201, "d", "p");
	CHECK_EQ_STR(b, "\"@status\": 201\n\"content-digest\": d\n\"@signature-params\": p");
	free(b);
}

static EVP_PKEY *rsa_key(int bits)
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *k = NULL;

	CHECK(c != NULL && EVP_PKEY_keygen_init(c) == 1 &&
	      EVP_PKEY_CTX_set_rsa_keygen_bits(c, bits) == 1 && EVP_PKEY_keygen(c, &k) == 1);
	EVP_PKEY_CTX_free(c);
	return k;
}

/* Signs a request with key, then checks what verifies and what does not. */
static void request_round_trip(EVP_PKEY *key, EVP_PKEY *other)
{
	char input[512], sig_hdr[HTTPSIG_SIG_MAX * 2], digest[HTTPSIG_DIGEST_MAX + 1], *base;
	unsigned char sig[HTTPSIG_SIG_MAX];
	httpsig_params p;
	size_t siglen;

	httpsig_digest("{}", 2, digest);
	CHECK(httpsig_sign_request(key, "partner-1:k1", 1795730000, "0123456789abcdef", "POST",
	                           "/v1/declarations", "a=1", digest, input, sizeof(input), sig_hdr,
	                           sizeof(sig_hdr)) == 0);
	CHECK(httpsig_parse(input, sig_hdr, HTTPSIG_REQUEST, &p, sig, &siglen) == HTTPSIG_OK);
	CHECK(p.created == 1795730000);
	CHECK_EQ_STR(p.nonce, "0123456789abcdef");
	CHECK_EQ_STR(p.keyid, "partner-1:k1");
	CHECK_EQ_STR(p.alg, httpsig_alg_of(key));
	base = httpsig_request_base("POST", "/v1/declarations", "a=1", digest, p.raw);
	CHECK(httpsig_verify(key, p.alg, base, sig, siglen) == HTTPSIG_OK);
	CHECK(httpsig_verify(other, p.alg, base, sig, siglen) == HTTPSIG_INVALID);
	CHECK(httpsig_verify(key,
	                     strcmp(p.alg, "rsa-v1_5-sha256") == 0 ? "ecdsa-p256-sha256"
	                                                           : "rsa-v1_5-sha256",
	                     base, sig, siglen) == HTTPSIG_INVALID);
	free(base);
	{
		const char *changed[][3] = {{"GET", "/v1/declarations", "a=1"},
		                            {"POST", "/v1/declarationz", "a=1"},
		                            {"POST", "/v1/declarations", "a=2"},
		                            {"POST", "/v1/declarations", NULL}};
		size_t i;

		for (i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
			base = httpsig_request_base(changed[i][0], changed[i][1], changed[i][2],
			                            digest, p.raw);
			CHECK(httpsig_verify(key, p.alg, base, sig, siglen) == HTTPSIG_INVALID);
			free(base);
		}
		base =
		    httpsig_request_base("POST", "/v1/declarations", "a=1", "sha-256=:x:", p.raw);
		CHECK(httpsig_verify(key, p.alg, base, sig, siglen) == HTTPSIG_INVALID);
		free(base);
	}
}

TEST(p256_and_rsa_requests_round_trip)
{
	EVP_PKEY *ec = token_key_new(), *ec2 = token_key_new(), *rsa = rsa_key(2048),
	         *weak = rsa_key(1024);
	char input[512], sig_hdr[HTTPSIG_SIG_MAX * 2];

	request_round_trip(ec, ec2);
	request_round_trip(rsa, ec);
	CHECK(httpsig_alg_of(weak) == NULL);
	CHECK(httpsig_sign_request(weak, "a:b", 1, "0123456789abcdef", "GET", "/", NULL, "d", input,
	                           sizeof(input), sig_hdr, sizeof(sig_hdr)) == -1);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(weak);
}

TEST(responses_round_trip)
{
	EVP_PKEY *k = token_key_new();
	char input[256], sig_hdr[HTTPSIG_SIG_MAX * 2], digest[HTTPSIG_DIGEST_MAX + 1], *base;
	unsigned char sig[HTTPSIG_SIG_MAX];
	httpsig_params p;
	size_t siglen;

	httpsig_digest("{\"ok\":true}", 11, digest);
	CHECK(httpsig_sign_response(k, "platform:00", 1795730000, 200, digest, input, sizeof(input),
	                            sig_hdr, sizeof(sig_hdr)) == 0);
	CHECK(httpsig_parse(input, sig_hdr, HTTPSIG_RESPONSE, &p, sig, &siglen) == HTTPSIG_OK);
	CHECK(p.nonce[0] == '\0');
	base = httpsig_response_base(200, digest, p.raw);
	CHECK(httpsig_verify(k, p.alg, base, sig, siglen) == HTTPSIG_OK);
	free(base);
	base = httpsig_response_base(500, digest, p.raw);
	CHECK(httpsig_verify(k, p.alg, base, sig, siglen) == HTTPSIG_INVALID);
	free(base);
	/* a response's header is not a request's */
	CHECK(httpsig_parse(input, sig_hdr, HTTPSIG_REQUEST, &p, sig, &siglen) ==
	      HTTPSIG_MALFORMED);
	EVP_PKEY_free(k);
}

TEST(malformed_headers_are_refused)
{
	static const char *const inputs[] = {
	    "sig=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@path\" \"@method\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"short\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop!\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"hmac-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;created=2;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;expires=9;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=-1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"\";alg=\"ecdsa-p256-sha256\"",
	    "hc=(\"@method\" \"@path\" \"@query\" \"content-digest\");created=1;"
	    "nonce=\"abcdefghijklmnop\";keyid=\"a:b\";alg=\"ecdsa-p256-sha256\" ",
	};
	static const char *const sigs[] = {
	    "hc=:AAA:", "hc=:AA=A:", "hc=:****:", "hc=::", "hc=:AAAA", "sig=:AAAA:", "hc=:AAAA:x"};
	unsigned char sig[HTTPSIG_SIG_MAX];
	httpsig_params p;
	size_t i, siglen;

	CHECK(httpsig_parse(GOOD_INPUT, GOOD_SIG, HTTPSIG_REQUEST, &p, sig, &siglen) == HTTPSIG_OK);
	CHECK(siglen == 3);
	CHECK(httpsig_parse(NULL, GOOD_SIG, HTTPSIG_REQUEST, &p, sig, &siglen) == HTTPSIG_MISSING);
	CHECK(httpsig_parse(GOOD_INPUT, NULL, HTTPSIG_REQUEST, &p, sig, &siglen) ==
	      HTTPSIG_MISSING);
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		CHECK(httpsig_parse(inputs[i], GOOD_SIG, HTTPSIG_REQUEST, &p, sig, &siglen) ==
		      HTTPSIG_MALFORMED);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		CHECK(httpsig_parse(GOOD_INPUT, sigs[i], HTTPSIG_REQUEST, &p, sig, &siglen) ==
		      HTTPSIG_MALFORMED);
}

UNIT_MAIN(T(digest_rfc9530_example), T(signature_base_is_rfc9421s),
          T(p256_and_rsa_requests_round_trip), T(responses_round_trip),
          T(malformed_headers_are_refused))
