/*
 * Signed requests and signed responses (common/httpsig: RFC 9421 with one
 * profile, RFC 9530 Content-Digest); see app.h.
 *
 * A request is accepted when, in this order: its signature headers follow
 * the profile (signature-missing, signature-malformed), its created time is
 * within 300 s of ours either way (signature-timestamp), its keyid names an
 * active key of an active client (signature-key-unknown), its
 * Content-Digest is the body's (signature-digest), the signature verifies
 * with that key (signature-invalid), and its nonce is new for the client
 * (signature-replayed: nonces are kept 10 minutes, past the window, so a
 * captured request can never be replayed; claimed in batches by
 * routes/nonces.c).  The nonce is recorded only for a request whose
 * signature verified, so no one can spend another's nonces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "common/base/hash.h"
#include "common/base/rand.h"
#include "common/httpsig/httpsig.h"
#include "common/log/log.h"
#include "common/token/token.h"
#include "services/gateway/app.h"
#include "services/gateway/domain/auth.h"

#define SIGNED_WINDOW_S 300

static int refuse(http_req *req, enum problem_code code, const char *why)
{
	http_reply_header(req, "WWW-Authenticate", "Signature realm=\"hc\"");
	http_reply_problem(req, code, NULL, "%s", why);
	return -1;
}

/* What authentication keeps of a client's key (a cache entry). */
typedef struct signed_client {
	char role[16];
	char county[8];
	long quota_rate, quota_burst;
	char der_hex[400]; /* "" when too long to keep */
} signed_client;

EVP_PKEY *gateway_key_decoded(gateway_keys *keys, const char *der_hex)
{
	unsigned slot = hc_fnv1a32(der_hex) % GATEWAY_KEY_SLOTS;
	EVP_PKEY *key = NULL;
	char *copy;

	pthread_mutex_lock(&keys->mu);
	if (keys->key[slot] != NULL && strcmp(keys->der_hex[slot], der_hex) == 0 &&
	    EVP_PKEY_up_ref(keys->key[slot]) == 1)
		key = keys->key[slot];
	pthread_mutex_unlock(&keys->mu);
	if (key != NULL)
		return key;
	key = token_public_key_hex(der_hex);
	copy = key != NULL ? strdup(der_hex) : NULL;
	if (copy == NULL || EVP_PKEY_up_ref(key) != 1) {
		free(copy);
		return key; /* decoded, not kept */
	}
	pthread_mutex_lock(&keys->mu);
	EVP_PKEY_free(keys->key[slot]); /* another key with the same slot, or this one twice */
	free(keys->der_hex[slot]);
	keys->key[slot] = key;
	keys->der_hex[slot] = copy;
	pthread_mutex_unlock(&keys->mu);
	return key;
}

void gateway_keys_free(gateway_keys *keys)
{
	size_t i;

	for (i = 0; i < GATEWAY_KEY_SLOTS; i++) {
		EVP_PKEY_free(keys->key[i]);
		free(keys->der_hex[i]);
		keys->key[i] = NULL;
		keys->der_hex[i] = NULL;
	}
}

/* The client's key kid into *key (EVP_PKEY_free), with its principal. */
static int signed_key(gateway_app *app, http_req *req, const char *client, const char *kid,
                      gateway_principal *p, EVP_PKEY **key)
{
	const char *params[2] = {client, kid};
	signed_client sc;
	char ckey[CACHE_KEY_MAX];

	*key = NULL;
	snprintf(ckey, sizeof(ckey), "s:%s/%s", client, kid);
	if (cache_get(app->clients, ckey, &sc, sizeof(sc)) != (long)sizeof(sc)) {
		uint64_t gen = cache_generation(app->clients);
		db_res *res = NULL;
		db_conn *conn = db_pool_take(app->svc.pool);
		hc_err err;
		int rc;

		hc_err_clear(&err);
		rc = db_run(conn, "gateway_client_key_get", 2, params, &res, &err);
		db_pool_give(app->svc.pool, conn);
		if (rc != 0) {
			http_reply_err(req, &err);
			return -1;
		}
		memset(&sc, 0, sizeof(sc));
		if (db_res_rows(res) == 1) {
			snprintf(sc.role, sizeof(sc.role), "%s", db_res_get(res, 0, 0));
			snprintf(sc.county, sizeof(sc.county), "%s", db_res_get(res, 0, 1));
			sc.quota_rate = strtol(db_res_get(res, 0, 2), NULL, 10);
			sc.quota_burst = strtol(db_res_get(res, 0, 3), NULL, 10);
			if (strlen(db_res_get(res, 0, 4)) < sizeof(sc.der_hex)) {
				snprintf(sc.der_hex, sizeof(sc.der_hex), "%s",
				         db_res_get(res, 0, 4));
				cache_put(app->clients, gen, ckey, &sc, sizeof(sc));
			} else {
				*key = gateway_key_decoded(
				    &app->keys, db_res_get(res, 0, 4)); /* too long to cache */
			}
		}
		db_res_free(res);
	}
	if (sc.der_hex[0] != '\0')
		*key = gateway_key_decoded(&app->keys, sc.der_hex);
	if (*key != NULL) {
		snprintf(p->role, sizeof(p->role), "%s", sc.role);
		snprintf(p->county, sizeof(p->county), "%s", sc.county);
		p->quota_rate = sc.quota_rate;
		p->quota_burst = sc.quota_burst;
	}
	if (*key == NULL)
		return refuse(req, PROBLEM_SIGNATURE_KEY_UNKNOWN,
		              "the keyid names no active key of an active client");
	return 0;
}

static void sign_response(void *app_, http_req *req, int status, const char *content_type,
                          const char *body, size_t len)
{
	gateway_app *app = app_;
	char digest[HTTPSIG_DIGEST_MAX + 1], input[256], signature[HTTPSIG_SIG_MAX * 2];

	(void)content_type;

	if (app->response_key == NULL)
		return;
	httpsig_digest(body, len, digest);
	if (httpsig_sign_response(app->response_key, app->response_keyid, (int64_t)time(NULL),
	                          status, digest, input, sizeof(input), signature,
	                          sizeof(signature)) != 0) {
		log_error("could not sign a response");
		return;
	}
	http_reply_header(req, "Content-Digest", digest);
	http_reply_header(req, "Signature-Input", input);
	http_reply_header(req, "Signature", signature);
}

int gateway_signed_authenticate(gateway_app *app, http_req *req, const gateway_claim *c,
                                gateway_principal *p)
{
	char query[2048], *base;
	const char *body;
	enum httpsig_error e;
	EVP_PKEY *key = NULL;
	size_t len = 0;
	int64_t skew;

	if (c->parsed == HTTPSIG_MISSING)
		return refuse(req, PROBLEM_SIGNATURE_MISSING,
		              "sign the request (Signature-Input, Signature, Content-Digest)");
	if (c->parsed != HTTPSIG_OK || c->client[0] == '\0')
		return refuse(req, PROBLEM_SIGNATURE_MALFORMED,
		              "the signature headers do not follow the profile (docs/API.md)");
	skew = (int64_t)time(NULL) - c->prm.created;
	if (skew > SIGNED_WINDOW_S || skew < -SIGNED_WINDOW_S)
		return refuse(req, PROBLEM_SIGNATURE_TIMESTAMP,
		              "the signature's created time is more than 300 s from the gateway's");
	snprintf(p->client, sizeof(p->client), "%s", c->client);
	if (signed_key(app, req, p->client, c->kid, p, &key) != 0)
		return -1;
	body = http_req_body(req, &len);
	if (!httpsig_digest_matches(http_req_header(req, "Content-Digest"), body, len)) {
		EVP_PKEY_free(key);
		return refuse(req, PROBLEM_SIGNATURE_DIGEST,
		              "Content-Digest is missing or is not the SHA-256 of the body");
	}
	if (http_req_query_string(req, query, sizeof(query)) < 0)
		query[0] = '\0';
	base = httpsig_request_base(http_req_method(req), http_req_path(req), query,
	                            http_req_header(req, "Content-Digest"), c->prm.raw);
	e = httpsig_verify(key, c->prm.alg, base, c->sig, c->siglen);
	free(base);
	EVP_PKEY_free(key);
	if (e != HTTPSIG_OK) {
		log_info("refused a signature of client %s", p->client);
		return refuse(req, PROBLEM_SIGNATURE_INVALID, "the signature does not verify");
	}
	snprintf(p->nonce, sizeof(p->nonce), "%s", c->prm.nonce); /* claimed by routes/nonces.c */
	return 0;
}

void gateway_sign_responses(gateway_app *app, http_req *req)
{
	http_req_on_send(req, sign_response, app); /* on the workers, not the upstream loop */
}

int gateway_response_key_load(gateway_app *app, hc_err *err)
{
	const char *hex = app->cfg.response_key_hex;
	unsigned char der[512], kid[TOKEN_KID_LEN];
	const unsigned char *q = der;
	char kid_hex[2 * TOKEN_KID_LEN + 1];
	size_t n;

	if (hex == NULL || hex[0] == '\0') {
		log_warn("HC_RESPONSE_KEY is not set: responses are not signed");
		return 0;
	}
	n = strlen(hex) / 2;
	if (strlen(hex) % 2 != 0 || n > sizeof(der) || hc_hex_decode(hex, der, n) != 0 ||
	    (app->response_key = d2i_AutoPrivateKey(NULL, &q, (long)n)) == NULL ||
	    httpsig_alg_of(app->response_key) == NULL || token_kid(app->response_key, kid) != 0)
		return hc_err_set(
		    err, HC_ERR_FATAL,
		    "HC_RESPONSE_KEY is not the hex DER of a P-256 or RSA private key");
	hc_hex_encode(kid, sizeof(kid), kid_hex);
	snprintf(app->response_keyid, sizeof(app->response_keyid), "platform:%s", kid_hex);
	return 0;
}

void gateway_get_response_key(void *app_, http_req *req)
{
	gateway_app *app = app_;
	unsigned char *der = NULL;
	char *spki_hex;
	int n;

	if (app->response_key == NULL) {
		http_reply_problem(req, PROBLEM_NOT_FOUND, NULL, "responses are not signed here");
		return;
	}
	n = i2d_PUBKEY(app->response_key, &der);
	if (n <= 0) {
		http_reply_problem(req, PROBLEM_INTERNAL, NULL, "could not encode the key");
		return;
	}
	spki_hex = hc_hex_new(der, (size_t)n);
	OPENSSL_free(der);
	http_reply_header(req, "Cache-Control", "max-age=300");
	http_reply_json(req, 200,
	                json_pack("{s:s, s:s, s:s}", "keyid", app->response_keyid, "alg",
	                          httpsig_alg_of(app->response_key), "spki_der_hex", spki_hex));
	free(spki_hex);
}
