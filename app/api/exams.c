/*
 * Exams: the question sheet (/exams, /exam-sessions...) and the chart task
 * (/navigation-exams, /navigation-sessions...) of the reference contract,
 * per learner. Starting needs premium, except sheet EXAM_FREE_SHEET of each
 * kind, which every learner may take (docs/billing.md); listing the sheets
 * does not (the client shows what premium unlocks). The lifecycle and its rules are in
 * lib/sks/exams.h and docs/api.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "sks/aiqueue.h"
#include "sks/chartgrade.h"
#include "sks/grade.h"
#include "sks/exams.h"
#include "http/app.h"
#include "core/json.h"
#include "core/text.h"
#include "core/timefmt.h"

static void json_time_or_null(struct buf *b, long long us)
{
    if (us != 0)
        render_time(b, us);
    else
        buf_puts(b, "null");
}

static void json_string_or_null(struct buf *b, const char *s)
{
    if (s != NULL)
        buf_json_string(b, s);
    else
        buf_puts(b, "null");
}

/* Fields every session view shares. */
static void session_head(struct buf *b, const struct exam_session *s)
{
    buf_puts(b, "{\"session_id\":");
    buf_json_string(b, s->id);
    buf_printf(b, ",\"sheet_number\":%d,\"status\":", s->sheet);
    buf_json_string(b, s->status);
    buf_puts(b, ",\"started_at\":");
    render_time(b, s->started_us);
    buf_puts(b, ",\"submitted_at\":");
    json_time_or_null(b, s->submitted_us);
    buf_printf(b, ",\"time_limit_minutes\":%d", s->time_limit_minutes);
}

/* A chart task's answers per sub-question, or null (one text). */
static void render_sub_answers(struct buf *b, const struct exam_item *it)
{
    if (it->sub_answers == NULL) {
        buf_puts(b, "null");
        return;
    }
    render_strings(b, it->sub_answers, it->n_subs);
}

/* Grader's points, learner's points, which count (docs/api.md). */
static void render_points(struct buf *b, double grader, double self)
{
    buf_puts(b, ",\"grader_points\":");
    buf_json_number(b, grader);
    buf_puts(b, ",\"self_points\":");
    if (self >= 0)
        buf_json_number(b, self);
    else
        buf_puts(b, "null");
    buf_printf(b, ",\"counts\":\"%s\"", self >= 0 ? "learner" : "grader");
}

/* A chart task's results per sub-question, with the key answers that
 * belong to each (the official solution beside the learner's answer). */
static void render_sub_results(struct request *r, const struct exam_item *it)
{
    struct buf *b = &r->app->out;
    const struct cat_task *t = it->task;
    struct chartgrade_result keys;

    chartgrade_keys(r->arena, t, &keys);
    buf_puts(b, ",\"sub_results\":[");
    for (int k = 0; k < keys.n_subs; k++) {
        int have = k < it->n_subs;
        double grader = have ? it->sub_scores[k] : 0, self = have ? it->sub_self[k] : -1;
        if (k > 0)
            buf_putc(b, ',');
        buf_printf(b, "{\"number\":%d,\"text\":", k + 1);
        buf_json_string(b, t->n_sub > 0 ? t->sub_questions[k].text : "");
        buf_puts(b, ",\"max_points\":");
        buf_json_number(b, keys.subs[k].max);
        buf_puts(b, ",\"student_answer\":");
        if (it->sub_answers != NULL && k < it->n_subs)
            buf_json_string(b, it->sub_answers[k]);
        else
            buf_puts(b, "null");
        buf_puts(b, ",\"key_answers\":");
        render_strings(b, keys.subs[k].key_texts, keys.subs[k].keys);
        if (have) {
            render_points(b, grader, self);
            buf_puts(b, ",\"points\":");
            buf_json_number(b, self >= 0 ? self : grader);
        } else {
            buf_puts(b, ",\"grader_points\":null,\"self_points\":null,\"counts\":\"grader\","
                        "\"points\":null");
        }
        buf_printf(b, ",\"needs_self_assessment\":%s}",
                   have ? (it->sub_needs[k] ? "true" : "false")
                        : (keys.subs[k].needs_self_assessment ? "true" : "false"));
    }
    buf_putc(b, ']');
}

/* A chart sheet's allowed materials (one per line in the catalogue) and the
 * rule on them, as its text states them. */
static void render_materials(struct buf *b, const struct catalogue *cat, int n)
{
    const char *m = cat->nav_materials[n];

    buf_puts(b, ",\"allowed_materials\":[");
    for (int first = 1; m != NULL && *m != '\0'; first = 0) {
        const char *nl = strchr(m, '\n');
        size_t len = nl != NULL ? (size_t)(nl - m) : strlen(m);
        char item[512];
        if (!first)
            buf_putc(b, ',');
        snprintf(item, sizeof(item), "%.*s", (int)len, m);
        buf_json_string(b, item);
        m += len + (nl != NULL);
    }
    buf_puts(b, "],\"material_rules\":");
    json_string_or_null(b, cat->nav_material_rules[n]);
}

/* ExamSessionOut / NavigationSessionOut. */
static int send_session(struct request *r, const struct exam_session *s)
{
    struct buf *b = &r->app->out;
    int in_progress = strcmp(s->status, "in_progress") == 0;
    long long left =
        in_progress && s->deadline_us > s->now_us ? (s->deadline_us - s->now_us) / 1000000 : 0;
    /* Once submitted, time_over is what was fixed then, never the clock. */
    int over = in_progress ? s->now_us >= s->deadline_us : s->time_over;

    session_head(b, s);
    buf_puts(b, ",\"deadline_at\":");
    render_time(b, s->deadline_us);
    buf_printf(b, ",\"time_remaining_seconds\":%lld,\"time_over\":%s,\"%s\":%d,\"questions\":[",
               left, over ? "true" : "false",
               s->kind == EXAM_SHEET ? "question_count" : "task_count", s->nitems);
    for (int i = 0; i < s->nitems; i++) {
        const struct exam_item *it = &s->items[i];
        if (i > 0)
            buf_putc(b, ',');
        if (s->kind == EXAM_SHEET) {
            buf_printf(b, "{\"question_number\":%d,\"card_id\":", it->number);
            buf_json_string(b, it->item_id);
            buf_puts(b, ",\"question_text\":");
            buf_json_string(b, it->card->front_text);
            buf_puts(b, ",\"question_images\":");
            buf_puts(b, it->card->front_images_json);
        } else {
            const struct cat_task *t = it->task;
            buf_printf(b, "{\"task_number\":%d,\"task_id\":", it->number);
            buf_json_string(b, it->item_id);
            buf_printf(b, ",\"points\":%d,\"context\":", t->points);
            buf_json_string(b, t->context);
            buf_puts(b, ",\"sub_questions\":[");
            for (int k = 0; k < t->n_sub; k++) {
                buf_puts(b, k > 0 ? ",{\"text\":" : "{\"text\":");
                buf_json_string(b, t->sub_questions[k].text);
                buf_printf(b, ",\"points\":%d}", t->sub_questions[k].points);
            }
            buf_puts(b, "],\"sub_answers\":");
            render_sub_answers(b, it);
        }
        buf_puts(b, ",\"student_answer\":");
        buf_json_string(b, it->answer);
        buf_puts(b, ",\"answered_at\":");
        json_time_or_null(b, it->answered_us);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
    return render_send(r, 200);
}

/* ExamResultOut / NavigationResultOut, plus the three-way outcome. */
static int send_result(struct request *r, const struct exam_session *s)
{
    struct buf *b = &r->app->out;

    session_head(b, s);
    buf_printf(b, ",\"time_over\":%s,\"total_score\":", s->time_over ? "true" : "false");
    buf_json_number(b, s->total_score);
    buf_puts(b, ",\"max_score\":");
    buf_json_number(b, s->max_score);
    buf_printf(b,
               ",\"passed\":%s,\"outcome\":\"%s\",\"pass_score_threshold\":%s,"
               "\"oral_exam_threshold\":%s,\"grader\":",
               s->passed ? "true" : "false", s->outcome != NULL ? s->outcome : "failed",
               s->kind == EXAM_SHEET ? "39.0" : "20.0", s->kind == EXAM_SHEET ? "33.0" : "17.0");
    buf_json_string(b, s->grader != NULL ? s->grader : "heuristic");
    buf_puts(b, ",\"grading\":");
    buf_json_string(b, s->grading != NULL ? s->grading : "complete");
    buf_puts(b, ",\"grading_note\":");
    json_string_or_null(b, s->grading_note);
    {
        double grader_total = 0;
        for (int i = 0; i < s->nitems; i++)
            grader_total += s->items[i].score;
        buf_puts(b, ",\"grader_total_score\":");
        buf_json_number(b, s->kind == EXAM_CHART ? grade_round1(grader_total) : grader_total);
    }
    buf_printf(b, ",\"self_assessed\":%s,\"provisional\":%s", s->self_assessed ? "true" : "false",
               s->provisional ? "true" : "false");
    buf_puts(b, ",\"questions\":[");
    for (int i = 0; i < s->nitems; i++) {
        const struct exam_item *it = &s->items[i];
        const char *feedback =
            it->feedback != NULL && *it->feedback ? it->feedback : "Keine Bewertung vorhanden.";
        if (i > 0)
            buf_putc(b, ',');
        if (s->kind == EXAM_SHEET) {
            const struct cat_card *c = it->card;
            buf_printf(b, "{\"question_number\":%d,\"card_id\":", it->number);
            buf_json_string(b, it->item_id);
            buf_puts(b, ",\"question_text\":");
            buf_json_string(b, c->front_text);
            buf_puts(b, ",\"question_images\":");
            buf_puts(b, c->front_images_json);
            buf_puts(b, ",\"reference_short_answer\":");
            render_strings(b, c->short_answer, c->n_short);
            buf_puts(b, ",\"reference_answer\":");
            buf_json_string(b, c->answer_text);
            buf_puts(b, ",\"reference_images\":");
            buf_puts(b, c->answer_images_json);
        } else {
            const struct cat_task *t = it->task;
            buf_printf(b, "{\"task_number\":%d,\"task_id\":", it->number);
            buf_json_string(b, it->item_id);
            buf_puts(b, ",\"context\":");
            buf_json_string(b, t->context);
            buf_puts(b, ",\"sub_questions\":[");
            for (int k = 0; k < t->n_sub; k++) {
                if (k > 0)
                    buf_putc(b, ',');
                buf_json_string(b, t->sub_questions[k].text);
            }
            buf_puts(b, "],\"key_answers\":");
            render_strings(b, t->key_answers, t->n_keys);
            buf_puts(b, ",\"solution_text\":");
            buf_json_string(b, t->solution_text);
            buf_puts(b, ",\"sub_answers\":");
            render_sub_answers(b, it);
            render_sub_results(r, it);
        }
        buf_puts(b, ",\"max_score\":");
        buf_json_number(b, it->max_score);
        buf_printf(b, ",\"needs_self_assessment\":%s",
                   it->needs_self_assessment ? "true" : "false");
        buf_puts(b, ",\"student_answer\":");
        buf_json_string(b, it->answer);
        /* score is what counts: the learner's points when given. */
        buf_puts(b, ",\"score\":");
        buf_json_number(b, exam_item_points(it));
        render_points(b, it->score, it->self_points);
        buf_puts(b, ",\"self_assessed_at\":");
        json_time_or_null(b, it->self_assessed_us);
        buf_printf(b, ",\"is_correct\":%s,\"feedback\":", it->is_correct ? "true" : "false");
        buf_json_string(b, feedback);
        if (s->kind == EXAM_SHEET) {
            buf_puts(b, ",\"errors\":");
            buf_puts(b, it->errors_json != NULL ? it->errors_json : "[]");
        }
        /* Who graded it; while ai_status is "pending" the score is the
         * heuristic's and may still change. */
        buf_puts(b, ",\"grader\":");
        buf_json_string(b, it->grader != NULL ? it->grader : "heuristic");
        buf_puts(b, ",\"model\":");
        json_string_or_null(b, it->grader_model);
        buf_puts(b, ",\"ai_status\":");
        json_string_or_null(b, it->ai_status);
        buf_puts(b, ",\"ai_error\":");
        json_string_or_null(b, it->ai_error);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
    return render_send(r, 200);
}

static int fail(struct request *r, const struct err *e)
{
    request_send_error(r, e, NULL);
    return r->status;
}

/* --- the handlers: one per action, for both kinds ------------------------ *
 * The route says which kind (routes.c: r->route->arg). */

static int route_kind(const struct request *r)
{
    return r->route->arg == EXAM_CHART ? EXAM_CHART : EXAM_SHEET;
}

int api_exam_templates(struct request *r)
{
    const int kind = route_kind(r);
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct buf *b = &r->app->out;

    if (cat == NULL)
        return r->status;
    buf_putc(b, '[');
    for (int n = 1; n <= exam_sheets(kind); n++) {
        if (n > 1)
            buf_putc(b, ',');
        if (kind == EXAM_SHEET) {
            buf_printf(b,
                       "{\"sheet_number\":%d,\"display_name\":\"Prüfungsbogen %d\","
                       "\"question_count\":%d,\"time_limit_minutes\":%d,\"max_points\":60,"
                       "\"pass_points\":39,\"requires_premium\":%s,\"free\":%s}",
                       n, n, cat->sheet_count[n], EXAM_TIME_LIMIT_DEFAULT,
                       n == EXAM_FREE_SHEET ? "false" : "true",
                       n == EXAM_FREE_SHEET ? "true" : "false");
        } else {
            int points = 0;
            for (int i = 0; i < cat->nav_count[n]; i++)
                points += cat->tasks[cat->nav_first[n] + i].points;
            buf_printf(b,
                       "{\"sheet_number\":%d,\"display_name\":\"Navigationsaufgabe %02d\","
                       "\"task_count\":%d,\"total_points\":%d,\"time_limit_minutes\":%d,"
                       "\"pass_points\":20,\"requires_premium\":%s,\"free\":%s",
                       n, n, cat->nav_count[n], points, EXAM_TIME_LIMIT_DEFAULT,
                       n == EXAM_FREE_SHEET ? "false" : "true",
                       n == EXAM_FREE_SHEET ? "true" : "false");
            render_materials(b, cat, n);
            buf_putc(b, '}');
        }
    }
    buf_putc(b, ']');
    return render_send(r, 200);
}

int api_exam_history(struct request *r)
{
    const int kind = route_kind(r);
    const char *status = request_query(r, "status"), *lim = request_query(r, "limit");
    const char *before = request_query(r, "before");
    struct exam_session *items;
    struct buf *b = &r->app->out;
    long long before_us = 0;
    struct err e = {0};
    int n, limit = EXAM_HISTORY_LIMIT_DEFAULT;
    char *end;

    if (status != NULL && strcmp(status, "in_progress") != 0 && strcmp(status, "evaluated") != 0 &&
        strcmp(status, "abandoned") != 0 && strcmp(status, "expired") != 0) {
        request_fail(r, 422, "invalid_status",
                     "status must be in_progress, evaluated, abandoned or expired", NULL);
        return 422;
    }
    if (lim != NULL) {
        long v = strtol(lim, &end, 10);
        if (*lim == '\0' || *end != '\0' || v < 1 || v > EXAM_HISTORY_LIMIT_MAX) {
            request_fail(r, 422, "invalid_limit", "limit must be an integer from 1 to 200", NULL);
            return 422;
        }
        limit = (int)v;
    }
    if (before != NULL && timefmt_parse(before, &before_us) < 0) {
        request_fail(r, 422, "invalid_cursor", "before must be an RFC 3339 time (started_at)",
                     NULL);
        return 422;
    }
    if (exam_history(r->app->db, r->user.id, kind, status, before_us, limit, r->arena, &items, &n,
                     &e) < 0)
        return fail(r, &e);
    buf_putc(b, '[');
    for (int i = 0; i < n; i++) {
        const struct exam_session *s = &items[i];
        if (i > 0)
            buf_putc(b, ',');
        session_head(b, s);
        buf_puts(b, ",\"deadline_at\":");
        render_time(b, s->deadline_us);
        buf_puts(b, ",\"total_score\":");
        if (s->evaluated)
            buf_json_number(b, s->total_score);
        else
            buf_puts(b, "null");
        buf_puts(b, ",\"max_score\":");
        if (s->evaluated)
            buf_json_number(b, s->max_score);
        else
            buf_puts(b, "null");
        buf_printf(b, ",\"passed\":%s,\"outcome\":",
                   s->evaluated ? (s->passed ? "true" : "false") : "null");
        if (s->outcome != NULL)
            buf_json_string(b, s->outcome);
        else
            buf_puts(b, "null");
        buf_printf(b, ",\"time_over\":%s,\"grading\":", s->time_over ? "true" : "false");
        if (s->evaluated)
            buf_json_string(b, s->grading != NULL ? s->grading : "complete");
        else
            buf_puts(b, "null");
        buf_printf(b, ",\"self_assessed\":%s,\"provisional\":%s}",
                   s->self_assessed ? "true" : "false", s->provisional ? "true" : "false");
    }
    buf_putc(b, ']');
    return render_send(r, 200);
}

int api_exam_start(struct request *r)
{
    const int kind = route_kind(r);
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const char *key = request_param(r, "HTTP_IDEMPOTENCY_KEY");
    struct exam_session s;
    struct err e = {0};
    long long sheet, minutes;
    int created;
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    if (json_get_int(body, "sheet_number", 1, 1, exam_sheets(kind), 0, &sheet, &e) < 0 ||
        json_get_int(body, "time_limit_minutes", 0, 1, 240, EXAM_TIME_LIMIT_DEFAULT, &minutes, &e) <
            0)
        return fail(r, &e);
    /* The route loads the plan (ROUTE_PROFILE); one sheet is free. */
    if (!r->user.premium && sheet != EXAM_FREE_SHEET) {
        request_fail(r, 403, "premium_required", "only sheet 1 is free; the others need premium",
                     NULL);
        return 403;
    }
    if (key != NULL && !text_token_ok(key, 255) /* as Stripe's; a UUID, usually */) {
        request_fail(r, 422, "invalid_idempotency_key",
                     "Idempotency-Key must be 1-255 printable ASCII characters", NULL);
        return 422;
    }
    if (exam_start(r->app->db, cat, r->user.id, kind, (int)sheet, (int)minutes, key, r->arena, &s,
                   &created, &e) < 0)
        return fail(r, &e);
    return send_session(r, &s);
}

/* The learner's session of the route's kind, for GET and its result.
 * 0, or -1 with the error answered. */
static int load(struct request *r, struct exam_session *s)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct err e = {0};

    if (cat == NULL)
        return -1;
    if (exam_load(r->app->db, cat, r->user.id, route_kind(r), r->params[0], r->arena, s, &e) < 0) {
        fail(r, &e);
        return -1;
    }
    return 0;
}

int api_exam_get(struct request *r)
{
    struct exam_session s;

    if (load(r, &s) < 0)
        return r->status;
    return send_session(r, &s);
}

int api_exam_save(struct request *r)
{
    const int kind = route_kind(r);
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct exam_item it;
    struct err e = {0};
    struct buf *b = &r->app->out;
    const char *answer, **subs = NULL;
    const cJSON *item, *sub, *x;
    int n_sub = 0;
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    /* {"student_answer": "..."}; {} saves "" as the reference does. A chart
     * task may send {"sub_answers": ["...", ...]} instead, one per
     * sub-question. */
    item = cJSON_GetObjectItemCaseSensitive(body, "student_answer");
    if (item != NULL && !cJSON_IsString(item)) {
        request_fail(r, 422, "validation_error", "student_answer must be a string", NULL);
        return 422;
    }
    answer = item != NULL ? item->valuestring : "";
    sub = cJSON_GetObjectItemCaseSensitive(body, "sub_answers");
    if (sub != NULL && !cJSON_IsNull(sub)) {
        if (!cJSON_IsArray(sub) || item != NULL) {
            request_fail(r, 422, "invalid_sub_answers",
                         "sub_answers must be an array of strings, without student_answer", NULL);
            return 422;
        }
        subs = arena_alloc(r->arena, (size_t)(cJSON_GetArraySize(sub) + 1) * sizeof(*subs));
        cJSON_ArrayForEach(x, sub)
        {
            if (!cJSON_IsString(x)) {
                request_fail(r, 422, "invalid_sub_answers", "sub_answers must hold strings", NULL);
                return 422;
            }
            subs[n_sub++] = x->valuestring;
        }
    }
    if (exam_save(r->app->db, cat, r->user.id, kind, r->params[0], r->params[1], answer,
                  (const char *const *)subs, n_sub, r->arena, &it, &e) < 0)
        return fail(r, &e);
    buf_puts(b, "{\"session_id\":");
    buf_json_string(b, r->params[0]);
    buf_printf(b, kind == EXAM_SHEET ? ",\"card_id\":" : ",\"task_id\":");
    buf_json_string(b, it.item_id);
    buf_printf(b, kind == EXAM_SHEET ? ",\"question_number\":%d" : ",\"task_number\":%d",
               it.number);
    buf_puts(b, ",\"student_answer\":");
    buf_json_string(b, it.answer);
    buf_puts(b, ",\"answered_at\":");
    render_time(b, it.answered_us);
    if (kind == EXAM_CHART) {
        buf_puts(b, ",\"sub_answers\":");
        render_sub_answers(b, &it);
    }
    buf_putc(b, '}');
    return render_send(r, 200);
}

int api_exam_submit(struct request *r)
{
    const int kind = route_kind(r);
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const struct config *c = r->app->cfg;
    struct exam_ai ai = {c->openai_api_key != NULL, c->ai_daily_quota, aiqueue_enqueue};
    struct exam_session s;
    struct err e = {0};

    if (cat == NULL)
        return r->status;
    /* AI grading is premium: a free learner's sheet (the free one, or one
     * started under a plan that has ended) gets the heuristic's grades only,
     * whatever ai_enabled says. The route loads the plan (ROUTE_PROFILE). */
    if (exam_submit(r->app->db, cat, r->user.id, kind, r->params[0], r->user.premium ? &ai : NULL,
                    r->arena, &s, &e) < 0)
        return fail(r, &e);
    return send_result(r, &s);
}

int api_exam_result(struct request *r)
{
    struct exam_session s;

    if (load(r, &s) < 0)
        return r->status;
    if (!s.evaluated) {
        request_fail(r, 409, "result_not_available", "the session has not been submitted", NULL);
        return 409;
    }
    return send_result(r, &s);
}

int api_exam_abandon(struct request *r)
{
    const int kind = route_kind(r);
    struct err e = {0};

    if (exam_abandon(r->app->db, r->user.id, kind, r->params[0], &e) < 0)
        return fail(r, &e);
    request_send_empty(r, 204, NULL);
    return 204;
}

/* PATCH …/results/{card_id} and …/results/{task_id}/sub-questions/{n}:
 * {"self_points": n} sets the learner's points, {"self_points": null}
 * withdraws them; the answer is the whole result, recomputed. */
int api_exam_self_assess(struct request *r)
{
    const int kind = route_kind(r);
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct exam_session s;
    struct err e = {0};
    const cJSON *pts;
    double points;
    long sub = 0;
    char *end;
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    pts = cJSON_GetObjectItemCaseSensitive(body, "self_points");
    if (pts == NULL || !(cJSON_IsNull(pts) || cJSON_IsNumber(pts))) {
        request_fail(r, 422, "invalid_points", "self_points must be a number or null", NULL);
        return 422;
    }
    points = cJSON_IsNull(pts) ? -1 : pts->valuedouble;
    if (!cJSON_IsNull(pts) && !(points >= 0)) {
        request_fail(r, 422, "invalid_points", "self_points must not be negative", NULL);
        return 422;
    }
    if (kind == EXAM_CHART) {
        sub = strtol(r->params[2], &end, 10);
        if (*r->params[2] == '\0' || *end != '\0' || sub < 1 || sub > 99) {
            request_fail(r, 404, "sub_question_not_found", "no such sub-question", NULL);
            return 404;
        }
    }
    if (exam_self_assess(r->app->db, cat, r->user.id, kind, r->params[0], r->params[1], (int)sub,
                         points, r->arena, &s, &e) < 0)
        return fail(r, &e);
    return send_result(r, &s);
}
