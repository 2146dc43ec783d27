/*
 * County-level administrative divisions (GB/T 2260) the platform serves.
 * The table holds every county-level division of Hubei province (42xxxx):
 * county headquarters are where applications are reviewed, so a county code
 * outside it is refused at the edge.
 */
#ifndef HC_REGION_REGION_H
#define HC_REGION_REGION_H

#include "common/base/err.h"

/* The county's name, or NULL when code is not a county-level division we serve. */
const char *region_county_name(const char *code);

/*
 * A jspec-style check: 0 when code is a county we serve, else
 * HC_ERR_PERMANENT with err saying so.
 */
int region_check_county(const char *code, hc_err *err);

/*
 * 1 when code is a prefecture-level city (xxxx00) with counties we serve:
 * a city headquarters re-reviews its counties' correction requests.
 */
int region_is_city(const char *code);

/* 1 when code is county itself or a city and county one of its counties. */
int region_within(const char *code, const char *county);

/*
 * A jspec-style check of a county of residence: a county we serve, or a
 * county-level code of another province (workers from outside the
 * province; their certificate comes through the employer's county).
 */
int region_check_residence(const char *code, hc_err *err);

/* Writes the 6-digit code of the county's prefecture-level city into out[7]. */
void region_city_of(const char *county, char out[7]);

/* Number of counties served, and the i-th code (for listings and tests). */
int region_county_count(void);
const char *region_county_code(int i);

#endif
