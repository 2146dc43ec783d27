/* The partner client library; see client.h. */
#include "common/client/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/base/rand.h"
#include "common/httpsig/httpsig.h"
#include "common/upstream/upstream.h"

typedef struct received {
	hc_client_response *resp;
	char digest[HTTPSIG_DIGEST_MAX + 1];
	char input[512];
	char signature[HTTPSIG_SIG_MAX * 2];
} received;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	hc_client_response *resp = ((received *)arg)->resp;

	return upstream_append(&resp->body, &resp->body_len, data, size * n,
	                       UPSTREAM_MAX_RESPONSE) == 0
	           ? size * n
	           : 0;
}

static size_t on_header(char *line, size_t size, size_t n, void *arg)
{
	received *r = arg;
	size_t len = size * n;

	upstream_header_value(line, len, "Content-Digest", r->digest, sizeof(r->digest));
	upstream_header_value(line, len, "Signature-Input", r->input, sizeof(r->input));
	upstream_header_value(line, len, "Signature", r->signature, sizeof(r->signature));
	return len;
}

/* Checks the platform's signature of the response. */
static enum hc_client_check check_response(const hc_client *c, const received *r)
{
	unsigned char sig[HTTPSIG_SIG_MAX];
	httpsig_params p;
	size_t siglen = 0;
	char *base;
	enum httpsig_error e;

	if (c->platform == NULL || (r->input[0] == '\0' && r->signature[0] == '\0'))
		return HC_CLIENT_UNCHECKED;
	if (httpsig_parse(r->input, r->signature, HTTPSIG_RESPONSE, &p, sig, &siglen) !=
	        HTTPSIG_OK ||
	    !httpsig_digest_matches(r->digest, r->resp->body, r->resp->body_len))
		return HC_CLIENT_FORGED;
	base = httpsig_response_base((int)r->resp->status, r->digest, p.raw);
	e = httpsig_verify(c->platform, p.alg, base, sig, siglen);
	free(base);
	return e == HTTPSIG_OK ? HC_CLIENT_VERIFIED : HC_CLIENT_FORGED;
}

/* Writes the request as a curl config (-K) file, for replay tests. */
static void save_request(const char *path, const char *url, const char *method,
                         const struct curl_slist *h, const char *body, size_t len)
{
	FILE *f = fopen(path, "w");
	size_t i;

	if (f == NULL)
		return;
	fprintf(f, "url = \"%s\"\nrequest = \"%s\"\n", url, method);
	for (; h != NULL; h = h->next) {
		fputs("header = \"", f);
		for (i = 0; h->data[i] != '\0'; i++)
			fprintf(f, h->data[i] == '"' || h->data[i] == '\\' ? "\\%c" : "%c",
			        h->data[i]);
		fputs("\"\n", f);
	}
	if (body != NULL) {
		fputs("data-binary = \"", f);
		for (i = 0; i < len; i++)
			fprintf(f, body[i] == '"' || body[i] == '\\' ? "\\%c" : "%c", body[i]);
		fputs("\"\n", f);
	}
	fclose(f);
}

int hc_client_request(const hc_client *c, const char *method, const char *path, const char *body,
                      size_t len, hc_client_response *resp)
{
	char digest[HTTPSIG_DIGEST_MAX + 1], input[512], signature[HTTPSIG_SIG_MAX * 2];
	char nonce[33], line[HTTPSIG_SIG_MAX * 2 + 64], url[4096], pathbuf[2048];
	const char *query = NULL;
	struct curl_slist *h = NULL;
	char *sent = NULL;
	received r = {.resp = resp};
	CURL *curl;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	snprintf(pathbuf, sizeof(pathbuf), "%s", path);
	if ((sent = strchr(pathbuf, '?')) != NULL) {
		*sent = '\0';
		query = sent + 1;
	}
	sent = NULL;
	if (c->nonce == NULL) {
		unsigned char raw[16];

		hc_rand_bytes(raw, sizeof(raw));
		hc_hex_encode(raw, sizeof(raw), nonce);
	} else {
		snprintf(nonce, sizeof(nonce), "%s", c->nonce);
	}
	httpsig_digest(body, len, digest);
	if (httpsig_sign_request(c->key, c->keyid, (int64_t)time(NULL) + c->skew_s, nonce, method,
	                         pathbuf, query, digest, input, sizeof(input), signature,
	                         sizeof(signature)) != 0) {
		snprintf(resp->error, sizeof(resp->error), "could not sign with this key");
		return -1;
	}
	snprintf(line, sizeof(line), "Content-Digest: %s", digest);
	h = curl_slist_append(h, line);
	if (!c->no_signature) {
		snprintf(line, sizeof(line), "Signature-Input: %s", input);
		h = curl_slist_append(h, line);
		snprintf(line, sizeof(line), "Signature: %s",
		         c->garble ? "hc=:not*base64!:" : signature);
		h = curl_slist_append(h, line);
	}
	if (body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (body != NULL && c->tamper_body && len > 0) {
		sent = malloc(len);
		if (sent == NULL)
			abort();
		memcpy(sent, body, len);
		sent[0] ^= 1;
		body = sent;
	}
	snprintf(url, sizeof(url), "%s%s", c->base_url, path);
	if (c->save_request != NULL)
		save_request(c->save_request, url, method, h, body, len);
	curl = curl_easy_init();
	if (curl == NULL)
		abort();
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, c->timeout_ms > 0 ? c->timeout_ms : 10000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
	if (body != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
		if (resp->body == NULL) {
			resp->body = calloc(1, 1);
			if (resp->body == NULL)
				abort();
		}
		resp->check = check_response(c, &r);
	} else {
		snprintf(resp->error, sizeof(resp->error), "%s", curl_easy_strerror(rc));
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(h);
	free(sent);
	return rc == CURLE_OK ? 0 : -1;
}

void hc_client_response_cleanup(hc_client_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
