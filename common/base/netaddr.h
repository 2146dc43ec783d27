/*
 * Whether an IP address is one a partner's callback may reach: public, not
 * the platform's own network.  Refused: unspecified, loopback, private
 * (RFC 1918, unique local fc00::/7), shared (100.64/10), link-local (which
 * holds cloud metadata services, 169.254.169.254), documentation and
 * benchmarking ranges, multicast, reserved, and IPv6 forms that carry such
 * an IPv4 address (mapped ::ffff:0:0/96, compatible ::/96, NAT64 64:ff9b::/96).
 */
#ifndef HC_BASE_NETADDR_H
#define HC_BASE_NETADDR_H

#include <sys/socket.h>

/* 1 for a public address, 0 otherwise (any family but IPv4 and IPv6 included). */
int hc_addr_is_public(const struct sockaddr *sa, socklen_t len);

/*
 * For the host of a URL as written (brackets around IPv6 allowed): 1 public
 * IP literal, 0 non-public IP literal, -1 not an IP literal (a name, checked
 * when it is resolved).
 */
int hc_host_is_public(const char *host);

#endif
