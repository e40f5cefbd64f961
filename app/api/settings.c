/*
 * GET/PUT /api/settings - the learner's study settings (time zone, new
 * cards per day, exam date, whether to use AI grading) and, read-only, what
 * the server offers: openai_api_key_set says whether AI grading is
 * available; the models are the server's. API keys are never accepted from
 * clients. The reference's client sends the model names with every save:
 * they are accepted and ignored; a key is refused (null or "" is a no-op).
 */
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "http/app.h"
#include "core/json.h"
#include "sks/study.h"
#include "core/timefmt.h"

static int send_settings(struct request *r, const struct study_settings *s)
{
    const struct config *c = r->app->cfg;
    struct buf *b = &r->app->out;

    buf_printf(b, "{\"ai_enabled\":%s,\"openai_api_key_set\":%s,\"openai_chat_model\":",
               s->ai_enabled ? "true" : "false", c->openai_api_key != NULL ? "true" : "false");
    buf_json_string(b, c->openai_model);
    buf_puts(b, ",\"openai_transcription_model\":");
    buf_json_string(b, c->openai_transcribe_model);
    buf_puts(b, ",\"timezone\":");
    buf_json_string(b, s->timezone);
    buf_printf(b, ",\"new_cards_per_day\":%d,\"exam_date\":", s->new_cards_per_day);
    if (s->exam_date[0] != '\0')
        buf_json_string(b, s->exam_date);
    else
        buf_puts(b, "null");
    buf_putc(b, '}');
    return render_send(r, 200);
}

int api_settings_get(struct request *r)
{
    struct study_settings s;
    struct err e = {0};

    if (study_settings_load(r->app->db, r->user.id, &s, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    return send_settings(r, &s);
}

int api_settings_put(struct request *r)
{
    struct study_settings_patch p = {0};
    struct study_settings s;
    struct err e = {0};
    const cJSON *item;
    const char *key = NULL;
    long long n;
    cJSON *body = request_read_json(r);

    if (body == NULL)
        return r->status;
    if (json_get_string(body, "openai_api_key", 0, &key, &e) < 0)
        goto fail;
    if (key != NULL && key[0] != '\0') {
        err_set(&e, 422, "api_key_not_accepted",
                "API keys are configured on the server, never sent by clients");
        goto fail;
    }
    if (json_get_string(body, "timezone", 0, &p.timezone, &e) < 0)
        goto fail;
    if (p.timezone != NULL && (p.timezone[0] == '\0' || strlen(p.timezone) > 64)) {
        err_set(&e, 422, "invalid_timezone", "timezone must be an IANA time zone name");
        goto fail;
    }
    item = cJSON_GetObjectItemCaseSensitive(body, "new_cards_per_day");
    if (item != NULL && !cJSON_IsNull(item)) {
        if (json_get_int(body, "new_cards_per_day", 1, 0, 1000, 0, &n, &e) < 0) {
            err_set(&e, 422, "invalid_new_cards_per_day",
                    "new_cards_per_day must be an integer from 0 to 1000");
            goto fail;
        }
        p.set_new_cards = 1;
        p.new_cards_per_day = (int)n;
    }
    item = cJSON_GetObjectItemCaseSensitive(body, "exam_date");
    if (item != NULL) {
        p.set_exam_date = 1;
        if (!cJSON_IsNull(item) && (!cJSON_IsString(item) ||
                                    timefmt_parse_date(item->valuestring, NULL, NULL, NULL) != 0)) {
            err_set(&e, 422, "invalid_exam_date", "exam_date must be YYYY-MM-DD or null");
            goto fail;
        }
        p.exam_date = cJSON_IsNull(item) ? NULL : item->valuestring;
    }
    item = cJSON_GetObjectItemCaseSensitive(body, "ai_enabled");
    if (item != NULL && !cJSON_IsNull(item)) {
        if (!cJSON_IsBool(item)) {
            err_set(&e, 422, "validation_error", "ai_enabled must be a boolean");
            goto fail;
        }
        p.set_ai = 1;
        p.ai_enabled = cJSON_IsTrue(item);
    }
    if (study_settings_save(r->app->db, r->user.id, &p, &s, &e) < 0)
        goto fail;
    return send_settings(r, &s);
fail:
    request_send_error(r, &e, NULL);
    return r->status;
}
