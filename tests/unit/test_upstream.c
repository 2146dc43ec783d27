/*
 * Unit tests of common/upstream's connections to public addresses only (the
 * gateway's callbacks): a loop started public_only keeps and reuses the
 * connections it opened, each checked once; a public_only request in
 * another loop opens its own every time and never takes a kept one; a
 * refused address fails the request without a connection.  The address
 * check is replaced by one that counts its calls and accepts loopback, and
 * a libmicrohttpd server on loopback counts the connections it is given.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>

#include "common/upstream/upstream.h"
#include "tests/unit/unit.h"

static atomic_int connections, checks;
static int accept_addresses = 1;

static int counting_check(const struct sockaddr *sa, socklen_t len)
{
	(void)sa, (void)len;
	atomic_fetch_add(&checks, 1);
	return accept_addresses;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)c, (void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&connections, 1);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *size, void **state)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (*state == NULL) { /* headers only so far */
		*state = c;
		return MHD_YES;
	}
	if (*size > 0) {
		*size = 0; /* the body, discarded */
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	rc = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return rc;
}

static struct MHD_Daemon *server(char *url, size_t cap)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, answer, NULL,
	                     MHD_OPTION_SOCK_ADDR, &a, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
	                     NULL, MHD_OPTION_END);
	CHECK(d != NULL);
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	CHECK(info != NULL && info->port != 0);
	snprintf(url, cap, "http://127.0.0.1:%u/callbacks", info->port);
	return d;
}

/* one request at a time: the next is sent once the previous is answered */
typedef struct outcome {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	long status;
	char msg[256];
} outcome;

static void on_done(void *ctx, const upstream_response *resp, const hc_err *err)
{
	outcome *o = ctx;

	pthread_mutex_lock(&o->mu);
	o->status = resp != NULL ? resp->status : 0;
	snprintf(o->msg, sizeof(o->msg), "%s", err != NULL ? err->msg : "");
	o->done = 1;
	pthread_cond_signal(&o->cv);
	pthread_mutex_unlock(&o->mu);
}

static long send_one(upstream_loop *l, const char *url, int public_only, char *msg, size_t cap)
{
	outcome o = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
	upstream_request req = {.method = "POST",
	                        .url = url,
	                        .content_type = "application/cloudevents+json",
	                        .body = "{}",
	                        .body_len = 2,
	                        .timeout_ms = 5000,
	                        .public_only = public_only};

	upstream_submit(l, &req, on_done, &o);
	pthread_mutex_lock(&o.mu);
	while (!o.done)
		pthread_cond_wait(&o.cv, &o.mu);
	pthread_mutex_unlock(&o.mu);
	if (msg != NULL)
		snprintf(msg, cap, "%s", o.msg);
	return o.status;
}

static upstream_loop *loop(const char *name, int public_only)
{
	upstream_loop *l = NULL;
	hc_err err;

	hc_err_clear(&err);
	CHECK(upstream_global_init(&err) == 0);
	CHECK(upstream_loop_start(&l, name, public_only, &err) == 0);
	upstream_loop_address_check(l, counting_check);
	return l;
}

TEST(a_public_only_loop_keeps_its_checked_connections)
{
	char url[128];
	struct MHD_Daemon *d = server(url, sizeof(url));
	upstream_loop *l = loop("callbacks", 1);
	int i;

	for (i = 0; i < 5; i++)
		CHECK_EQ_INT(send_one(l, url, 1, NULL, 0), 200);
	CHECK_EQ_INT(atomic_load(&connections), 1);
	CHECK_EQ_INT(atomic_load(&checks), 1);
	upstream_loop_free(l);
	MHD_stop_daemon(d);
}

TEST(a_public_only_request_elsewhere_never_takes_a_kept_connection)
{
	char url[128];
	struct MHD_Daemon *d = server(url, sizeof(url));
	upstream_loop *l = loop("services", 0);
	int i;

	/* a kept connection to the same address, as to one of the services */
	CHECK_EQ_INT(send_one(l, url, 0, NULL, 0), 200);
	CHECK_EQ_INT(send_one(l, url, 0, NULL, 0), 200);
	CHECK_EQ_INT(atomic_load(&connections), 1);
	CHECK_EQ_INT(atomic_load(&checks), 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ_INT(send_one(l, url, 1, NULL, 0), 200);
	CHECK_EQ_INT(atomic_load(&connections), 4); /* one each, checked each */
	CHECK_EQ_INT(atomic_load(&checks), 3);
	upstream_loop_free(l);
	MHD_stop_daemon(d);
}

TEST(a_refused_address_fails_without_a_connection)
{
	char url[128], msg[256];
	struct MHD_Daemon *d = server(url, sizeof(url));
	upstream_loop *l = loop("callbacks", 1);

	accept_addresses = 0;
	CHECK_EQ_INT(send_one(l, url, 1, msg, sizeof(msg)), 0);
	CHECK(strstr(msg, "its address is not public") != NULL);
	CHECK_EQ_INT(atomic_load(&connections), 0);
	CHECK(atomic_load(&checks) >= 1);
	/* and a request that does not ask for the check is not sent by this loop */
	accept_addresses = 1;
	CHECK_EQ_INT(send_one(l, url, 0, msg, sizeof(msg)), 0);
	CHECK(msg[0] != '\0');
	CHECK_EQ_INT(atomic_load(&connections), 0);
	upstream_loop_free(l);
	MHD_stop_daemon(d);
}

UNIT_MAIN(T(a_public_only_loop_keeps_its_checked_connections),
          T(a_public_only_request_elsewhere_never_takes_a_kept_connection),
          T(a_refused_address_fails_without_a_connection))
