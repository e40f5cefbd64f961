/*
 * aiclient.h - the calls to the OpenAI API: grading one answer through
 * chat completions (the request built and the reply parsed by lib/sks/ai) and
 * transcribing a recording. The only module that sends the API key, and
 * only in the Authorization header (never in a URL, a body or a log line).
 *
 * Every call has a deadline (connect included), a response cap
 * (AI_MAX_RESPONSE: a huge reply is cut off while it arrives, not after)
 * and goes through the caller's reused HTTP client (lib/infra/http: TLS verified,
 * no redirects, no signals). One log line per call: kind, model, HTTP
 * status, duration, tokens, and on failure the stable code and the API's
 * own error code (never its message, which may echo the request).
 *
 * Failures (struct err; `retryable` says whether trying again later may
 * help, which the job process uses for its backoff):
 *   504 ai_timeout            the deadline passed (retryable)
 *   502 ai_unreachable        no connection or no response (retryable)
 *   502 ai_upstream_rate_limited  the API answered 429 (retryable)
 *   502 ai_upstream_error     the API answered 5xx (retryable)
 *   502 ai_auth_failed        401/403: our key is wrong or revoked (logged as an error)
 *   502 ai_rejected           another 4xx (a bad model name, a request too large)
 *   502 ai_too_large          the reply exceeds the caps
 *   502 ai_malformed, ai_refused, ai_truncated, ai_out_of_scale   (lib/sks/ai's parse)
 *   400 ai_empty              a blank transcript
 *   503 ai_unavailable        no key, client or base configured
 * Never call these inside an open database transaction.
 */
#ifndef EASYSKS_AICLIENT_H
#define EASYSKS_AICLIENT_H

#include <stddef.h>

#include "sks/ai.h"
#include "core/arena.h"
#include "core/err.h"

/* Which prompt wording produced a grade; stored with every AI grade so a
 * result can be traced to the prompt (lib/sks/ai's text) that produced it. */
#define AICLIENT_PROMPT_VERSION "ai-1"

struct http_client;

/* Where and how to call the API. Nothing here is owned. */
struct aiclient {
    struct http_client *http;     /* the process's reused client */
    const char *base;             /* OPENAI_API_BASE, e.g. https://api.openai.com/v1 */
    const char *key;              /* OPENAI_API_KEY: a secret */
    const char *model;            /* chat model */
    const char *transcribe_model; /* transcription model */
    int allow_http;               /* plain http base (dev and tests only) */
};

struct aiclient_result {
    struct ai_verdict verdict; /* grading, on success (strings in the arena) */
    struct ai_usage usage;     /* tokens the API reported (0 when it did not) */
    long status;               /* HTTP status, 0 without a response */
    int retryable;             /* on failure: 1 when a later attempt may succeed */
    long long duration_ms;
};

/* 1 when the client has a key, an HTTP client and a base. */
int aiclient_ready(const struct aiclient *c);

/* Grade an exam answer or study check (AI_SCALE_WHOLE, in->max_score) or a
 * chart-task answer (AI_SCALE_HALF) within `timeout_ms`. Returns 0 with
 * out->verdict set, or -1 with e set (codes above) and out->retryable.
 * out is always filled (usage, status, duration). `what` names the call in
 * the log ("study", "exam", "chart"). */
int aiclient_grade_exam(const struct aiclient *c, struct arena *a, const char *what,
                        const struct ai_exam_input *in, long timeout_ms,
                        struct aiclient_result *out, struct err *e);
int aiclient_grade_chart(const struct aiclient *c, struct arena *a, const char *what,
                         const struct ai_chart_input *in, long timeout_ms,
                         struct aiclient_result *out, struct err *e);

/* Transcribe `len` bytes of audio (already checked by the caller: its
 * type sniffed, `content_type` the sniffed type, `filename` a safe name,
 * `language` an accepted ISO 639-1 code). *text is the trimmed transcript
 * in the arena. Returns 0, or -1 with e set (codes above). */
int aiclient_transcribe(const struct aiclient *c, struct arena *a, const void *audio, size_t len,
                        const char *filename, const char *content_type, const char *language,
                        long timeout_ms, const char **text, struct aiclient_result *out,
                        struct err *e);

#endif
