/*
 * Declarative checks of JSON request bodies.  A handler describes the fields
 * it accepts as a table of jspec_field rows; jspec_check walks the object and
 * fails on the first missing, mistyped, out-of-range or unknown field with an
 * error that names it (as a JSON path, e.g. "workers[3].resident_id").
 */
#ifndef HC_JSPEC_JSPEC_H
#define HC_JSPEC_JSPEC_H

#include <stddef.h>

#include <jansson.h>

#include "common/base/err.h"

enum jspec_type {
	JSPEC_STRING,
	JSPEC_INTEGER,
	JSPEC_NUMBER,
	JSPEC_BOOLEAN,
	JSPEC_ARRAY,
	JSPEC_OBJECT
};

typedef struct jspec_field jspec_field;

/* Extra check of a string value; return 0 or fill err (its field is set for you). */
typedef int (*jspec_check_fn)(const char *value, hc_err *err);

struct jspec_field {
	const char *name;
	enum jspec_type type;
	int required;
	long min, max;             /* string length in characters / number range / array items */
	jspec_check_fn check;      /* strings only; may be NULL */
	const char *const *one_of; /* strings only: NULL-terminated allowed values, or NULL */
	const jspec_field *items;  /* arrays of objects: spec of each item */
	size_t nitems;
};

/*
 * A jspec_check_fn for dates: "YYYY-MM-DD" with a month 1-12, a day 1-31
 * and a year 2019-2100 (the years the platform's records can be about).
 */
int jspec_date_check(const char *s, hc_err *err);

/*
 * Checks obj against spec[0..n).  prefix names obj in error paths ("" for the
 * body).  Returns 0, or HC_ERR_PERMANENT with err->field set.
 */
int jspec_check(json_t *obj, const jspec_field *spec, size_t n, const char *prefix, hc_err *err);

/*
 * jspec_check for the data of a consumed event: fields spec does not name
 * are ignored (at every depth), since a producer may add optional fields
 * within a major version (docs/EVENTS.md); the named ones are checked alike.
 */
int jspec_check_event(json_t *obj, const jspec_field *spec, size_t n, const char *prefix,
                      hc_err *err);

/*
 * 1 when buf[0..n) is exactly one JSON value (with surrounding whitespace),
 * 0 otherwise; nothing is built (scan.c).  Strings' UTF-8 is not checked.
 */
int jspec_json_valid(const char *buf, size_t n);

#endif
