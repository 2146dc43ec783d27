/*
 * Error reporting shared by every module.
 *
 * Functions return 0 on success and a negative value on failure; the details
 * of a failure go into a caller-supplied hc_err, in the manner of librdkafka's
 * errstr.  The kind tells the caller what to do next: retry a transient
 * failure, dead-letter or refuse a permanent one, stop on a fatal one.
 */
#ifndef HC_BASE_ERR_H
#define HC_BASE_ERR_H

#include <stddef.h>

enum hc_err_kind {
	HC_OK = 0,
	HC_ERR_TRANSIENT = -1, /* retry later: connection lost, broker down */
	HC_ERR_PERMANENT = -2, /* the input is wrong: refuse or dead-letter */
	HC_ERR_FATAL = -3,     /* cannot continue: exit non-zero */
	HC_ERR_NOT_FOUND = -4, /* a looked-up thing does not exist */
	HC_ERR_CONFLICT = -5   /* a uniqueness rule refused the change */
};

typedef struct hc_err {
	int kind;         /* one of enum hc_err_kind */
	char msg[256];    /* "could not X: reason", lower case, no period */
	char field[64];   /* the offending input field, or "" */
	char sqlstate[6]; /* PostgreSQL SQLSTATE when the database refused */
} hc_err;

/* Clears err (may be NULL). */
void hc_err_clear(hc_err *err);

/*
 * Records a failure of the given kind with a printf-style message and returns
 * kind, so that callers can write `return hc_err_set(err, ...)`.  err may be
 * NULL, in which case only the kind is returned.
 */
int hc_err_set(hc_err *err, int kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Like hc_err_set, and also names the input field at fault. */
int hc_err_field(hc_err *err, int kind, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
