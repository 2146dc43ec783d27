/*
 * token_corpus DIR N: writes N random signed tokens (the first with the
 * largest claims) as DIR/NNNN.png QR images, their text in DIR/tokens.txt,
 * the signed key list in DIR/keys.cose and its root in DIR/root.pem.  The
 * QR round-trip test reads the images back with an independent reader
 * (zbarimg) and verifies every token with hc-verify.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "common/token/token.h"

static int write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	int ok = f != NULL && fwrite(data, 1, n, f) == n;

	if (f != NULL && fclose(f) != 0)
		ok = 0;
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	EVP_PKEY *key = token_key_new(), *root = token_key_new();
	token_key keys[1] = {{.pkey = key}};
	unsigned char *list = NULL;
	size_t n, len, i;
	char path[4096];
	FILE *texts, *pem;

	if (argc != 3 || key == NULL || root == NULL || token_kid(key, keys[0].kid) != 0) {
		fprintf(stderr, "usage: token_corpus DIR N\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	snprintf(path, sizeof(path), "%s/tokens.txt", argv[1]);
	texts = fopen(path, "w");
	if (texts == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		token_claims c = {0};
		unsigned char r[8], *png;
		char *t;

		RAND_bytes(r, sizeof(r));
		RAND_bytes(c.subject, sizeof(c.subject));
		strcpy(c.issuer, "HC");
		c.iat = (int64_t)time(NULL);
		c.exp = c.iat + 3600;
		c.colour = i == 0 ? TOKEN_RED : r[0] % 3;
		c.county = i == 0 ? 999999 : 110000 + (uint32_t)(r[1] | r[2] << 8) % 800000;
		c.version = i == 0 ? UINT32_MAX : 1 + (uint32_t)(r[3] | r[4] << 8 | r[5] << 16);
		t = token_sign(&c, key);
		if (t == NULL || token_qr_png(t, 4, &png, &len) != 0)
			return 1;
		snprintf(path, sizeof(path), "%s/%04zu.png", argv[1], i);
		if (write_file(path, png, len) != 0)
			return 1;
		fprintf(texts, "%s\n", t);
		free(png);
		free(t);
	}
	fclose(texts);
	if (keylist_sign(keys, 1, (int64_t)time(NULL), root, &list, &len) != 0)
		return 1;
	snprintf(path, sizeof(path), "%s/keys.cose", argv[1]);
	if (write_file(path, list, len) != 0)
		return 1;
	free(list);
	snprintf(path, sizeof(path), "%s/root.pem", argv[1]);
	pem = fopen(path, "w");
	if (pem == NULL || PEM_write_PUBKEY(pem, root) != 1)
		return 1;
	fclose(pem);
	EVP_PKEY_free(key);
	EVP_PKEY_free(root);
	return 0;
}
