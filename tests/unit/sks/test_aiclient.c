/*
 * test_aiclient.c - lib/sks/aiclient against a loopback stub: what arrives at
 * the API (path under the base, the key only in Authorization, the JSON
 * body, the transcription form as our own multipart parser reads it), the
 * verdict and token counts read from a reply, and every failure mapped to
 * its stable code and retryability: 429, 5xx, 401, 400, a deadline, a reply
 * over the size cap, a reply that is not a verdict, no configuration.
 */
#include <stdlib.h>
#include <string.h>

#include "sks/aiclient.h"
#include "infra/http.h"
#include "core/log.h"
#include "infra/multipart.h"
#include "tap.h"
#include "httpd_stub.h"

#define KEY "sk-test-unit-0123456789abcdef"

static const char good[] =
    "{\"id\":\"c1\",\"object\":\"chat.completion\",\"model\":\"gpt-test-stub\",\"choices\":[{"
    "\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"score\\\": 1, "
    "\\\"feedback\\\": \\\"Teilweise.\\\", \\\"errors\\\": [\\\"Kernpunkt fehlt\\\"]}\","
    "\"refusal\":null},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":321,"
    "\"completion_tokens\":12,\"total_tokens\":333}}";

static const char malformed[] =
    "{\"model\":\"gpt-test-stub\",\"choices\":[{\"message\":{\"content\":\"Zwei Punkte.\"},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":4}}";

static int code_is(const struct err *e, int status, const char *code)
{
    return e->status == status && e->code != NULL && strcmp(e->code, code) == 0;
}

int main(void)
{
    struct stub s;
    struct arena a;
    struct err e;
    struct aiclient c;
    struct aiclient_result res;
    struct stub_request *rq = calloc(1, sizeof(*rq));
    char base[128], v[512];
    const char *shorts[] = {"Kernpunkt eins", "Kernpunkt zwei"}, *text;
    struct ai_exam_input in = {"Was tun?", shorts, 2, "Die Referenz.", "Meine Antwort", 2};
    struct multipart_part *parts;
    int nparts, rc;
    const struct multipart_part *p;
    static const unsigned char ogg[] = "OggS\0\2\0\0\0\0\0\0\0\0 some audio bytes";

    log_set_level(LOG_ERROR);
    arena_init(&a, 4096);
    if (rq == NULL || stub_start(&s) != 0) {
        ok(0, "stub started");
        return tap_done();
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", s.port);
    memset(&c, 0, sizeof(c));
    c.http = http_client_new(&e);
    c.base = base;
    c.key = KEY;
    c.model = "gpt-test";
    c.transcribe_model = "gpt-test-transcribe";
    c.allow_http = 1;

    /* --- a good verdict ------------------------------------------------ */
    stub_set_body(&s, good);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == 0 && res.status == 200 &&
           res.verdict.score == 1 && res.verdict.is_correct == 0 &&
           strcmp(res.verdict.model, "gpt-test-stub") == 0 && res.verdict.nerrors == 1 &&
           res.usage.prompt_tokens == 321 && res.usage.completion_tokens == 12,
       "a good reply: score, model and tokens read (%s)", e.msg);
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "POST") == 0 &&
           strcmp(rq->path, "/v1/chat/completions") == 0 &&
           stub_header(rq, "Authorization", v, sizeof(v)) == 1 && strcmp(v, "Bearer " KEY) == 0 &&
           stub_header(rq, "Content-Type", v, sizeof(v)) == 1 && strcmp(v, "application/json") == 0,
       "POST {base}/chat/completions, the key in Authorization, a JSON body");
    ok(strstr(rq->body, KEY) == NULL && strstr(rq->path, KEY) == NULL &&
           strstr(rq->body, "\"model\":\"gpt-test\"") != NULL &&
           strstr(rq->body, "Meine Antwort") != NULL && strstr(rq->body, "<<<ANTWORT-") != NULL,
       "the key is nowhere else; the body is lib/sks/ai's, with the answer in its block");

    /* --- HTTP failures -------------------------------------------------- */
    stub_set_body(&s, "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\","
                      "\"code\":\"rate_limit_exceeded\"}}");
    stub_set_status(&s, 429);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_upstream_rate_limited") && res.retryable && res.status == 429,
       "429 -> ai_upstream_rate_limited, retryable");
    stub_set_status(&s, 401);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_auth_failed") && !res.retryable,
       "401 -> ai_auth_failed, final");
    stub_set_status(&s, 400);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_rejected") && !res.retryable,
       "400 -> ai_rejected, final");
    stub_set_status(&s, 0);
    stub_set_mode(&s, STUB_ERROR);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_upstream_error") && res.retryable && res.status == 503,
       "5xx -> ai_upstream_error, retryable");

    /* --- deadline and size cap ------------------------------------------ */
    stub_set_body(&s, good);
    s.delay_ms = 2000;
    stub_set_mode(&s, STUB_SLOW);
    rc = aiclient_grade_exam(&c, &a, "exam", &in, 300, &res, &e);
    ok(rc == -1 && code_is(&e, 504, "ai_timeout") && res.retryable && res.duration_ms < 1500,
       "a reply slower than the deadline -> ai_timeout after ~300 ms (%lld ms)", res.duration_ms);
    s.big_len = AI_MAX_RESPONSE + 4096;
    stub_set_mode(&s, STUB_BIG);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 5000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_too_large") && !res.retryable,
       "a reply over AI_MAX_RESPONSE is cut off -> ai_too_large");

    /* --- a reply that is no verdict: final, but its tokens are billed ---- */
    stub_set_mode(&s, STUB_OK);
    stub_set_body(&s, malformed);
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 502, "ai_malformed") && !res.retryable && res.usage.prompt_tokens == 300,
       "prose instead of JSON -> ai_malformed, final; usage still read");

    /* --- not configured ------------------------------------------------- */
    c.key = NULL;
    ok(aiclient_grade_exam(&c, &a, "exam", &in, 2000, &res, &e) == -1 &&
           code_is(&e, 503, "ai_unavailable") && !aiclient_ready(&c),
       "no key -> ai_unavailable, nothing sent");
    c.key = KEY;

    /* --- transcription --------------------------------------------------- */
    stub_set_body(&s, "{\"text\":\"  Backbord voraus.  \"}");
    ok(aiclient_transcribe(&c, &a, ogg, sizeof(ogg) - 1, "answer-recording.ogg", "audio/ogg", "de",
                           2000, &text, &res, &e) == 0 &&
           strcmp(text, "Backbord voraus.") == 0,
       "transcription: the trimmed text (%s)", e.msg);
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->path, "/v1/audio/transcriptions") == 0 &&
           stub_header(rq, "Authorization", v, sizeof(v)) == 1 && strcmp(v, "Bearer " KEY) == 0 &&
           stub_header(rq, "Content-Type", v, sizeof(v)) == 1 &&
           strncmp(v, "multipart/form-data; boundary=", 30) == 0,
       "POST {base}/audio/transcriptions as multipart/form-data");
    ok(multipart_parse(&a, v, rq->body, rq->body_len, &parts, &nparts, &e) == 0 &&
           (p = multipart_find(parts, nparts, "file")) != NULL && p->len == sizeof(ogg) - 1 &&
           memcmp(p->data, ogg, p->len) == 0 && p->filename != NULL &&
           strcmp(p->filename, "answer-recording.ogg") == 0 && p->content_type != NULL &&
           strcmp(p->content_type, "audio/ogg") == 0,
       "the form's file part: the exact bytes, the file name, the sniffed type (%s)", e.msg);
    ok((p = multipart_find(parts, nparts, "model")) != NULL && p->len == 19 &&
           memcmp(p->data, "gpt-test-transcribe", 19) == 0 &&
           (p = multipart_find(parts, nparts, "language")) != NULL && p->len == 2 &&
           memcmp(p->data, "de", 2) == 0 &&
           memmem(rq->body, rq->body_len, KEY, strlen(KEY)) == NULL,
       "model and language fields; the key not in the form");
    stub_set_body(&s, "{\"text\":\"   \"}");
    ok(aiclient_transcribe(&c, &a, ogg, sizeof(ogg) - 1, "a.ogg", "audio/ogg", "de", 2000, &text,
                           &res, &e) == -1 &&
           code_is(&e, 400, "ai_empty") && text == NULL,
       "a blank transcript -> 400 ai_empty");
    stub_set_status(&s, 500);
    ok(aiclient_transcribe(&c, &a, ogg, sizeof(ogg) - 1, "a.ogg", "audio/ogg", "de", 2000, &text,
                           &res, &e) == -1 &&
           code_is(&e, 502, "ai_upstream_error"),
       "transcription 500 -> ai_upstream_error");

    stub_stop(&s);
    http_client_free(c.http);
    arena_cleanup(&a);
    free(rq);
    return tap_done();
}
