/*
 * The signed code a person shows: a CWT (RFC 8392) in a COSE_Sign1 (RFC
 * 9052) signed with ES256, base45-encoded (RFC 9285) behind the prefix
 * "HC1:", shown as a QR code (alphanumeric mode, error correction Q).  The
 * only module that includes cbor.h and qrencode.h; OpenSSL for the
 * signature.
 *
 * Claims: 1 iss (text), 4 exp, 6 iat (seconds), and private claims
 * -1 subject (the 32-byte person key), -2 colour (0 green, 1 yellow,
 * 2 red), -3 county (GB/T 2260 as an integer), -4 code version.  The
 * protected header holds only alg (ES256, -7) and kid (8 bytes: the start
 * of SHA-256 over the public key's DER SubjectPublicKeyInfo); the
 * unprotected header must be empty, so no algorithm or key can be swapped
 * in without breaking the signature.
 */
#ifndef HC_TOKEN_TOKEN_H
#define HC_TOKEN_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define TOKEN_PREFIX  "HC1:"
#define TOKEN_KID_LEN 8
#define TOKEN_MAX     1024 /* characters; a token is about 230 */

enum token_colour { TOKEN_GREEN = 0, TOKEN_YELLOW = 1, TOKEN_RED = 2 };

typedef struct token_claims {
	char issuer[32];
	int64_t iat, exp;
	unsigned char subject[32]; /* the person key, raw */
	int colour;                /* enum token_colour */
	uint32_t county;
	uint32_t version;
} token_claims;

/* Why a token is refused; each has its own problem code (token_error_code). */
enum token_error {
	TOKEN_OK = 0,
	TOKEN_E_PREFIX,      /* not "HC1:" */
	TOKEN_E_BASE45,      /* not base45 */
	TOKEN_E_CBOR,        /* not a COSE_Sign1 CWT as we write them */
	TOKEN_E_ALGORITHM,   /* protected header algorithm is not ES256 */
	TOKEN_E_KID_UNKNOWN, /* no key with that kid (or its validity is over) */
	TOKEN_E_KID_REVOKED, /* the key was revoked */
	TOKEN_E_SIGNATURE,   /* the signature does not verify */
	TOKEN_E_EXPIRED,     /* past exp */
	TOKEN_E_SUPERSEDED   /* online only: the code version is no longer current */
};

/* "token-prefix", "token-base45", ...; "token-valid" for TOKEN_OK. */
const char *token_error_code(enum token_error e);

/* A public key that verifies tokens. */
typedef struct token_key {
	unsigned char kid[TOKEN_KID_LEN];
	EVP_PKEY *pkey;    /* borrowed */
	int64_t not_after; /* verifies until then (seconds); 0: no end */
	int revoked;
} token_key;

/* A new ES256 (P-256) key pair, or NULL. */
EVP_PKEY *token_key_new(void);

/* kid of a key: the first 8 bytes of SHA-256 of its DER SubjectPublicKeyInfo. */
int token_kid(EVP_PKEY *pkey, unsigned char kid[TOKEN_KID_LEN]);

/* The public key whose DER SubjectPublicKeyInfo is hex, or NULL. */
EVP_PKEY *token_public_key_hex(const char *hex);

/* Signs claims with an ES256 private key; a new "HC1:..." string to free(), or NULL. */
char *token_sign(const token_claims *c, EVP_PKEY *key);
/*
 * The same with the key's kid (token_kid) given: a signer that keeps it
 * saves encoding the public key on every token (measured: ~65 us, the
 * signature itself ~26 us).
 */
char *token_sign_kid(const token_claims *c, EVP_PKEY *key, const unsigned char kid[TOKEN_KID_LEN]);

/*
 * Decodes and verifies text against keys[0..n) at time now: prefix, base45,
 * COSE structure, algorithm, kid, signature, expiry, in that order.  Fills
 * *c (when not NULL) once the structure decodes, and *kid_out with the kid.
 */
enum token_error token_verify(const char *text, const token_key *keys, size_t n, int64_t now,
                              token_claims *c, unsigned char kid_out[TOKEN_KID_LEN]);

/* base45 (RFC 9285).  Encode: a new string to free().  Decode: 0 and *out (free), or -1. */
char *base45_encode(const unsigned char *in, size_t n);
int base45_decode(const char *in, size_t len, unsigned char **out, size_t *outlen);

/*
 * COSE_Sign1 over an arbitrary payload, with the same header rules; used
 * for the signed key list.  cose_sign1 returns new bytes in *out;
 * cose_verify1 returns the payload (new, in *payload) when key verifies.
 */
int cose_sign1(const unsigned char *payload, size_t n, EVP_PKEY *key, unsigned char **out,
               size_t *outlen);
enum token_error cose_verify1(const unsigned char *in, size_t n, const token_key *keys,
                              size_t nkeys, int64_t now, unsigned char **payload, size_t *plen,
                              unsigned char kid_out[TOKEN_KID_LEN]);

/*
 * The signed key list for offline devices: a COSE_Sign1 by root over a CBOR
 * array of [kid (bstr 8), public key (bstr: DER SubjectPublicKeyInfo),
 * not_after (uint; 0: none)], holding the keys of keys[0..n) that are not
 * revoked and still verify at now.  keylist_verify checks it against the
 * root public key and returns the keys (free with keylist_free).
 */
int keylist_sign(const token_key *keys, size_t n, int64_t now, EVP_PKEY *root, unsigned char **out,
                 size_t *len);
int keylist_verify(const unsigned char *in, size_t len, EVP_PKEY *root, token_key **keys,
                   size_t *n);
void keylist_free(token_key *keys, size_t n);

/* The QR code of text (alphanumeric mode, level Q) as PNG or SVG (a string); new bytes in *out. */
int token_qr_png(const char *text, int scale, unsigned char **out, size_t *len);
int token_qr_svg(const char *text, int scale, char **out, size_t *len);

/*
 * ES256 with the signature as raw r||s (64 bytes), as COSE and HTTP
 * message signatures (ecdsa-p256-sha256) want it.  Return 0 or -1.
 */
int token_es256_sign(EVP_PKEY *key, const unsigned char *msg, size_t n, unsigned char sig[64]);
int token_es256_verify(EVP_PKEY *key, const unsigned char *msg, size_t n,
                       const unsigned char sig[64]);

#endif
