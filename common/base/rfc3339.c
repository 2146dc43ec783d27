/* RFC 3339 times; see rfc3339.h. */
#include "common/base/rfc3339.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t hc_rfc3339_us(const char *s)
{
	struct tm tm;
	const char *p;
	long long us = 0;
	int frac_digits = 0, sign, oh, om;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++)
			if (frac_digits < 6)
				us = us * 10 + (*p - '0');
		if (frac_digits == 0)
			return -1;
		for (; frac_digits < 6; frac_digits++)
			us *= 10;
	}
	t = timegm(&tm);
	if (*p == 'Z' && p[1] == '\0')
		return (int64_t)t * 1000000 + us;
	if ((*p == '+' || *p == '-') && strlen(p) == 6 && sscanf(p + 1, "%2d:%2d", &oh, &om) == 2) {
		sign = *p == '+' ? 1 : -1;
		return ((int64_t)t - sign * (oh * 3600 + om * 60)) * 1000000 + us;
	}
	return -1;
}
