/*
 * fuzz_ai.c - the AI response parsers and the request builders on arbitrary
 * bytes.
 *
 * Byte 0 picks the scale and maximum (whole 2, whole 1, half 3, half 30);
 * the rest is used three ways: as a chat-completions response body (also
 * fed to the transcription, usage and error-code readers), as the message
 * content inside a well-formed response (so the verdict parser is reached
 * without the fuzzer having to learn JSON string escaping), and as the
 * learner's answer in both request bodies. Besides memory safety it checks
 * the contracts: a verdict's score is on the scale and in range, correctness
 * follows the score, strings are valid UTF-8 within their caps; a request
 * body is JSON whose user message holds exactly the two real markers.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sks/ai.h"
#include "core/text.h"

#define NONCE "00112233445566778899aabbccddeeff"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int fuzz_replay_done(void);

/* What the corpus reached, checked at the end of a replay. */
static unsigned long verdicts, refusals, requests, transcripts;

static void check(int cond)
{
    if (!cond)
        abort();
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static const char *const CODES[] = {"ai_malformed",    "ai_refused",   "ai_truncated",
                                    "ai_out_of_scale", "ai_too_large", NULL};

static void verdict_contracts(struct arena *a, enum ai_scale scale, double max, const char *body,
                              size_t len)
{
    struct ai_verdict v;
    struct err e = {0};
    double step = scale == AI_SCALE_WHOLE ? 1 : 0.5;
    int known = 0;

    if (ai_parse_verdict(a, scale, max, body, len, &v, &e) != 0) {
        for (int i = 0; CODES[i] != NULL; i++)
            known |= e.code != NULL && strcmp(e.code, CODES[i]) == 0;
        check(known && v.model == NULL && v.feedback == NULL && v.score == 0);
        refusals += strcmp(e.code, "ai_refused") == 0;
        return;
    }
    verdicts++;
    check(isfinite(v.score) && v.score >= 0 && v.score <= max && !signbit(v.score));
    check(v.score / step == floor(v.score / step) && fabs(v.score - v.raw_score) <= step / 2);
    check(v.is_correct == (v.score >= (scale == AI_SCALE_WHOLE ? 0.75 : 0.8) * max));
    check(v.feedback != NULL && *v.feedback && text_utf8_valid(v.feedback) &&
          text_utf8_length(v.feedback) <= AI_MAX_FEEDBACK_CHARS);
    check(v.nerrors >= 0 && v.nerrors <= AI_MAX_ERRORS && (v.nerrors == 0) == (v.errors == NULL));
    for (int i = 0; i < v.nerrors; i++)
        check(*v.errors[i] && text_utf8_valid(v.errors[i]) &&
              text_utf8_length(v.errors[i]) <= AI_MAX_ERROR_CHARS);
    check(v.model != NULL && *v.model && strlen(v.model) <= AI_MAX_MODEL_LEN);
}

static void request_contracts(const char *body)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
    const char *user = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 1), "content"));

    check(root != NULL && user != NULL);
    requests++;
    check(count(user, "<<<") == 2 && count(user, ">>>") == 2 && count(user, NONCE) == 2);
    check(strstr(user, "<<<ANTWORT-" NONCE ">>>\n") < strstr(user, "\n<<<ENDE-" NONCE ">>>\n"));
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        enum ai_scale scale;
        double max;
    } pick[] = {{AI_SCALE_WHOLE, 2}, {AI_SCALE_WHOLE, 1}, {AI_SCALE_HALF, 3}, {AI_SCALE_HALF, 30}};
    static const char *const keys[] = {"KaK = 286° [± 1°]", "d = 9,7 sm [± 0,2 sm]"};
    static const char *const items[] = {"Vollständigkeit prüfen", "Berichtigung"};
    static struct arena a;
    static int ready;
    enum ai_scale scale;
    double max;
    char *text;
    const char *s;
    struct err e;
    struct ai_usage u;
    cJSON *r, *c, *m;

    if (!ready) {
        arena_init(&a, 1 << 16);
        ready = 1;
    }
    if (size == 0)
        return 0;
    scale = pick[data[0] & 3].scale;
    max = pick[data[0] & 3].max;
    data++, size--;

    /* Raw body: only len bytes may be read (no NUL terminator here). */
    text = malloc(size > 0 ? size : 1);
    check(text != NULL);
    memcpy(text, data, size);
    verdict_contracts(&a, scale, max, text, size);
    if (ai_parse_transcription(&a, text, size, &s, &e) == 0) {
        check(*s && text_utf8_valid(s) && text_utf8_length(s) <= AI_MAX_ANSWER_CHARS);
        transcripts++;
    }
    if (ai_parse_usage(text, size, &u, &e) == 0)
        check(u.prompt_tokens >= 0 && u.completion_tokens >= 0);
    s = ai_api_error_code(&a, text, size);
    check(s == NULL || (strlen(s) <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
                                                     "RSTUVWXYZ0123456789_.-") == strlen(s)));
    free(text);

    /* The same bytes as the message content of a well-formed response. */
    text = arena_strndup(&a, (const char *)data, size);
    r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "model", "gpt-4o-mini");
    c = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(r, "choices"), c);
    m = cJSON_AddObjectToObject(c, "message");
    cJSON_AddStringToObject(m, "content", text);
    cJSON_AddStringToObject(c, "finish_reason", "stop");
    {
        char *body = cJSON_PrintUnformatted(r);
        check(body != NULL);
        verdict_contracts(&a, scale, max, body, strlen(body));
        free(body);
    }
    cJSON_Delete(r);

    /* The bytes as the learner's answer. */
    {
        struct ai_exam_input ex = {"Frage?", items, 2, "Referenz.", text, 2};
        struct ai_chart_input ch = {"Kontext", NULL, 0, keys, 2, "Lösung", text, 3};
        const char *body;

        if (ai_build_exam_request(&a, "gpt-4o-mini", &ex, NONCE, &body, &e) == 0)
            request_contracts(body);
        else
            check(text_is_blank(text) && strcmp(e.code, "ai_empty_answer") == 0);
        if (ai_build_chart_request(&a, "gpt-4o-mini", &ch, NONCE, &body, &e) == 0)
            request_contracts(body);
        else
            check(text_is_blank(text));
    }
    arena_reset(&a);
    return 0;
}

int fuzz_replay_done(void)
{
    printf("# fuzz_ai: %lu verdicts, %lu refusals, %lu request bodies, %lu transcripts\n", verdicts,
           refusals, requests, transcripts);
    if (verdicts == 0 || refusals == 0 || requests == 0 || transcripts == 0) {
        fprintf(stderr, "fuzz_ai: the corpus no longer reaches every parser's success path\n");
        return 1;
    }
    return 0;
}
