/* Unit tests of common/base/netaddr: which addresses a partner's callback may reach. */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/base/netaddr.h"
#include "tests/unit/unit.h"

static const struct {
	const char *host;
	int expect; /* hc_host_is_public */
} hosts[] = {
    {"93.184.216.34", 1},
    {"8.8.8.8", 1},
    {"1.1.1.1", 1},
    {"172.15.255.255", 1},
    {"172.32.0.1", 1},
    {"100.63.255.255", 1},
    {"100.128.0.1", 1},
    {"223.255.255.255", 1},
    {"0.0.0.0", 0},
    {"10.1.2.3", 0},
    {"100.64.0.1", 0},
    {"127.0.0.1", 0},
    {"127.255.255.254", 0},
    {"169.254.169.254", 0},
    {"172.16.0.1", 0},
    {"172.31.255.255", 0},
    {"192.0.2.10", 0},
    {"192.168.1.1", 0},
    {"198.18.0.1", 0},
    {"198.51.100.7", 0},
    {"203.0.113.9", 0},
    {"224.0.0.1", 0},
    {"255.255.255.255", 0},
    {"2606:4700:4700::1111", 1},
    {"[2606:4700:4700::1111]", 1},
    {"::", 0},
    {"::1", 0},
    {"[::1]", 0},
    {"::ffff:127.0.0.1", 0},
    {"::ffff:8.8.8.8", 1},
    {"::127.0.0.1", 0},
    {"64:ff9b::a9fe:a9fe", 0}, /* NAT64 of 169.254.169.254 */
    {"64:ff9b::808:808", 1},
    {"fc00::1", 0},
    {"fd12:3456::1", 0},
    {"fe80::1", 0},
    {"fec0::1", 0},
    {"ff02::1", 0},
    {"2001:db8::1", 0},
    {"100::1", 0},
    {"[fe80::1", -1}, /* no closing bracket: not a literal */
    {"[not-an-address]", 0},
    {"example.com", -1},
    {"localhost", -1},
    {"127.1", -1}, /* a shorthand resolvers accept: checked once resolved */
};

TEST(hosts_as_written)
{
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		int got = hc_host_is_public(hosts[i].host);

		if (got != hosts[i].expect)
			fprintf(stderr, "    %s: %d, expected %d\n", hosts[i].host, got,
			        hosts[i].expect);
		CHECK_EQ_INT(got, hosts[i].expect);
	}
}

TEST(socket_addresses)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr un = {.sa_family = AF_UNIX};

	CHECK_EQ_INT(inet_pton(AF_INET, "8.8.4.4", &in.sin_addr), 1);
	CHECK_EQ_INT(hc_addr_is_public((struct sockaddr *)&in, sizeof(in)), 1);
	CHECK_EQ_INT(inet_pton(AF_INET, "127.0.0.53", &in.sin_addr), 1);
	CHECK_EQ_INT(hc_addr_is_public((struct sockaddr *)&in, sizeof(in)), 0);
	CHECK_EQ_INT(hc_addr_is_public((struct sockaddr *)&in, 4), 0); /* too short */
	CHECK_EQ_INT(inet_pton(AF_INET6, "2a00:1450::200e", &in6.sin6_addr), 1);
	CHECK_EQ_INT(hc_addr_is_public((struct sockaddr *)&in6, sizeof(in6)), 1);
	CHECK_EQ_INT(inet_pton(AF_INET6, "::ffff:10.0.0.1", &in6.sin6_addr), 1);
	CHECK_EQ_INT(hc_addr_is_public((struct sockaddr *)&in6, sizeof(in6)), 0);
	CHECK_EQ_INT(hc_addr_is_public(&un, sizeof(un)), 0);
}

UNIT_MAIN(T(hosts_as_written), T(socket_addresses))
