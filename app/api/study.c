/*
 * Study: topics, cards, the due and practice queues, reviews (one, or a
 * batch recorded offline) and answer checking. Contract: the reference's
 * /topics, /study/..., /cards/{id} under /api; our additions and decisions
 * are in docs/api.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "sks/grade.h"
#include "http/app.h"
#include "core/json.h"
#include "sks/study.h"
#include "core/text.h"
#include "core/timefmt.h"

#define ANSWER_MAX_CHARS 10000
#define STUDY_CARDS_MAX 30 /* ?cards=: one sheet's worth */

int api_topics(struct request *r)
{
    struct buf *b = &r->app->out;

    buf_putc(b, '[');
    for (int i = 0; i < CATALOGUE_TOPICS; i++) {
        buf_puts(b, i > 0 ? ",{\"value\":" : "{\"value\":");
        buf_json_string(b, catalogue_topics[i].value);
        buf_puts(b, ",\"label\":");
        buf_json_string(b, catalogue_topics[i].label);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
    return render_send(r, 200);
}

/* Answers a card_not_found: 404, or 503 catalogue_changed (with
 * Retry-After) when the catalogue changed since this worker loaded it. */
static int card_unknown(struct request *r, struct err *e)
{
    if (app_card_unknown(r->app, e))
        request_send_error(r, e, "Retry-After: 1\r\n");
    else
        request_send_error(r, e, NULL);
    return r->status;
}

int api_card(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const struct cat_card *card;

    if (cat == NULL)
        return r->status;
    if ((card = catalogue_card(cat, r->params[0])) == NULL) {
        struct err e = {0};
        err_set(&e, 404, "card_not_found", "no such card");
        return card_unknown(r, &e);
    }
    buf_append(&r->app->out, card->json, card->json_len);
    return render_send(r, 200);
}

/* ?NAME=true or false (absent: false); answers 422 itself. */
static int bool_param(struct request *r, const char *name, int *out)
{
    const char *v = request_query(r, name);

    *out = v != NULL && strcmp(v, "true") == 0;
    if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        request_fail(r, 422, "invalid_filter", "flagged and mistakes take true or false", NULL);
        return -1;
    }
    return 0;
}

/* ?cards=ID,ID,... (1..STUDY_CARDS_MAX catalogue cards, not with sheet):
 * a session on exactly these cards, e.g. the plan's focus cards. */
static int cards_param(struct request *r, const struct catalogue *cat, struct study_filter *f)
{
    const char *v = request_query(r, "cards");
    const struct cat_card **list;
    char *copy, *id, *save = NULL;

    if (v == NULL)
        return 0;
    if (f->sheet > 0) {
        request_fail(r, 422, "invalid_filter", "cards and sheet cannot be combined", NULL);
        return -1;
    }
    list = arena_alloc(r->arena, STUDY_CARDS_MAX * sizeof(*list));
    copy = arena_strdup(r->arena, v);
    for (id = strtok_r(copy, ",", &save); id != NULL; id = strtok_r(NULL, ",", &save)) {
        const struct cat_card *k = catalogue_card(cat, id);
        if (k == NULL || f->n_cards == STUDY_CARDS_MAX) {
            request_fail(r, 422, "invalid_cards",
                         "cards must list 1 to 30 card ids of the catalogue, comma-separated",
                         NULL);
            return -1;
        }
        list[f->n_cards++] = k;
    }
    if (f->n_cards == 0) {
        request_fail(r, 422, "invalid_cards",
                     "cards must list 1 to 30 card ids of the catalogue, comma-separated", NULL);
        return -1;
    }
    f->cards = list;
    return 0;
}

/* ?sheet= (1..15), ?flagged=, ?mistakes=, ?cards=; answers 422 itself. */
static int filter_params(struct request *r, const struct catalogue *cat, struct study_filter *f)
{
    const char *s = request_query(r, "sheet");
    char *end;
    long n;

    if (s != NULL) {
        n = strtol(s, &end, 10);
        if (*s == '\0' || *end != '\0' || n < 1 || n > CATALOGUE_EXAM_SHEETS) {
            request_fail(r, 422, "invalid_sheet", "sheet must be an official sheet from 1 to 15",
                         NULL);
            return -1;
        }
        f->sheet = (int)n;
    }
    if (bool_param(r, "flagged", &f->flagged) < 0 || bool_param(r, "mistakes", &f->mistakes) < 0)
        return -1;
    return cards_param(r, cat, f);
}

/* ?topic= (a topic value) and ?limit= (1..200); answers 422 itself. */
static int queue_params(struct request *r, int *topic, int *limit)
{
    const char *t = request_query(r, "topic"), *l = request_query(r, "limit");
    char *end;
    long n;

    *topic = -1;
    *limit = STUDY_LIMIT_DEFAULT;
    if (t != NULL && (*topic = catalogue_topic_index(t)) < 0) {
        request_fail(r, 422, "invalid_topic", "unknown topic (see GET /api/topics)", NULL);
        return -1;
    }
    if (l != NULL) {
        n = strtol(l, &end, 10);
        if (*l == '\0' || *end != '\0' || n < 1 || n > STUDY_LIMIT_MAX) {
            request_fail(r, 422, "invalid_limit", "limit must be an integer from 1 to 200", NULL);
            return -1;
        }
        *limit = (int)n;
    }
    return 0;
}

static int queue(struct request *r, enum study_mode mode)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct study_queue q;
    struct err e = {0};
    struct buf *b = &r->app->out;
    struct study_filter f = {0};
    int limit;

    if (cat == NULL || queue_params(r, &f.topic, &limit) < 0 || filter_params(r, cat, &f) < 0)
        return r->status;
    if (study_queue_load(r->app->db, r->app->study, cat, r->user.id, mode, &f, limit, r->arena, &q,
                         &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    buf_putc(b, '[');
    for (int i = 0; i < q.n; i++) {
        if (i > 0)
            buf_putc(b, ',');
        render_study_card(b, &q.items[i]);
    }
    buf_putc(b, ']');
    return render_send(r, 200);
}

int api_study_due(struct request *r)
{
    return queue(r, STUDY_DUE);
}

int api_study_practice(struct request *r)
{
    return queue(r, STUDY_PRACTICE);
}

/* One review object of a request body into *rv; 0, or -1 with e (422/404). */
static int parse_review(const struct catalogue *cat, const cJSON *o, int batch,
                        struct study_review *rv, struct err *e)
{
    const char *card_id, *review_id, *at;
    long long rating;

    memset(rv, 0, sizeof(*rv));
    if (!cJSON_IsObject(o))
        return err_set(e, 422, "validation_error", "each review must be an object");
    if (json_get_string(o, "card_id", 1, &card_id, e) < 0 ||
        json_get_string(o, "review_id", batch, &review_id, e) < 0 ||
        json_get_string(o, "reviewed_at", batch, &at, e) < 0)
        return -1;
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "rating")))
        return err_set(e, 422, "invalid_rating", "rating must be an integer from 1 to 4");
    if (json_get_int(o, "rating", 1, 1, 4, 0, &rating, e) < 0)
        return err_set(e, 422, "invalid_rating", "rating must be an integer from 1 to 4");
    if ((rv->card = catalogue_card(cat, card_id)) == NULL)
        return err_set(e, 404, "card_not_found", "no such card: %.64s", card_id);
    if (review_id != NULL && !timefmt_uuid(review_id, rv->review_id))
        return err_set(e, 422, "invalid_review_id", "review_id must be a UUID");
    /* 0 means "now" inside (study.h): a time at or before 1970 is refused
     * here, as the batch's 30-day window would refuse it anyway. */
    if (at != NULL && (timefmt_parse(at, &rv->reviewed_us) < 0 || rv->reviewed_us <= 0))
        return err_set(e, 422, "invalid_review_time",
                       "reviewed_at must be an RFC 3339 time with an offset");
    rv->rating = (int)rating;
    return 0;
}

int api_study_review(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct study_review rv;
    struct study_batch batch = {0};
    struct study_card out;
    struct err e = {0};
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    if (cJSON_GetObjectItemCaseSensitive(body, "reviewed_at") != NULL) {
        request_fail(r, 422, "validation_error",
                     "reviewed_at is only accepted by POST /api/study/reviews", NULL);
        return 422;
    }
    if (parse_review(cat, body, 0, &rv, &e) < 0)
        goto fail;
    batch.reviews = &rv;
    batch.n = 1;
    if (study_apply(r->app->db, cat, r->user.id, &batch, r->arena, &e) < 0)
        goto fail;
    out.card = rv.card;
    out.fsrs = rv.after;
    render_study_card(&r->app->out, &out);
    request_send_body(r, 200, "application/json", buf_str(&r->app->out), r->app->out.len,
                      rv.status == STUDY_DUPLICATE ? "Idempotent-Replayed: true\r\n" : NULL);
    return 200;
fail:
    if (e.code != NULL && strcmp(e.code, "card_not_found") == 0)
        return card_unknown(r, &e);
    request_send_error(r, &e, NULL);
    return r->status;
}

int api_study_reviews(struct request *r)
{
    static const char *const status_names[] = {"applied", "duplicate", "logged_only"};
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct study_batch batch = {0};
    const cJSON *list, *it;
    struct err e = {0};
    struct buf *b = &r->app->out;
    cJSON *body;
    int n;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    list = cJSON_GetObjectItemCaseSensitive(body, "reviews");
    n = cJSON_GetArraySize(list);
    if (!cJSON_IsArray(list) || n < 1 || n > STUDY_BATCH_MAX) {
        request_fail(r, 422, "validation_error", "reviews must be an array of 1 to 200 reviews",
                     NULL);
        return 422;
    }
    batch.reviews = arena_alloc(r->arena, (size_t)n * sizeof(*batch.reviews));
    cJSON_ArrayForEach(it, list)
    {
        struct err item = {0};
        if (parse_review(cat, it, 1, &batch.reviews[batch.n], &item) < 0) {
            err_set(&e, item.status, item.code, "reviews[%d]: %s", batch.n, item.msg);
            goto fail;
        }
        batch.n++;
    }
    if (study_apply(r->app->db, cat, r->user.id, &batch, r->arena, &e) < 0)
        goto fail;
    buf_puts(b, "{\"reviews\":[");
    for (int i = 0; i < batch.n; i++) {
        const struct study_review *rv = &batch.reviews[i];
        buf_puts(b, i > 0 ? ",{\"review_id\":" : "{\"review_id\":");
        buf_json_string(b, rv->review_id);
        buf_puts(b, ",\"card_id\":");
        buf_json_string(b, rv->card->card_id);
        buf_puts(b, ",\"status\":");
        buf_json_string(b, status_names[rv->status]);
        buf_puts(b, ",\"reviewed_at\":");
        render_time(b, rv->reviewed_us);
        buf_puts(b, ",\"scheduling_info\":");
        render_scheduling(b, &rv->after);
        buf_putc(b, '}');
    }
    buf_puts(b, "],\"cards\":[");
    for (int i = 0; i < batch.ncards; i++) {
        buf_puts(b, i > 0 ? ",{\"card_id\":" : "{\"card_id\":");
        buf_json_string(b, batch.cards[i].card->card_id);
        buf_puts(b, ",\"scheduling_info\":");
        render_scheduling(b, &batch.cards[i].fsrs);
        buf_putc(b, '}');
    }
    buf_puts(b, "]}");
    return render_send(r, 200);
fail:
    if (e.code != NULL && strcmp(e.code, "card_not_found") == 0)
        return card_unknown(r, &e);
    request_send_error(r, &e, NULL);
    return r->status;
}

int api_study_evaluate(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const struct cat_card *card;
    const char *card_id, *answer, *mode = NULL;
    struct grade_study_result g;
    struct api_ai_info ai = {"heuristic", NULL, NULL};
    struct err e = {0};
    struct buf *b = &r->app->out;
    cJSON *body;

    if (cat == NULL || (body = request_read_json(r)) == NULL)
        return r->status;
    if (json_get_string(body, "card_id", 1, &card_id, &e) < 0 ||
        json_get_string(body, "user_answer", 1, &answer, &e) < 0 ||
        json_get_string(body, "mode", 0, &mode, &e) < 0)
        goto fail;
    if (mode != NULL && strcmp(mode, "heuristic") != 0 && strcmp(mode, "ai") != 0) {
        err_set(&e, 422, "invalid_mode", "mode must be \"heuristic\" or \"ai\"");
        goto fail;
    }
    if (text_utf8_length(answer) > ANSWER_MAX_CHARS) {
        err_set(&e, 422, "answer_too_long", "user_answer is longer than 10000 characters");
        goto fail;
    }
    if ((card = catalogue_card(cat, card_id)) == NULL) {
        err_set(&e, 404, "card_not_found", "no such card");
        goto fail;
    }
    if (grade_study_answer(r->arena, card->short_answer, card->n_short, card->answer_text, answer,
                           &g, &e) < 0)
        goto fail;
    /* The model only when asked (docs/ai.md); the heuristic result above
     * stays whenever the model does not grade. */
    if (mode != NULL && strcmp(mode, "ai") == 0 && api_ai_study_check(r, card, answer, &g, &ai) < 0)
        return r->status;
    buf_puts(b, "{\"card_id\":");
    buf_json_string(b, card->card_id);
    buf_puts(b, ",\"awarded_points\":");
    buf_json_number(b, g.awarded_points);
    buf_puts(b, ",\"max_points\":");
    buf_json_number(b, g.max_points);
    buf_puts(b, ",\"verdict\":");
    buf_json_string(b, g.verdict);
    buf_puts(b, ",\"reasoning_summary\":");
    buf_json_string(b, g.reasoning_summary);
    buf_puts(b, ",\"mistakes\":");
    render_strings(b, g.mistakes, g.nmistakes);
    buf_puts(b, ",\"missing_points\":");
    render_strings(b, g.mistakes, g.nmistakes);
    buf_puts(b, ",\"improved_answer_suggestion\":");
    buf_json_string(b, g.improved_answer_suggestion);
    buf_printf(b, ",\"suggested_rating\":%d,\"grader\":", g.suggested_rating);
    buf_json_string(b, ai.grader);
    buf_puts(b, ",\"model\":");
    if (ai.model != NULL)
        buf_json_string(b, ai.model);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"fallback_reason\":");
    if (ai.fallback != NULL)
        buf_json_string(b, ai.fallback);
    else
        buf_puts(b, "null");
    buf_putc(b, '}');
    return render_send(r, 200);
fail:
    request_send_error(r, &e, NULL);
    return r->status;
}
