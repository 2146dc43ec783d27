/*
 * bare_verify PORT [hello]: the baselines of the verification and code
 * display benchmarks, a bare libmicrohttpd server (two threads, epoll)
 * whose only handler does one ES256 verification of a token per request
 * (token_verify: base45, CBOR, signature) and answers 200; with `hello`, it
 * answers "hello" and does nothing else.  It measures what the machine
 * allows for the cryptography and HTTP alone, or for HTTP alone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/token/token.h"

static token_key keys[1];
static char *token;
static int hello;

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
	static int first;
	struct MHD_Response *r;
	enum MHD_Result ret;
	int ok;

	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (*state == NULL) { /* queueing on the first call would close keep-alive */
		*state = &first;
		return MHD_YES;
	}
	if (*size != 0) {
		*size = 0;
		return MHD_YES;
	}
	if (hello) {
		r = MHD_create_response_from_buffer(5, "hello", MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(c, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	ok = token_verify(token, keys, 1, (int64_t)time(NULL), NULL, NULL) == TOKEN_OK;
	r = MHD_create_response_from_buffer(ok ? 2 : 3, ok ? "ok" : "bad", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, ok ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	EVP_PKEY *key = token_key_new();
	token_claims claims = {
	    .iat = (int64_t)time(NULL), .colour = TOKEN_GREEN, .county = 420102, .version = 1};
	struct MHD_Daemon *d;
	sigset_t set;
	int sig;

	if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "hello") != 0) || key == NULL ||
	    token_kid(key, keys[0].kid) != 0)
		return 2;
	hello = argc == 3;
	keys[0].pkey = key;
	claims.exp = claims.iat + 86400;
	strcpy(claims.issuer, "HC");
	token = token_sign(&claims, key);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	                     (uint16_t)atoi(argv[1]), NULL, NULL, handle, NULL,
	                     MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_CONNECTION_LIMIT, 1024u,
	                     MHD_OPTION_END);
	if (d == NULL || token == NULL)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	free(token);
	EVP_PKEY_free(key);
	return 0;
}
