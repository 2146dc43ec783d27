/* Configuration from the environment; see config.h. */
#include "common/config/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base/rand.h"

static int config_parse_one(void *target, const config_var *var, const char *text, hc_err *err)
{
	char *field = (char *)target + var->offset;
	size_t len = strlen(text);

	switch (var->type) {
	case CONFIG_STRING:
		if ((long)len < var->min || (var->max > 0 && (long)len > var->max))
			return hc_err_field(
			    err, HC_ERR_FATAL, var->name,
			    "invalid value for %s: length must be between %ld and %ld", var->name,
			    var->min, var->max);
		*(const char **)(void *)field = text;
		return 0;
	case CONFIG_INT: {
		char *end = NULL;
		long v;

		errno = 0;
		v = strtol(text, &end, 10);
		if (len == 0 || errno != 0 || *end != '\0')
			return hc_err_field(err, HC_ERR_FATAL, var->name,
			                    "invalid value for %s: \"%.40s\" is not an integer",
			                    var->name, text);
		if (v < var->min || v > var->max)
			return hc_err_field(err, HC_ERR_FATAL, var->name,
			                    "invalid value for %s: %ld is outside [%ld, %ld]",
			                    var->name, v, var->min, var->max);
		*(long *)(void *)field = v;
		return 0;
	}
	case CONFIG_KEY32:
		if (hc_hex_decode(text, (unsigned char *)field, 32) != 0)
			return hc_err_field(
			    err, HC_ERR_FATAL, var->name,
			    "invalid value for %s: expected 64 hex characters (32 bytes)",
			    var->name);
		return 0;
	}
	return hc_err_field(err, HC_ERR_FATAL, var->name, "unknown type for %s", var->name);
}

int config_load(void *target, const config_var *vars, size_t n, hc_err *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const char *text = getenv(vars[i].name);

		if (text == NULL || text[0] == '\0')
			text = vars[i].default_value;
		if (text == NULL)
			return hc_err_field(err, HC_ERR_FATAL, vars[i].name,
			                    "missing required setting %s (%s)", vars[i].name,
			                    vars[i].help);
		if (config_parse_one(target, &vars[i], text, err) != 0)
			return HC_ERR_FATAL;
	}
	return 0;
}

void config_print_help(const config_var *vars, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("  %-28s %-12s %s\n", vars[i].name,
		       vars[i].default_value
		           ? (vars[i].default_value[0] ? vars[i].default_value : "\"\"")
		           : "(required)",
		       vars[i].help);
}
