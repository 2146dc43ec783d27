/* COSE_Sign1 CWT tokens with ES256; see token.h. */
#include "common/token/token.h"

#include "common/base/rand.h"
#include "common/token/token_internal.h"

#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <openssl/ec.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#define COSE_SIGN1_TAG 18
#define COSE_ALG_ES256 7 /* as a CBOR negative integer: -1 - 6 */

const char *token_error_code(enum token_error e)
{
	static const char *const codes[] = {
	    "token-valid",     "token-prefix",      "token-base45",      "token-cbor",
	    "token-algorithm", "token-kid-unknown", "token-kid-revoked", "token-signature",
	    "token-expired",   "token-superseded"};

	return (unsigned)e < sizeof(codes) / sizeof(codes[0]) ? codes[e] : "token-cbor";
}

EVP_PKEY *token_key_new(void)
{
	return EVP_EC_gen("P-256");
}

int token_kid(EVP_PKEY *pkey, unsigned char kid[TOKEN_KID_LEN])
{
	unsigned char *der = NULL, digest[SHA256_DIGEST_LENGTH];
	int len = i2d_PUBKEY(pkey, &der);

	if (len <= 0)
		return -1;
	SHA256(der, (size_t)len, digest);
	OPENSSL_free(der);
	memcpy(kid, digest, TOKEN_KID_LEN);
	return 0;
}

/* ---- CBOR helpers ---- */

static unsigned char *serialize(cbor_item_t *item, size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0;

	*len = cbor_serialize_alloc(item, &buf, &cap);
	if (*len == 0)
		abort();
	return buf;
}

static void map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value)
{
	if (!cbor_map_add(map,
	                  (struct cbor_pair){.key = cbor_move(key), .value = cbor_move(value)}))
		abort();
}

/* An unsigned integer in its shortest encoding (libcbor keeps the width it is given). */
static cbor_item_t *uint_item(uint64_t v)
{
	if (v <= UINT8_MAX)
		return cbor_build_uint8((uint8_t)v);
	if (v <= UINT16_MAX)
		return cbor_build_uint16((uint16_t)v);
	if (v <= UINT32_MAX)
		return cbor_build_uint32((uint32_t)v);
	return cbor_build_uint64(v);
}

/* CBOR integer key: k >= 0 as uint, k < 0 as negint. */
static cbor_item_t *int_key(int k)
{
	return k >= 0 ? cbor_build_uint8((uint8_t)k) : cbor_build_negint8((uint8_t)(-1 - k));
}

/* The integer value of a uint or negint item into *v; -1 otherwise. */
static int int_of(cbor_item_t *item, int64_t *v)
{
	if (cbor_isa_uint(item) && cbor_get_int(item) <= INT64_MAX) {
		*v = (int64_t)cbor_get_int(item);
		return 0;
	}
	if (cbor_isa_negint(item) && cbor_get_int(item) < INT64_MAX) {
		*v = -1 - (int64_t)cbor_get_int(item);
		return 0;
	}
	return -1;
}

static int is_bstr(cbor_item_t *item)
{
	return cbor_isa_bytestring(item) && cbor_bytestring_is_definite(item);
}

/*
 * Walks one CBOR item of p[0..n) from *off without allocating, refusing
 * indefinite lengths, reserved values, nesting deeper than 16, and any
 * declared length or count the remaining bytes cannot hold.  libcbor 0.8
 * allocates what an array header declares before reading its items, so an
 * eight-byte header could ask for gigabytes; nothing untrusted reaches
 * cbor_load before this check.
 */
static int skim(const unsigned char *p, size_t n, size_t *off, int depth)
{
	unsigned char ib;
	uint64_t v = 0, i;
	int major, ai;

	if (depth > 16 || *off >= n)
		return -1;
	ib = p[(*off)++];
	major = ib >> 5;
	ai = ib & 31;
	if (ai < 24) {
		v = (uint64_t)ai;
	} else if (ai <= 27) {
		size_t len = (size_t)1 << (ai - 24);

		if (n - *off < len)
			return -1;
		for (i = 0; i < len; i++)
			v = v << 8 | p[(*off)++];
	} else {
		return -1; /* reserved, or indefinite length */
	}
	switch (major) {
	case 0:
	case 1:
	case 7: return 0; /* integers, simple values and floats: read already */
	case 2:
	case 3:
		if (v > n - *off)
			return -1;
		*off += (size_t)v;
		return 0;
	case 4:
	case 5:
		if (v > (n - *off) / (major == 5 ? 2 : 1))
			return -1;
		for (i = 0; i < v * (major == 5 ? 2 : 1); i++)
			if (skim(p, n, off, depth + 1) != 0)
				return -1;
		return 0;
	default: return skim(p, n, off, depth + 1); /* a tag and its item */
	}
}

cbor_item_t *token_cbor_load(const unsigned char *p, size_t n)
{
	struct cbor_load_result r;
	size_t off = 0;
	cbor_item_t *item;

	if (skim(p, n, &off, 0) != 0 || off != n)
		return NULL;
	item = cbor_load(p, n, &r);
	if (item != NULL && r.read != n)
		cbor_decref(&item);
	return item;
}

/* The Sig_structure of COSE_Sign1 over protected and payload (RFC 9052, 4.4). */
static unsigned char *sig_structure(const unsigned char *prot, size_t plen,
                                    const unsigned char *payload, size_t n, size_t *len)
{
	cbor_item_t *a = cbor_new_definite_array(4);
	unsigned char *out;

	if (!cbor_array_push(a, cbor_move(cbor_build_string("Signature1"))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(prot, plen))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(NULL, 0))) ||
	    !cbor_array_push(a, cbor_move(cbor_build_bytestring(payload, n))))
		abort();
	out = serialize(a, len);
	cbor_decref(&a);
	return out;
}

EVP_PKEY *token_public_key_hex(const char *hex)
{
	size_t n = strlen(hex) / 2;
	unsigned char *der = malloc(n + 1);
	const unsigned char *p = der;
	EVP_PKEY *k = NULL;

	if (der == NULL)
		abort();
	if (strlen(hex) % 2 == 0 && hc_hex_decode(hex, der, n) == 0)
		k = d2i_PUBKEY(NULL, &p, (long)n);
	free(der);
	return k;
}

/* ---- ES256: raw r||s (64 bytes) as COSE wants, DER as OpenSSL gives ---- */

int token_es256_sign(EVP_PKEY *key, const unsigned char *msg, size_t n, unsigned char sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[80];
	const unsigned char *p = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *s = NULL;
	int rc = -1;

	if (md != NULL && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, der, &derlen, msg, n) == 1 &&
	    (s = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) != NULL &&
	    BN_bn2binpad(ECDSA_SIG_get0_r(s), sig, 32) == 32 &&
	    BN_bn2binpad(ECDSA_SIG_get0_s(s), sig + 32, 32) == 32)
		rc = 0;
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return rc;
}

int token_es256_verify(EVP_PKEY *key, const unsigned char *msg, size_t n,
                       const unsigned char sig[64])
{
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int derlen, ok = 0;

	if (s == NULL || r == NULL || ss == NULL || md == NULL || ECDSA_SIG_set0(s, r, ss) != 1) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	derlen = i2d_ECDSA_SIG(s, &der);
	ok = derlen > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	     EVP_DigestVerify(md, der, (size_t)derlen, msg, n) == 1;
out:
	OPENSSL_free(der);
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

/* ---- COSE_Sign1 ---- */

static int cose_sign1_kid(const unsigned char *payload, size_t n, EVP_PKEY *key,
                          const unsigned char kid[TOKEN_KID_LEN], unsigned char **out,
                          size_t *outlen)
{
	unsigned char sig[64], *prot, *tbs;
	size_t plen, tlen;
	cbor_item_t *h = cbor_new_definite_map(2), *msg;

	*out = NULL;
	map_put(h, int_key(1), cbor_build_negint8(COSE_ALG_ES256 - 1));
	map_put(h, int_key(4), cbor_build_bytestring(kid, TOKEN_KID_LEN));
	prot = serialize(h, &plen);
	cbor_decref(&h);
	tbs = sig_structure(prot, plen, payload, n, &tlen);
	if (token_es256_sign(key, tbs, tlen, sig) != 0) {
		free(prot);
		free(tbs);
		return -1;
	}
	free(tbs);
	msg = cbor_new_definite_array(4);
	if (!cbor_array_push(msg, cbor_move(cbor_build_bytestring(prot, plen))) ||
	    !cbor_array_push(msg, cbor_move(cbor_new_definite_map(0))) ||
	    !cbor_array_push(msg, cbor_move(cbor_build_bytestring(payload, n))) ||
	    !cbor_array_push(msg, cbor_move(cbor_build_bytestring(sig, 64))))
		abort();
	free(prot);
	{
		cbor_item_t *tagged = cbor_build_tag(COSE_SIGN1_TAG, cbor_move(msg));

		*out = serialize(tagged, outlen);
		cbor_decref(&tagged);
	}
	return 0;
}

int cose_sign1(const unsigned char *payload, size_t n, EVP_PKEY *key, unsigned char **out,
               size_t *outlen)
{
	unsigned char kid[TOKEN_KID_LEN];

	*out = NULL;
	if (token_kid(key, kid) != 0)
		return -1;
	return cose_sign1_kid(payload, n, key, kid, out, outlen);
}

/* Reads the protected header: ES256 and an 8-byte kid, nothing else. */
static enum token_error read_protected(cbor_item_t *prot, unsigned char kid[TOKEN_KID_LEN])
{
	cbor_item_t *h =
	    token_cbor_load(cbor_bytestring_handle(prot), cbor_bytestring_length(prot));
	enum token_error e = TOKEN_E_CBOR;
	int have_alg = 0, have_kid = 0;
	size_t i;

	if (h == NULL)
		return TOKEN_E_CBOR;
	if (!cbor_isa_map(h) || !cbor_map_is_definite(h) || cbor_map_size(h) != 2)
		goto out;
	for (i = 0; i < cbor_map_size(h); i++) {
		struct cbor_pair *p = &cbor_map_handle(h)[i];
		int64_t k, v;

		if (int_of(p->key, &k) != 0)
			goto out;
		if (k == 1 && !have_alg) {
			have_alg = 1;
			if (int_of(p->value, &v) != 0)
				goto out;
			if (v != -COSE_ALG_ES256) {
				e = TOKEN_E_ALGORITHM;
				goto out;
			}
		} else if (k == 4 && !have_kid && is_bstr(p->value) &&
		           cbor_bytestring_length(p->value) == TOKEN_KID_LEN) {
			have_kid = 1;
			memcpy(kid, cbor_bytestring_handle(p->value), TOKEN_KID_LEN);
		} else {
			goto out;
		}
	}
	e = have_alg && have_kid ? TOKEN_OK : TOKEN_E_CBOR;
out:
	cbor_decref(&h);
	return e;
}

enum token_error cose_verify1(const unsigned char *in, size_t n, const token_key *keys,
                              size_t nkeys, int64_t now, unsigned char **payload, size_t *plen,
                              unsigned char kid_out[TOKEN_KID_LEN])
{
	cbor_item_t *msg = NULL, **a;
	unsigned char kid[TOKEN_KID_LEN], *tbs;
	enum token_error e = TOKEN_E_CBOR;
	const token_key *key = NULL;
	size_t i, tlen;

	*payload = NULL;
	/*
	 * The tag: libcbor 0.8 refuses tags 6 to 20 in their one-byte form,
	 * and COSE_Sign1's 18 is 0xd2, so that byte is read here.
	 */
	if (n < 1 || in[0] != 0xc0 + COSE_SIGN1_TAG)
		return TOKEN_E_CBOR;
	msg = token_cbor_load(in + 1, n - 1);
	if (msg == NULL)
		return TOKEN_E_CBOR;
	if (!cbor_isa_array(msg) || !cbor_array_is_definite(msg) || cbor_array_size(msg) != 4)
		goto out;
	a = cbor_array_handle(msg);
	if (!is_bstr(a[0]) || !cbor_isa_map(a[1]) || !cbor_map_is_definite(a[1]) ||
	    cbor_map_size(a[1]) != 0 || !is_bstr(a[2]) || !is_bstr(a[3]) ||
	    cbor_bytestring_length(a[3]) != 64)
		goto out;
	e = read_protected(a[0], kid);
	if (e != TOKEN_OK)
		goto out;
	if (kid_out != NULL)
		memcpy(kid_out, kid, TOKEN_KID_LEN);
	for (i = 0; i < nkeys && key == NULL; i++)
		if (memcmp(keys[i].kid, kid, TOKEN_KID_LEN) == 0)
			key = &keys[i];
	if (key == NULL || (key->not_after != 0 && now > key->not_after)) {
		e = TOKEN_E_KID_UNKNOWN;
		goto out;
	}
	if (key->revoked) {
		e = TOKEN_E_KID_REVOKED;
		goto out;
	}
	tbs = sig_structure(cbor_bytestring_handle(a[0]), cbor_bytestring_length(a[0]),
	                    cbor_bytestring_handle(a[2]), cbor_bytestring_length(a[2]), &tlen);
	e = token_es256_verify(key->pkey, tbs, tlen, cbor_bytestring_handle(a[3])) == 0
	        ? TOKEN_OK
	        : TOKEN_E_SIGNATURE;
	free(tbs);
	if (e == TOKEN_OK) {
		*plen = cbor_bytestring_length(a[2]);
		*payload = malloc(*plen + 1);
		if (*payload == NULL)
			abort();
		memcpy(*payload, cbor_bytestring_handle(a[2]), *plen);
	}
out:
	cbor_decref(&msg);
	return e;
}

/* ---- the CWT ---- */

char *token_sign(const token_claims *c, EVP_PKEY *key)
{
	unsigned char kid[TOKEN_KID_LEN];

	return token_kid(key, kid) == 0 ? token_sign_kid(c, key, kid) : NULL;
}

char *token_sign_kid(const token_claims *c, EVP_PKEY *key, const unsigned char kid[TOKEN_KID_LEN])
{
	cbor_item_t *m = cbor_new_definite_map(7);
	unsigned char *payload, *cose;
	size_t plen, clen;
	char *b45, *out;

	map_put(m, int_key(1), cbor_build_string(c->issuer));
	map_put(m, int_key(4), uint_item((uint64_t)c->exp));
	map_put(m, int_key(6), uint_item((uint64_t)c->iat));
	map_put(m, int_key(-1), cbor_build_bytestring(c->subject, 32));
	map_put(m, int_key(-2), uint_item((uint64_t)c->colour));
	map_put(m, int_key(-3), uint_item(c->county));
	map_put(m, int_key(-4), uint_item(c->version));
	payload = serialize(m, &plen);
	cbor_decref(&m);
	if (cose_sign1_kid(payload, plen, key, kid, &cose, &clen) != 0) {
		free(payload);
		return NULL;
	}
	free(payload);
	b45 = base45_encode(cose, clen);
	free(cose);
	out = malloc(strlen(TOKEN_PREFIX) + strlen(b45) + 1);
	if (out == NULL)
		abort();
	strcpy(out, TOKEN_PREFIX);
	strcat(out, b45);
	free(b45);
	return out;
}

/* Reads the claims map; every claim present once, nothing else. */
static int read_claims(const unsigned char *p, size_t n, token_claims *c)
{
	cbor_item_t *m = token_cbor_load(p, n);
	unsigned seen = 0;
	size_t i;
	int rc = -1;

	if (m == NULL)
		return -1;
	memset(c, 0, sizeof(*c));
	if (!cbor_isa_map(m) || !cbor_map_is_definite(m) || cbor_map_size(m) != 7)
		goto out;
	for (i = 0; i < cbor_map_size(m); i++) {
		struct cbor_pair *pr = &cbor_map_handle(m)[i];
		int64_t k, v = 0;
		unsigned bit;

		if (int_of(pr->key, &k) != 0 || k < -4 || k > 6)
			goto out;
		bit = 1u << (k + 4);
		if (seen & bit)
			goto out;
		seen |= bit;
		if (k == 1) {
			if (!cbor_isa_string(pr->value) || !cbor_string_is_definite(pr->value) ||
			    cbor_string_length(pr->value) >= sizeof(c->issuer))
				goto out;
			memcpy(c->issuer, cbor_string_handle(pr->value),
			       cbor_string_length(pr->value));
		} else if (k == -1) {
			if (!is_bstr(pr->value) || cbor_bytestring_length(pr->value) != 32)
				goto out;
			memcpy(c->subject, cbor_bytestring_handle(pr->value), 32);
		} else {
			if (!cbor_isa_uint(pr->value) || int_of(pr->value, &v) != 0)
				goto out;
			if (k == 4)
				c->exp = v;
			else if (k == 6)
				c->iat = v;
			else if (k == -2 && v <= TOKEN_RED)
				c->colour = (int)v;
			else if (k == -3 && v <= 999999)
				c->county = (uint32_t)v;
			else if (k == -4 && v <= UINT32_MAX)
				c->version = (uint32_t)v;
			else
				goto out;
		}
	}
	rc = seen == ((1u << 5) | (1u << 8) | (1u << 10) | 0xFu) ? 0 : -1;
out:
	cbor_decref(&m);
	return rc;
}

enum token_error token_verify(const char *text, const token_key *keys, size_t n, int64_t now,
                              token_claims *c, unsigned char kid_out[TOKEN_KID_LEN])
{
	size_t plen = strlen(TOKEN_PREFIX), len, blen, paylen;
	unsigned char *bytes = NULL, *payload = NULL;
	token_claims tmp;
	enum token_error e;

	if (c == NULL)
		c = &tmp;
	len = strnlen(text, TOKEN_MAX + 1);
	if (len > TOKEN_MAX || strncmp(text, TOKEN_PREFIX, plen) != 0)
		return TOKEN_E_PREFIX;
	if (base45_decode(text + plen, len - plen, &bytes, &blen) != 0)
		return TOKEN_E_BASE45;
	e = cose_verify1(bytes, blen, keys, n, now, &payload, &paylen, kid_out);
	free(bytes);
	if (e != TOKEN_OK)
		return e;
	if (read_claims(payload, paylen, c) != 0)
		e = TOKEN_E_CBOR;
	else if (now >= c->exp)
		e = TOKEN_E_EXPIRED;
	free(payload);
	return e;
}
