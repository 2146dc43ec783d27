/* Public and non-public IP addresses; see netaddr.h. */
#include "common/base/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

/* a.b.c.d/bits in host order */
typedef struct v4_range {
	uint32_t net;
	int bits;
} v4_range;

#define V4(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (d))

static const v4_range v4_refused[] = {
    {V4(0, 0, 0, 0), 8},       /* "this network", unspecified */
    {V4(10, 0, 0, 0), 8},      /* private */
    {V4(100, 64, 0, 0), 10},   /* shared (carrier-grade NAT) */
    {V4(127, 0, 0, 0), 8},     /* loopback */
    {V4(169, 254, 0, 0), 16},  /* link-local, cloud metadata */
    {V4(172, 16, 0, 0), 12},   /* private */
    {V4(192, 0, 0, 0), 24},    /* IETF protocol assignments */
    {V4(192, 0, 2, 0), 24},    /* documentation */
    {V4(192, 88, 99, 0), 24},  /* 6to4 relay anycast (deprecated) */
    {V4(192, 168, 0, 0), 16},  /* private */
    {V4(198, 18, 0, 0), 15},   /* benchmarking */
    {V4(198, 51, 100, 0), 24}, /* documentation */
    {V4(203, 0, 113, 0), 24},  /* documentation */
    {V4(224, 0, 0, 0), 4},     /* multicast */
    {V4(240, 0, 0, 0), 4},     /* reserved, broadcast */
};

static int v4_is_public(uint32_t a)
{
	size_t i;

	for (i = 0; i < sizeof(v4_refused) / sizeof(v4_refused[0]); i++)
		if ((a >> (32 - v4_refused[i].bits)) ==
		    (v4_refused[i].net >> (32 - v4_refused[i].bits)))
			return 0;
	return 1;
}

static uint32_t v4_at(const unsigned char *b)
{
	return V4(b[0], b[1], b[2], b[3]);
}

static int v6_is_public(const unsigned char *b)
{
	static const unsigned char zero[12] = {0};
	static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(b, zero, 12) == 0) /* ::, ::1, and IPv4-compatible (deprecated) */
		return 0;
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_is_public(v4_at(b + 12));
	if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
		return 0;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 link-local */
		return 0;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10 site-local (deprecated) */
		return 0;
	if (b[0] == 0xff) /* multicast */
		return 0;
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* 2001:db8::/32 */
		return 0;
	if (b[0] == 0x01 && b[1] == 0 && memcmp(b + 2, zero, 6) == 0) /* 100::/64 discard */
		return 0;
	return 1;
}

int hc_addr_is_public(const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return v4_is_public(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;

		return v6_is_public(in6->sin6_addr.s6_addr);
	}
	return 0;
}

int hc_host_is_public(const char *host)
{
	unsigned char b[16];
	char buf[64];
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		if (n - 2 >= sizeof(buf))
			return 0; /* bracketed, so an IPv6 literal, and not a valid one */
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return inet_pton(AF_INET6, buf, b) == 1 ? v6_is_public(b) : 0;
	}
	if (inet_pton(AF_INET, host, b) == 1)
		return v4_is_public(v4_at(b));
	if (inet_pton(AF_INET6, host, b) == 1)
		return v6_is_public(b);
	return -1;
}
