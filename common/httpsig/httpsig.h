/*
 * HTTP message signatures for the partner API: RFC 9421 with one fixed
 * profile, and RFC 9530 Content-Digest.  Pure functions, no I/O; used by
 * the gateway (verify requests, sign responses) and by hc-client (sign
 * requests, verify responses).
 *
 * A request carries
 *
 *   Content-Digest: sha-256=:<base64 SHA-256 of the body, empty or not>:
 *   Signature-Input: hc=("@method" "@path" "@query" "content-digest");
 *       created=<unix seconds>;nonce="<16-64 of A-Za-z0-9_->";
 *       keyid="<client id>:<kid>";alg="ecdsa-p256-sha256"   (one line)
 *   Signature: hc=:<base64 signature>:
 *
 * The signature base (RFC 9421 section 2.5) is, lines joined by "\n":
 *
 *   "@method": POST
 *   "@path": /v1/declarations
 *   "@query": ?a=1            ("?" alone without a query string)
 *   "content-digest": sha-256=:...:
 *   "@signature-params": <the Signature-Input member's value, as sent>
 *
 * alg is ecdsa-p256-sha256 (raw r||s, 64 bytes) for P-256 keys or
 * rsa-v1_5-sha256 for RSA keys of 2048 bits or more.  A response of the
 * gateway is signed the same way over ("@status" "content-digest") with
 * keyid "platform:<kid>".
 */
#ifndef HC_HTTPSIG_HTTPSIG_H
#define HC_HTTPSIG_HTTPSIG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define HTTPSIG_LABEL      "hc"
#define HTTPSIG_REQUEST    "(\"@method\" \"@path\" \"@query\" \"content-digest\")"
#define HTTPSIG_RESPONSE   "(\"@status\" \"content-digest\")"
#define HTTPSIG_NONCE_MIN  16
#define HTTPSIG_NONCE_MAX  64
#define HTTPSIG_KEYID_MAX  96
#define HTTPSIG_DIGEST_MAX 64 /* "sha-256=:" + 44 + ":" */
#define HTTPSIG_SIG_MAX    512

/* Why a signed request is refused; httpsig_reason names each. */
enum httpsig_error {
	HTTPSIG_OK,
	HTTPSIG_MISSING,   /* no Signature-Input or Signature */
	HTTPSIG_MALFORMED, /* not the profile above */
	HTTPSIG_DIGEST,    /* Content-Digest missing or not the body's */
	HTTPSIG_INVALID,   /* the signature does not verify with the key */
};

/* The parameters of a parsed Signature-Input member. */
typedef struct httpsig_params {
	int64_t created;
	char nonce[HTTPSIG_NONCE_MAX + 1];
	char keyid[HTTPSIG_KEYID_MAX + 1];
	char alg[32];
	const char *raw; /* the member's value after "hc=", inside the header (borrowed) */
} httpsig_params;

/*
 * Parses Signature-Input and Signature headers (either may be NULL).  The
 * covered components must be exactly `components` (HTTPSIG_REQUEST or
 * HTTPSIG_RESPONSE); created, nonce (requests), keyid and alg are required
 * and nothing else is allowed.  Fills p and sig (up to HTTPSIG_SIG_MAX
 * bytes).  Returns HTTPSIG_OK, HTTPSIG_MISSING or HTTPSIG_MALFORMED.
 */
enum httpsig_error httpsig_parse(const char *input, const char *signature, const char *components,
                                 httpsig_params *p, unsigned char *sig, size_t *siglen);

/* "sha-256=:<base64>:" of body into out[HTTPSIG_DIGEST_MAX + 1]. */
void httpsig_digest(const void *body, size_t len, char out[HTTPSIG_DIGEST_MAX + 1]);

/* 1 when header is exactly the digest of body (a single sha-256 member). */
int httpsig_digest_matches(const char *header, const void *body, size_t len);

/*
 * The signature base of a request (method, path as sent, query without '?'
 * or NULL, Content-Digest value, Signature-Input member value) into a new
 * string to free().
 */
char *httpsig_request_base(const char *method, const char *path, const char *query,
                           const char *digest, const char *params);

/* The signature base of a response. */
char *httpsig_response_base(int status, const char *digest, const char *params);

/* Verifies sig over base with key, by alg.  Returns HTTPSIG_OK or HTTPSIG_INVALID. */
enum httpsig_error httpsig_verify(EVP_PKEY *key, const char *alg, const char *base,
                                  const unsigned char *sig, size_t siglen);

/* The alg a key signs with ("ecdsa-p256-sha256", "rsa-v1_5-sha256"), or NULL for other keys. */
const char *httpsig_alg_of(EVP_PKEY *key);

/*
 * Signs: writes the Signature-Input header value ("hc=(...);created=...")
 * into input[icap] and the Signature header value ("hc=:...:") into
 * signature[scap], with the key's alg.  Requests carry a nonce, responses
 * none.  Returns 0, or -1 (a key of another kind, or a buffer too small).
 */
int httpsig_sign_request(EVP_PKEY *key, const char *keyid, int64_t created, const char *nonce,
                         const char *method, const char *path, const char *query,
                         const char *digest, char *input, size_t icap, char *signature,
                         size_t scap);
int httpsig_sign_response(EVP_PKEY *key, const char *keyid, int64_t created, int status,
                          const char *digest, char *input, size_t icap, char *signature,
                          size_t scap);

#endif
