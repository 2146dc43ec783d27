/* API keys and roles; see auth.h. */
#include "services/gateway/domain/auth.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "common/base/rand.h"

static const char *const role_names[] = {"provincial", "partner", "county", "checkpoint",
                                         "analyst"};

int auth_role_parse(const char *name, enum auth_role *out)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++) {
		if (strcmp(role_names[i], name) == 0) {
			*out = (enum auth_role)(1 << i);
			return 0;
		}
	}
	return -1;
}

const char *auth_role_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
		if (bit == 1u << i)
			return role_names[i];
	return NULL;
}

int auth_key_parse(const char *header, char id[AUTH_CLIENT_ID_MAX + 1],
                   char secret[AUTH_SECRET_HEX + 1], hc_err *err)
{
	const char *key, *sep;
	size_t idlen, i;

	if (header == NULL)
		return hc_err_set(err, HC_ERR_PERMANENT, "the Authorization header is missing");
	if (strncmp(header, "Bearer ", 7) != 0)
		return hc_err_set(err, HC_ERR_PERMANENT, "the Authorization scheme must be Bearer");
	key = header + 7;
	if (strncmp(key, "hc_", 3) != 0)
		return hc_err_set(err, HC_ERR_PERMANENT, "the key does not start with hc_");
	key += 3;
	sep = strrchr(key, '_');
	if (sep == NULL || strlen(sep + 1) != AUTH_SECRET_HEX)
		return hc_err_set(err, HC_ERR_PERMANENT, "the key is malformed");
	idlen = (size_t)(sep - key);
	if (idlen < 3 || idlen > AUTH_CLIENT_ID_MAX)
		return hc_err_set(err, HC_ERR_PERMANENT, "the key's client id is malformed");
	for (i = 0; i < AUTH_SECRET_HEX; i++) {
		char c = sep[1 + i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return hc_err_set(err, HC_ERR_PERMANENT, "the key is malformed");
	}
	memcpy(id, key, idlen);
	id[idlen] = '\0';
	memcpy(secret, sep + 1, AUTH_SECRET_HEX + 1);
	return 0;
}

void auth_secret_hash(const char *secret, char out[65])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)secret, strlen(secret), digest);
	hc_hex_encode(digest, sizeof(digest), out);
}

int auth_hash_equal(const char *a, const char *b)
{
	return strlen(a) == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}

void auth_key_new(const char *id, char *key, size_t cap, char hash[65])
{
	unsigned char raw[AUTH_SECRET_HEX / 2];
	char secret[AUTH_SECRET_HEX + 1];

	hc_rand_bytes(raw, sizeof(raw));
	hc_hex_encode(raw, sizeof(raw), secret);
	snprintf(key, cap, "hc_%s_%s", id, secret);
	auth_secret_hash(secret, hash);
}
