/*
 * Configuration from the environment, validated at start.
 *
 * A service describes its settings as a table of config_var rows, each naming
 * an environment variable, its type, its default (NULL when it is required)
 * and where in the service's config struct the parsed value goes.  config_load
 * reads and checks every row; the first missing or malformed value fails the
 * load with a message that names the variable, and the service stops.
 */
#ifndef HC_CONFIG_CONFIG_H
#define HC_CONFIG_CONFIG_H

#include <stddef.h>

#include "common/base/err.h"

enum config_type {
	CONFIG_STRING, /* const char *: the environment's text, or the default */
	CONFIG_INT,    /* long, within [min, max] */
	CONFIG_KEY32   /* unsigned char[32]: 64 hex characters */
};

typedef struct config_var {
	const char *name; /* environment variable, e.g. "HC_HTTP_PORT" */
	enum config_type type;
	const char *default_value; /* NULL: the variable is required */
	size_t offset;             /* offsetof() the field in the target struct */
	long min, max;             /* CONFIG_INT bounds; CONFIG_STRING length bounds */
	const char *help;          /* one line for the README's table and --help */
} config_var;

/*
 * Fills target from the environment according to vars[0..n).  Strings point
 * into the environment or to the defaults (borrowed, live for the process).
 * Returns 0, or HC_ERR_FATAL with err naming the first bad variable.
 */
int config_load(void *target, const config_var *vars, size_t n, hc_err *err);

/* Prints the table of variables with defaults and help to stdout. */
void config_print_help(const config_var *vars, size_t n);

#endif
