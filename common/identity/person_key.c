/* The pseudonymous person key, name masking and PII sealing; see identity.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/base/rand.h"
#include "common/identity/identity.h"

void person_key_derive(const unsigned char secret[32], const char *normalised_id,
                       char out[PERSON_KEY_LEN + 1])
{
	unsigned char mac[32];
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), secret, 32, (const unsigned char *)normalised_id,
	         strlen(normalised_id), mac, &len) == NULL ||
	    len != 32)
		abort();
	hc_hex_encode(mac, 32, out);
}

int pii_text_check(const char *text, hc_err *err)
{
	int digits = 0;

	for (; *text != '\0'; text++) {
		if (*text >= '0' && *text <= '9') {
			if (++digits >= 11)
				return hc_err_set(err, HC_ERR_PERMANENT,
				                  "must not contain a phone or ID number");
		} else if (*text != ' ' && *text != '-' && *text != '.') {
			digits = 0;
		}
	}
	return 0;
}

/* Length of the UTF-8 sequence starting with byte c, or 0 when c cannot start one. */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	if ((c & 0xf8) == 0xf0)
		return 4;
	return 0;
}

void name_mask(const char *name, char *out, size_t cap)
{
	size_t first = utf8_len((unsigned char)name[0]), n = 0, i;
	const char *p;

	if (cap < 8 || name[0] == '\0' || first == 0 || strlen(name) < first) {
		if (cap >= 2)
			strcpy(out, "*");
		return;
	}
	memcpy(out, name, first);
	n = first;
	for (p = name + first; *p != '\0' && n + 2 < cap;) {
		size_t l = utf8_len((unsigned char)*p);

		if (l == 0)
			l = 1;
		for (i = 0; i < l && p[i] != '\0'; i++)
			;
		p += i;
		out[n++] = '*';
	}
	out[n] = '\0';
}

#define SEAL_NONCE 12
#define SEAL_TAG   16

char *pii_seal(const unsigned char key[32], const char *context, const char *plaintext)
{
	size_t len = strlen(plaintext);
	unsigned char nonce[SEAL_NONCE], tag[SEAL_TAG];
	unsigned char *ct = malloc(len + 1);
	char *out = malloc(2 * (SEAL_NONCE + len + SEAL_TAG) + 3);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, fin = 0;

	if (ct == NULL || out == NULL || ctx == NULL)
		abort();
	hc_rand_bytes(nonce, sizeof(nonce));
	if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)context,
	                      (int)strlen(context)) != 1 ||
	    EVP_EncryptUpdate(ctx, ct, &n, (const unsigned char *)plaintext, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG, tag) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	hc_hex_encode(nonce, SEAL_NONCE, out);
	out[2 * SEAL_NONCE] = '|';
	hc_hex_encode(ct, len, out + 2 * SEAL_NONCE + 1);
	out[2 * SEAL_NONCE + 1 + 2 * len] = '|';
	hc_hex_encode(tag, SEAL_TAG, out + 2 * SEAL_NONCE + 2 + 2 * len);
	free(ct);
	return out;
}

char *pii_open(const unsigned char key[32], const char *context, const char *sealed)
{
	const char *bar1 = strchr(sealed, '|');
	const char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
	unsigned char nonce[SEAL_NONCE], tag[SEAL_TAG];
	unsigned char *ct = NULL;
	char *hex = NULL, *plain = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	size_t len;
	int n = 0, fin = 0;

	if (bar1 == NULL || bar2 == NULL || bar1 - sealed != 2 * SEAL_NONCE ||
	    strlen(bar2 + 1) != 2 * SEAL_TAG || (bar2 - bar1 - 1) % 2 != 0)
		return NULL;
	len = (size_t)(bar2 - bar1 - 1) / 2;
	hex = strndup(sealed, 2 * SEAL_NONCE);
	ct = malloc(len + 1);
	plain = malloc(len + 1);
	if (hex == NULL || ct == NULL || plain == NULL)
		abort();
	if (hc_hex_decode(hex, nonce, SEAL_NONCE) != 0 ||
	    hc_hex_decode(bar2 + 1, tag, SEAL_TAG) != 0)
		goto fail;
	free(hex);
	hex = strndup(bar1 + 1, 2 * len);
	if (hex == NULL || hc_hex_decode(hex, ct, len) != 0)
		goto fail;
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		abort();
	if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) != 1 ||
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)context,
	                      (int)strlen(context)) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, ct, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG, tag) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1)
		goto fail;
	plain[len] = '\0';
	EVP_CIPHER_CTX_free(ctx);
	free(hex);
	free(ct);
	return plain;
fail:
	EVP_CIPHER_CTX_free(ctx);
	free(hex);
	free(ct);
	free(plain);
	return NULL;
}

int person_key_valid(const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < PERSON_KEY_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s != NULL && s[PERSON_KEY_LEN] == '\0';
}

int person_key_check(const char *s, hc_err *err)
{
	return person_key_valid(s) ? 0 : hc_err_set(err, HC_ERR_PERMANENT, "must be a person key");
}
