/*
 * The signed code and its verification:
 *   GET  /v1/codes/{person_key}/token    a fresh token: {token, expires_at, version}
 *   GET  /v1/codes/{person_key}/qr.png   the QR of a fresh token (and qr.svg)
 *   (POST /v1/verifications, the online check of a token, is verify.c)
 *   GET  /.well-known/jwks.json          public keys that verify (JWKS)
 *   GET  /v1/keys/signed-list            the same keys for offline devices, a
 *        COSE_Sign1 (application/cose) signed by the key-list key
 * Rendering never sits on the verify path; every image carries a new token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>

#include "common/base/rand.h"
#include "common/identity/identity.h"
#include "common/jspec/jspec.h"
#include "common/log/log.h"
#include "services/codegen/app.h"

/* A fresh token for the person's current code into *token (free); *code is the code. */
static int fresh_token(codegen_app *app, http_req *req, char **token, json_t **code, int64_t *exp)
{
	const char *key = svc_http_person_key(req);
	const char *params[2] = {key, svc_partner_scope(req)};
	const char *colour;
	token_claims c = {0};
	keyset *ks = NULL;
	db_conn *conn;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	*token = NULL;
	*code = NULL;
	if (key == NULL)
		return -1; /* replied */
	conn = db_pool_take(app->svc.pool);
	rc = db_run_json(conn, "codegen_code_scoped", 2, params, code, &err);
	if (rc == HC_ERR_NOT_FOUND)
		rc = 0; /* answered 404 below */
	if (rc == 0 && *code != NULL)
		rc = keys_acquire(&app->keys, conn, &ks, &err);
	db_pool_give(app->svc.pool, conn);
	if (rc != 0) {
		http_reply_err(req, &err);
		return -1;
	}
	if (*code == NULL) {
		http_reply_problem(req, PROBLEM_NOT_FOUND, "person_key", "no code for this person");
		return -1;
	}
	snprintf(c.issuer, sizeof(c.issuer), "%s", app->cfg.issuer);
	c.iat = (int64_t)time(NULL);
	c.exp = c.iat + app->cfg.token_ttl_s;
	hc_hex_decode(key, c.subject, sizeof(c.subject));
	colour = json_string_value(json_object_get(*code, "colour"));
	c.colour = strcmp(colour, "green") == 0    ? TOKEN_GREEN
	           : strcmp(colour, "yellow") == 0 ? TOKEN_YELLOW
	                                           : TOKEN_RED;
	c.county =
	    (uint32_t)strtoul(json_string_value(json_object_get(*code, "county_code")), NULL, 10);
	c.version = (uint32_t)json_integer_value(json_object_get(*code, "version"));
	*token = token_sign_kid(&c, ks->signer, ks->signer_kid);
	keys_release(&app->keys, ks);
	*exp = c.exp;
	if (*token == NULL) {
		http_reply_problem(req, PROBLEM_INTERNAL, NULL, "could not sign the code");
		return -1;
	}
	return 0;
}

void codegen_rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void codegen_get_token(void *app, http_req *req)
{
	json_t *code = NULL;
	char *token = NULL, exp_text[32];
	int64_t exp;

	if (fresh_token(app, req, &token, &code, &exp) != 0)
		goto out;
	codegen_rfc3339(exp, exp_text);
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply_json(req, 200,
	                json_pack("{s:s, s:s, s:O, s:O}", "token", token, "expires_at", exp_text,
	                          "version", json_object_get(code, "version"), "colour",
	                          json_object_get(code, "colour")));
out:
	free(token);
	json_decref(code);
}

static void reply_qr(codegen_app *app, http_req *req, int png)
{
	json_t *code = NULL;
	char *token = NULL, *svg = NULL;
	unsigned char *image = NULL;
	int64_t exp;
	size_t n = 0;
	int rc;

	if (fresh_token(app, req, &token, &code, &exp) != 0)
		goto out;
	rc = png ? token_qr_png(token, 4, &image, &n) : token_qr_svg(token, 4, &svg, &n);
	if (rc != 0) {
		http_reply_problem(req, PROBLEM_INTERNAL, NULL, "could not draw the code");
		goto out;
	}
	http_reply_header(req, "Cache-Control", "no-store");
	http_reply_bytes(req, 200, png ? "image/png" : "image/svg+xml",
	                 png ? (const char *)image : svg, n);
out:
	free(image);
	free(svg);
	free(token);
	json_decref(code);
}

void codegen_get_qr_png(void *app, http_req *req)
{
	reply_qr(app, req, 1);
}

void codegen_get_qr_svg(void *app, http_req *req)
{
	reply_qr(app, req, 0);
}

/* base64url without padding. */
static void b64url(const unsigned char *in, size_t n, char *out)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t i, o = 0;

	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18];
		out[o++] = a[(v >> 12) & 63];
		out[o++] = a[(v >> 6) & 63];
		out[o++] = a[v & 63];
	}
	if (n - i == 1) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		out[o++] = a[in[i] >> 2];
		out[o++] = a[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[o++] = a[(in[i + 1] & 15) << 2];
	}
	out[o] = '\0';
}

/* The verifying, unrevoked keys of ks. */
static int usable(const token_key *k, int64_t now)
{
	return !k->revoked && (k->not_after == 0 || k->not_after >= now);
}

void codegen_get_jwks(void *app_, http_req *req)
{
	codegen_app *app = app_;
	json_t *keys = json_array();
	int64_t now = (int64_t)time(NULL);
	keyset *ks = NULL;
	db_conn *conn = db_pool_take(app->svc.pool);
	hc_err err;
	size_t i;
	int rc;

	hc_err_clear(&err);
	rc = keys_acquire(&app->keys, conn, &ks, &err);
	db_pool_give(app->svc.pool, conn);
	if (rc != 0) {
		json_decref(keys);
		http_reply_err(req, &err);
		return;
	}
	for (i = 0; i < ks->n; i++) {
		unsigned char pub[65];
		char x[48], y[48], kid[16];
		size_t len = 0;

		if (!usable(&ks->keys[i], now) ||
		    EVP_PKEY_get_octet_string_param(ks->keys[i].pkey, OSSL_PKEY_PARAM_PUB_KEY, pub,
		                                    sizeof(pub), &len) != 1 ||
		    len != 65)
			continue;
		b64url(pub + 1, 32, x);
		b64url(pub + 33, 32, y);
		b64url(ks->keys[i].kid, TOKEN_KID_LEN, kid);
		json_array_append_new(keys, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kty",
		                                      "EC", "crv", "P-256", "x", x, "y", y, "kid",
		                                      kid, "use", "sig", "alg", "ES256"));
	}
	keys_release(&app->keys, ks);
	http_reply_header(req, "Cache-Control", "max-age=60");
	http_reply_json(req, 200, json_pack("{s:o}", "keys", keys));
}

/* The signed key list (common/token: keylist_sign), application/cose. */
void codegen_get_key_list(void *app_, http_req *req)
{
	codegen_app *app = app_;
	unsigned char *signed_list = NULL;
	keyset *ks = NULL;
	db_conn *conn = db_pool_take(app->svc.pool);
	hc_err err;
	size_t slen = 0;
	int rc;

	hc_err_clear(&err);
	rc = keys_acquire(&app->keys, conn, &ks, &err);
	db_pool_give(app->svc.pool, conn);
	if (rc != 0) {
		http_reply_err(req, &err);
		return;
	}
	rc = keylist_sign(ks->keys, ks->n, (int64_t)time(NULL), ks->root, &signed_list, &slen);
	keys_release(&app->keys, ks);
	if (rc != 0)
		http_reply_problem(req, PROBLEM_INTERNAL, NULL, "could not sign the key list");
	else
		http_reply_bytes(req, 200, "application/cose", (const char *)signed_list, slen);
	free(signed_list);
}
