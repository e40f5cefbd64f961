#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_status.h"
#include "json.h"
#include "log.h"

const char *request_param(const struct request *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgi->envp);
}

int request_read_body(struct request *r, size_t max, struct err *e)
{
    const char *cl = request_param(r, "CONTENT_LENGTH");
    unsigned long long want;
    char *end;
    size_t got = 0;

    if (r->body != NULL)
        return 0;
    if (cl == NULL || *cl == '\0') {
        /* nginx always buffers and sends a length; no length means no body. */
        r->body = arena_strndup(r->arena, "", 0);
        r->body_len = 0;
        return 0;
    }
    want = strtoull(cl, &end, 10);
    if (*end != '\0' || cl[0] == '-')
        return err_set(e, 400, "bad_content_length", "invalid Content-Length");
    if (want > max)
        return err_set(e, 413, "payload_too_large", "request body is larger than %zu bytes", max);

    r->body = arena_alloc(r->arena, (size_t)want + 1);
    while (got < want) {
        int n = FCGX_GetStr(r->body + got, (int)(want - got), r->fcgi->in);
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

/* libfcgi's FCGX_FPrintF has its own, partial printf: format with libc. */
static void send_headers(struct request *r, int status, const char *content_type,
                         const char *extra_headers, size_t len)
{
    char head[1024];
    int n;

    if (content_type != NULL)
        n = snprintf(head, sizeof(head),
                     "Status: %d %s\r\nCache-Control: no-store\r\nContent-Type: %s\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     status, http_status_reason(status), content_type, len,
                     extra_headers != NULL ? extra_headers : "");
    else
        n = snprintf(head, sizeof(head), "Status: %d %s\r\nCache-Control: no-store\r\n%s\r\n",
                     status, http_status_reason(status),
                     extra_headers != NULL ? extra_headers : "");
    if (n < 0 || (size_t)n >= sizeof(head))
        abort(); /* extra headers are ours, never client data */
    FCGX_PutStr(head, n, r->fcgi->out);
    r->status = status;
    r->responded = 1;
}

void request_send_body(struct request *r, int status, const char *content_type, const char *body,
                       size_t len, const char *extra_headers)
{
    if (r->responded) {
        log_error("response already sent; dropping a second one", NULL);
        return;
    }
    send_headers(r, status, content_type, extra_headers, len);
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
    send_headers(r, status, NULL, extra_headers, 0);
}
