/*
 * codegen's signing keys (keys.c): kept in signing_keys, private keys
 * sealed; loaded into an immutable, reference-counted key set that the
 * HTTP threads share and that is reloaded at most once a second, so a
 * rotation or a revocation takes effect within a second everywhere.
 */
#ifndef HC_CODEGEN_KEYS_H
#define HC_CODEGEN_KEYS_H

#include <pthread.h>
#include <stdint.h>

#include "common/db/db.h"
#include "common/token/token.h"

#define KEYSET_MAX 64

typedef struct keyset {
	int refs;
	size_t n;
	token_key keys[KEYSET_MAX]; /* every code key that verifies, or was revoked */
	EVP_PKEY *pkeys[KEYSET_MAX];
	EVP_PKEY *signer; /* the newest code key, private */
	unsigned char signer_kid[TOKEN_KID_LEN];
	EVP_PKEY *root; /* the key-list key, private */
} keyset;

typedef struct keyring {
	pthread_mutex_t mu;
	keyset *current;
	int64_t loaded_ms;
	const unsigned char *secret; /* seals private keys */
} keyring;

/*
 * The current key set (reloaded when older than a second; keys created
 * when there are none yet).  Release it with keys_release.
 */
int keys_acquire(keyring *r, db_conn *conn, keyset **out, hc_err *err);
void keys_release(keyring *r, keyset *ks);

/* Adds a new code key and retires the others after ttl_s (rotate). */
int keys_rotate(db_conn *conn, const unsigned char *secret, long ttl_s, char kid_hex[17],
                hc_err *err);

/* `hc-codegen keys rotate|revoke KID|list|root` */
struct svc_spec;
int codegen_keys_command(int argc, char **argv, const struct svc_spec *spec, void *cfg,
                         const unsigned char *secret, const long *ttl_s);

#endif
