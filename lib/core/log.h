/*
 * log.h - structured logging: one JSON object per line on stderr.
 *
 * Every line carries time (RFC 3339 UTC, milliseconds), level, msg, pid and,
 * while a request is being served, its request id. Extra fields are passed
 * as NULL-terminated key/value string pairs:
 *
 *     log_info("db reconnected", "attempt", "3", NULL);
 *
 * Values are JSON-escaped. Never pass secrets or tokens as values; use
 * log_redact_url() for connection strings.
 */
#ifndef EASYSKS_LOG_H
#define EASYSKS_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Parse "debug|info|warn|error"; returns -1 for anything else. */
int log_level_parse(const char *s, enum log_level *out);

void log_set_level(enum log_level level);
/* Set the name put in the "proc" field (e.g. "master", "worker"). Static storage. */
void log_set_process(const char *name);
/* Request id for subsequent lines; NULL clears it. Copied (max 64 bytes). */
void log_set_request_id(const char *request_id);
/* Cognito subject of the authenticated caller for subsequent lines (a
 * pseudonymous id, never a token); NULL clears it. */
void log_set_user(const char *sub);

void log_write(enum log_level level, const char *msg, ...) __attribute__((sentinel));

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)

/*
 * Copy `in` (a libpq URI or key=value conninfo, or any URL) into `out` with
 * any password replaced by "***": user:password@ in a URI (read as libpq
 * reads it), password=... as a URI query parameter or a conninfo pair.
 * Always NUL-terminates; truncates to outlen.
 */
void log_redact_url(const char *in, char *out, size_t outlen);

#endif
