#include "sks/aiclient.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "infra/http.h"
#include "core/log.h"

#define AICLIENT_KEY_MAX 1024
#define AICLIENT_CONNECT_MS 3000L

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int aiclient_ready(const struct aiclient *c)
{
    return c != NULL && c->http != NULL && c->key != NULL && *c->key != '\0' && c->base != NULL &&
           *c->base != '\0';
}

/* Map a non-2xx answer of the API to e; sets out->retryable. */
static int map_status(struct arena *a, const struct http_response *resp,
                      struct aiclient_result *out, struct err *e)
{
    const char *api_code = ai_api_error_code(a, resp->body, resp->len);
    char st[16];

    snprintf(st, sizeof(st), "%ld", resp->status);
    if (resp->status == 429) {
        out->retryable = 1;
        err_set(e, 502, "ai_upstream_rate_limited", "the AI service is rate limiting us");
    } else if (resp->status >= 500) {
        out->retryable = 1;
        err_set(e, 502, "ai_upstream_error", "the AI service failed (HTTP %ld)", resp->status);
    } else if (resp->status == 401 || resp->status == 403) {
        /* Our configuration, not the learner's request: an operator's job. */
        log_error("the AI service refused our API key (check OPENAI_API_KEY)", "status", st,
                  "api_code", api_code, NULL);
        err_set(e, 502, "ai_auth_failed", "the AI service refused our credentials");
    } else {
        err_set(e, 502, "ai_rejected", "the AI service refused the request (HTTP %ld)",
                resp->status);
    }
    if (api_code != NULL && e != NULL)
        log_debug("ai error response", "status", st, "api_code", api_code, NULL);
    return -1;
}

/* The transport failure of lib/infra/http as ours. */
static int map_transport(struct aiclient_result *out, struct err *e)
{
    const char *code = e != NULL && e->code != NULL ? e->code : "";

    if (strcmp(code, "upstream_timeout") == 0) {
        out->retryable = 1;
        return err_set(e, 504, "ai_timeout", "the AI service did not answer in time");
    }
    if (strcmp(code, "upstream_too_large") == 0)
        return err_set(e, 502, "ai_too_large", "the AI service's answer was too large");
    if (strcmp(code, "http_protocol_refused") == 0)
        return err_set(e, 503, "ai_unavailable", "the AI service URL is not allowed");
    out->retryable = 1;
    return err_set(e, 502, "ai_unreachable", "the AI service is unreachable");
}

/* Fill the common request fields; the Authorization header goes into
 * `auth` (wiped by the caller). -1 with e set when it does not fit. */
static int prepare(const struct aiclient *c, const char *path, long timeout_ms, char *url,
                   size_t urllen, char *auth, size_t authlen, const char **headers,
                   struct http_request *req, struct err *e)
{
    int n;

    if (!aiclient_ready(c))
        return err_set(e, 503, "ai_unavailable", "AI grading is not configured");
    n = snprintf(url, urllen, "%s%s", c->base, path);
    if (n < 0 || (size_t)n >= urllen)
        return err_set(e, 503, "ai_unavailable", "OPENAI_API_BASE is too long");
    n = snprintf(auth, authlen, "Authorization: Bearer %s", c->key);
    if (n < 0 || (size_t)n >= authlen)
        return err_set(e, 503, "ai_unavailable", "OPENAI_API_KEY is too long");
    headers[0] = auth;
    headers[1] = "Accept: application/json";
    headers[2] = NULL;
    memset(req, 0, sizeof(*req));
    req->url = url;
    req->headers = headers;
    req->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    req->connect_timeout_ms =
        timeout_ms < AICLIENT_CONNECT_MS ? req->timeout_ms : AICLIENT_CONNECT_MS;
    req->max_response = AI_MAX_RESPONSE;
    req->allow_http = c->allow_http;
    return 0;
}

static void log_call(const char *what, const char *model, const struct aiclient_result *out,
                     const struct err *e, int ok)
{
    char st[16], ms[24], pt[24], ct[24];

    snprintf(st, sizeof(st), "%ld", out->status);
    snprintf(ms, sizeof(ms), "%lld", out->duration_ms);
    snprintf(pt, sizeof(pt), "%lld", out->usage.prompt_tokens);
    snprintf(ct, sizeof(ct), "%lld", out->usage.completion_tokens);
    if (ok)
        log_info("ai call", "call", what, "model", model, "status", st, "duration_ms", ms,
                 "prompt_tokens", pt, "completion_tokens", ct, NULL);
    else
        log_warn("ai call failed", "call", what, "model", model, "status", st, "duration_ms", ms,
                 "code", e != NULL ? e->code : NULL, "retryable", out->retryable ? "1" : "0",
                 "prompt_tokens", pt, "completion_tokens", ct, NULL);
}

/* POST a chat-completions body and parse the verdict. */
static int grade(const struct aiclient *c, struct arena *a, const char *what, const char *body,
                 enum ai_scale scale, double max, long timeout_ms, struct aiclient_result *out,
                 struct err *e)
{
    char url[1200], auth[AICLIENT_KEY_MAX + 32];
    const char *headers[3];
    struct http_request req;
    struct http_response resp = {0};
    long long t0 = mono_ms();
    int rc = -1;

    if (prepare(c, "/chat/completions", timeout_ms, url, sizeof(url), auth, sizeof(auth), headers,
                &req, e) < 0)
        goto done;
    if (http_client_post(c->http, &req, "application/json", body, strlen(body), &resp, e) < 0) {
        map_transport(out, e);
        goto done;
    }
    out->status = resp.status;
    /* Billed whatever the verdict: a truncated or refused reply costs too. */
    ai_parse_usage(resp.body, resp.len, &out->usage, NULL);
    if (resp.status < 200 || resp.status > 299) {
        map_status(a, &resp, out, e);
        goto done;
    }
    if (ai_parse_verdict(a, scale, max, resp.body, resp.len, &out->verdict, e) < 0)
        goto done;
    rc = 0;
done:
    OPENSSL_cleanse(auth, sizeof(auth));
    http_response_cleanup(&resp);
    out->duration_ms = mono_ms() - t0;
    log_call(what, c != NULL ? c->model : NULL, out, e, rc == 0);
    return rc;
}

int aiclient_grade_exam(const struct aiclient *c, struct arena *a, const char *what,
                        const struct ai_exam_input *in, long timeout_ms,
                        struct aiclient_result *out, struct err *e)
{
    const char *body;

    memset(out, 0, sizeof(*out));
    if (!aiclient_ready(c))
        return err_set(e, 503, "ai_unavailable", "AI grading is not configured");
    if (ai_build_exam_request(a, c->model, in, NULL, &body, e) < 0)
        return -1;
    return grade(c, a, what, body, AI_SCALE_WHOLE, in->max_score, timeout_ms, out, e);
}

int aiclient_grade_chart(const struct aiclient *c, struct arena *a, const char *what,
                         const struct ai_chart_input *in, long timeout_ms,
                         struct aiclient_result *out, struct err *e)
{
    const char *body;

    memset(out, 0, sizeof(*out));
    if (!aiclient_ready(c))
        return err_set(e, 503, "ai_unavailable", "AI grading is not configured");
    if (ai_build_chart_request(a, c->model, in, NULL, &body, e) < 0)
        return -1;
    return grade(c, a, what, body, AI_SCALE_HALF, in->max_score, timeout_ms, out, e);
}

int aiclient_transcribe(const struct aiclient *c, struct arena *a, const void *audio, size_t len,
                        const char *filename, const char *content_type, const char *language,
                        long timeout_ms, const char **text, struct aiclient_result *out,
                        struct err *e)
{
    char url[1200], auth[AICLIENT_KEY_MAX + 32];
    const char *headers[3];
    struct http_request req;
    struct http_response resp = {0};
    struct http_form_part parts[4];
    long long t0 = mono_ms();
    int rc = -1;

    memset(out, 0, sizeof(*out));
    *text = NULL;
    if (prepare(c, "/audio/transcriptions", timeout_ms, url, sizeof(url), auth, sizeof(auth),
                headers, &req, e) < 0)
        goto done;
    memset(parts, 0, sizeof(parts));
    parts[0] = (struct http_form_part){"file", audio, len, filename, content_type};
    parts[1] = (struct http_form_part){"model", c->transcribe_model, strlen(c->transcribe_model),
                                       NULL, NULL};
    parts[2] = (struct http_form_part){"language", language, strlen(language), NULL, NULL};
    parts[3] = (struct http_form_part){"response_format", "json", 4, NULL, NULL};
    if (http_client_post_form(c->http, &req, parts, 4, &resp, e) < 0) {
        map_transport(out, e);
        goto done;
    }
    out->status = resp.status;
    if (resp.status < 200 || resp.status > 299) {
        map_status(a, &resp, out, e);
        goto done;
    }
    if (ai_parse_transcription(a, resp.body, resp.len, text, e) < 0)
        goto done;
    rc = 0;
done:
    OPENSSL_cleanse(auth, sizeof(auth));
    http_response_cleanup(&resp);
    out->duration_ms = mono_ms() - t0;
    log_call("transcription", c != NULL ? c->transcribe_model : NULL, out, e, rc == 0);
    return rc;
}
