/* JSON-lines logging; see log.h. */
#include "common/log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char log_service[32] = "hc";
static enum log_level log_min = HC_LOG_INFO;
static _Thread_local char log_trace[64];

static const char *const log_level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, enum log_level min)
{
	snprintf(log_service, sizeof(log_service), "%s", service);
	log_min = min;
}

int log_level_parse(const char *text, enum log_level *out)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (strcmp(text, log_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void log_trace_set(const char *trace_id)
{
	snprintf(log_trace, sizeof(log_trace), "%s", trace_id ? trace_id : "");
}

/* Appends s to buf[*len..cap) as JSON string content; stops at the cap. */
static void log_escape(char *buf, size_t *len, size_t cap, const char *s)
{
	for (; *s != '\0' && *len + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[(*len)++] = '\\';
			buf[(*len)++] = (char)c;
		} else if (c < 0x20) {
			*len += (size_t)snprintf(buf + *len, cap - *len, "\\u%04x", c);
		} else {
			buf[(*len)++] = (char)c;
		}
	}
}

void log_write(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_LINE_MAX];
	char line[LOG_LINE_MAX + 256];
	char stamp[40];
	struct timeval tv;
	struct tm tm;
	size_t len = 0;
	va_list ap;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	len = (size_t)snprintf(
	    line, sizeof(line),
	    "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\",\"service\":\"%s\",\"msg\":\"", stamp,
	    (long)(tv.tv_usec / 1000), log_level_names[level], log_service);
	log_escape(line, &len, sizeof(line) - 64, msg);
	if (log_trace[0] != '\0') {
		len += (size_t)snprintf(line + len, sizeof(line) - len, "\",\"trace_id\":\"");
		log_escape(line, &len, sizeof(line) - 8, log_trace);
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, "\"}\n");
	if (write(STDERR_FILENO, line, len) < 0) {
		/* Nowhere left to report a failing stderr. */
	}
}
