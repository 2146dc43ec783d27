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

/* Writes the 6-digit code of the county's prefecture-level city into out[7]. */
void region_city_of(const char *county, char out[7]);

/* Number of counties served, and the i-th code (for listings and tests). */
int region_county_count(void);
const char *region_county_code(int i);

#endif
