/*
 * JSON-lines logging: one object per line on stderr with the time, level,
 * service, message and, when set, the trace id of the request or event being
 * handled.  Messages must never carry personal data (DESIGN.md section 2):
 * log ids, counts and pseudonymous keys, not names, ID numbers or phones.
 * Lines are capped at LOG_LINE_MAX bytes and written with one write(2), so
 * lines from several threads never interleave.
 */
#ifndef HC_LOG_LOG_H
#define HC_LOG_LOG_H

#define LOG_LINE_MAX 2048

enum log_level { HC_LOG_DEBUG, HC_LOG_INFO, HC_LOG_WARN, HC_LOG_ERROR };

/* Sets the service name and the lowest level written; call once at start. */
void log_init(const char *service, enum log_level min);

/* Parses "debug", "info", "warn" or "error".  Returns 0 or -1. */
int log_level_parse(const char *text, enum log_level *out);

/* Sets (or with NULL clears) the trace id of the calling thread's log lines. */
void log_trace_set(const char *trace_id);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_write(HC_LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_write(HC_LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_write(HC_LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(HC_LOG_ERROR, __VA_ARGS__)

#endif
