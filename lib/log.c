#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 8192

static enum log_level min_level = LOG_INFO;
static const char *process_name = "easysks";
static char request_id[65];
static char user_sub[129];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_set_level(enum log_level level)
{
    min_level = level;
}
void log_set_process(const char *name)
{
    process_name = name;
}

void log_set_request_id(const char *id)
{
    if (id == NULL) {
        request_id[0] = '\0';
        return;
    }
    snprintf(request_id, sizeof(request_id), "%s", id);
}

void log_set_user(const char *sub)
{
    snprintf(user_sub, sizeof(user_sub), "%s", sub != NULL ? sub : "");
}

/* Append `s` JSON-escaped; returns the new length (never past cap - 1). */
static size_t append_escaped(char *buf, size_t len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s != '\0' && len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
            buf[len++] = '\\';
            buf[len++] = '"';
            break;
        case '\\':
            buf[len++] = '\\';
            buf[len++] = '\\';
            break;
        case '\n':
            buf[len++] = '\\';
            buf[len++] = 'n';
            break;
        case '\r':
            buf[len++] = '\\';
            buf[len++] = 'r';
            break;
        case '\t':
            buf[len++] = '\\';
            buf[len++] = 't';
            break;
        default:
            if (c < 0x20) {
                memcpy(buf + len, "\\u00", 4);
                buf[len + 4] = hex[c >> 4];
                buf[len + 5] = hex[c & 0xf];
                len += 6;
            } else {
                buf[len++] = (char)c;
            }
        }
    }
    return len;
}

static size_t append_raw(char *buf, size_t len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (len + n >= cap)
        n = cap - len - 1;
    memcpy(buf + len, s, n);
    return len + n;
}

static size_t append_field(char *buf, size_t len, size_t cap, const char *key, const char *value)
{
    len = append_raw(buf, len, cap, ",\"");
    len = append_escaped(buf, len, cap, key);
    len = append_raw(buf, len, cap, "\":\"");
    len = append_escaped(buf, len, cap, value != NULL ? value : "");
    return append_raw(buf, len, cap, "\"");
}

void log_write(enum log_level level, const char *msg, ...)
{
    char buf[LOG_LINE_MAX];
    char ts[40], pid[24];
    struct timeval tv;
    struct tm tm;
    size_t len = 0;
    va_list ap;
    int saved_errno = errno;

    if (level < min_level)
        return;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ", (int)(tv.tv_usec / 1000));
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());

    len = append_raw(buf, len, sizeof(buf), "{\"time\":\"");
    len = append_raw(buf, len, sizeof(buf), ts);
    len = append_raw(buf, len, sizeof(buf), "\"");
    len = append_field(buf, len, sizeof(buf), "level", level_names[level]);
    len = append_field(buf, len, sizeof(buf), "msg", msg);
    len = append_field(buf, len, sizeof(buf), "proc", process_name);
    len = append_raw(buf, len, sizeof(buf), ",\"pid\":");
    len = append_raw(buf, len, sizeof(buf), pid);
    if (request_id[0] != '\0')
        len = append_field(buf, len, sizeof(buf), "request_id", request_id);
    if (user_sub[0] != '\0')
        len = append_field(buf, len, sizeof(buf), "user", user_sub);

    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        const char *value;
        if (key == NULL)
            break;
        value = va_arg(ap, const char *);
        len = append_field(buf, len, sizeof(buf), key, value);
    }
    va_end(ap);

    len = append_raw(buf, len, sizeof(buf) - 1, "}");
    buf[len++] = '\n';

    /* One write(2) per line so lines from several processes never interleave
     * (pipes guarantee this up to PIPE_BUF; files opened O_APPEND in practice). */
    for (size_t off = 0; off < len;) {
        ssize_t n = write(STDERR_FILENO, buf + off, len - off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        off += (size_t)n;
    }
    errno = saved_errno;
}

void log_redact_url(const char *in, char *out, size_t outlen)
{
    const char *scheme, *at, *colon, *p;
    size_t n;

    if (outlen == 0)
        return;
    if (in == NULL) {
        out[0] = '\0';
        return;
    }

    /* URI form: scheme://user:password@host/... */
    scheme = strstr(in, "://");
    if (scheme != NULL) {
        const char *auth = scheme + 3;
        const char *end = auth + strcspn(auth, "/?#");
        at = memchr(auth, '@', (size_t)(end - auth));
        colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon != NULL) {
            snprintf(out, outlen, "%.*s:***%s", (int)(colon - in), in, at);
            return;
        }
        snprintf(out, outlen, "%s", in);
        return;
    }

    /* key=value form: replace the value of password=... (quoted or not). */
    out[0] = '\0';
    n = 0;
    p = in;
    while (*p != '\0' && n + 1 < outlen) {
        if ((p == in || p[-1] == ' ') && strncmp(p, "password", 8) == 0) {
            const char *q = p + 8;
            while (*q == ' ')
                q++;
            if (*q == '=') {
                q++;
                while (*q == ' ')
                    q++;
                if (*q == '\'') {
                    for (q++; *q != '\0' && *q != '\''; q++)
                        if (*q == '\\' && q[1] != '\0')
                            q++;
                    if (*q == '\'')
                        q++;
                } else {
                    while (*q != '\0' && *q != ' ')
                        q++;
                }
                n += (size_t)snprintf(out + n, outlen - n, "password=***");
                if (n >= outlen) {
                    n = outlen - 1;
                    break;
                }
                p = q;
                continue;
            }
        }
        out[n++] = *p++;
    }
    out[n < outlen ? n : outlen - 1] = '\0';
}
