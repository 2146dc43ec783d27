/*
 * hc-load: an open-loop HTTP/1.1 load generator.
 *
 *   hc-load -r RATE -d SECONDS -c CONNECTIONS [-m METHOD] [-H 'Name: value']...
 *           [-b BODYFILE | -B BODIESFILE] [-i CLIENT:KID -k KEY.pem] [-o TRACEFILE] URL
 *
 * -B gives one body per line: request i carries line i (modulo their
 * number), for runs where every request must be another one (declarations
 * of different people); signed or not.
 *
 * With -i and -k every request is signed as partner apps sign theirs
 * (common/httpsig; docs/API.md), each with its own nonce: the requests are
 * signed before the run starts, so signing costs no time during it (the
 * run must fit in the gateway's 300-second window).
 *
 * Request i is due at start + i / RATE whatever happened before it, and its
 * latency is measured from that due time, so a server that stalls cannot
 * hide its tail behind requests that were never sent (coordinated
 * omission).  Requests go over up to CONNECTIONS kept-alive connections to
 * a loopback host; a due request waits for a free connection, and that
 * wait counts.  Prints one line: key=value pairs (sent, ok, non2xx, errors,
 * rate, p50, p90, p99, p999, max in milliseconds; then ok_p50, ok_p99, ok_max
 * of the 2xx answers alone and other_p50, other_p99, other_max of the rest;
 * then statuses=CODE:COUNT,... of the answers other than 2xx, or "-"; then
 * cpu, the seconds of CPU it used itself during the run, and late_p50,
 * late_p99: how late it sent its requests, itself, in milliseconds).  It
 * raises its own CPU priority when allowed (nice -10: it sleeps between
 * requests, so this costs the servers little), so that on a machine it
 * shares with them it sends on time, as a client elsewhere would.
 * With -o, each answer is also written to TRACEFILE as one line: its due
 * time in seconds from the start, its latency in milliseconds, its status
 * (to see whether a tail is spread over the run or gathered in stalls),
 * after a first line "# start" and the Unix time of the start.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/base/rand.h"
#include "common/httpsig/httpsig.h"

typedef struct conn {
	int fd;
	int busy;
	double due; /* the due time of the request in flight */
	char in[65536];
	size_t inlen;
} conn;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process has used, user and system. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int dial(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* A whole response in c->in: its length, or 0 while incomplete; *status set. */
static size_t complete(conn *c, int *status)
{
	char *end, *cl;
	size_t head, body = 0;

	c->in[c->inlen < sizeof(c->in) ? c->inlen : sizeof(c->in) - 1] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (end == NULL)
		return 0;
	head = (size_t)(end - c->in) + 4;
	cl = strcasestr(c->in, "\r\ncontent-length:");
	if (cl != NULL && cl < end)
		body = strtoul(cl + 17, NULL, 10);
	if (c->inlen < head + body)
		return 0;
	*status = atoi(c->in + 9);
	return head + body;
}

/*
 * The lines of a bodies file (empty lines skipped) into *bodies and *lens;
 * returns their number, or 0.
 */
static size_t read_bodies(const char *file, char ***bodies, size_t **lens)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0, n = 0, room = 0;
	ssize_t len;

	*bodies = NULL;
	*lens = NULL;
	while (f != NULL && (len = getline(&line, &cap, f)) > 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (n == room) {
			room = room ? room * 2 : 1024;
			*bodies = realloc(*bodies, room * sizeof(**bodies));
			*lens = realloc(*lens, room * sizeof(**lens));
			if (*bodies == NULL || *lens == NULL)
				abort();
		}
		(*bodies)[n] = strdup(line);
		if ((*bodies)[n] == NULL)
			abort();
		(*lens)[n++] = (size_t)len;
	}
	free(line);
	if (f != NULL)
		fclose(f);
	return n;
}

/*
 * One unsigned request text per body (head ends before the blank line),
 * into *reqs and *lens.
 */
static void build_each(size_t n, char **bodies, const size_t *bodylens, const char *head,
                       char ***reqs, size_t **lens)
{
	size_t k, headlen = strlen(head);

	*reqs = calloc(n, sizeof(**reqs));
	*lens = calloc(n, sizeof(**lens));
	if (*reqs == NULL || *lens == NULL)
		abort();
	for (k = 0; k < n; k++) {
		char *r = malloc(headlen + bodylens[k] + 128);

		if (r == NULL)
			abort();
		(*lens)[k] = (size_t)sprintf(
		    r, "%sContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", head,
		    bodylens[k], bodies[k]);
		(*reqs)[k] = r;
	}
}

/*
 * The total requests, each signed with its own nonce, as one array of
 * request texts; or NULL when the key cannot sign.  Request k carries body
 * k modulo nbodies; with each set, the bodies are JSON and their
 * Content-Type and Content-Length go into every request (the head lacks them).
 */
static char **sign_all(size_t total, const char *head, const char *method, const char *path,
                       char *const *bodies, const size_t *bodylens, size_t nbodies, int each,
                       const char *keyid, EVP_PKEY *key, size_t *lens)
{
	char digest[HTTPSIG_DIGEST_MAX + 1], input[512], sig[HTTPSIG_SIG_MAX * 2], nonce[33];
	char pathbuf[2048], *query;
	char **reqs = calloc(total, sizeof(*reqs));
	unsigned char raw[16];
	size_t k, headlen = strlen(head);
	int64_t now = (int64_t)time(NULL);

	snprintf(pathbuf, sizeof(pathbuf), "%s", path);
	query = strchr(pathbuf, '?');
	if (query != NULL)
		*query++ = '\0';
	for (k = 0; reqs != NULL && k < total; k++) {
		const char *body = bodies[k % nbodies];
		size_t bodylen = bodylens[k % nbodies], n;
		char *r = malloc(headlen + bodylen + 1024 + sizeof(sig));

		if (k == 0 || nbodies > 1) /* a single body's digest is computed once */
			httpsig_digest(body, bodylen, digest);
		hc_rand_bytes(raw, sizeof(raw));
		hc_hex_encode(raw, sizeof(raw), nonce);
		if (r == NULL ||
		    httpsig_sign_request(key, keyid, now, nonce, method, pathbuf, query, digest,
		                         input, sizeof(input), sig, sizeof(sig)) != 0) {
			free(r);
			return NULL;
		}
		n = (size_t)sprintf(r, "%s", head);
		if (each)
			n += (size_t)sprintf(
			    r + n, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
			    bodylen);
		n += (size_t)sprintf(
		    r + n, "Content-Digest: %s\r\nSignature-Input: %s\r\nSignature: %s\r\n\r\n",
		    digest, input, sig);
		if (bodylen > 0)
			memcpy(r + n, body, bodylen);
		lens[k] = n + bodylen;
		reqs[k] = r;
	}
	return reqs;
}

int main(int argc, char **argv)
{
	double rate = 100, seconds = 10, start, cpu0, next_due, *lat, *lat_ok, *lat_other, *late;
	int nconns = 16, i, opt, ep, nheaders = 0;
	const char *method = "GET", *bodyfile = NULL, *headers[32], *keyid = NULL, *keyfile = NULL;
	const char *trace = NULL; /* -o: one line per answer */
	FILE *tracef = NULL;
	char **signed_reqs = NULL, **each_reqs = NULL;
	size_t *signed_lens = NULL, *each_lens = NULL, neach = 0, nbodies = 0, *bodylens = NULL;
	char **bodies = NULL;
	const char *eachfile = NULL;
	char host[256], path[2048], *req, *body = NULL;
	size_t reqlen, bodylen = 0, total, sent = 0, done = 0, ok = 0, non2xx = 0, errors = 0;
	static size_t by_status[600]; /* answers by status; 0: unreadable */
	struct sockaddr_in addr = {.sin_family = AF_INET};
	unsigned port = 80;
	conn *conns;

	while ((opt = getopt(argc, argv, "r:d:c:m:H:b:B:i:k:o:")) != -1) {
		switch (opt) {
		case 'r': rate = atof(optarg); break;
		case 'd': seconds = atof(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'm': method = optarg; break;
		case 'H':
			if (nheaders < 32)
				headers[nheaders++] = optarg;
			break;
		case 'b': bodyfile = optarg; break;
		case 'B': eachfile = optarg; break;
		case 'i': keyid = optarg; break;
		case 'k': keyfile = optarg; break;
		case 'o': trace = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || rate <= 0 || seconds <= 0 || nconns < 1 || nconns > 4096 ||
	    sscanf(argv[optind], "http://%255[^:/]:%u%2047s", host, &port, path) < 2) {
		fprintf(
		    stderr,
		    "usage: hc-load -r RATE -d SECONDS -c CONNS [-m METHOD] [-H HDR]... "
		    "[-b BODYFILE | -B BODIESFILE] [-o TRACEFILE] http://127.0.0.1:PORT/PATH\n");
		return 2;
	}
	if (path[0] != '/')
		strcpy(path, "/");
	if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
		fprintf(stderr, "hc-load: %s: give a numeric IPv4 address\n", host);
		return 2;
	}
	addr.sin_port = htons((uint16_t)port);
	if (bodyfile != NULL) {
		FILE *f = fopen(bodyfile, "rb");

		if (f == NULL)
			return 2;
		body = malloc(1 << 20);
		bodylen = fread(body, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	req = malloc(8192 + bodylen);
	reqlen =
	    (size_t)sprintf(req, "%s %s HTTP/1.1\r\nHost: %s:%u\r\n", method, path, host, port);
	for (i = 0; i < nheaders; i++)
		reqlen += (size_t)sprintf(req + reqlen, "%s\r\n", headers[i]);
	if (body != NULL)
		reqlen += (size_t)sprintf(
		    req + reqlen, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
		    bodylen);
	total = (size_t)(rate * seconds);
	if ((keyid != NULL) != (keyfile != NULL) || (keyid != NULL && seconds > 250)) {
		fprintf(stderr, "hc-load: -i and -k go together, for runs of at most 250 s\n");
		return 2;
	}
	if (eachfile != NULL) {
		nbodies = bodyfile == NULL ? read_bodies(eachfile, &bodies, &bodylens) : 0;
		if (nbodies == 0) {
			fprintf(stderr, "hc-load: -B needs a file of bodies, without -b\n");
			return 2;
		}
	}
	req[reqlen] = '\0';
	if (keyid != NULL) {
		FILE *f = fopen(keyfile, "r");
		EVP_PKEY *key = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

		if (f != NULL)
			fclose(f);
		signed_lens = calloc(total + 1, sizeof(*signed_lens));
		if (key == NULL || signed_lens == NULL ||
		    (signed_reqs = sign_all(total, req, method, path, nbodies ? bodies : &body,
		                            nbodies ? bodylens : &bodylen, nbodies ? nbodies : 1,
		                            nbodies > 0, keyid, key, signed_lens)) == NULL) {
			fprintf(stderr, "hc-load: cannot sign with %s\n", keyfile);
			return 2;
		}
		EVP_PKEY_free(key);
	} else if (nbodies > 0) {
		build_each(nbodies, bodies, bodylens, req, &each_reqs, &each_lens);
		neach = nbodies;
	}
	reqlen += (size_t)sprintf(req + reqlen, "\r\n");
	if (body != NULL) {
		memcpy(req + reqlen, body, bodylen);
		reqlen += bodylen;
	}
	if (trace != NULL && (tracef = fopen(trace, "w")) == NULL) {
		fprintf(stderr, "hc-load: cannot write %s\n", trace);
		return 2;
	}
	lat = calloc(total + 1, sizeof(*lat));
	lat_ok = calloc(total + 1, sizeof(*lat_ok));
	lat_other = calloc(total + 1, sizeof(*lat_other));
	late = calloc(total + 1, sizeof(*late));
	conns = calloc((size_t)nconns, sizeof(*conns));
	ep = epoll_create1(0);
	for (i = 0; i < nconns; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

		conns[i].fd = dial(&addr);
		if (conns[i].fd < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev) != 0) {
			fprintf(stderr, "hc-load: cannot connect to %s:%u\n", host, port);
			return 1;
		}
	}
	/* wake on time: the default 50 us of timer slack would count in every latency; and
	 * ahead of the servers it shares the machine with, as a client elsewhere would
	 * (it sleeps between requests, so this takes them little: see cpu=) */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	(void)setpriority(PRIO_PROCESS, 0, -10);
	cpu0 = cpu_s();
	start = now_s();
	if (tracef != NULL) { /* the wall-clock time of the start, to match other logs */
		struct timespec wall;

		clock_gettime(CLOCK_REALTIME, &wall);
		fprintf(tracef, "# start %lld.%06ld\n", (long long)wall.tv_sec,
		        wall.tv_nsec / 1000);
	}
	while (done < total) {
		struct epoll_event evs[256];
		double t = now_s();
		struct timespec timeout;
		double wait;
		int n;

		/* send every due request that has a free connection */
		for (i = 0; i < nconns && sent < total; i++) {
			next_due = start + (double)sent / rate;
			if (next_due > t)
				break;
			if (conns[i].busy || conns[i].fd < 0)
				continue;
			late[sent] = t - next_due;
			if (signed_reqs != NULL
			        ? write(conns[i].fd, signed_reqs[sent], signed_lens[sent]) !=
			              (ssize_t)signed_lens[sent]
			    : each_reqs != NULL
			        ? write(conns[i].fd, each_reqs[sent % neach],
			                each_lens[sent % neach]) != (ssize_t)each_lens[sent % neach]
			        : write(conns[i].fd, req, reqlen) != (ssize_t)reqlen) {
				errors++;
				done++;
				sent++;
				continue;
			}
			conns[i].busy = 1;
			conns[i].due = next_due;
			conns[i].inlen = 0;
			sent++;
			i = -1; /* rescan from the first connection */
			t = now_s();
		}
		/* wait for an answer until the next request is due, to the nanosecond: a wait
		 * in whole milliseconds rounded the last one down to none and spun through it,
		 * which at 1,000 requests a second took a core of the servers' two */
		next_due = sent < total ? start + (double)sent / rate : t + 1;
		wait = next_due > t ? next_due - t : 0;
		if (wait == 0) {
			/* due already: without a free connection only an answer can help, so
			 * wait for one rather than spin (the spinning took the servers' CPU) */
			int free_conn = 0;

			for (i = 0; i < nconns && !free_conn; i++)
				free_conn = !conns[i].busy && conns[i].fd >= 0;
			if (!free_conn)
				wait = 0.1;
		}
		if (wait > 0.1)
			wait = 0.1;
		timeout.tv_sec = 0;
		timeout.tv_nsec = (long)(wait * 1e9);
		n = epoll_pwait2(ep, evs, 256, &timeout, NULL);
		if (n < 0 && errno == ENOSYS) /* a kernel before 5.11: whole milliseconds, up */
			n = epoll_wait(ep, evs, 256, (int)(wait * 1000) + (wait > 0));
		for (i = 0; i < n; i++) {
			conn *c = &conns[evs[i].data.u32];
			ssize_t r = read(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen);
			size_t len;
			int status = 0;
			double l;

			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				if (c->busy) {
					errors++;
					done++;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = dial(&addr);
				c->busy = 0;
				if (c->fd >= 0) {
					struct epoll_event ev = {.events = EPOLLIN,
					                         .data.u32 = evs[i].data.u32};

					epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
				}
				continue;
			}
			c->inlen += (size_t)r;
			len = complete(c, &status);
			if (len == 0 || !c->busy)
				continue;
			l = now_s() - c->due;
			lat[ok + non2xx] = l;
			if (tracef != NULL)
				fprintf(tracef, "%.6f %.3f %d\n", c->due - start, l * 1000, status);
			if (status >= 200 && status < 300)
				lat_ok[ok++] = l;
			else
				lat_other[non2xx++] = l;
			by_status[status >= 100 && status < 600 ? status : 0]++;
			done++;
			c->busy = 0;
			memmove(c->in, c->in + len, c->inlen - len);
			c->inlen -= len;
		}
		if (now_s() - start > seconds * 3 + 30)
			break; /* the server stopped answering: report what came back */
	}
	{
		size_t m = ok + non2xx;
		double el = now_s() - start;

		qsort(lat, m, sizeof(*lat), cmp);
#define PCT(p) (m ? lat[(size_t)((double)(m - 1) * (p))] * 1000 : 0)
		printf("sent=%zu ok=%zu non2xx=%zu errors=%zu lost=%zu rate=%.0f p50=%.2f p90=%.2f "
		       "p99=%.2f p999=%.2f max=%.2f",
		       sent, ok, non2xx, errors, total - done, (double)m / el, PCT(0.5), PCT(0.9),
		       PCT(0.99), PCT(0.999), m ? lat[m - 1] * 1000 : 0);
		/* the same, of the 2xx answers alone and of the others (refusals) alone */
		qsort(lat_ok, ok, sizeof(*lat_ok), cmp);
		qsort(lat_other, non2xx, sizeof(*lat_other), cmp);
#define PCT_OF(a, k, p) ((k) ? (a)[(size_t)((double)((k)-1) * (p))] * 1000 : 0)
		printf(" ok_p50=%.2f ok_p99=%.2f ok_max=%.2f other_p50=%.2f other_p99=%.2f "
		       "other_max=%.2f ",
		       PCT_OF(lat_ok, ok, 0.5), PCT_OF(lat_ok, ok, 0.99), PCT_OF(lat_ok, ok, 1.0),
		       PCT_OF(lat_other, non2xx, 0.5), PCT_OF(lat_other, non2xx, 0.99),
		       PCT_OF(lat_other, non2xx, 1.0));
		/* the answers other than 2xx by status, e.g. "statuses=429:120,503:3" ("-" for
		 * none) */
		{
			int st, any = 0;

			printf("statuses=");
			for (st = 0; st < 600; st++)
				if (by_status[st] > 0 && (st < 200 || st >= 300))
					printf("%s%d:%zu", any++ ? "," : "", st, by_status[st]);
			printf("%s", any ? "" : "-");
		}
		/* its own CPU during the run: what it took of the machine it measures; and how
		 * late it sent, itself (every latency above includes it) */
		qsort(late, sent, sizeof(*late), cmp);
		printf(" cpu=%.2f late_p50=%.2f late_p99=%.2f\n", cpu_s() - cpu0,
		       PCT_OF(late, sent, 0.5), PCT_OF(late, sent, 0.99));
	}
	for (i = 0; i < nconns; i++)
		if (conns[i].fd >= 0)
			close(conns[i].fd);
	for (sent = 0; signed_reqs != NULL && sent < total; sent++)
		free(signed_reqs[sent]);
	free(signed_reqs);
	free(signed_lens);
	for (sent = 0; sent < neach; sent++)
		free(each_reqs[sent]);
	free(each_reqs);
	free(each_lens);
	for (sent = 0; sent < nbodies; sent++)
		free(bodies[sent]);
	free(bodies);
	free(bodylens);
	free(conns);
	free(lat);
	free(lat_ok);
	free(lat_other);
	free(late);
	free(req);
	free(body);
	close(ep);
	if (tracef != NULL)
		fclose(tracef);
	return 0;
}
