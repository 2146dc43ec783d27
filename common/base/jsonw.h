/*
 * A JSON object written as text, member by member, for the texts of a fixed
 * shape made for every event (its CloudEvents envelope, its record headers):
 * no tree of values is built to be dumped and freed.  Strings are escaped
 * exactly as jansson's compact dump escapes them (", \, \b \f \n \r \t, other
 * control characters as \u00XX, everything else as it is), so the text is
 * byte for byte the one jansson would write for the same members in the same
 * order (tests/unit/test_cloudevent.c holds the two together).  Strings must
 * be valid UTF-8, as every string jansson or PostgreSQL hands us is.
 */
#ifndef HC_BASE_JSONW_H
#define HC_BASE_JSONW_H

#include <stddef.h>

typedef struct jsonw {
	char *p;
	size_t len, cap;
	int members; /* written so far */
} jsonw;

/* Starts the object ("{") in w, which it (re)initialises. */
void jsonw_begin(jsonw *w);
/* A member "name":"value", value escaped. */
void jsonw_string(jsonw *w, const char *name, const char *value);
/* A member's name ("name":); its value follows as JSON text through jsonw_raw. */
void jsonw_name(jsonw *w, const char *name);
/* Appends n bytes of JSON text as they are. */
void jsonw_raw(jsonw *w, const char *text, size_t n);
/* Ends the object ("}") and returns its text (NUL-terminated; free() it), *len its length if len.
 */
char *jsonw_end(jsonw *w, size_t *len);

#endif
