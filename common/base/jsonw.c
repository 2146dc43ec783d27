/* A JSON object written as text; see jsonw.h. */
#include "common/base/jsonw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(jsonw *w, size_t n)
{
	size_t cap = w->cap > 0 ? w->cap : 256;
	char *grown;

	if (w->len + n + 1 <= w->cap)
		return;
	while (w->len + n + 1 > cap)
		cap *= 2;
	grown = realloc(w->p, cap);
	if (grown == NULL)
		abort();
	w->p = grown;
	w->cap = cap;
}

void jsonw_raw(jsonw *w, const char *text, size_t n)
{
	reserve(w, n);
	memcpy(w->p + w->len, text, n);
	w->len += n;
	w->p[w->len] = '\0';
}

static void put_escaped(jsonw *w, const char *s)
{
	const unsigned char *run = (const unsigned char *)s, *c;

	jsonw_raw(w, "\"", 1);
	for (c = run; *c != '\0'; c++) {
		char seq[8];
		const char *esc = seq;

		if (*c >= 0x20 && *c != '"' && *c != '\\')
			continue;
		jsonw_raw(w, (const char *)run, (size_t)(c - run));
		switch (*c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		default: snprintf(seq, sizeof(seq), "\\u%04X", (unsigned)*c); break;
		}
		jsonw_raw(w, esc, strlen(esc));
		run = c + 1;
	}
	jsonw_raw(w, (const char *)run, (size_t)(c - run));
	jsonw_raw(w, "\"", 1);
}

void jsonw_begin(jsonw *w)
{
	w->len = 0;
	w->members = 0;
	jsonw_raw(w, "{", 1);
}

void jsonw_name(jsonw *w, const char *name)
{
	if (w->members++ > 0)
		jsonw_raw(w, ",", 1);
	put_escaped(w, name);
	jsonw_raw(w, ":", 1);
}

void jsonw_string(jsonw *w, const char *name, const char *value)
{
	jsonw_name(w, name);
	put_escaped(w, value);
}

char *jsonw_end(jsonw *w, size_t *len)
{
	char *text;

	jsonw_raw(w, "}", 1);
	text = w->p;
	if (len != NULL)
		*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return text;
}
