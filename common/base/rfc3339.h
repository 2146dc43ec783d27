/*
 * RFC 3339 times as the API and the replay tools take them:
 * "2026-12-01T08:00:00+08:00", "2026-12-01T00:00:00.250Z".
 */
#ifndef HC_BASE_RFC3339_H
#define HC_BASE_RFC3339_H

#include <stdint.h>

/*
 * Microseconds since the epoch of s: a date and time (strptime's
 * "%Y-%m-%dT%H:%M:%S"), an optional fraction of at least one digit (to the
 * microsecond), then Z or an offset +HH:MM / -HH:MM; -1 when s is not one.
 */
int64_t hc_rfc3339_us(const char *s);

#endif
