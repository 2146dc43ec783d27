/*
 * The partner client library: signs requests to the gateway (common/httpsig,
 * RFC 9421 profile) and verifies the gateway's signed responses.  The
 * reference for partner apps; hc-client (services/admin/client.c) is its
 * command line, used by the tests.
 */
#ifndef HC_CLIENT_CLIENT_H
#define HC_CLIENT_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

typedef struct hc_client {
	const char *base_url; /* "http://127.0.0.1:8080" */
	const char *keyid;    /* "<client id>:<kid>" */
	EVP_PKEY *key;        /* the client's private key (P-256 or RSA >= 2048) */
	EVP_PKEY *platform;   /* the gateway's response key; NULL: responses not checked */
	long timeout_ms;
	/* for tests of the gateway's refusals; all 0/NULL in real use */
	int64_t skew_s;           /* added to the signature's created time */
	const char *nonce;        /* NULL: a fresh random nonce */
	int tamper_body;          /* change the body's first byte after signing */
	int garble;               /* send a Signature that is not base64 */
	int no_signature;         /* send neither Signature-Input nor Signature */
	const char *save_request; /* write the signed request as a curl config file here */
} hc_client;

enum hc_client_check {
	HC_CLIENT_UNCHECKED, /* no platform key given, or the response carried no signature */
	HC_CLIENT_VERIFIED,  /* signed by the platform, digest and signature good */
	HC_CLIENT_FORGED     /* a signature or digest that does not verify */
};

typedef struct hc_client_response {
	long status;
	char *body; /* NUL-terminated; free() */
	size_t body_len;
	enum hc_client_check check;
	char error[256]; /* transport failure, when status is 0 */
} hc_client_response;

/*
 * Sends METHOD path (with its query string) and body (may be NULL) signed,
 * as JSON when there is a body; fills resp.  Returns 0 when an answer came
 * (any status), -1 on a transport failure (resp->error says why).
 */
int hc_client_request(const hc_client *c, const char *method, const char *path, const char *body,
                      size_t len, hc_client_response *resp);

void hc_client_response_cleanup(hc_client_response *resp);

#endif
