/*
 * Who may call the public API, as rules without I/O: API keys, roles and
 * the roles each route admits.
 *
 * A key reads "hc_<client id>_<64 hex>".  The client id finds the client;
 * the SHA-256 of the secret part must match the stored hash (compared in
 * constant time).  Roles: provincial platform, partner app, county system
 * (bound to one county), checkpoint, analyst.
 */
#ifndef HC_GATEWAY_AUTH_H
#define HC_GATEWAY_AUTH_H

#include "common/base/err.h"

enum auth_role {
	ROLE_PROVINCIAL = 1 << 0,
	ROLE_PARTNER = 1 << 1,
	ROLE_COUNTY = 1 << 2,
	ROLE_CHECKPOINT = 1 << 3,
	ROLE_ANALYST = 1 << 4
};

#define AUTH_CLIENT_ID_MAX 40
#define AUTH_SECRET_HEX    64

/* Parses a role name.  Returns 0 or -1. */
int auth_role_parse(const char *name, enum auth_role *out);

/* The name of one role bit, or NULL. */
const char *auth_role_name(unsigned bit);

/*
 * Splits an Authorization header value "Bearer hc_<id>_<secret>" into the
 * client id and the secret.  Returns 0, or HC_ERR_PERMANENT saying what is
 * malformed (never echoing the secret).
 */
int auth_key_parse(const char *header, char id[AUTH_CLIENT_ID_MAX + 1],
                   char secret[AUTH_SECRET_HEX + 1], hc_err *err);

/* Writes hex(SHA-256(secret)) into out[65]. */
void auth_secret_hash(const char *secret, char out[65]);

/* 1 when the two 64-hex hashes are equal, compared in constant time. */
int auth_hash_equal(const char *a, const char *b);

/* Makes a new key for client id into key[]: "hc_<id>_<secret>"; its hash into hash[65]. */
void auth_key_new(const char *id, char *key, size_t cap, char hash[65]);

#endif
