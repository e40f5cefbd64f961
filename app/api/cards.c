/*
 * The catalogue as a learner browses it, and flags on cards (docs/api.md
 * "Browse, search and flags"):
 *   GET    /api/cards                  topic, sheet, flagged, mistakes, q, limit, cursor
 *   PUT    /api/cards/{card_id}/flag   optional {"note": "..."} (<= 500 characters)
 *   DELETE /api/cards/{card_id}/flag
 * The cursor is opaque to clients: the base64url of the last card id sent.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/render.h"
#include "core/b64.h"
#include "core/text.h"
#include "http/app.h"
#include "sks/cards.h"
#include "sks/fsrs.h"

#define CURSOR_MAX 128

static int bool_query(struct request *r, const char *name, int *out)
{
    const char *v = request_query(r, name);

    *out = v != NULL && strcmp(v, "true") == 0;
    if (v != NULL && strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        request_fail(r, 422, "invalid_filter", "flagged and mistakes take true or false", NULL);
        return -1;
    }
    return 0;
}

/* An integer query parameter within lo..hi; -1 after answering 422 `code`. */
static int int_query(struct request *r, const char *name, int lo, int hi, int *out,
                     const char *code, const char *msg)
{
    const char *v = request_query(r, name);
    char *end;
    long n;

    if (v == NULL)
        return 0;
    n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi) {
        request_fail(r, 422, code, msg, NULL);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* The catalogue index the cursor names, -1 without one; -2 after 422. */
static int parse_cursor(struct request *r, const struct catalogue *cat)
{
    const char *v = request_query(r, "cursor");
    unsigned char id[CURSOR_MAX + 1];
    size_t n = 0;
    const struct cat_card *k;

    if (v == NULL)
        return -1;
    if (strlen(v) > B64_ENCODED_LEN(CURSOR_MAX) ||
        b64_url_decode(v, strlen(v), 0, id, CURSOR_MAX, &n) < 0 || n == 0 ||
        memchr(id, '\0', n) != NULL)
        goto bad;
    id[n] = '\0';
    if ((k = catalogue_card(cat, (const char *)id)) == NULL)
        goto bad;
    return k->position;
bad:
    request_fail(r, 422, "invalid_cursor", "cursor is not one this API returned", NULL);
    return -2;
}

static const char *state_name(int state)
{
    if (state < 0 || state == FSRS_NEW)
        return "new";
    return state == FSRS_REVIEW ? "review" : "learning";
}

int api_cards_list(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    struct cards_filter f = {.topic = -1};
    struct cards_learner l;
    struct search_query q;
    struct err e = {0};
    struct buf *b = &r->app->out;
    const char *topic, *text;
    int limit = CARDS_LIMIT_DEFAULT, after, *idx, n, total, more;

    if (cat == NULL)
        return r->status;
    if ((topic = request_query(r, "topic")) != NULL &&
        (f.topic = catalogue_topic_index(topic)) < 0) {
        request_fail(r, 422, "invalid_topic", "unknown topic (see GET /api/topics)", NULL);
        return 422;
    }
    if (int_query(r, "sheet", 1, CATALOGUE_EXAM_SHEETS, &f.sheet, "invalid_sheet",
                  "sheet must be an official sheet from 1 to 15") < 0 ||
        int_query(r, "limit", 1, CARDS_LIMIT_MAX, &limit, "invalid_limit",
                  "limit must be an integer from 1 to 100") < 0 ||
        bool_query(r, "flagged", &f.flagged) < 0 || bool_query(r, "mistakes", &f.mistakes) < 0)
        return r->status;
    text = request_query(r, "q");
    if (search_query_parse(r->arena, text, &q) < 0) {
        request_fail(r, 422, "invalid_query", "q must be at most 200 bytes", NULL);
        return 422;
    }
    f.q = &q;
    if ((after = parse_cursor(r, cat)) < -1)
        return r->status;
    if (cards_learner_load(r->app->db, cat, r->user.id, f.mistakes, r->arena, &l, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    idx = arena_alloc(r->arena, (size_t)limit * sizeof(*idx));
    n = cards_select(cat, &l, &f, after, limit, idx, &total, &more);
    buf_puts(b, "{\"cards\":[");
    for (int i = 0; i < n; i++) {
        const struct cat_card *k = &cat->cards[idx[i]];
        const struct cards_state *s = &l.cards[idx[i]];
        buf_puts(b, i > 0 ? ",{\"card\":" : "{\"card\":");
        buf_append(b, k->json, k->json_len);
        buf_puts(b, ",\"state\":");
        buf_json_string(b, state_name(s->state));
        buf_puts(b, ",\"due\":");
        if (s->state >= 0)
            render_time(b, s->due_us);
        else
            buf_puts(b, "null");
        buf_printf(b, ",\"flagged\":%s,\"note\":", s->flagged ? "true" : "false");
        if (s->note != NULL)
            buf_json_string(b, s->note);
        else
            buf_puts(b, "null");
        buf_putc(b, '}');
    }
    buf_printf(b, "],\"total\":%d,\"next_cursor\":", total);
    if (more && n > 0) {
        const char *id = cat->cards[idx[n - 1]].card_id;
        char *c = arena_alloc(r->arena, B64_ENCODED_LEN(strlen(id)) + 1);
        b64_url_encode((const unsigned char *)id, strlen(id), c);
        buf_json_string(b, c);
    } else {
        buf_puts(b, "null");
    }
    buf_putc(b, '}');
    return render_send(r, 200);
}

static void send_flag(struct request *r, const char *card_id, const struct cards_flag *fl)
{
    struct buf *b = &r->app->out;

    buf_puts(b, "{\"card_id\":");
    buf_json_string(b, card_id);
    buf_puts(b, ",\"flagged\":true,\"note\":");
    if (fl->note != NULL)
        buf_json_string(b, fl->note);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"created_at\":");
    render_time(b, fl->created_us);
    buf_puts(b, ",\"updated_at\":");
    render_time(b, fl->updated_us);
    buf_putc(b, '}');
}

int api_card_flag_put(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const struct cat_card *card;
    const char *note = NULL, *len = request_param(r, "CONTENT_LENGTH");
    struct cards_flag fl;
    struct err e = {0};

    if (cat == NULL)
        return r->status;
    if ((card = catalogue_card(cat, r->params[0])) == NULL) {
        request_fail(r, 404, "card_not_found", "no such card", NULL);
        return 404;
    }
    /* The body is optional: no body (or {}) flags without a note. */
    if (len != NULL && *len != '\0' && strcmp(len, "0") != 0) {
        const cJSON *item;
        cJSON *body = request_read_json(r);
        if (body == NULL)
            return r->status;
        item = cJSON_GetObjectItemCaseSensitive(body, "note");
        if (item != NULL && !cJSON_IsNull(item)) {
            if (!cJSON_IsString(item)) {
                request_fail(r, 422, "invalid_note", "note must be a string or null", NULL);
                return 422;
            }
            if (text_utf8_length(item->valuestring) > CARDS_NOTE_MAX_CHARS) {
                request_fail(r, 422, "note_too_long", "note is longer than 500 characters", NULL);
                return 422;
            }
            if (item->valuestring[0] != '\0')
                note = item->valuestring;
        }
    }
    if (cards_flag_put(r->app->db, r->user.id, card->card_id, note, r->arena, &fl, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    send_flag(r, card->card_id, &fl);
    return render_send(r, 200);
}

int api_card_flag_delete(struct request *r)
{
    const struct catalogue *cat = app_catalogue_or_fail(r);
    const struct cat_card *card;
    struct err e = {0};

    if (cat == NULL)
        return r->status;
    if ((card = catalogue_card(cat, r->params[0])) == NULL) {
        request_fail(r, 404, "card_not_found", "no such card", NULL);
        return 404;
    }
    if (cards_flag_delete(r->app->db, r->user.id, card->card_id, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    request_send_empty(r, 204, NULL);
    return 204;
}
