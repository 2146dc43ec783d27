/* The gateway's HTTP client on libcurl; see upstream.h. */
#include "common/upstream/upstream.h"

#include "common/base/netaddr.h"
#include "common/metrics/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#define UPSTREAM_IDLE_MAX 128
#define UPSTREAM_EVENTS   64

/*
 * The loop waits in epoll on the sockets libcurl asks it to watch
 * (CURLMOPT_SOCKETFUNCTION) and on an eventfd that submits and the stop
 * write to, and hands libcurl only the sockets that are ready
 * (curl_multi_socket_action): its work per wakeup follows what happened,
 * not how many requests are on their way (curl_multi_perform and
 * curl_multi_poll went over every transfer and every socket each time).
 */
struct upstream_loop {
	CURLM *multi;
	int epfd, wakefd;
	int64_t deadline_ms; /* libcurl's timer, on CLOCK_MONOTONIC; -1: none */
	pthread_t thread;
	pthread_mutex_t mu;
	upstream_job *pending;         /* set up, waiting to be added to multi */
	CURL *idle[UPSTREAM_IDLE_MAX]; /* finished easy handles, reset and kept for reuse */
	size_t nidle;
	int stopping, started;
	int public_only; /* every connection checked as public when opened, so kept */
	int (*is_public)(const struct sockaddr *, socklen_t); /* under mu, before submits */
	metric *inflight;
};

struct upstream_job {
	upstream_job *next;
	upstream_loop *loop;
	CURL *easy;
	struct curl_slist *headers;
	upstream_response resp;
	upstream_done_fn done;
	void *ctx;
	char url[512];       /* for error messages */
	int refused_address; /* public_only: an address was not public */
};

int upstream_global_init(hc_err *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return hc_err_set(err, HC_ERR_FATAL, "could not initialise libcurl");
	return 0;
}

void upstream_global_cleanup(void)
{
	curl_global_cleanup();
}

int upstream_append(char **buf, size_t *len, const char *data, size_t n, size_t max)
{
	char *grown;

	if (*len + n > max)
		return -1;
	grown = realloc(*buf, *len + n + 1);
	if (grown == NULL)
		abort();
	*buf = grown;
	memcpy(*buf + *len, data, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

static size_t upstream_on_body(char *data, size_t size, size_t n, void *arg)
{
	upstream_response *resp = arg;

	/* past the cap: 0 aborts the transfer (CURLE_WRITE_ERROR) */
	return upstream_append(&resp->body, &resp->body_len, data, size * n,
	                       UPSTREAM_MAX_RESPONSE) == 0
	           ? size * n
	           : 0;
}

void upstream_header_value(const char *line, size_t len, const char *name, char *out, size_t cap)
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
	upstream_header_value(line, len, "Idempotent-Replayed", resp->replayed,
	                      sizeof(resp->replayed));
	return len;
}

/* An easy handle: a reset one kept from an earlier request, else a new one. */
static CURL *upstream_easy_take(upstream_loop *l)
{
	CURL *e = NULL;

	pthread_mutex_lock(&l->mu);
	if (l->nidle > 0)
		e = l->idle[--l->nidle];
	pthread_mutex_unlock(&l->mu);
	if (e == NULL && (e = curl_easy_init()) == NULL)
		abort();
	return e;
}

/* Keeps e for reuse (reset: no option of its last request survives), or frees it. */
static void upstream_easy_give(upstream_loop *l, CURL *e)
{
	curl_easy_reset(e);
	pthread_mutex_lock(&l->mu);
	if (l->nidle < UPSTREAM_IDLE_MAX) {
		l->idle[l->nidle++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&l->mu);
	if (e != NULL)
		curl_easy_cleanup(e);
}

/* Ends a job: its callback gets the answer (or the failure), then it is freed. */
static void upstream_finish(upstream_job *j, CURLcode rc)
{
	hc_err err;

	hc_err_clear(&err);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->resp.status);
		if (j->resp.body == NULL) {
			j->resp.body = strdup("");
			if (j->resp.body == NULL)
				abort();
		}
		j->done(j->ctx, &j->resp, NULL);
	} else {
		upstream_response_cleanup(&j->resp);
		if (j->refused_address)
			hc_err_set(&err, HC_ERR_TRANSIENT,
			           "refused to connect to %s: its address is not public (loopback, "
			           "private, link-local or reserved)",
			           j->url);
		else if (rc == CURLE_OPERATION_TIMEDOUT)
			hc_err_field(&err, HC_ERR_TRANSIENT, "timeout", "could not reach %s: %s",
			             j->url, curl_easy_strerror(rc));
		else
			hc_err_set(&err, HC_ERR_TRANSIENT, "could not reach %s: %s", j->url,
			           curl_easy_strerror(rc));
		j->done(j->ctx, NULL, &err);
	}
	upstream_response_cleanup(&j->resp);
	upstream_easy_give(j->loop, j->easy);
	curl_slist_free_all(j->headers);
	free(j);
}

static int64_t upstream_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* CURLMOPT_SOCKETFUNCTION: watch s for what libcurl waits for, or no more. */
static int upstream_on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	upstream_loop *l = userp;
	struct epoll_event ev = {0};

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, s, NULL); /* fails when already closed: fine */
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	ev.data.fd = s;
	if (socketp == NULL) { /* new to this loop: marked, so the next change is a MOD */
		curl_multi_assign(l->multi, s, l);
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev) == 0 || errno != EEXIST)
			return 0;
	}
	/* not watched (a new socket with a closed one's number): added */
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, s, &ev) != 0 && errno == ENOENT)
		epoll_ctl(l->epfd, EPOLL_CTL_ADD, s, &ev);
	return 0;
}

/* CURLMOPT_TIMERFUNCTION: when libcurl wants to be called for its timeouts. */
static int upstream_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	upstream_loop *l = userp;

	(void)multi;
	l->deadline_ms = timeout_ms < 0 ? -1 : upstream_now_ms() + timeout_ms;
	return 0;
}

static void upstream_fds_close(upstream_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wakefd >= 0)
		close(l->wakefd);
	l->epfd = l->wakefd = -1;
}

static void upstream_wake(upstream_loop *l)
{
	uint64_t one = 1;

	if (write(l->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		abort(); /* the eventfd is ours: any other failure is a bug */
}

static void *upstream_main(void *arg)
{
	upstream_loop *l = arg;
	struct epoll_event evs[UPSTREAM_EVENTS];
	long active = 0; /* added to the multi handle and not yet finished */
	int running = 0;

	for (;;) {
		upstream_job *todo, *j;
		CURLMsg *msg;
		int left, stop, n, i, wait_ms = 1000;

		pthread_mutex_lock(&l->mu);
		todo = l->pending;
		l->pending = NULL;
		stop = l->stopping;
		pthread_mutex_unlock(&l->mu);
		while ((j = todo) != NULL) {
			todo = j->next;
			curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
			if (curl_multi_add_handle(l->multi, j->easy) != CURLM_OK) {
				upstream_finish(j, CURLE_FAILED_INIT);
			} else {
				active++;
				metrics_add(l->inflight, 1);
			}
		}
		if (stop && active == 0) {
			pthread_mutex_lock(&l->mu);
			stop = l->pending == NULL;
			pthread_mutex_unlock(&l->mu);
			if (stop)
				break; /* drained: every request answered */
		}
		if (l->deadline_ms >= 0) {
			int64_t left_ms = l->deadline_ms - upstream_now_ms();

			wait_ms = left_ms <= 0 ? 0 : left_ms < 1000 ? (int)left_ms : 1000;
		}
		n = epoll_wait(l->epfd, evs, UPSTREAM_EVENTS, wait_ms);
		for (i = 0; i < n; i++) {
			uint64_t count;
			int mask = 0;

			if (evs[i].data.fd == l->wakefd) {
				if (read(l->wakefd, &count, sizeof(count)) < 0 && errno != EAGAIN)
					abort();
				continue;
			}
			if (evs[i].events & EPOLLIN)
				mask |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				mask |= CURL_CSELECT_ERR;
			curl_multi_socket_action(l->multi, evs[i].data.fd, mask, &running);
		}
		if (l->deadline_ms >= 0 && upstream_now_ms() >= l->deadline_ms) {
			l->deadline_ms = -1; /* the action may set the next */
			curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
		}
		while ((msg = curl_multi_info_read(l->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			curl_multi_remove_handle(l->multi, msg->easy_handle);
			active--;
			metrics_add(l->inflight, -1);
			upstream_finish(j, msg->data.result);
		}
	}
	return NULL;
}

int upstream_loop_start(upstream_loop **out, const char *name, int public_only, hc_err *err)
{
	upstream_loop *l = calloc(1, sizeof(*l));
	char labels[64];

	if (l == NULL)
		abort();
	l->public_only = public_only;
	l->is_public = hc_addr_is_public;
	pthread_mutex_init(&l->mu, NULL);
	l->multi = curl_multi_init();
	if (l->multi == NULL) {
		free(l);
		return hc_err_set(err, HC_ERR_FATAL, "could not create the upstream multi handle");
	}
	curl_multi_setopt(l->multi, CURLMOPT_MAXCONNECTS, 64L);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION, upstream_on_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, upstream_on_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	l->deadline_ms = -1;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->epfd < 0 || l->wakefd < 0) {
		upstream_fds_close(l);
		curl_multi_cleanup(l->multi);
		free(l);
		return hc_err_set(err, HC_ERR_FATAL, "could not create the upstream loop's epoll");
	}
	{
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = l->wakefd};

		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &ev) != 0)
			abort();
	}
	snprintf(labels, sizeof(labels), "loop=\"%s\"", name);
	l->inflight =
	    metrics_gauge("hc_upstream_inflight", labels, "requests sent and not yet answered");
	if (pthread_create(&l->thread, NULL, upstream_main, l) != 0) {
		upstream_fds_close(l);
		curl_multi_cleanup(l->multi);
		free(l);
		return hc_err_set(err, HC_ERR_FATAL, "could not start the upstream thread");
	}
	snprintf(labels, sizeof(labels), "up-%s", name);
	labels[15] = '\0'; /* a thread's name holds 15 bytes */
	pthread_setname_np(l->thread, labels);
	l->started = 1;
	*out = l;
	return 0;
}

void upstream_loop_address_check(upstream_loop *l,
                                 int (*is_public)(const struct sockaddr *, socklen_t))
{
	pthread_mutex_lock(&l->mu);
	l->is_public = is_public;
	pthread_mutex_unlock(&l->mu);
}

void upstream_loop_stop(upstream_loop *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = 1;
	pthread_mutex_unlock(&l->mu);
	upstream_wake(l);
	if (l->started)
		pthread_join(l->thread, NULL);
	l->started = 0;
}

void upstream_loop_free(upstream_loop *l)
{
	if (l == NULL)
		return;
	upstream_loop_stop(l);
	while (l->nidle > 0)
		curl_easy_cleanup(l->idle[--l->nidle]);
	curl_multi_cleanup(l->multi);
	upstream_fds_close(l);
	pthread_mutex_destroy(&l->mu);
	free(l);
}

/* CURLOPT_OPENSOCKETFUNCTION of a public_only request: no socket for a non-public address. */
static curl_socket_t upstream_open_public(void *clientp, curlsocktype purpose,
                                          struct curl_sockaddr *a)
{
	upstream_job *j = clientp;

	/* read on the loop's thread, set under mu before the job was queued under mu */
	if (purpose != CURLSOCKTYPE_IPCXN || !j->loop->is_public(&a->addr, a->addrlen)) {
		j->refused_address = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

void upstream_submit(upstream_loop *l, const upstream_request *req, upstream_done_fn done,
                     void *ctx)
{
	upstream_job *j = calloc(1, sizeof(*j));
	char line[160];
	int refused;
	size_t k;

	if (j == NULL)
		abort();
	j->loop = l;
	j->easy = upstream_easy_take(l);
	j->done = done;
	j->ctx = ctx;
	snprintf(j->url, sizeof(j->url), "%s", req->url);
	{
		const char *const names[] = {"Content-Type", "traceparent", "X-HC-Client",
		                             "X-HC-Role", "X-HC-County"};
		const char *const values[] = {req->content_type, req->traceparent, req->client,
		                              req->role, req->county};

		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			if (values[k] == NULL)
				continue;
			snprintf(line, sizeof(line), "%s: %.120s", names[k], values[k]);
			j->headers = curl_slist_append(j->headers, line);
		}
	}
	for (k = 0; req->headers != NULL && req->headers[k] != NULL; k++)
		j->headers = curl_slist_append(j->headers, req->headers[k]);
	j->headers = curl_slist_append(j->headers, "Expect:"); /* no 100-continue round trip */
	curl_easy_setopt(j->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(j->easy, CURLOPT_CUSTOMREQUEST, req->method);
	curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->headers);
	curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(j->easy, CURLOPT_CONNECTTIMEOUT_MS,
	                 req->timeout_ms < 2000 ? req->timeout_ms : 2000);
	curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->easy, CURLOPT_TCP_NODELAY, 1L);
	curl_easy_setopt(j->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, upstream_on_body);
	curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, &j->resp);
	curl_easy_setopt(j->easy, CURLOPT_HEADERFUNCTION, upstream_on_header);
	curl_easy_setopt(j->easy, CURLOPT_HEADERDATA, &j->resp);
	if (req->body != NULL) {
		curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(j->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	if (req->public_only) {
		curl_easy_setopt(j->easy, CURLOPT_OPENSOCKETFUNCTION, upstream_open_public);
		curl_easy_setopt(j->easy, CURLOPT_OPENSOCKETDATA, j);
		if (!l->public_only) { /* this loop's kept connections may reach services */
			curl_easy_setopt(j->easy, CURLOPT_FRESH_CONNECT, 1L);
			curl_easy_setopt(j->easy, CURLOPT_FORBID_REUSE, 1L);
		}
	}
	pthread_mutex_lock(&l->mu);
	refused = l->stopping || (l->public_only && !req->public_only);
	if (!refused) {
		j->next = l->pending;
		l->pending = j;
	}
	pthread_mutex_unlock(&l->mu);
	if (refused)
		upstream_finish(j, CURLE_ABORTED_BY_CALLBACK);
	else
		upstream_wake(l);
}

void upstream_response_cleanup(upstream_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}
