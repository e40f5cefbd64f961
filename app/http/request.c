#include "http/request.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/app.h"
#include "http/router.h"
#include "http/status.h"
#include "core/json.h"
#include "core/log.h"
#include "core/text.h"

const char *request_param(const struct request *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgi->envp);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode [s, s+n) into the arena ('+' is a space in a query). */
static char *decode(struct arena *a, const char *s, size_t n)
{
    char *out = arena_alloc(a, n + 1), *o = out;

    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            *o++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hexval((unsigned char)s[i + 2])) >= 0) {
            *o++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *o++ = s[i];
        }
    }
    *o = '\0';
    return out;
}

const char *request_query(struct request *r, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = r->query;

    while (*p != '\0') {
        size_t len = strcspn(p, "&");
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
            return decode(r->arena, p + nlen + 1, len - nlen - 1);
        if (len == nlen && strncmp(p, name, nlen) == 0)
            return "";
        p += len;
        if (*p == '&')
            p++;
    }
    return NULL;
}

int request_parse_content_length(const char *value, size_t max, size_t *out, struct err *e)
{
    unsigned long long n = 0;

    *out = 0;
    if (value == NULL || *value == '\0')
        return 0; /* nginx always buffers and sends a length; none means no body */
    for (const char *p = value; *p != '\0'; p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9')
            return err_set(e, 400, "bad_content_length", "invalid Content-Length");
        /* n * 10 + digit > max, without overflowing */
        if (n > (max - digit) / 10 || (max < digit))
            return err_set(e, 413, "payload_too_large", "request body is larger than %zu bytes",
                           max);
        n = n * 10 + digit;
    }
    *out = (size_t)n;
    return 0;
}

int request_id_valid(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    return n > 0 && n <= REQUEST_ID_MAX && strspn(id, "0123456789abcdefABCDEF-") == n;
}

static size_t body_limit(const struct request *r)
{
    if (r->route != NULL && r->route->max_body > 0)
        return r->route->max_body;
    return r->app->cfg->max_body_bytes;
}

/* Read CONTENT_LENGTH bytes into r->body. 0 or -1 with e set. */
static int read_body(struct request *r, struct err *e)
{
    size_t want, got = 0;

    if (r->body != NULL)
        return 0;
    if (request_parse_content_length(request_param(r, "CONTENT_LENGTH"), body_limit(r), &want, e) <
        0)
        return -1;
    r->body = arena_alloc(r->arena, want + 1);
    while (got < want) {
        size_t chunk = want - got > (1u << 30) ? (1u << 30) : want - got;
        int n = FCGX_GetStr(r->body + got, (int)chunk, r->fcgi->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    r->body[got] = '\0';
    r->body_len = got;
    if (got != want)
        return err_set(e, 400, "body_incomplete", "request body ended early");
    return 0;
}

int request_read_raw(struct request *r)
{
    struct err e = {0};

    if (read_body(r, &e) < 0) {
        request_send_error(r, &e, NULL);
        return -1;
    }
    return 0;
}

/* "application/json" with optional parameters ("; charset=utf-8"). */
static int is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    if (ct == NULL || strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return 0;
    ct += sizeof(want) - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

cJSON *request_read_json(struct request *r)
{
    struct err e = {0};

    if (r->json != NULL)
        return r->json;
    if (r->route != NULL && (r->route->flags & ROUTE_RAW_BODY)) {
        /* A programming error: raw routes verify bytes, they never parse. */
        log_error("request_read_json on a raw-body route", "path", r->path, NULL);
        request_fail(r, 500, "internal_error", "internal error", NULL);
        return NULL;
    }
    if (!is_json_type(request_param(r, "CONTENT_TYPE"))) {
        request_fail(r, 415, "unsupported_media_type",
                     "request body must be sent as Content-Type: application/json", NULL);
        return NULL;
    }
    if (read_body(r, &e) < 0) {
        request_send_error(r, &e, NULL);
        return NULL;
    }
    /* JSON text is UTF-8 (RFC 8259); cJSON would pass other bytes through
     * into strings that reach the database and responses, and it cuts a
     * string at a raw NUL (which JSON does not allow unescaped). The body
     * is NUL-terminated at body_len, so without an inner NUL the check
     * sees every byte. */
    if (memchr(r->body, '\0', r->body_len) != NULL || !text_utf8_valid(r->body)) {
        request_fail(r, 400, "invalid_json", "request body is not UTF-8 JSON text", NULL);
        return NULL;
    }
    if ((r->json = json_parse_object(r->body, r->body_len, &e)) == NULL) {
        request_send_error(r, &e, NULL);
        return NULL;
    }
    return r->json;
}

/* libfcgi's FCGX_FPrintF has its own, partial printf: format with libc.
 * Returns 0, or -1 when the head does not fit (nothing written). */
static int send_headers(struct request *r, int status, const char *content_type,
                        const char *extra_headers, size_t len)
{
    char head[REQUEST_HEAD_MAX];
    int n;

    if (extra_headers == NULL)
        extra_headers = "";
    if (content_type != NULL)
        n = snprintf(head, sizeof(head),
                     "Status: %d %s\r\nCache-Control: no-store\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     status, http_status_reason(status), content_type, len, extra_headers);
    else
        n = snprintf(head, sizeof(head), "Status: %d %s\r\nCache-Control: no-store\r\n%s\r\n",
                     status, http_status_reason(status), extra_headers);
    if (n < 0 || (size_t)n >= sizeof(head))
        return -1;
    FCGX_PutStr(head, n, r->fcgi->out);
    r->status = status;
    r->responded = 1;
    return 0;
}

void request_send_body(struct request *r, int status, const char *content_type, const char *body,
                       size_t len, const char *extra_headers)
{
    static const char overflow[] = "{\"detail\":\"internal error\",\"code\":\"internal_error\"}";

    if (r->responded) {
        log_error("response already sent; dropping a second one", NULL);
        return;
    }
    if (send_headers(r, status, content_type, extra_headers, len) < 0) {
        /* Headers are ours, never client data, so this is a bug: answer
         * something well-formed instead of taking the worker down. */
        log_error("response headers too large; answering 500", "path", r->path, NULL);
        send_headers(r, 500, "application/json", NULL, sizeof(overflow) - 1);
        FCGX_PutStr(overflow, (int)sizeof(overflow) - 1, r->fcgi->out);
        return;
    }
    FCGX_PutStr(body, (int)len, r->fcgi->out);
}

void request_send_json(struct request *r, int status, const cJSON *body, const char *extra_headers)
{
    char *text;

    if (body == NULL) {
        request_send_body(r, status, "application/json", "{}", 2, extra_headers);
        return;
    }
    text = json_print(body);
    request_send_body(r, status, "application/json", text, strlen(text), extra_headers);
    free(text);
}

void request_send_error(struct request *r, const struct err *e, const char *extra_headers)
{
    int status = e->status >= 400 ? e->status : 500;
    cJSON *body = json_new_object();

    json_add_string(body, "detail", e->msg[0] != '\0' ? e->msg : http_status_reason(status));
    json_add_string(body, "code", e->code != NULL ? e->code : "internal_error");
    json_add_string(body, "request_id", r->request_id);
    request_send_json(r, status, body, extra_headers);
    cJSON_Delete(body);
}

void request_fail(struct request *r, int status, const char *code, const char *detail,
                  const char *extra_headers)
{
    struct err e;
    err_set(&e, status, code, "%s", detail);
    request_send_error(r, &e, extra_headers);
}

void request_send_empty(struct request *r, int status, const char *extra_headers)
{
    if (r->responded)
        return;
    if (send_headers(r, status, NULL, extra_headers, 0) < 0) {
        log_error("response headers too large; answering 500", "path", r->path, NULL);
        send_headers(r, 500, NULL, NULL, 0);
    }
}
