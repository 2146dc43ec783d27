/*
 * hc-verify: a checkpoint's offline check of a code.
 *
 *   hc-verify --keys LIST --root ROOT.pem [TOKEN | -]
 *
 * LIST is the signed key list (GET /v1/keys/signed-list, saved while
 * online); ROOT.pem the platform's key-list public key (`hc-codegen keys
 * root`), installed on the device.  Checks the list's signature, then the
 * token's prefix, encoding, algorithm, kid, signature and expiry; prints
 * the colour and expiry, or the reason for refusal.  Exit status: 0 for a
 * valid green code, 1 valid but not green, 2 refused, 3 usage or key list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "common/token/token.h"

static int usage(void)
{
	fprintf(stderr, "usage: hc-verify --keys LIST --root ROOT.pem [TOKEN | -]\n");
	return 3;
}

static unsigned char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len < (1 << 20) &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)len + 1);
		if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		} else {
			*n = (size_t)len;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	static const char *const colours[] = {"green", "yellow", "red"};
	const char *keys_path = NULL, *root_path = NULL, *token = NULL;
	char line[TOKEN_MAX + 2], expires[32];
	unsigned char *list;
	token_key *keys = NULL;
	token_claims c;
	size_t n = 0, nkeys = 0;
	EVP_PKEY *root = NULL;
	enum token_error e;
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
			keys_path = argv[++i];
		else if (strcmp(argv[i], "--root") == 0 && i + 1 < argc)
			root_path = argv[++i];
		else if (token == NULL)
			token = argv[i];
		else
			return usage();
	}
	if (keys_path == NULL || root_path == NULL)
		return usage();
	if (token == NULL || strcmp(token, "-") == 0) {
		if (fgets(line, sizeof(line), stdin) == NULL)
			return usage();
		line[strcspn(line, "\r\n")] = '\0';
		token = line;
	}
	f = fopen(root_path, "r");
	if (f == NULL || (root = PEM_read_PUBKEY(f, NULL, NULL, NULL)) == NULL) {
		fprintf(stderr, "hc-verify: %s: not a public key\n", root_path);
		if (f != NULL)
			fclose(f);
		return 3;
	}
	fclose(f);
	list = slurp(keys_path, &n);
	if (list == NULL || keylist_verify(list, n, root, &keys, &nkeys) != 0) {
		fprintf(stderr, "hc-verify: %s: not a key list signed by this root\n", keys_path);
		free(list);
		EVP_PKEY_free(root);
		return 3;
	}
	free(list);
	EVP_PKEY_free(root);
	e = token_verify(token, keys, nkeys, (int64_t)time(NULL), &c, NULL);
	keylist_free(keys, nkeys);
	if (e != TOKEN_OK) {
		printf("refused: %s\n", token_error_code(e));
		return 2;
	}
	{
		time_t t = (time_t)c.exp;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(expires, sizeof(expires), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	printf("valid %s, county %06u, version %u, expires %s\n", colours[c.colour], c.county,
	       c.version, expires);
	return c.colour == TOKEN_GREEN ? 0 : 1;
}
