/*
 * A personal health-code application ("declaration"): the worker's basic
 * information and health status, as intake accepts it.  The rules, no I/O.
 */
#ifndef HC_INTAKE_DECLARATION_H
#define HC_INTAKE_DECLARATION_H

#include <jansson.h>

#include "common/base/err.h"
#include "common/identity/identity.h"

typedef struct declaration {
	const char *name;                    /* borrowed from the body */
	const char *phone;                   /* borrowed from the body */
	const char *county_code;             /* county of current residence */
	const char *employer_application_id; /* NULL when not applying through an employer */
	json_t *health;                      /* borrowed: {temperature, symptoms, ...} */
	char resident_id[RESIDENT_ID_LEN + 1];
	char person_key[PERSON_KEY_LEN + 1];
	char masked_name[64];
} declaration;

/*
 * Checks body and fills d (strings borrowed from body).  Returns 0, or
 * HC_ERR_PERMANENT naming the field.
 */
int declaration_parse(declaration *d, json_t *body, const unsigned char secret[32], hc_err *err);

/*
 * The data of the submitted event: the person key, masked name, county and
 * employer application; never the name, ID number, phone or health answers.
 * Returns a new reference.
 */
json_t *declaration_event_data(const declaration *d, const char *id, const char *submitted_at);

/* A temperature at or above this is a fever (degrees Celsius). */
#define FEVER_CELSIUS 37.3

/*
 * What the colour rules may read of health answers: the derived flags
 * "fever", "symptom", "contact", "risk_travel" (a new array).  The answers
 * themselves (temperature, which symptoms) stay sealed in intake.
 */
json_t *health_declared(json_t *health);

/* A daily health check-in. */
typedef struct checkin {
	json_t *health; /* borrowed */
	char resident_id[RESIDENT_ID_LEN + 1];
	char person_key[PERSON_KEY_LEN + 1];
} checkin;

int checkin_parse(checkin *c, json_t *body, const unsigned char secret[32], hc_err *err);

/* A correction request: the holder believes the colour is wrong. */
typedef struct correction {
	const char *reason; /* borrowed; free text checked for ID numbers and phones */
	char resident_id[RESIDENT_ID_LEN + 1];
	char person_key[PERSON_KEY_LEN + 1];
} correction;

int correction_parse(correction *c, json_t *body, const unsigned char secret[32], hc_err *err);

/* Checks the data of a correction decided event (dead-lettered when bad). */
int correction_check_decided(json_t *data, hc_err *err);

#endif
