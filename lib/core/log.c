#include "core/log.h"

#include <ctype.h>
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

/* Lines are cut to LOG_LINE_MAX bytes. What does not fit is left out whole
 * (a field) or cut short (a value, never inside an escape), and the line
 * then ends with this marker; room for it and "}\n" is always kept. */
static const char truncated_marker[] = ",\"truncated\":true";
#define LOG_TAIL_ROOM (sizeof(truncated_marker) - 1 + 2)

/* Bytes that c takes JSON-escaped. */
static size_t escaped_len(unsigned char c)
{
    if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
        return 2;
    return c < 0x20 ? 6 : 1;
}

/* Append `s` JSON-escaped without going past `cap`; returns the new length
 * and sets *cut when not all of `s` fitted. */
static size_t append_escaped(char *buf, size_t len, size_t cap, const char *s, int *cut)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        size_t need = escaped_len(c);
        if (len + need > cap) {
            *cut = 1;
            break;
        }
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

/* Append `s` whole if it fits within `cap`; otherwise nothing, and set *cut. */
static size_t append_whole(char *buf, size_t len, size_t cap, const char *s, int *cut)
{
    size_t n = strlen(s);

    if (len + n > cap) {
        *cut = 1;
        return len;
    }
    memcpy(buf + len, s, n);
    return len + n;
}

/* ,"key":"value" within `cap`: the key whole or the field not at all; the
 * value may be cut short, its closing quote always fits. */
static size_t append_field(char *buf, size_t len, size_t cap, const char *key, const char *value,
                           int *cut)
{
    size_t start = len;
    int key_cut = 0;

    len = append_whole(buf, len, cap - 1, ",\"", &key_cut);
    len = append_escaped(buf, len, cap - 1, key, &key_cut);
    len = append_whole(buf, len, cap - 1, "\":\"", &key_cut);
    if (key_cut) {
        *cut = 1;
        return start;
    }
    len = append_escaped(buf, len, cap - 1, value != NULL ? value : "", cut);
    buf[len++] = '"';
    return len;
}

void log_write(enum log_level level, const char *msg, ...)
{
    char buf[LOG_LINE_MAX];
    char ts[40], pid[40];
    struct timeval tv;
    struct tm tm;
    size_t len = 0, cap = sizeof(buf) - LOG_TAIL_ROOM;
    va_list ap;
    int saved_errno = errno, cut = 0;

    if (level < min_level)
        return;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ", (int)(tv.tv_usec / 1000));
    snprintf(pid, sizeof(pid), ",\"pid\":%ld", (long)getpid());

    len = append_whole(buf, len, cap, "{\"time\":\"", &cut);
    len = append_whole(buf, len, cap, ts, &cut);
    len = append_whole(buf, len, cap, "\"", &cut);
    len = append_field(buf, len, cap, "level", level_names[level], &cut);
    len = append_field(buf, len, cap, "msg", msg, &cut);
    len = append_field(buf, len, cap, "proc", process_name, &cut);
    len = append_whole(buf, len, cap, pid, &cut);
    if (request_id[0] != '\0')
        len = append_field(buf, len, cap, "request_id", request_id, &cut);
    if (user_sub[0] != '\0')
        len = append_field(buf, len, cap, "user", user_sub, &cut);

    va_start(ap, msg);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        const char *value;
        if (key == NULL)
            break;
        value = va_arg(ap, const char *);
        len = append_field(buf, len, cap, key, value, &cut);
    }
    va_end(ap);

    if (cut)
        len = append_whole(buf, len, sizeof(buf), truncated_marker, &cut);
    buf[len++] = '}';
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

/* Append `len` bytes of `s` to out[n..], never past outlen - 1. */
static size_t put(char *out, size_t outlen, size_t n, const char *s, size_t len)
{
    if (len > outlen - 1 - n)
        len = outlen - 1 - n;
    memcpy(out + n, s, len);
    return n + len;
}

/* The "scheme:" of a URI: a letter, then letters, digits, + - . */
static int is_scheme(const char *s, size_t len)
{
    if (len == 0 || !isalpha((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

/* scheme://user:password@host/path?password=...: libpq reads the
 * credentials up to the first '/' (a raw '?' or '#' in a password counts),
 * so this looks that far and takes the last '@' (a raw '@' in a password
 * is covered too); password=... may also come as a query parameter. */
static void redact_uri(const char *in, const char *auth, char *out, size_t outlen)
{
    const char *at = memrchr(auth, '@', strcspn(auth, "/"));
    const char *colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    const char *p = in;
    size_t n = 0;

    while (*p != '\0' && n + 1 < outlen) {
        if (colon != NULL && p > colon && p < at) {
            n = put(out, outlen, n, "***", 3);
            p = at;
            continue;
        }
        if ((*p == '?' || *p == '&') && strncmp(p + 1, "password=", 9) == 0) {
            n = put(out, outlen, n, p, 10);
            n = put(out, outlen, n, "***", 3);
            p += 10;
            p += strcspn(p, "&#");
            continue;
        }
        n = put(out, outlen, n, p, 1);
        p++;
    }
    out[n] = '\0';
}

void log_redact_url(const char *in, char *out, size_t outlen)
{
    const char *scheme, *p;
    size_t n;

    if (outlen == 0)
        return;
    if (in == NULL) {
        out[0] = '\0';
        return;
    }

    /* URI form; a "://" inside a key=value string (a password may hold
     * one) does not make it a URI. */
    scheme = strstr(in, "://");
    if (scheme != NULL && is_scheme(in, (size_t)(scheme - in))) {
        redact_uri(in, scheme + 3, out, outlen);
        return;
    }

    /* key=value form: replace the value of password=... (quoted or not).
     * libpq separates pairs with any white space. */
    out[0] = '\0';
    n = 0;
    p = in;
    while (*p != '\0' && n + 1 < outlen) {
        if ((p == in || isspace((unsigned char)p[-1])) && strncmp(p, "password", 8) == 0) {
            const char *q = p + 8;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '=') {
                q++;
                while (isspace((unsigned char)*q))
                    q++;
                if (*q == '\'') {
                    for (q++; *q != '\0' && *q != '\''; q++)
                        if (*q == '\\' && q[1] != '\0')
                            q++;
                    if (*q == '\'')
                        q++;
                } else {
                    while (*q != '\0' && !isspace((unsigned char)*q))
                        q++;
                }
                n = put(out, outlen, n, "password=***", 12);
                p = q;
                continue;
            }
        }
        out[n++] = *p++;
    }
    out[n] = '\0';
}
