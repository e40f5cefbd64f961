/*
 * The synchronous AI paths (docs/ai.md): a study self-check graded by the
 * model (POST /api/study/evaluate-answer with "mode": "ai", study.c calls
 * api_ai_study_check) and POST /api/ai/transcribe-audio (spoken answers).
 *
 * Both hold a worker while the model answers, so both are bounded three
 * ways: the learner's quota and rate (lib/sks/aiusage, 429 beyond them), a
 * deadline below the worker's request deadline (config_ai_deadline_ms),
 * and at most AI_SYNC_SLOTS such calls in the whole pool (app_ai_acquire):
 * a slow model can never take every worker. A study check never fails
 * because of the model: anything that keeps the model from grading
 * (no key, no slot, a timeout, a reply we cannot use) gives the heuristic
 * grade, with the reason. Exams never come here: they are graded by
 * easysks-jobs (lib/sks/aiqueue).
 */
#include <stdio.h>
#include <string.h>

#include "sks/aiclient.h"
#include "sks/aiusage.h"
#include "api/api.h"
#include "api/render.h"
#include "sks/catalogue.h"
#include "sks/grade.h"
#include "http/app.h"
#include "http/authn.h"
#include "core/log.h"
#include "infra/multipart.h"
#include "core/text.h"
#include "sks/users.h"

#define LANGUAGE_MAX 16

static void client_for(const struct app *app, struct aiclient *c)
{
    const struct config *cfg = app->cfg;

    memset(c, 0, sizeof(*c));
    c->http = app->openai;
    c->base = cfg->openai_api_base;
    c->key = cfg->openai_api_key;
    c->model = cfg->openai_model;
    c->transcribe_model = cfg->openai_transcribe_model;
    c->allow_http = cfg->env == ENV_DEV;
}

/* Count one call against the learner's quota and rate; on -1 the 429 (with
 * Retry-After) or the database's error has been answered. */
static int take_quota(struct request *r)
{
    const struct config *cfg = r->app->cfg;
    char hdr[64];
    struct err e = {0};
    int retry = 0;

    if (aiusage_take(r->app->db, r->user.id, 1, cfg->ai_daily_quota, cfg->ai_rate_per_minute,
                     &retry, &e) == 0)
        return 0;
    snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", retry > 0 ? retry : 1);
    request_send_error(r, &e, e.status == 429 ? hdr : NULL);
    return -1;
}

/* The caller's plan (the route only loaded the id); -1 after answering
 * 403 premium_required or the database's error. */
static int require_premium(struct request *r)
{
    struct err e = {0};

    if (users_authenticate(r->app->db, r->arena, &r->identity, &r->user, &e) < 0) {
        request_send_error(r, &e, NULL);
        return -1;
    }
    return authn_require_premium(r);
}

int api_ai_study_check(struct request *r, const struct cat_card *card, const char *answer,
                       struct grade_study_result *g, struct api_ai_info *info)
{
    struct aiclient c;
    struct aiclient_result res;
    struct ai_exam_input in;
    struct err e = {0};
    int rc;

    memset(info, 0, sizeof(*info));
    info->grader = "heuristic";
    if (require_premium(r) < 0)
        return -1;
    /* A blank answer is 0 without asking anyone (as the reference). */
    if (text_is_blank(answer)) {
        info->fallback = "empty_answer";
        return 0;
    }
    client_for(r->app, &c);
    if (!aiclient_ready(&c)) {
        info->fallback = "ai_unavailable";
        return 0;
    }
    /* The slot first: a learner turned away for a busy pool has not used
     * any quota. */
    if (!app_ai_acquire(r->app)) {
        log_warn("all AI slots busy; study check graded by the heuristic", NULL);
        info->fallback = "ai_busy";
        return 0;
    }
    if (take_quota(r) < 0) {
        app_ai_release(r->app);
        return -1;
    }
    /* Asked on the exam's scale (0..2 whole points) and halved: 0, 0.5 or 1,
     * so a partly right answer is "partial" (the reference asked 0..1 whole
     * points and only ever said full or incorrect). */
    memset(&in, 0, sizeof(in));
    in.question = card->front_text;
    in.short_answer = card->short_answer;
    in.n_short = card->n_short;
    in.reference_answer = card->answer_text;
    in.answer = answer;
    in.max_score = 2;
    rc = aiclient_grade_exam(&c, r->arena, "study", &in,
                             config_ai_deadline_ms(r->app->cfg, r->app->cfg->ai_sync_timeout_ms),
                             &res, &e);
    app_ai_release(r->app);
    if (aiusage_add_tokens(r->app->db, r->user.id, &res.usage, &e) < 0)
        log_warn("AI tokens not recorded", "code", e.code, NULL);
    if (rc < 0) {
        info->fallback = e.code != NULL ? e.code : "ai_error";
        return 0;
    }
    {
        double ratio = res.verdict.score / res.verdict.max_score;
        g->ratio = ratio;
        g->awarded_points = ratio >= 0.9 ? 1.0 : ratio >= 0.45 ? 0.5 : 0.0;
        g->verdict = ratio >= 0.9 ? "full" : ratio >= 0.45 ? "partial" : "incorrect";
        g->suggested_rating = ratio >= 0.9 ? 4 : ratio >= 0.65 ? 3 : ratio >= 0.35 ? 2 : 1;
        g->reasoning_summary = res.verdict.feedback;
        g->mistakes = res.verdict.errors;
        g->nmistakes = res.verdict.nerrors;
    }
    info->grader = "ai";
    info->model = res.verdict.model;
    return 0;
}

/* The file name the API gets: ours, by the sniffed type (never the
 * client's, which is arbitrary text). */
static const char *file_name(const char *type)
{
    if (strcmp(type, "audio/webm") == 0)
        return "answer-recording.webm";
    if (strcmp(type, "audio/ogg") == 0)
        return "answer-recording.ogg";
    if (strcmp(type, "audio/wav") == 0)
        return "answer-recording.wav";
    if (strcmp(type, "audio/mpeg") == 0)
        return "answer-recording.mp3";
    return "answer-recording.mp4";
}

/* The language field: trimmed, lower-case, "de" when absent or blank; NULL
 * when it is not one we accept. */
static const char *language(struct request *r, const struct multipart_part *p)
{
    char raw[LANGUAGE_MAX + 1];
    const char *lang;

    if (p == NULL)
        return "de";
    if (p->len > LANGUAGE_MAX || memchr(p->data, '\0', p->len) != NULL)
        return NULL;
    memcpy(raw, p->data, p->len);
    raw[p->len] = '\0';
    lang = text_lower(r->arena, text_trim(r->arena, raw));
    if (*lang == '\0')
        return "de";
    return multipart_language_ok(lang) ? lang : NULL;
}

int api_ai_transcribe(struct request *r)
{
    const struct config *cfg = r->app->cfg;
    const struct multipart_part *audio;
    struct multipart_part *parts;
    struct aiclient c;
    struct aiclient_result res;
    const char *type, *lang, *text;
    struct buf *b = &r->app->out;
    struct err e = {0};
    int nparts, rc;

    /* Premium was checked by the route. Unavailable before anything is
     * read: the client learns the feature is off, not that its file is bad. */
    client_for(r->app, &c);
    if (!aiclient_ready(&c)) {
        request_fail(r, 503, "ai_unavailable", "audio transcription is not configured", NULL);
        return 503;
    }
    if (request_read_raw(r) < 0)
        return r->status;
    if (multipart_parse(r->arena, request_param(r, "CONTENT_TYPE"), r->body, r->body_len, &parts,
                        &nparts, &e) < 0)
        goto fail;
    audio = multipart_find(parts, nparts, "audio");
    if (audio == NULL || audio->filename == NULL) {
        err_set(&e, 422, "audio_missing", "send the recording as the file part \"audio\"");
        goto fail;
    }
    if (audio->len == 0) {
        err_set(&e, 400, "audio_empty", "the audio file is empty");
        goto fail;
    }
    /* What the bytes are, whatever the client called them. */
    if ((type = multipart_sniff_audio(audio->data, audio->len)) == NULL) {
        err_set(&e, 415, "unsupported_audio_format",
                "the recording must be WebM, Ogg, WAV, MP3 or MP4 audio");
        goto fail;
    }
    if ((lang = language(r, multipart_find(parts, nparts, "language"))) == NULL) {
        err_set(&e, 422, "invalid_language",
                "language must be one of de, en, fr, nl, da, pl, es, it, sv, no");
        goto fail;
    }
    if (!app_ai_acquire(r->app)) {
        log_warn("all AI slots busy; transcription refused", NULL);
        request_fail(r, 503, "ai_busy", "the AI service is busy; try again in a moment",
                     "Retry-After: 2\r\n");
        return 503;
    }
    if (take_quota(r) < 0) {
        app_ai_release(r->app);
        return r->status;
    }
    rc = aiclient_transcribe(&c, r->arena, audio->data, audio->len, file_name(type), type, lang,
                             config_ai_deadline_ms(cfg, cfg->ai_transcribe_timeout_ms), &text, &res,
                             &e);
    app_ai_release(r->app);
    if (rc < 0) {
        if (e.code != NULL && strcmp(e.code, "ai_empty") == 0)
            err_set(&e, 422, "transcript_empty", "no transcript could be made from the recording");
        goto fail;
    }
    buf_puts(b, "{\"transcript\":");
    buf_json_string(b, text);
    buf_puts(b, ",\"language\":");
    buf_json_string(b, lang);
    buf_puts(b, ",\"model\":");
    buf_json_string(b, cfg->openai_transcribe_model);
    buf_putc(b, '}');
    return render_send(r, 200);
fail:
    request_send_error(r, &e, NULL);
    return r->status;
}
