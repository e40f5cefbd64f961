/*
 * fuzz_verdict.c - the schema check of the AI verdict (ai_parse_verdict's
 * last step) on arbitrary message contents. The input, after byte 0
 * (which picks the scale and maximum as in fuzz_ai), is the model's
 * message content, put into an otherwise well-formed chat-completions
 * response, so every input reaches the schema check.
 *
 * fuzz_ai checks what an accepted verdict looks like; this one checks which
 * contents are accepted, against an independent reading of the schema in
 * lib/ai.h: exactly one "score" (a finite number in 0..max), exactly one
 * "feedback" (a string), at most one "errors" (null or an array of
 * strings). A content the check accepts must meet it (contents with a code
 * fence or a NUL are left to fuzz_ai); a content that meets it except for a
 * score outside 0..max (and is valid UTF-8) must be refused as
 * ai_out_of_scale.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "sks/ai.h"
#include "core/arena.h"
#include "core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena arena;

static void check(int cond)
{
    if (!cond)
        abort();
}

static int count(const cJSON *o, const char *key)
{
    const cJSON *c;
    int n = 0;

    cJSON_ArrayForEach(c, o) n += c->string != NULL && strcmp(c->string, key) == 0;
    return n;
}

/* 1 when the schema holds; 2 when it holds but for the score's range. */
static int schema(const char *text, size_t len, double max)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    const cJSON *score, *feedback, *errors, *it;
    int ok = 0;

    if (v == NULL)
        return 0;
    while (end != NULL && end < text + len && strchr(" \t\r\n", *end) != NULL)
        end++;
    if (!cJSON_IsObject(v) || end != text + len || count(v, "score") != 1 ||
        count(v, "feedback") != 1 || count(v, "errors") > 1)
        goto out;
    score = cJSON_GetObjectItemCaseSensitive(v, "score");
    feedback = cJSON_GetObjectItemCaseSensitive(v, "feedback");
    errors = cJSON_GetObjectItemCaseSensitive(v, "errors");
    if (!cJSON_IsNumber(score) || !isfinite(score->valuedouble) || !cJSON_IsString(feedback))
        goto out;
    if (errors != NULL && !cJSON_IsNull(errors) && !cJSON_IsArray(errors))
        goto out;
    cJSON_ArrayForEach(it, errors) if (!cJSON_IsString(it)) goto out;
    ok = score->valuedouble >= 0 && score->valuedouble <= max ? 1 : 2;
out:
    cJSON_Delete(v);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct {
        enum ai_scale scale;
        double max;
    } pick[] = {{AI_SCALE_WHOLE, 2}, {AI_SCALE_WHOLE, 1}, {AI_SCALE_HALF, 3}, {AI_SCALE_HALF, 30}};
    struct ai_verdict v;
    struct err e = {0};
    cJSON *root, *choice, *msg, *choices;
    char *content, *body;
    int want, rc;

    if (size < 1 || size > AI_MAX_CONTENT)
        return 0;
    enum ai_scale scale = pick[data[0] % 4].scale;
    double max = pick[data[0] % 4].max;
    content = malloc(size);
    if (content == NULL)
        abort();
    memcpy(content, data + 1, size - 1);
    content[size - 1] = '\0';
    root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", "gpt-fuzz");
    choices = cJSON_AddArrayToObject(root, "choices");
    choice = cJSON_CreateObject();
    msg = cJSON_AddObjectToObject(choice, "message");
    cJSON_AddStringToObject(msg, "role", "assistant");
    cJSON_AddStringToObject(msg, "content", content);
    cJSON_AddStringToObject(choice, "finish_reason", "stop");
    cJSON_AddItemToArray(choices, choice);
    body = cJSON_PrintUnformatted(root);
    if (body == NULL)
        abort();
    if (arena.first_size == 0)
        arena_init(&arena, 4096);
    rc = ai_parse_verdict(&arena, scale, max, body, strlen(body), &v, &e);
    if (memchr(data + 1, '\0', size - 1) == NULL && strstr(content, "```") == NULL) {
        want = schema(content, strlen(content), max);
        if (rc == 0)
            check(want == 1);
        if (want == 2 && text_utf8_valid(content))
            check(rc != 0 && strcmp(e.code, "ai_out_of_scale") == 0);
    }
    if (rc != 0)
        check(e.code != NULL &&
              (strcmp(e.code, "ai_malformed") == 0 || strcmp(e.code, "ai_out_of_scale") == 0 ||
               strcmp(e.code, "ai_too_large") == 0));
    arena_reset(&arena);
    cJSON_free(body);
    cJSON_Delete(root);
    free(content);
    return 0;
}
