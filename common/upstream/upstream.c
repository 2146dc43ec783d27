/* The gateway's HTTP client on libcurl; see upstream.h. */
#include "common/upstream/upstream.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

static pthread_key_t upstream_key;

static void upstream_thread_done(void *handle)
{
	curl_easy_cleanup(handle);
}

int upstream_global_init(hc_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return hc_err_set(err, HC_ERR_FATAL, "could not initialise libcurl");
	if (pthread_key_create(&upstream_key, upstream_thread_done) != 0)
		return hc_err_set(err, HC_ERR_FATAL, "could not create the curl handle key");
	return 0;
}

void upstream_global_cleanup(void)
{
	CURL *mine = pthread_getspecific(upstream_key);

	if (mine != NULL) {
		curl_easy_cleanup(mine);
		pthread_setspecific(upstream_key, NULL);
	}
	pthread_key_delete(upstream_key);
	curl_global_cleanup();
}

static CURL *upstream_handle(void)
{
	CURL *h = pthread_getspecific(upstream_key);

	if (h == NULL) {
		h = curl_easy_init();
		if (h == NULL)
			abort();
		pthread_setspecific(upstream_key, h);
	} else {
		curl_easy_reset(h); /* keeps the connection cache */
	}
	return h;
}

static size_t upstream_on_body(char *data, size_t size, size_t n, void *arg)
{
	upstream_response *resp = arg;
	size_t len = size * n;
	char *grown;

	if (resp->body_len + len > UPSTREAM_MAX_RESPONSE)
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	grown = realloc(resp->body, resp->body_len + len + 1);
	if (grown == NULL)
		abort();
	resp->body = grown;
	memcpy(resp->body + resp->body_len, data, len);
	resp->body_len += len;
	resp->body[resp->body_len] = '\0';
	return len;
}

/* Copies the value of header line `line` into out when its name is `name`. */
static void upstream_header_value(const char *line, size_t len, const char *name, char *out,
                                  size_t cap)
{
	size_t nlen = strlen(name), vlen;
	const char *v;

	if (len <= nlen + 1 || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return;
	v = line + nlen + 1;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(line + len - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n'))
		vlen--;
	if (vlen >= cap)
		vlen = cap - 1;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
}

static size_t upstream_on_header(char *line, size_t size, size_t n, void *arg)
{
	upstream_response *resp = arg;
	size_t len = size * n;

	upstream_header_value(line, len, "Content-Type", resp->content_type,
	                      sizeof(resp->content_type));
	upstream_header_value(line, len, "Location", resp->location, sizeof(resp->location));
	upstream_header_value(line, len, "Retry-After", resp->retry_after,
	                      sizeof(resp->retry_after));
	return len;
}

int upstream_call(const upstream_request *req, upstream_response *resp, hc_err *err)
{
	CURL *h = upstream_handle();
	struct curl_slist *headers = NULL;
	char line[160];
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	{
		const char *const names[] = {"Content-Type", "traceparent", "X-HC-Client",
		                             "X-HC-Role", "X-HC-County"};
		const char *const values[] = {req->content_type, req->traceparent, req->client,
		                              req->role, req->county};
		size_t k;

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (values[k] == NULL)
				continue;
			snprintf(line, sizeof(line), "%s: %.120s", names[k], values[k]);
			headers = curl_slist_append(headers, line);
		}
	}
	headers = curl_slist_append(headers, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(h, CURLOPT_URL, req->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->timeout_ms < 2000 ? req->timeout_ms : 2000);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, upstream_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, upstream_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	if (req->body != NULL) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	rc = curl_easy_perform(h);
	curl_slist_free_all(headers);
	if (rc != CURLE_OK) {
		upstream_response_cleanup(resp);
		if (rc == CURLE_OPERATION_TIMEDOUT)
			return hc_err_field(err, HC_ERR_TRANSIENT, "timeout",
			                    "could not reach %s: %s", req->url,
			                    curl_easy_strerror(rc));
		return hc_err_set(err, HC_ERR_TRANSIENT, "could not reach %s: %s", req->url,
		                  curl_easy_strerror(rc));
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	if (resp->body == NULL) {
		resp->body = strdup("");
		if (resp->body == NULL)
			abort();
	}
	return 0;
}

void upstream_response_cleanup(upstream_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
