/* Signing keys; see keys.h. */
#include "services/codegen/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base/rand.h"
#include "common/identity/identity.h"
#include "common/log/log.h"
#include "common/svc/svc.h"

#define SEAL_CONTEXT "signing_keys.private"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static EVP_PKEY *private_of_sealed(const unsigned char *secret, const char *sealed)
{
	char *hex = pii_open(secret, SEAL_CONTEXT, sealed);
	unsigned char *der;
	const unsigned char *p;
	EVP_PKEY *k = NULL;
	size_t n;

	if (hex == NULL)
		return NULL;
	n = strlen(hex) / 2;
	der = malloc(n + 1);
	if (der == NULL)
		abort();
	p = der;
	if (hc_hex_decode(hex, der, n) == 0)
		k = d2i_AutoPrivateKey(NULL, &p, (long)n);
	OPENSSL_cleanse(hex, strlen(hex));
	OPENSSL_cleanse(der, n);
	free(hex);
	free(der);
	return k;
}

/* Creates a key of purpose inside conn's open transaction; kid_hex[17] gets its kid. */
static int key_create(db_conn *conn, const unsigned char *secret, const char *purpose,
                      char kid_hex[17], hc_err *err)
{
	EVP_PKEY *k = token_key_new();
	unsigned char kid[TOKEN_KID_LEN], *priv = NULL, *pub = NULL;
	int plen = 0, publen = 0, rc = HC_ERR_FATAL;
	char *priv_hex = NULL, *pub_hex = NULL, *sealed = NULL;

	if (k == NULL || token_kid(k, kid) != 0 || (plen = i2d_PrivateKey(k, &priv)) <= 0 ||
	    (publen = i2d_PUBKEY(k, &pub)) <= 0) {
		hc_err_set(err, HC_ERR_FATAL, "could not generate a signing key");
		goto out;
	}
	hc_hex_encode(kid, TOKEN_KID_LEN, kid_hex);
	priv_hex = hc_hex_new(priv, (size_t)plen);
	pub_hex = hc_hex_new(pub, (size_t)publen);
	sealed = pii_seal(secret, SEAL_CONTEXT, priv_hex);
	{
		const char *params[4] = {kid_hex, purpose, sealed, pub_hex};

		rc = db_run(conn, "codegen_key_insert", 4, params, NULL, err);
	}
out:
	if (priv_hex != NULL)
		OPENSSL_cleanse(priv_hex, strlen(priv_hex));
	if (priv != NULL)
		OPENSSL_cleanse(priv, (size_t)plen);
	OPENSSL_free(priv);
	OPENSSL_free(pub);
	free(priv_hex);
	free(pub_hex);
	free(sealed);
	EVP_PKEY_free(k);
	return rc;
}

static void keyset_free(keyset *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->pkeys[i]);
	EVP_PKEY_free(ks->signer);
	EVP_PKEY_free(ks->root);
	free(ks);
}

/* Loads the key set; *missing is set when the code or key-list key is absent. */
static int keyset_load(db_conn *conn, const unsigned char *secret, keyset **out, int *missing,
                       hc_err *err)
{
	keyset *ks = calloc(1, sizeof(*ks));
	db_res *res = NULL;
	int i, rc;

	if (ks == NULL)
		abort();
	ks->refs = 1;
	rc = db_run(conn, "codegen_keys_load", 0, NULL, &res, err);
	for (i = 0; rc == 0 && i < db_res_rows(res); i++) {
		const char *kid = db_res_get(res, i, 0), *purpose = db_res_get(res, i, 1);
		int revoked = strcmp(db_res_get(res, i, 5), "t") == 0;
		int current = strcmp(db_res_get(res, i, 6), "t") == 0;

		if (strcmp(purpose, "keylist") == 0) {
			if (ks->root == NULL && !revoked)
				ks->root = private_of_sealed(secret, db_res_get(res, i, 2));
			continue;
		}
		if (current && ks->signer == NULL) {
			ks->signer = private_of_sealed(secret, db_res_get(res, i, 2));
			if (ks->signer != NULL &&
			    hc_hex_decode(kid, ks->signer_kid, TOKEN_KID_LEN) != 0) {
				EVP_PKEY_free(ks->signer);
				ks->signer = NULL;
			}
		}
		if (ks->n == KEYSET_MAX)
			continue;
		ks->pkeys[ks->n] = token_public_key_hex(db_res_get(res, i, 3));
		if (ks->pkeys[ks->n] == NULL ||
		    hc_hex_decode(kid, ks->keys[ks->n].kid, TOKEN_KID_LEN) != 0) {
			EVP_PKEY_free(ks->pkeys[ks->n]);
			continue;
		}
		ks->keys[ks->n].pkey = ks->pkeys[ks->n];
		ks->keys[ks->n].not_after = strtoll(db_res_get(res, i, 4), NULL, 10);
		ks->keys[ks->n].revoked = revoked;
		ks->n++;
	}
	db_res_free(res);
	if (rc != 0) {
		keyset_free(ks);
		return rc;
	}
	*missing = ks->signer == NULL || ks->root == NULL;
	*out = ks;
	return 0;
}

/* Creates the missing keys once, under a lock, however many instances start together. */
static int keys_ensure(db_conn *conn, const unsigned char *secret, hc_err *err)
{
	db_res *res = NULL;
	char kid[17];
	int rc = db_tx_begin(conn, err);

	if (rc == 0)
		rc = db_run(conn, "codegen_keys_lock", 0, NULL, NULL, err);
	if (rc == 0)
		rc = db_run(conn, "codegen_keys_present", 0, NULL, &res, err);
	if (rc == 0 && strcmp(db_res_get(res, 0, 0), "t") != 0) {
		rc = key_create(conn, secret, "code", kid, err);
		if (rc == 0)
			log_info("created signing key %s", kid);
	}
	if (rc == 0 && strcmp(db_res_get(res, 0, 1), "t") != 0) {
		rc = key_create(conn, secret, "keylist", kid, err);
		if (rc == 0)
			log_info("created key-list key %s", kid);
	}
	db_res_free(res);
	if (rc == 0)
		rc = db_tx_commit(conn, err);
	else
		db_tx_rollback(conn);
	return rc;
}

int keys_acquire(keyring *r, db_conn *conn, keyset **out, hc_err *err)
{
	keyset *ks = NULL;
	int missing = 0, rc = 0;

	pthread_mutex_lock(&r->mu);
	if (r->current == NULL || now_ms() - r->loaded_ms > 1000) {
		rc = keyset_load(conn, r->secret, &ks, &missing, err);
		if (rc == 0 && missing) {
			keyset_free(ks);
			ks = NULL;
			rc = keys_ensure(conn, r->secret, err);
			if (rc == 0)
				rc = keyset_load(conn, r->secret, &ks, &missing, err);
			if (rc == 0 && missing) {
				keyset_free(ks);
				ks = NULL;
				rc = hc_err_set(
				    err, HC_ERR_FATAL,
				    "signing keys cannot be opened (HC_CODE_KEY_SECRET?)");
			}
		}
		if (rc == 0) {
			if (r->current != NULL && --r->current->refs == 0)
				keyset_free(r->current);
			r->current = ks;
			r->loaded_ms = now_ms();
		}
	}
	if (rc == 0 || r->current != NULL) { /* a failed reload keeps the last good set */
		r->current->refs++;
		*out = r->current;
		rc = 0;
	}
	pthread_mutex_unlock(&r->mu);
	return rc;
}

void keys_release(keyring *r, keyset *ks)
{
	pthread_mutex_lock(&r->mu);
	if (--ks->refs == 0)
		keyset_free(ks);
	pthread_mutex_unlock(&r->mu);
}

int keys_rotate(db_conn *conn, const unsigned char *secret, long ttl_s, char kid_hex[17],
                hc_err *err)
{
	char ttl[24];
	const char *params[2] = {ttl, kid_hex};
	int rc;

	snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	rc = db_tx_begin(conn, err);
	if (rc == 0)
		rc = db_run(conn, "codegen_keys_lock", 0, NULL, NULL, err);
	if (rc == 0)
		rc = key_create(conn, secret, "code", kid_hex, err);
	if (rc == 0)
		rc = db_run(conn, "codegen_keys_retire", 2, params, NULL, err);
	if (rc == 0)
		rc = db_tx_commit(conn, err);
	else
		db_tx_rollback(conn);
	return rc;
}

int codegen_keys_command(int argc, char **argv, const struct svc_spec *spec, void *cfg,
                         const unsigned char *secret, const long *ttl_s)
{
	const char *what = argc > 2 ? argv[2] : "";
	db_conn *conn = NULL;
	db_res *res = NULL;
	char kid[17];
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (strcmp(what, "rotate") != 0 && strcmp(what, "list") != 0 && strcmp(what, "root") != 0 &&
	    !(strcmp(what, "revoke") == 0 && argc > 3)) {
		fprintf(stderr, "usage: hc-codegen keys rotate | revoke KID | list | root\n");
		return 2;
	}
	/* svc_admin_open loads the settings into cfg, which secret points into */
	if (svc_admin_open(spec, cfg, &conn, &err) != 0) {
		fprintf(stderr, "hc-codegen: %s\n", err.msg);
		return 1;
	}
	if (strcmp(what, "rotate") == 0) {
		rc = keys_rotate(conn, secret, *ttl_s, kid, &err);
		if (rc == 0)
			printf("%s now signs; older keys verify for %ld s more\n", kid, *ttl_s);
	} else if (strcmp(what, "revoke") == 0) {
		const char *params[1] = {argv[3]};

		rc = db_run(conn, "codegen_key_revoke", 1, params, &res, &err);
		if (rc == 0 && db_res_rows(res) == 0)
			rc = hc_err_set(&err, HC_ERR_NOT_FOUND, "no unrevoked key %s", argv[3]);
		if (rc == 0)
			printf("%s revoked\n", argv[3]);
	} else if (strcmp(what, "list") == 0) {
		rc = db_run(conn, "codegen_keys_list", 0, NULL, &res, &err);
		if (rc == 0)
			printf("%s\n", db_res_get(res, 0, 0));
	} else {
		int missing = 0;
		keyset *ks = NULL;

		rc = keys_ensure(conn, secret, &err);
		if (rc == 0)
			rc = keyset_load(conn, secret, &ks, &missing, &err);
		if (rc == 0 && ks->root != NULL)
			PEM_write_PUBKEY(stdout, ks->root);
		keyset_free(ks);
	}
	db_res_free(res);
	db_close(conn);
	if (rc != 0)
		fprintf(stderr, "hc-codegen: %s\n", err.msg);
	return rc == 0 ? 0 : 1;
}
