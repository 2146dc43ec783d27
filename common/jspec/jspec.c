/* Declarative checks of JSON request bodies; see jspec.h. */
#include "common/jspec/jspec.h"

#include <stdio.h>
#include <string.h>

static const char *const jspec_type_names[] = {"a string",  "an integer", "a number",
                                               "a boolean", "an array",   "an object"};

/* Number of UTF-8 characters in s. */
static long utf8_chars(const char *s)
{
	long n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int jspec_type_ok(json_t *v, enum jspec_type t)
{
	switch (t) {
	case JSPEC_STRING: return json_is_string(v);
	case JSPEC_INTEGER: return json_is_integer(v);
	case JSPEC_NUMBER: return json_is_number(v);
	case JSPEC_BOOLEAN: return json_is_boolean(v);
	case JSPEC_ARRAY: return json_is_array(v);
	case JSPEC_OBJECT: return json_is_object(v);
	}
	return 0;
}

static int jspec_string(json_t *v, const jspec_field *f, const char *path, hc_err *err)
{
	const char *s = json_string_value(v);
	long len = utf8_chars(s);

	if (strlen(s) != json_string_length(v))
		return hc_err_field(err, HC_ERR_PERMANENT, path,
		                    "%s must not contain NUL characters", path);
	if (len < f->min || (f->max > 0 && len > f->max))
		return hc_err_field(err, HC_ERR_PERMANENT, path,
		                    "%s must be between %ld and %ld characters long", path, f->min,
		                    f->max);
	if (f->one_of != NULL) {
		const char *const *o;

		for (o = f->one_of; *o != NULL; o++)
			if (strcmp(*o, s) == 0)
				break;
		if (*o == NULL)
			return hc_err_field(err, HC_ERR_PERMANENT, path,
			                    "%s is not one of the allowed values", path);
	}
	if (f->check != NULL && f->check(s, err) != 0) {
		char msg[sizeof(err->msg)];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return hc_err_field(err, HC_ERR_PERMANENT, path, "%s: %s", path, msg);
	}
	return 0;
}

static int jspec_walk(json_t *obj, const jspec_field *spec, size_t n, const char *prefix,
                      int strict, hc_err *err);

static int jspec_value(json_t *v, const jspec_field *f, const char *path, int strict, hc_err *err)
{
	if (!jspec_type_ok(v, f->type))
		return hc_err_field(err, HC_ERR_PERMANENT, path, "%s must be %s", path,
		                    jspec_type_names[f->type]);
	switch (f->type) {
	case JSPEC_STRING: return jspec_string(v, f, path, err);
	case JSPEC_INTEGER:
	case JSPEC_NUMBER: {
		double d = json_number_value(v);

		if (d < (double)f->min || d > (double)f->max)
			return hc_err_field(err, HC_ERR_PERMANENT, path,
			                    "%s must be between %ld and %ld", path, f->min, f->max);
		return 0;
	}
	case JSPEC_ARRAY: {
		long n = (long)json_array_size(v);
		size_t i;

		if (n < f->min || n > f->max)
			return hc_err_field(err, HC_ERR_PERMANENT, path,
			                    "%s must have between %ld and %ld items", path, f->min,
			                    f->max);
		for (i = 0; f->items != NULL && i < (size_t)n; i++) {
			char sub[64];
			json_t *item = json_array_get(v, i);

			snprintf(sub, sizeof(sub), "%.40s[%zu]", path, i);
			if (!json_is_object(item))
				return hc_err_field(err, HC_ERR_PERMANENT, sub,
				                    "%s must be an object", sub);
			if (jspec_walk(item, f->items, f->nitems, sub, strict, err) != 0)
				return HC_ERR_PERMANENT;
		}
		return 0;
	}
	case JSPEC_OBJECT:
		return f->items ? jspec_walk(v, f->items, f->nitems, path, strict, err) : 0;
	default: return 0;
	}
}

static int jspec_walk(json_t *obj, const jspec_field *spec, size_t n, const char *prefix,
                      int strict, hc_err *err)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach (obj, key, v) {
		if (!strict)
			break;
		for (i = 0; i < n; i++)
			if (strcmp(spec[i].name, key) == 0)
				break;
		if (i == n) {
			char path[64];

			snprintf(path, sizeof(path), "%.40s%s%.20s", prefix, prefix[0] ? "." : "",
			         key);
			return hc_err_field(err, HC_ERR_PERMANENT, path, "%s is not a known field",
			                    path);
		}
	}
	for (i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "%.40s%s%.20s", prefix, prefix[0] ? "." : "",
		         spec[i].name);
		v = json_object_get(obj, spec[i].name);
		if (v == NULL || json_is_null(v)) {
			if (spec[i].required)
				return hc_err_field(err, HC_ERR_PERMANENT, path, "%s is required",
				                    path);
			continue;
		}
		if (jspec_value(v, &spec[i], path, strict, err) != 0)
			return HC_ERR_PERMANENT;
	}
	return 0;
}

int jspec_check(json_t *obj, const jspec_field *spec, size_t n, const char *prefix, hc_err *err)
{
	return jspec_walk(obj, spec, n, prefix, 1, err);
}

int jspec_check_event(json_t *obj, const jspec_field *spec, size_t n, const char *prefix,
                      hc_err *err)
{
	return jspec_walk(obj, spec, n, prefix, 0, err);
}

int jspec_date_check(const char *s, hc_err *err)
{
	int y, m, d, n = 0;

	if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
	    y < 2019 || y > 2100 || m < 1 || m > 12 || d < 1 || d > 31 || s[4] != '-' ||
	    s[7] != '-')
		return hc_err_set(err, HC_ERR_PERMANENT, "must be a date YYYY-MM-DD");
	return 0;
}
