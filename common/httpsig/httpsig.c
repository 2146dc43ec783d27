/* HTTP message signatures, one profile; see httpsig.h. */
#include "common/httpsig/httpsig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rsa.h>
#include <openssl/sha.h>

#include "common/token/token.h"

#define ALG_ES256 "ecdsa-p256-sha256"
#define ALG_RS256 "rsa-v1_5-sha256"

/* Standard base64 with padding; returns the length written (NUL-terminated). */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
	return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

/* Decodes exactly in[0..n) (padded base64); returns the length or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	int len;
	size_t pad = 0, i;

	if (n == 0 || n % 4 != 0 || n / 4 * 3 > cap)
		return -1;
	for (i = 0; i < n; i++) {
		char c = in[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/' || (c == '=' && i >= n - 2)))
			return -1;
	}
	if (in[n - 1] == '=')
		pad = in[n - 2] == '=' ? 2 : 1;
	else if (in[n - 2] == '=')
		return -1; /* '=' only as trailing padding */
	len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	return len < 0 ? -1 : (long)((size_t)len - pad);
}

/* Reads `"text"` at *s (printable, no quote or backslash) into out[cap]. */
static int parse_string(const char **s, char *out, size_t cap)
{
	const char *p = *s;
	size_t n = 0;

	if (*p++ != '"')
		return -1;
	while (*p != '"') {
		if (*p < 0x20 || *p > 0x7e || *p == '\\' || n + 1 >= cap)
			return -1;
		out[n++] = *p++;
	}
	out[n] = '\0';
	*s = p + 1;
	return 0;
}

static int nonce_ok(const char *nonce)
{
	size_t n = strlen(nonce), i;

	if (n < HTTPSIG_NONCE_MIN || n > HTTPSIG_NONCE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = nonce[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

enum httpsig_error httpsig_parse(const char *input, const char *signature, const char *components,
                                 httpsig_params *p, unsigned char *sig, size_t *siglen)
{
	const char *s, *end;
	int have_created = 0, need_nonce = strcmp(components, HTTPSIG_REQUEST) == 0;
	long n;

	memset(p, 0, sizeof(*p));
	*siglen = 0;
	if (input == NULL || signature == NULL)
		return HTTPSIG_MISSING;
	if (strncmp(input, HTTPSIG_LABEL "=", 3) != 0 ||
	    strncmp(signature, HTTPSIG_LABEL "=:", 4) != 0)
		return HTTPSIG_MALFORMED;
	p->raw = input + 3;
	if (strncmp(p->raw, components, strlen(components)) != 0)
		return HTTPSIG_MALFORMED;
	s = p->raw + strlen(components);
	while (*s == ';') {
		char name[16];
		size_t k = 0;

		s++;
		while (*s >= 'a' && *s <= 'z' && k + 1 < sizeof(name))
			name[k++] = *s++;
		name[k] = '\0';
		if (*s++ != '=')
			return HTTPSIG_MALFORMED;
		if (strcmp(name, "created") == 0 && !have_created) {
			char *e;

			if (*s < '1' || *s > '9')
				return HTTPSIG_MALFORMED;
			p->created = strtoll(s, &e, 10);
			if (e - s > 12)
				return HTTPSIG_MALFORMED;
			s = e;
			have_created = 1;
		} else if (strcmp(name, "nonce") == 0 && p->nonce[0] == '\0') {
			if (parse_string(&s, p->nonce, sizeof(p->nonce)) != 0 ||
			    !nonce_ok(p->nonce))
				return HTTPSIG_MALFORMED;
		} else if (strcmp(name, "keyid") == 0 && p->keyid[0] == '\0') {
			if (parse_string(&s, p->keyid, sizeof(p->keyid)) != 0 ||
			    p->keyid[0] == '\0')
				return HTTPSIG_MALFORMED;
		} else if (strcmp(name, "alg") == 0 && p->alg[0] == '\0') {
			if (parse_string(&s, p->alg, sizeof(p->alg)) != 0)
				return HTTPSIG_MALFORMED;
		} else {
			return HTTPSIG_MALFORMED; /* unknown or repeated */
		}
	}
	if (*s != '\0' || !have_created || p->keyid[0] == '\0' ||
	    (strcmp(p->alg, ALG_ES256) != 0 && strcmp(p->alg, ALG_RS256) != 0) ||
	    (need_nonce != (p->nonce[0] != '\0')))
		return HTTPSIG_MALFORMED;
	s = signature + 4;
	end = strchr(s, ':');
	if (end == NULL || end[1] != '\0')
		return HTTPSIG_MALFORMED;
	n = b64_decode(s, (size_t)(end - s), sig, HTTPSIG_SIG_MAX);
	if (n <= 0)
		return HTTPSIG_MALFORMED;
	*siglen = (size_t)n;
	return HTTPSIG_OK;
}

void httpsig_digest(const void *body, size_t len, char out[HTTPSIG_DIGEST_MAX + 1])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	size_t n;

	SHA256(body != NULL ? body : "", body != NULL ? len : 0, d);
	memcpy(out, "sha-256=:", 9);
	n = b64_encode(d, sizeof(d), out + 9);
	memcpy(out + 9 + n, ":", 2);
}

int httpsig_digest_matches(const char *header, const void *body, size_t len)
{
	char want[HTTPSIG_DIGEST_MAX + 1];

	if (header == NULL)
		return 0;
	httpsig_digest(body, len, want);
	return strcmp(header, want) == 0;
}

char *httpsig_request_base(const char *method, const char *path, const char *query,
                           const char *digest, const char *params)
{
	char *base = NULL;

	if (asprintf(&base,
	             "\"@method\": %s\n\"@path\": %s\n\"@query\": ?%s\n\"content-digest\": %s\n"
	             "\"@signature-params\": %s",
	             method, path, query ? query : "", digest, params) < 0)
		abort();
	return base;
}

char *httpsig_response_base(int status, const char *digest, const char *params)
{
	char *base = NULL;

	if (asprintf(&base, "\"@status\": %d\n\"content-digest\": %s\n\"@signature-params\": %s",
	             status, digest, params) < 0)
		abort();
	return base;
}

const char *httpsig_alg_of(EVP_PKEY *key)
{
	char group[32] = "";
	size_t glen = 0;

	if (EVP_PKEY_is_a(key, "EC") &&
	    EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof(group), &glen) == 1 &&
	    strcmp(group, "prime256v1") == 0)
		return ALG_ES256;
	if (EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048)
		return ALG_RS256;
	return NULL;
}

enum httpsig_error httpsig_verify(EVP_PKEY *key, const char *alg, const char *base,
                                  const unsigned char *sig, size_t siglen)
{
	const char *want = httpsig_alg_of(key);
	EVP_MD_CTX *md;
	int ok;

	if (want == NULL || strcmp(want, alg) != 0)
		return HTTPSIG_INVALID; /* no algorithm substitution */
	if (strcmp(alg, ALG_ES256) == 0)
		return siglen == 64 && token_es256_verify(key, (const unsigned char *)base,
		                                          strlen(base), sig) == 0
		           ? HTTPSIG_OK
		           : HTTPSIG_INVALID;
	md = EVP_MD_CTX_new();
	if (md == NULL)
		abort();
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(md, sig, siglen, (const unsigned char *)base, strlen(base)) == 1;
	EVP_MD_CTX_free(md);
	return ok ? HTTPSIG_OK : HTTPSIG_INVALID;
}

/* Signs base with key into the Signature header value. */
static int sign_base(EVP_PKEY *key, const char *base, char *signature, size_t scap)
{
	unsigned char sig[HTTPSIG_SIG_MAX];
	size_t siglen = sizeof(sig);
	const char *alg = httpsig_alg_of(key);
	int rc = -1;

	if (alg == NULL)
		return -1;
	if (strcmp(alg, ALG_ES256) == 0) {
		rc = token_es256_sign(key, (const unsigned char *)base, strlen(base), sig);
		siglen = 64;
	} else {
		EVP_MD_CTX *md = EVP_MD_CTX_new();

		if (md == NULL)
			abort();
		rc = EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
		             EVP_DigestSign(md, sig, &siglen, (const unsigned char *)base,
		                            strlen(base)) == 1
		         ? 0
		         : -1;
		EVP_MD_CTX_free(md);
	}
	if (rc != 0 || scap < 6 + (siglen + 2) / 3 * 4)
		return -1;
	memcpy(signature, HTTPSIG_LABEL "=:", 4);
	memcpy(signature + 4 + b64_encode(sig, siglen, signature + 4), ":", 2);
	return 0;
}

int httpsig_sign_request(EVP_PKEY *key, const char *keyid, int64_t created, const char *nonce,
                         const char *method, const char *path, const char *query,
                         const char *digest, char *input, size_t icap, char *signature, size_t scap)
{
	const char *alg = httpsig_alg_of(key);
	char *base;
	int n, rc;

	if (alg == NULL)
		return -1;
	n = snprintf(input, icap, "%s=%s;created=%lld;nonce=\"%s\";keyid=\"%s\";alg=\"%s\"",
	             HTTPSIG_LABEL, HTTPSIG_REQUEST, (long long)created, nonce, keyid, alg);
	if (n < 0 || (size_t)n >= icap)
		return -1;
	base = httpsig_request_base(method, path, query, digest, input + 3);
	rc = sign_base(key, base, signature, scap);
	free(base);
	return rc;
}

int httpsig_sign_response(EVP_PKEY *key, const char *keyid, int64_t created, int status,
                          const char *digest, char *input, size_t icap, char *signature,
                          size_t scap)
{
	const char *alg = httpsig_alg_of(key);
	char *base;
	int n, rc;

	if (alg == NULL)
		return -1;
	n = snprintf(input, icap, "%s=%s;created=%lld;keyid=\"%s\";alg=\"%s\"", HTTPSIG_LABEL,
	             HTTPSIG_RESPONSE, (long long)created, keyid, alg);
	if (n < 0 || (size_t)n >= icap)
		return -1;
	base = httpsig_response_base(status, digest, input + 3);
	rc = sign_base(key, base, signature, scap);
	free(base);
	return rc;
}
