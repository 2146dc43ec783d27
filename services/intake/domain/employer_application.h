/*
 * An employer's return-to-work application, as intake accepts it: the rules
 * of what a valid one is, with no I/O.  Handlers parse the request body with
 * employer_application_parse and store what it produced.
 */
#ifndef HC_INTAKE_EMPLOYER_APPLICATION_H
#define HC_INTAKE_EMPLOYER_APPLICATION_H

#include <stddef.h>

#include <jansson.h>

#include "common/base/err.h"
#include "common/identity/identity.h"

#define EMPLOYER_APPLICATION_MAX_WORKERS 500

typedef struct application_worker {
	const char *name;                      /* borrowed from the body */
	const char *phone;                     /* borrowed from the body */
	char resident_id[RESIDENT_ID_LEN + 1]; /* normalised */
	char person_key[PERSON_KEY_LEN + 1];
	char masked_name[64];
} application_worker;

typedef struct employer_application {
	const char *employer_name; /* borrowed from the body */
	const char *credit_code;
	const char *county_code;
	const char *category;
	size_t nworkers;
	application_worker *workers; /* owned */
} employer_application;

/*
 * Checks body (a JSON object) and fills app; strings are borrowed from body,
 * which must outlive app.  secret derives the person keys.  Returns 0, or
 * HC_ERR_PERMANENT with err naming the field (e.g. "workers[2].resident_id").
 * Clean up with employer_application_cleanup in both cases.
 */
int employer_application_parse(employer_application *app, json_t *body,
                               const unsigned char secret[32], hc_err *err);

void employer_application_cleanup(employer_application *app);

/*
 * The data of the submitted event: no names, ID numbers or phones, only
 * person keys and masked names.  Returns a new reference.
 */
json_t *employer_application_event_data(const employer_application *app, const char *id,
                                        const char *submitted_at);

/*
 * Checks the data of a review decided event.  Returns 0, or
 * HC_ERR_PERMANENT naming the field (the record is then dead-lettered).
 */
int employer_application_check_decided(json_t *data, hc_err *err);

#endif
