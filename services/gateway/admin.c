/*
 * Administration of API clients from the command line:
 *
 *   hc-gateway client add ID ROLE [COUNTY]   prints the new key, once
 *   hc-gateway client revoke ID              the key stops working at once
 *   hc-gateway client quota ID RATE BURST    its own quota (0 0: the defaults)
 *   hc-gateway client key ID KID FILE.pem    a public key the client signs with
 *                                            (P-256, or RSA of 2048 bits or more)
 *
 * It uses the gateway's own settings (HC_DATABASE_URL, ...) and schema.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "common/base/rand.h"
#include "common/httpsig/httpsig.h"
#include "common/region/region.h"
#include "services/gateway/app.h"
#include "services/gateway/domain/auth.h"
#include "services/gateway/store.h"

static int admin_usage(void)
{
	fprintf(stderr, "usage: hc-gateway client add ID ROLE [COUNTY]\n"
	                "       hc-gateway client revoke ID\n"
	                "       hc-gateway client quota ID RATE BURST  (0 0: the defaults)\n"
	                "       hc-gateway client key ID KID PUBLIC-KEY.pem\n"
	                "roles: provincial, partner, county (needs COUNTY), checkpoint, analyst\n");
	return 2;
}

/* Reads a PEM public key (or the public half of a private key) from path. */
static EVP_PKEY *admin_read_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *key;

	if (f == NULL)
		return NULL;
	key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	if (key == NULL) {
		rewind(f);
		key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	}
	fclose(f);
	return key;
}

static int admin_add_key(const svc_spec *spec, gateway_config *cfg, const char *client,
                         const char *kid, const char *path, db_conn **conn, hc_err *err)
{
	EVP_PKEY *key = admin_read_key(path);
	unsigned char *der = NULL;
	char *hex;
	int n, rc;

	if (key == NULL || httpsig_alg_of(key) == NULL) {
		EVP_PKEY_free(key);
		return hc_err_set(err, HC_ERR_PERMANENT,
		                  "%s is not a PEM P-256 or RSA (2048 bits or more) key", path);
	}
	n = i2d_PUBKEY(key, &der);
	EVP_PKEY_free(key);
	if (n <= 0)
		return hc_err_set(err, HC_ERR_PERMANENT, "could not encode the key of %s", path);
	hex = hc_hex_new(der, (size_t)n);
	OPENSSL_free(der);
	rc = svc_admin_open(spec, cfg, conn, err);
	if (rc == 0) {
		const char *params[3] = {client, kid, hex};

		rc = db_run(*conn, "gateway_client_key_add", 3, params, NULL, err);
	}
	free(hex);
	return rc;
}

int gateway_admin(int argc, char **argv, const svc_spec *spec, gateway_config *cfg)
{
	char key[128], hash[65];
	enum auth_role role;
	db_conn *conn = NULL;
	hc_err err;
	int rc;

	hc_err_clear(&err);
	if (argc < 4)
		return admin_usage();
	if (strcmp(argv[2], "add") == 0) {
		const char *county = argc > 5 ? argv[5] : NULL;

		if (argc < 5 || auth_role_parse(argv[4], &role) != 0)
			return admin_usage();
		if ((role == ROLE_COUNTY) != (county != NULL) ||
		    (county != NULL && region_county_name(county) == NULL &&
		     !region_is_city(county))) {
			fprintf(stderr, "hc-gateway: a county client needs a Hubei county code; "
			                "other roles take none\n");
			return 2;
		}
		if (svc_admin_open(spec, cfg, &conn, &err) != 0)
			goto fail;
		auth_key_new(argv[3], key, sizeof(key), hash);
		if (gateway_store_client_add(conn, argv[3], argv[4], county, hash, &err) != 0)
			goto fail;
		printf("%s\n", key);
	} else if (strcmp(argv[2], "revoke") == 0) {
		if (svc_admin_open(spec, cfg, &conn, &err) != 0 ||
		    gateway_store_client_revoke(conn, argv[3], &err) != 0)
			goto fail;
		printf("revoked %s\n", argv[3]);
	} else if (strcmp(argv[2], "key") == 0) {
		if (argc != 6)
			return admin_usage();
		if (admin_add_key(spec, cfg, argv[3], argv[4], argv[5], &conn, &err) != 0)
			goto fail;
		printf("key %s of %s added\n", argv[4], argv[3]);
	} else if (strcmp(argv[2], "quota") == 0) {
		char *end1 = NULL, *end2 = NULL;
		long rate = argc == 6 ? strtol(argv[4], &end1, 10) : -1;
		long burst = argc == 6 ? strtol(argv[5], &end2, 10) : -1;

		if (argc != 6 || *end1 != '\0' || *end2 != '\0' || rate < 0 || burst < 0 ||
		    rate > 1000000 || burst > 1000000 || (rate == 0) != (burst == 0))
			return admin_usage();
		if (svc_admin_open(spec, cfg, &conn, &err) != 0 ||
		    gateway_store_client_quota(conn, argv[3], rate, burst, &err) != 0)
			goto fail;
		printf("quota of %s: %s\n", argv[3], rate ? "set" : "the defaults");
	} else {
		return admin_usage();
	}
	db_close(conn);
	return 0;
fail:
	fprintf(stderr, "hc-gateway: %s\n", err.msg);
	db_close(conn);
	rc = err.kind == HC_ERR_CONFLICT ? 3 : 1;
	return rc;
}
