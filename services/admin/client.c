/*
 * hc-client: a signed request to the gateway, the response's signature
 * checked (common/client).  The reference for partner apps, and the tests'
 * tool for signed calls.
 *
 *   hc-client --base URL --keyid CLIENT:KID --key KEY.pem [--platform-key HEX]
 *             [-X METHOD] [-d BODY | -d @FILE] [--status] PATH
 *
 * Prints the response body (and with --status its status on a last line).
 * --platform-key takes the hex DER of the gateway's response key
 * (GET /.well-known/hc-response-key, spki_der_hex); the response must then
 * carry a valid signature.  Exit status: 0 for a 2xx answer, 1 for another,
 * 2 when the response's signature is missing or forged, 3 for usage or
 * transport errors.
 *
 * For tests of the gateway's refusals: --skew SECONDS, --nonce N,
 * --tamper-body, --garble, --unsigned, --save-request FILE (a curl -K file
 * of the signed request, to replay it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/base/rand.h"
#include "common/client/client.h"
#include "common/token/token.h"

static int usage(void)
{
	fprintf(stderr, "usage: hc-client --base URL --keyid CLIENT:KID --key KEY.pem "
	                "[--platform-key HEX] [-X METHOD] [-d BODY|@FILE] [--status] PATH\n");
	return 3;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n;

	*len = 0;
	if (f == NULL)
		return NULL;
	do {
		char *grown = realloc(buf, cap + 65536 + 1);

		if (grown == NULL)
			abort();
		buf = grown;
		cap += 65536;
		n = fread(buf + *len, 1, cap - *len, f);
		*len += n;
	} while (n > 0 && *len == cap);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"base", required_argument, NULL, 'b'},
	                                     {"keyid", required_argument, NULL, 'i'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     {"platform-key", required_argument, NULL, 'p'},
	                                     {"status", no_argument, NULL, 's'},
	                                     {"skew", required_argument, NULL, 'w'},
	                                     {"nonce", required_argument, NULL, 'n'},
	                                     {"tamper-body", no_argument, NULL, 't'},
	                                     {"garble", no_argument, NULL, 'g'},
	                                     {"unsigned", no_argument, NULL, 'u'},
	                                     {"save-request", required_argument, NULL, 'r'},
	                                     {NULL, 0, NULL, 0}};
	hc_client c = {0};
	hc_client_response resp;
	const char *method = NULL, *data = NULL, *key_path = NULL;
	char *body = NULL;
	size_t len = 0;
	int opt, show_status = 0, rc;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "X:d:", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': c.base_url = optarg; break;
		case 'i': c.keyid = optarg; break;
		case 'k': key_path = optarg; break;
		case 'p':
			c.platform = token_public_key_hex(optarg);
			if (c.platform == NULL) {
				fprintf(stderr,
				        "hc-client: --platform-key is not a hex DER public key\n");
				return 3;
			}
			break;
		case 's': show_status = 1; break;
		case 'w': c.skew_s = strtoll(optarg, NULL, 10); break;
		case 'n': c.nonce = optarg; break;
		case 't': c.tamper_body = 1; break;
		case 'g': c.garble = 1; break;
		case 'u': c.no_signature = 1; break;
		case 'r': c.save_request = optarg; break;
		case 'X': method = optarg; break;
		case 'd': data = optarg; break;
		default: return usage();
		}
	}
	if (optind != argc - 1 || c.base_url == NULL || c.keyid == NULL || key_path == NULL)
		return usage();
	f = fopen(key_path, "r");
	if (f != NULL) {
		c.key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (c.key == NULL) {
		fprintf(stderr, "hc-client: %s is not a PEM private key\n", key_path);
		return 3;
	}
	if (data != NULL && data[0] == '@') {
		body = read_file(data + 1, &len);
		if (body == NULL) {
			fprintf(stderr, "hc-client: cannot read %s\n", data + 1);
			return 3;
		}
	} else if (data != NULL) {
		len = strlen(data);
		body = malloc(len + 1);
		if (body == NULL)
			abort();
		memcpy(body, data, len + 1);
	}
	if (method == NULL)
		method = body != NULL ? "POST" : "GET";
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (hc_client_request(&c, method, argv[optind], body, len, &resp) != 0) {
		fprintf(stderr, "hc-client: %s\n", resp.error);
		rc = 3;
	} else {
		fwrite(resp.body, 1, resp.body_len, stdout);
		if (show_status)
			printf("\n%ld\n", resp.status);
		if (c.platform != NULL && resp.check != HC_CLIENT_VERIFIED) {
			fprintf(stderr, "hc-client: the response's signature is %s\n",
			        resp.check == HC_CLIENT_FORGED ? "forged" : "missing");
			rc = 2;
		} else {
			rc = resp.status >= 200 && resp.status < 300 ? 0 : 1;
		}
		hc_client_response_cleanup(&resp);
	}
	curl_global_cleanup();
	free(body);
	EVP_PKEY_free(c.key);
	EVP_PKEY_free(c.platform);
	return rc;
}
