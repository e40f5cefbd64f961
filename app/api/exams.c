/*
 * Exams: the question sheet (/exams, /exam-sessions...) and the chart task
 * (/navigation-exams, /navigation-sessions...) of the reference contract,
 * per learner. Starting needs premium; listing the sheets does not (the
 * client shows what premium unlocks). The lifecycle and its rules are in
 * lib/sks/exams.h and docs/api.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "sks/aiqueue.h"
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
            buf_putc(b, ']');
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
            buf_puts(b, ",\"max_score\":");
            buf_json_number(b, it->max_score);
            buf_printf(b, ",\"needs_self_assessment\":%s",
                       it->needs_self_assessment ? "true" : "false");
        }
        buf_puts(b, ",\"student_answer\":");
        buf_json_string(b, it->answer);
        buf_puts(b, ",\"score\":");
        buf_json_number(b, it->score);
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
                       "\"pass_points\":39,\"requires_premium\":true}",
                       n, n, cat->sheet_count[n], EXAM_TIME_LIMIT_DEFAULT);
        } else {
            int points = 0;
            for (int i = 0; i < cat->nav_count[n]; i++)
                points += cat->tasks[cat->nav_first[n] + i].points;
            buf_printf(b,
                       "{\"sheet_number\":%d,\"display_name\":\"Navigationsaufgabe %02d\","
                       "\"task_count\":%d,\"total_points\":%d,\"time_limit_minutes\":%d,"
                       "\"pass_points\":20,\"requires_premium\":true}",
                       n, n, cat->nav_count[n], points, EXAM_TIME_LIMIT_DEFAULT);
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
        buf_putc(b, '}');
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
    const char *answer;
    const cJSON *item;
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    /* {"student_answer": "..."}; {} saves "" as the reference does. */
    item = cJSON_GetObjectItemCaseSensitive(body, "student_answer");
    if (item != NULL && !cJSON_IsString(item)) {
        request_fail(r, 422, "validation_error", "student_answer must be a string", NULL);
        return 422;
    }
    answer = item != NULL ? item->valuestring : "";
    if (exam_save(r->app->db, cat, r->user.id, kind, r->params[0], r->params[1], answer, r->arena,
                  &it, &e) < 0)
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
    if (exam_submit(r->app->db, cat, r->user.id, kind, r->params[0], &ai, r->arena, &s, &e) < 0)
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
