/*
 * A validity scan of JSON text (RFC 8259 grammar) that builds nothing: for
 * copying records verbatim into JSON output (hc-replay) without parsing each
 * into a tree.  Strings' UTF-8 is not checked; nesting deeper than 2048 (as
 * jansson) is refused.
 */
#include <stdint.h>
#include <string.h>

#include "common/jspec/jspec.h"

/* A byte that stands for itself inside a JSON string. */
static inline int plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static int hex4(const char *p)
{
	for (int k = 0; k < 4; k++)
		if (!((p[k] >= '0' && p[k] <= '9') || (p[k] >= 'a' && p[k] <= 'f') ||
		      (p[k] >= 'A' && p[k] <= 'F')))
			return 0;
	return 1;
}

/*
 * The end of the run of plain bytes from i: eight bytes at a time while none
 * of them is a quote, a backslash or a control character (the classic
 * has-zero-byte and has-less-than tests on a 64-bit word), then byte by byte.
 */
static size_t plain_run(const char *buf, size_t i, size_t n)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	while (i + 8 <= n) {
		uint64_t w, q, b;

		memcpy(&w, buf + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs)
			break;
		i += 8;
	}
	while (i < n && plain((unsigned char)buf[i]))
		i++;
	return i;
}

/*
 * From the opening quote at i: the index just past the closing quote, or 0
 * when the string is not valid (a control character, a bad escape, no end).
 */
static size_t string_end(const char *buf, size_t i, size_t n)
{
	for (i++;;) {
		i = plain_run(buf, i, n);
		if (i == n)
			return 0;
		if (buf[i] == '"')
			return i + 1;
		if (buf[i] != '\\' || ++i == n || buf[i] == '\0' ||
		    strchr("\"\\/bfnrtu", buf[i]) == NULL)
			return 0; /* a control character, or a bad escape */
		if (buf[i] == 'u') {
			if (n - i < 5 || !hex4(buf + i + 1))
				return 0;
			i += 4;
		}
		i++;
	}
}

int jspec_json_valid(const char *buf, size_t n)
{
	char stack[2048]; /* '{' or '[' per open container */
	size_t i = 0;
	int depth = 0, want_value = 1, done = 0;

#define WS()                                                                                   \
	while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\n' || buf[i] == '\r')) \
	i++
	for (;;) {
		WS();
		if (want_value) {
			if (i == n)
				return 0;
			char c = buf[i];

			if (c == '{' || c == '[') {
				if (depth == (int)sizeof(stack))
					return 0;
				stack[depth++] = c;
				i++;
				WS();
				if (i < n && buf[i] == (c == '{' ? '}' : ']')) {
					depth--;
					i++;
					want_value = 0;
					goto after;
				}
				if (c == '{') {
					if (i == n || buf[i] != '"')
						return 0;
					goto key;
				}
				continue;
			}
			if (c == '"') {
				goto string;
			}
			if (c == '-' || (c >= '0' && c <= '9')) {
				if (c == '-')
					i++;
				if (i == n || buf[i] < '0' || buf[i] > '9')
					return 0;
				if (buf[i] == '0')
					i++;
				else
					while (i < n && buf[i] >= '0' && buf[i] <= '9')
						i++;
				if (i < n && buf[i] == '.') {
					i++;
					if (i == n || buf[i] < '0' || buf[i] > '9')
						return 0;
					while (i < n && buf[i] >= '0' && buf[i] <= '9')
						i++;
				}
				if (i < n && (buf[i] == 'e' || buf[i] == 'E')) {
					i++;
					if (i < n && (buf[i] == '+' || buf[i] == '-'))
						i++;
					if (i == n || buf[i] < '0' || buf[i] > '9')
						return 0;
					while (i < n && buf[i] >= '0' && buf[i] <= '9')
						i++;
				}
				want_value = 0;
				goto after;
			}
			if (n - i >= 4 && memcmp(buf + i, "true", 4) == 0)
				i += 4;
			else if (n - i >= 5 && memcmp(buf + i, "false", 5) == 0)
				i += 5;
			else if (n - i >= 4 && memcmp(buf + i, "null", 4) == 0)
				i += 4;
			else
				return 0;
			want_value = 0;
			goto after;
		}
	after:
		WS();
		if (depth == 0) {
			done = 1;
			break;
		}
		if (i == n)
			return 0;
		if (buf[i] == ',') {
			i++;
			want_value = 1;
			if (stack[depth - 1] == '{') {
				WS();
				if (i == n || buf[i] != '"')
					return 0;
				goto key;
			}
			continue;
		}
		if (buf[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
			depth--;
			i++;
			goto after;
		}
		return 0;
	key:
		/* a member name, then ':' and a value */
		i = string_end(buf, i, n);
		if (i == 0)
			return 0;
		WS();
		if (i == n || buf[i] != ':')
			return 0;
		i++;
		want_value = 1;
		continue;
	string:
		i = string_end(buf, i, n);
		if (i == 0)
			return 0;
		want_value = 0;
		goto after;
	}
#undef WS
	return done && i == n;
}
