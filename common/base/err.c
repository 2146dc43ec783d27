/* Error reporting shared by every module; see err.h. */
#include "common/base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void hc_err_clear(hc_err *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
}

static void err_vset(hc_err *err, int kind, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void err_vset(hc_err *err, int kind, const char *fmt, va_list ap)
{
	err->kind = kind;
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
}

int hc_err_set(hc_err *err, int kind, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return kind;
	va_start(ap, fmt);
	err_vset(err, kind, fmt, ap);
	va_end(ap);
	err->field[0] = '\0';
	return kind;
}

int hc_err_field(hc_err *err, int kind, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return kind;
	va_start(ap, fmt);
	err_vset(err, kind, fmt, ap);
	va_end(ap);
	snprintf(err->field, sizeof(err->field), "%s", field);
	return kind;
}
