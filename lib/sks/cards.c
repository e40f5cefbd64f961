#include "sks/cards.h"

#include <stdlib.h>
#include <string.h>

#include "sks/order.h"

#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"

/* $1 user, $2 also mistakes. Kinds: 0 the variant, 1 a studied card
 * (state, due, mistake), 2 a flag (note). */
// clang-format off
static const struct db_stmt learner_sql = {
    "cards_learner",
    "SELECT 0, coalesce((SELECT variant FROM user_settings WHERE user_id = $1::bigint), 'sail'),"
    "  NULL::int, NULL::bigint, NULL::boolean, NULL::text"
    " UNION ALL SELECT 1, cs.card_id, cs.state::int, " US("cs.due") ","
    "  $2::boolean AND (cs.lapses > 0 OR EXISTS (SELECT 1 FROM review_logs r"
    "   WHERE r.user_id = $1::bigint AND r.reviewed_at = cs.last_review"
    "   AND r.card_id = cs.card_id AND r.applied AND r.rating = 1)), NULL"
    " FROM card_states cs WHERE cs.user_id = $1::bigint"
    " UNION ALL SELECT 2, f.card_id, NULL, NULL, NULL, f.note FROM card_flags f"
    " WHERE f.user_id = $1::bigint"};
// clang-format on

int cards_learner_load(struct db *db, const struct catalogue *cat, const char *user_id,
                       int mistakes, struct arena *a, struct cards_learner *out, struct err *e)
{
    const char *params[2] = {user_id, mistakes ? "t" : "f"};
    PGresult *r = db_query(db, &learner_sql, 2, params, 0, e);

    if (r == NULL)
        return -1;
    out->variant = ORDER_SAIL;
    out->cards = arena_alloc(a, (size_t)cat->ncards * sizeof(*out->cards));
    memset(out->cards, 0, (size_t)cat->ncards * sizeof(*out->cards));
    for (int i = 0; i < cat->ncards; i++)
        out->cards[i].state = -1;
    for (int row = 0; row < PQntuples(r); row++) {
        int kind = atoi(PQgetvalue(r, row, 0));
        const struct cat_card *card;
        struct cards_state *s;
        if (kind == 0) {
            out->variant = order_variant_parse(PQgetvalue(r, row, 1)) == ORDER_MOTOR ? ORDER_MOTOR
                                                                                     : ORDER_SAIL;
            continue;
        }
        if ((card = catalogue_card(cat, PQgetvalue(r, row, 1))) == NULL)
            continue; /* retired */
        s = &out->cards[card->position];
        if (kind == 1) {
            s->state = (signed char)atoi(PQgetvalue(r, row, 2));
            s->due_us = strtoll(PQgetvalue(r, row, 3), NULL, 10);
            s->mistake = strcmp(PQgetvalue(r, row, 4), "t") == 0;
        } else {
            s->flagged = 1;
            s->note = PQgetisnull(r, row, 5) ? NULL : arena_strdup(a, PQgetvalue(r, row, 5));
        }
    }
    PQclear(r);
    return 0;
}

static int on_sheet(const struct cat_card *k, int sheet)
{
    for (int i = 0; i < k->n_sheets; i++)
        if (k->sheets[i] == sheet)
            return 1;
    return 0;
}

int cards_select(const struct catalogue *cat, const struct cards_learner *l,
                 const struct cards_filter *f, int after, int limit, int *out, int *total,
                 int *more)
{
    int n = 0;

    *total = 0;
    *more = 0;
    for (int i = 0; i < cat->ncards; i++) {
        const struct cat_card *k = &cat->cards[i];
        const struct cards_state *s = &l->cards[i];
        if (!order_topic_in_variant(k->topic, l->variant) ||
            (f->topic >= 0 && k->topic != f->topic) || (f->sheet > 0 && !on_sheet(k, f->sheet)) ||
            (f->flagged && !s->flagged) || (f->mistakes && !s->mistake) ||
            (f->q != NULL && f->q->n > 0 && !search_match(k->search_text, f->q)))
            continue;
        (*total)++;
        if (i <= after)
            continue;
        if (n < limit)
            out[n++] = i;
        else
            *more = 1;
    }
    return n;
}

// clang-format off
static const struct db_stmt flag_put_sql = {
    "cards_flag_put",
    "INSERT INTO card_flags AS f (user_id, card_id, note) VALUES ($1::bigint, $2::text, $3::text)"
    " ON CONFLICT (user_id, card_id) DO UPDATE SET note = EXCLUDED.note,"
    "  updated_at = CASE WHEN f.note IS DISTINCT FROM EXCLUDED.note THEN now() ELSE f.updated_at END"
    " RETURNING " US("f.created_at") ", " US("f.updated_at") ", f.note"};
// clang-format on

static const struct db_stmt flag_delete_sql = {
    "cards_flag_delete",
    "DELETE FROM card_flags WHERE user_id = $1::bigint AND card_id = $2::text"};

int cards_flag_put(struct db *db, const char *user_id, const char *card_id, const char *note,
                   struct arena *a, struct cards_flag *out, struct err *e)
{
    const char *params[3] = {user_id, card_id, note};
    PGresult *r = db_query(db, &flag_put_sql, 3, params, 0, e);

    if (r == NULL)
        return -1;
    out->created_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out->updated_us = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    out->note = PQgetisnull(r, 0, 2) ? NULL : arena_strdup(a, PQgetvalue(r, 0, 2));
    PQclear(r);
    return 0;
}

int cards_flag_delete(struct db *db, const char *user_id, const char *card_id, struct err *e)
{
    const char *params[2] = {user_id, card_id};
    PGresult *r = db_query(db, &flag_delete_sql, 2, params, 0, e);

    if (r == NULL)
        return -1;
    PQclear(r);
    return 0;
}
