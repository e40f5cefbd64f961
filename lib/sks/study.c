#include "sks/study.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/rand.h>

#include "core/buf.h"
#include "infra/pgarr.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "sks/order.h"
#include "sks/plan.h"

#define DAY_US 86400000000LL
#define PLAN_DEADLINE_DAYS_SQL "7" /* PLAN_DEADLINE_DAYS, as SQL text */
#define APPLY_ATTEMPTS 8

/* Instants cross the wire as Unix microseconds: exact, no time zone. */
#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define TS(x) "('epoch'::timestamptz + " x " * interval '1 microsecond')"

#define STATE_COLS                                                                                 \
    "cs.card_id, cs.state, cs.stability, cs.difficulty, cs.elapsed_days, cs.scheduled_days,"       \
    " cs.reps, cs.lapses, " US("cs.due") ", " US("cs.last_review")

#define SETTINGS_CTE                                                                               \
    "st AS (SELECT coalesce(s.timezone, '" STUDY_TIMEZONE_DEFAULT "') AS tz,"                      \
    " coalesce(s.new_cards_per_day, 20) AS per_day, s.exam_date,"                                  \
    " coalesce(s.variant, 'sail') AS variant"                                                      \
    " FROM (SELECT 1) AS one LEFT JOIN user_settings s ON s.user_id = $1::bigint)"

/* Everything a study read is computed from, in one statement ($1 user, $2
 * the version of the state the worker holds, -1 for none): kind 0, one row
 * of the learner's settings and clock (the exam or today's date, the daily
 * new-card limit, today's date, days to the exam, now, the start of today
 * and the readiness instant in the learner's zone, the version now, the
 * variant, the plan's deadline); then, only when the version moved, kind 1
 * per card_states row (with its first review, and whether the review at its
 * last_review was rated Again), kind 2 per review_days row and kind 3 per
 * flagged card. One statement is one snapshot: the rows are those of the
 * version read. */
// clang-format off
static const struct db_stmt state_sql = {
    "study_state",
    "WITH " SETTINGS_CTE ","
    " v AS (SELECT coalesce((SELECT version FROM study_versions WHERE user_id = $1::bigint), 0)"
    "  AS n),"
    " t AS (SELECT now() AT TIME ZONE st.tz AS local, st.* FROM st)"
    " SELECT 0, coalesce(t.exam_date, t.local::date)::text, t.per_day::int, NULL::float8,"
    "  NULL::float8, (t.local::date - DATE '1970-01-01')::int, (t.exam_date - t.local::date)::int,"
    "  NULL::int, NULL::int, " US("now()") ", " US("(date_trunc('day', t.local) AT TIME ZONE t.tz)") ","
    "  " US("greatest(now(), coalesce(t.exam_date, t.local::date)::timestamp AT TIME ZONE t.tz)") ","
    "  v.n, t.variant::text, (t.exam_date - " PLAN_DEADLINE_DAYS_SQL ")::text, NULL::boolean"
    "  FROM t, v"
    " UNION ALL SELECT 1, " STATE_COLS ", " US("f.at") ", NULL, NULL, NULL,"
    "  (SELECT bool_or(r.rating = 1) FROM review_logs r WHERE r.user_id = $1::bigint"
    "   AND r.reviewed_at = cs.last_review AND r.card_id = cs.card_id AND r.applied)"
    "  FROM card_states cs LEFT JOIN (SELECT card_id, min(reviewed_at) AS at FROM review_logs"
    "   WHERE user_id = $1::bigint AND state = 0 AND applied GROUP BY card_id) f USING (card_id)"
    "  WHERE cs.user_id = $1::bigint AND (SELECT n FROM v) <> $2::bigint"
    " UNION ALL SELECT 2, NULL, NULL, NULL, NULL, (d.day - DATE '1970-01-01')::int, NULL,"
    "  d.reviews, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    "  FROM review_days d WHERE d.user_id = $1::bigint AND (SELECT n FROM v) <> $2::bigint"
    " UNION ALL SELECT 3, g.card_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  NULL, NULL, NULL, NULL"
    "  FROM card_flags g WHERE g.user_id = $1::bigint AND (SELECT n FROM v) <> $2::bigint"};
// clang-format on

/* One study read: the learner's state (held by the worker or just loaded)
 * and what the statement said of the settings and the clock. */
struct view {
    const struct study_state *st;
    struct study_state own; /* the state, when there is no cache to keep it */
    long long now_us, day_start_us, readiness_at_us;
    int today, per_day, variant, has_exam_date, days_left;
    char exam_date[11], deadline[11];
};

/* Columns 1..10 of a state row into c (column 1 is the card id). */
static void read_state(const PGresult *r, int row, struct fsrs_card *c)
{
    c->state = atoi(PQgetvalue(r, row, 2));
    c->stability = strtod(PQgetvalue(r, row, 3), NULL);
    c->difficulty = strtod(PQgetvalue(r, row, 4), NULL);
    c->elapsed_days = atoi(PQgetvalue(r, row, 5));
    c->scheduled_days = atoi(PQgetvalue(r, row, 6));
    c->reps = atoi(PQgetvalue(r, row, 7));
    c->lapses = atoi(PQgetvalue(r, row, 8));
    c->due_us = strtoll(PQgetvalue(r, row, 9), NULL, 10);
    c->has_last_review = !PQgetisnull(r, row, 10);
    c->last_review_us = c->has_last_review ? strtoll(PQgetvalue(r, row, 10), NULL, 10) : 0;
}

static int by_day(const void *x, const void *y)
{
    const struct study_day *a = x, *b = y;
    return (a->day > b->day) - (a->day < b->day);
}

/* Build a state from the rows of kinds 1, 2 and 3. */
static void state_from_rows(const PGresult *r, const struct catalogue *cat, long long user,
                            long long version, struct study_state *s)
{
    int rows = PQntuples(r), nc = 0, nd = 0, nf = 0;

    memset(s, 0, sizeof(*s));
    s->user = user;
    s->version = version;
    s->cat = cat;
    for (int i = 0; i < rows; i++) {
        int kind = atoi(PQgetvalue(r, i, 0));
        nc += kind == 1;
        nd += kind == 2;
        nf += kind == 3;
    }
    if ((nc > 0 && (s->cards = malloc((size_t)nc * sizeof(*s->cards))) == NULL) ||
        (nd > 0 && (s->days = malloc((size_t)nd * sizeof(*s->days))) == NULL) ||
        (nf > 0 && (s->flags = malloc((size_t)nf * sizeof(*s->flags))) == NULL))
        abort();
    for (int i = 0; i < rows; i++) {
        int kind = atoi(PQgetvalue(r, i, 0));
        const struct cat_card *card;
        if (kind == 1) {
            struct study_sched *c = &s->cards[s->ncards++];
            card = catalogue_card(cat, PQgetvalue(r, i, 1));
            c->pos = card != NULL ? card->position : -1; /* retired: counts for intro only */
            read_state(r, i, &c->fsrs);
            c->introduced_us = PQgetisnull(r, i, 11) ? 0 : strtoll(PQgetvalue(r, i, 11), NULL, 10);
            c->again = PQgetvalue(r, i, 15)[0] == 't';
        } else if (kind == 2) {
            struct study_day *d = &s->days[s->ndays++];
            d->day = atoi(PQgetvalue(r, i, 5));
            d->reviews = atoi(PQgetvalue(r, i, 7));
        } else if (kind == 3 && (card = catalogue_card(cat, PQgetvalue(r, i, 1))) != NULL) {
            s->flags[s->nflags++] = card->position;
        }
    }
    if (s->ndays > 1)
        qsort(s->days, (size_t)s->ndays, sizeof(*s->days), by_day);
}

/* The state of `user_id` for one read, from `cache` when it still holds
 * (NULL: always loaded, released by view_release). 0, or -1 with e. */
static int view_load(struct db *db, struct studycache *cache, const struct catalogue *cat,
                     const char *user_id, struct view *v, struct err *e)
{
    long long user = strtoll(user_id, NULL, 10), version;
    const struct study_state *held = cache != NULL ? studycache_get(cache, user, cat) : NULL;
    char ver[24];
    const char *params[2] = {user_id, ver};
    PGresult *r;
    int meta = -1;

    memset(v, 0, sizeof(*v));
    snprintf(ver, sizeof(ver), "%lld", held != NULL ? held->version : -1LL);
    if ((r = db_query(db, &state_sql, 2, params, 0, e)) == NULL)
        return -1;
    for (int i = 0; i < PQntuples(r) && meta < 0; i++)
        if (atoi(PQgetvalue(r, i, 0)) == 0)
            meta = i;
    if (meta < 0) {
        PQclear(r);
        return err_set(e, 503, "db_unavailable", "the study state had no settings row");
    }
    snprintf(v->exam_date, sizeof(v->exam_date), "%s", PQgetvalue(r, meta, 1));
    v->per_day = atoi(PQgetvalue(r, meta, 2));
    v->today = atoi(PQgetvalue(r, meta, 5));
    v->has_exam_date = !PQgetisnull(r, meta, 6);
    v->days_left = v->has_exam_date ? atoi(PQgetvalue(r, meta, 6)) : 0;
    v->now_us = strtoll(PQgetvalue(r, meta, 9), NULL, 10);
    v->day_start_us = strtoll(PQgetvalue(r, meta, 10), NULL, 10);
    v->readiness_at_us = strtoll(PQgetvalue(r, meta, 11), NULL, 10);
    version = strtoll(PQgetvalue(r, meta, 12), NULL, 10);
    v->variant =
        order_variant_parse(PQgetvalue(r, meta, 13)) == ORDER_MOTOR ? ORDER_MOTOR : ORDER_SAIL;
    snprintf(v->deadline, sizeof(v->deadline), "%s", PQgetvalue(r, meta, 14));
    if (held != NULL && held->version == version) {
        v->st = held;
        studycache_count(cache, 1);
    } else if (cache != NULL) {
        struct study_state s;
        state_from_rows(r, cat, user, version, &s);
        studycache_put(cache, &s);
        v->st = studycache_get(cache, user, cat);
        studycache_count(cache, 0);
    } else {
        state_from_rows(r, cat, user, version, &v->own);
        v->st = &v->own;
    }
    PQclear(r);
    return 0;
}

static void view_release(struct view *v)
{
    free(v->own.cards);
    free(v->own.days);
    free(v->own.flags);
}

/* Cards first reviewed today: the daily new-card limit counts them. */
static int introduced_today(const struct view *v)
{
    int n = 0;
    for (int i = 0; i < v->st->ncards; i++)
        n += v->st->cards[i].introduced_us >= v->day_start_us;
    return n;
}

/* A scheduled card up for the queue, with its catalogue card for the
 * tie-break. */
struct cand {
    const struct study_sched *s;
    const struct cat_card *card;
};

/* The reference's order of scheduled cards: due, last review (never
 * first), card id (bytewise, as COLLATE "C"). */
static int by_due(const void *x, const void *y)
{
    const struct cand *a = x, *b = y;
    const struct fsrs_card *p = &a->s->fsrs, *q = &b->s->fsrs;

    if (p->due_us != q->due_us)
        return p->due_us < q->due_us ? -1 : 1;
    if (p->has_last_review != q->has_last_review)
        return p->has_last_review ? 1 : -1;
    if (p->has_last_review && p->last_review_us != q->last_review_us)
        return p->last_review_us < q->last_review_us ? -1 : 1;
    return strcmp(a->card->card_id, b->card->card_id);
}

/* What a queue may offer, per catalogue position: the learner's variant,
 * the topic, and the selection (cards or a sheet, flags). Mistakes are a
 * property of a scheduled card, checked in pick_scheduled. */
static unsigned char *allowed_cards(const struct view *v, const struct catalogue *cat,
                                    const struct study_filter *f, struct arena *a)
{
    unsigned char *ok = arena_alloc(a, (size_t)(cat->ncards > 0 ? cat->ncards : 1));
    unsigned char *flagged = NULL;

    if (f->flagged) {
        flagged = arena_alloc(a, (size_t)(cat->ncards > 0 ? cat->ncards : 1));
        memset(flagged, 0, (size_t)cat->ncards);
        for (int i = 0; i < v->st->nflags; i++)
            flagged[v->st->flags[i]] = 1;
    }
    if (f->n_cards > 0 || (f->sheet >= 1 && f->sheet <= CATALOGUE_EXAM_SHEETS)) {
        memset(ok, 0, (size_t)cat->ncards);
        if (f->n_cards > 0)
            for (int i = 0; i < f->n_cards; i++)
                ok[f->cards[i]->position] = 1;
        else
            for (int i = 0; i < cat->sheet_count[f->sheet]; i++)
                ok[cat->sheet_cards[f->sheet][i]] = 1;
    } else {
        memset(ok, 1, (size_t)cat->ncards);
    }
    for (int i = 0; i < cat->ncards; i++)
        if (ok[i] && (!order_topic_in_variant(cat->cards[i].topic, v->variant) ||
                      (f->topic >= 0 && cat->cards[i].topic != f->topic) ||
                      (flagged != NULL && !flagged[i])))
            ok[i] = 0;
    return ok;
}

/* The allowed scheduled cards due by now (due) or after it (!due), in queue
 * order, at most `max` of them into out. Returns how many. */
static int pick_scheduled(const struct view *v, const unsigned char *ok, int mistakes, int due,
                          int max, struct cand *tmp, struct study_card *out)
{
    const struct catalogue *cat = v->st->cat;
    int n = 0;

    if (max <= 0)
        return 0;
    for (int i = 0; i < v->st->ncards; i++) {
        const struct study_sched *s = &v->st->cards[i];
        if (s->pos < 0 || !ok[s->pos] || (s->fsrs.due_us <= v->now_us) != due ||
            (mistakes && !(s->fsrs.lapses > 0 || s->again)))
            continue;
        tmp[n].s = s;
        tmp[n].card = &cat->cards[s->pos];
        n++;
    }
    if (n > 1)
        qsort(tmp, (size_t)n, sizeof(*tmp), by_due);
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        out[i].card = tmp[i].card;
        out[i].fsrs = tmp[i].s->fsrs;
    }
    return n;
}

int study_queue_load(struct db *db, struct studycache *cache, const struct catalogue *cat,
                     const char *user_id, enum study_mode mode, const struct study_filter *f,
                     int limit, struct arena *a, struct study_queue *out, struct err *e)
{
    struct view v;
    struct cand *tmp;
    unsigned char *seen, *ok;
    int nnew = 0, left;

    memset(out, 0, sizeof(*out));
    if (view_load(db, cache, cat, user_id, &v, e) < 0)
        return -1;
    out->now_us = v.now_us;
    left = v.per_day - introduced_today(&v);
    out->new_today_left = left > 0 ? left : 0;
    out->items = arena_alloc(a, (size_t)(limit > 0 ? limit : 1) * sizeof(*out->items));
    tmp = arena_alloc(a, (size_t)(v.st->ncards > 0 ? v.st->ncards : 1) * sizeof(*tmp));
    seen = arena_alloc(a, (size_t)(cat->ncards > 0 ? cat->ncards : 1));
    memset(seen, 0, (size_t)cat->ncards);
    for (int i = 0; i < v.st->ncards; i++)
        if (v.st->cards[i].pos >= 0)
            seen[v.st->cards[i].pos] = 1;
    ok = allowed_cards(&v, cat, f, a);

    /* Due cards, then new ones in the mixed order up to today's limit (never
     * for mistakes: a new card has made none), then (practice) the
     * scheduled cards due soonest. */
    out->n = pick_scheduled(&v, ok, f->mistakes, 1, limit, tmp, out->items);
    for (int i = 0; i < cat->ncards && !f->mistakes && nnew < out->new_today_left && out->n < limit;
         i++) {
        int k = cat->new_order[i];
        struct study_card *c;
        if (seen[k] || !ok[k])
            continue;
        c = &out->items[out->n++];
        c->card = &cat->cards[k];
        fsrs_card_init(&c->fsrs, v.now_us);
        nnew++;
    }
    if (mode == STUDY_PRACTICE)
        out->n += pick_scheduled(&v, ok, f->mistakes, 0, limit - out->n, tmp, out->items + out->n);
    view_release(&v);
    return 0;
}

/* --- reviews ------------------------------------------------------------ */

/* The clock is clock_timestamp(), read while the statement runs, after its
 * snapshot: a review that committed before the snapshot (and so is in the
 * state read) always has an earlier time. now() is the transaction's start,
 * taken before the snapshot: a concurrent review could commit in between
 * and look newer than this one, which would then be logged but not applied. */
// clang-format off
static const struct db_stmt apply_read = {
    "study_apply_read",
    "SELECT 0, " STATE_COLS ", NULL::text, NULL::integer, NULL::boolean, NULL::bigint"
    " FROM card_states cs WHERE cs.user_id = $1::bigint AND cs.card_id = ANY($2::text[])"
    " UNION ALL"
    " SELECT 1, r.card_id, r.new_state, r.new_stability, r.new_difficulty, r.elapsed_days,"
    "  r.scheduled_days, r.new_reps, r.new_lapses, " US("r.new_due") ", " US("r.new_last_review") ","
    "  r.review_id::text, r.rating::integer, r.applied, " US("r.reviewed_at") " FROM review_logs r"
    " WHERE r.user_id = $1::bigint AND r.review_id = ANY($3::uuid[])"
    " UNION ALL"
    " SELECT 2, NULL, 0, 0, 0, 0, 0, 0, 0, " US("clock_timestamp()") ", NULL, NULL, NULL, NULL,"
    "  NULL"};
// clang-format on

/* Logs and states in one statement. `cur` locks the touched rows; `gate`
 * passes only if every row is as it was read (reps; -1 = no row yet), so a
 * concurrent review makes this write nothing. A concurrent first review of
 * the same card, or the same review id, fails the insert (23505) and rolls
 * the statement back whole. */
// clang-format off
static const struct db_stmt apply_write = {
    "study_apply_write",
    "WITH st AS (SELECT coalesce((SELECT timezone FROM user_settings WHERE user_id = $1::bigint),"
    "  '" STUDY_TIMEZONE_DEFAULT "') AS tz),"
    " fin AS (SELECT * FROM unnest($17::text[], $18::int[], $19::int[], $20::float8[],"
    "  $21::float8[], $22::int[], $23::int[], $24::int[], $25::int[], $26::bigint[], $27::bigint[])"
    "  AS f(card_id, exp, state, stab, diff, elapsed, sched, reps, lapses, due, last)),"
    " cur AS (SELECT cs.card_id, cs.reps FROM card_states cs"
    "  WHERE cs.user_id = $1::bigint AND cs.card_id = ANY($17::text[]) FOR UPDATE),"
    " gate AS (SELECT 1 AS ok WHERE NOT EXISTS (SELECT 1 FROM fin LEFT JOIN cur USING (card_id)"
    "  WHERE coalesce(cur.reps, -1) <> fin.exp)),"
    " log AS (INSERT INTO review_logs (user_id, review_id, card_id, rating, reviewed_at, applied,"
    "  state, elapsed_days, scheduled_days, new_state, new_stability, new_difficulty, new_reps,"
    "  new_lapses, new_due, new_last_review)"
    "  SELECT $1::bigint, l.review_id, l.card_id, l.rating, " TS("l.reviewed") ", l.applied,"
    "   l.state, l.elapsed, l.sched, l.new_state, l.new_stab, l.new_diff, l.new_reps,"
    "   l.new_lapses, " TS("l.new_due") ", " TS("l.new_last")
    "  FROM unnest($2::uuid[], $3::text[], $4::int[], $5::bigint[], $6::boolean[], $7::int[],"
    "   $8::int[], $9::int[], $10::int[], $11::float8[], $12::float8[], $13::int[], $14::int[],"
    "   $15::bigint[], $16::bigint[]) AS l(review_id, card_id, rating, reviewed, applied, state,"
    "   elapsed, sched, new_state, new_stab, new_diff, new_reps, new_lapses, new_due, new_last),"
    "   gate RETURNING reviewed_at),"
    " upd AS (UPDATE card_states cs SET state = f.state, stability = f.stab, difficulty = f.diff,"
    "  elapsed_days = f.elapsed, scheduled_days = f.sched, reps = f.reps, lapses = f.lapses,"
    "  due = " TS("f.due") ", last_review = " TS("f.last")
    "  FROM fin f, gate WHERE cs.user_id = $1::bigint AND cs.card_id = f.card_id AND f.exp >= 0"
    "  RETURNING 1),"
    " ins AS (INSERT INTO card_states (user_id, card_id, state, stability, difficulty,"
    "  elapsed_days, scheduled_days, reps, lapses, due, last_review)"
    "  SELECT $1::bigint, f.card_id, f.state, f.stab, f.diff, f.elapsed, f.sched, f.reps, f.lapses,"
    "   " TS("f.due") ", " TS("f.last") " FROM fin f, gate WHERE f.exp < 0 RETURNING 1),"
    " days AS (INSERT INTO review_days AS d (user_id, day, reviews)"
    "  SELECT $1::bigint, (log.reviewed_at AT TIME ZONE st.tz)::date, count(*) FROM log, st"
    "  GROUP BY 2 ON CONFLICT (user_id, day) DO UPDATE SET reviews = d.reviews + EXCLUDED.reviews"
    "  RETURNING 1)"
    " SELECT (SELECT count(*) FROM gate), (SELECT count(*) FROM log),"
    "  (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins), (SELECT count(*) FROM days)"};
// clang-format on

/* Per distinct card of a batch: its state as read, and as it evolves. */
struct slot {
    const struct cat_card *card;
    struct fsrs_card read; /* as stored (NEW when no row) */
    int has_row;
    struct fsrs_card now; /* after the reviews applied so far */
    int touched;          /* a review moved it: write it */
};

struct plan {
    struct slot *slots;
    int nslots;
    int *slot_of;                 /* by catalogue position, -1 = not in the batch */
    int *dup_of;                  /* per review: earlier review with the same id, or -1 */
    struct study_review **order;  /* the reviews to write, by time */
    struct fsrs_review_log *logs; /* parallel to order */
    int norder;
};

static int by_time(const void *x, const void *y)
{
    const struct study_review *const *a = x, *const *b = y;
    if ((*a)->reviewed_us != (*b)->reviewed_us)
        return (*a)->reviewed_us < (*b)->reviewed_us ? -1 : 1;
    return *a < *b ? -1 : *a > *b; /* stable: input order */
}

/* Ids, in-batch duplicates and the distinct cards; no database. */
static int prepare(const struct catalogue *cat, struct study_batch *b, struct plan *p,
                   struct arena *a, struct err *e)
{
    p->slots = arena_alloc(a, (size_t)b->n * sizeof(*p->slots));
    p->slot_of = arena_alloc(a, (size_t)cat->ncards * sizeof(*p->slot_of));
    p->dup_of = arena_alloc(a, (size_t)b->n * sizeof(*p->dup_of));
    p->order = arena_alloc(a, (size_t)b->n * sizeof(*p->order));
    p->logs = arena_alloc(a, (size_t)b->n * sizeof(*p->logs));
    p->nslots = 0;
    memset(p->slot_of, 0xff, (size_t)cat->ncards * sizeof(*p->slot_of));
    for (int i = 0; i < b->n; i++) {
        struct study_review *rv = &b->reviews[i];
        if (rv->review_id[0] == '\0')
            timefmt_uuid_v4(rv->review_id);
        p->dup_of[i] = -1;
        for (int j = 0; j < i; j++) {
            if (strcmp(b->reviews[j].review_id, rv->review_id) != 0)
                continue;
            if (b->reviews[j].card != rv->card || b->reviews[j].rating != rv->rating)
                return err_set(e, 422, "duplicate_review_id",
                               "review_id %s appears twice with different content", rv->review_id);
            p->dup_of[i] = j;
            break;
        }
        if (p->slot_of[rv->card->position] < 0) {
            p->slot_of[rv->card->position] = p->nslots;
            p->slots[p->nslots++].card = rv->card;
        }
    }
    return 0;
}

/* Read the cards' states and the ids already known. */
static int read_batch(struct db *db, const struct catalogue *cat, const char *user_id,
                      struct study_batch *b, struct plan *p, struct arena *a, struct err *e)
{
    struct pgarr cards, ids;
    const char *params[3];
    PGresult *r;

    pgarr_begin(&cards);
    pgarr_begin(&ids);
    for (int i = 0; i < p->nslots; i++)
        pgarr_text(&cards, p->slots[i].card->card_id);
    for (int i = 0; i < b->n; i++)
        pgarr_text(&ids, b->reviews[i].review_id);
    params[0] = user_id;
    params[1] = pgarr_end(&cards, a);
    params[2] = pgarr_end(&ids, a);
    r = db_query(db, &apply_read, 3, params, 0, e);
    if (r == NULL)
        return -1;
    for (int i = 0; i < p->nslots; i++) {
        fsrs_card_init(&p->slots[i].read, 0);
        p->slots[i].has_row = 0;
        p->slots[i].touched = 0;
    }
    for (int i = 0; i < b->n; i++)
        b->reviews[i].status = STUDY_APPLIED;
    for (int row = 0; row < PQntuples(r); row++) {
        int kind = atoi(PQgetvalue(r, row, 0));
        if (kind == 2) {
            b->now_us = strtoll(PQgetvalue(r, row, 9), NULL, 10);
        } else if (kind == 0) {
            const struct cat_card *card = catalogue_card(cat, PQgetvalue(r, row, 1));
            if (card == NULL || p->slot_of[card->position] < 0)
                continue;
            read_state(r, row, &p->slots[p->slot_of[card->position]].read);
            p->slots[p->slot_of[card->position]].has_row = 1;
        } else {
            const char *id = PQgetvalue(r, row, 11);
            int rating = atoi(PQgetvalue(r, row, 12));
            for (int i = 0; i < b->n; i++) {
                struct study_review *rv = &b->reviews[i];
                if (strcmp(rv->review_id, id) != 0)
                    continue;
                if (strcmp(rv->card->card_id, PQgetvalue(r, row, 1)) != 0 || rv->rating != rating) {
                    /* The message first: id points into r. */
                    err_set(e, 409, "review_id_conflict",
                            "review_id %s was already used for another review", id);
                    PQclear(r);
                    return -1;
                }
                rv->status = STUDY_DUPLICATE;
                read_state(r, row, &rv->after);
                /* The time recorded then (a first send may have been
                 * clamped to the server's clock), not the one sent now. */
                rv->reviewed_us = strtoll(PQgetvalue(r, row, 14), NULL, 10);
            }
        }
    }
    PQclear(r);
    return 0;
}

/* Schedule the new reviews in time order against the states as read. */
static int schedule(struct study_batch *b, struct plan *p, struct err *e)
{
    long long now = b->now_us, oldest = now - STUDY_BATCH_MAX_AGE_DAYS * DAY_US;

    p->norder = 0;
    for (int i = 0; i < b->n; i++) {
        struct study_review *rv = &b->reviews[i];
        if (rv->status == STUDY_DUPLICATE || p->dup_of[i] >= 0)
            continue;
        if (rv->reviewed_us == 0) {
            /* Server time. Never before the card's last review, even if the
             * clock stepped back: an online review always moves the card. */
            const struct slot *s = &p->slots[p->slot_of[rv->card->position]];
            rv->reviewed_us = now;
            if (s->read.has_last_review && now < s->read.last_review_us)
                rv->reviewed_us = s->read.last_review_us;
        } else if (rv->reviewed_us < oldest ||
                   rv->reviewed_us > now + STUDY_CLOCK_SKEW_S * 1000000LL) {
            return err_set(e, 422, "invalid_review_time",
                           "review %d: reviewed_at must lie within the last %d days and not in "
                           "the future",
                           i, STUDY_BATCH_MAX_AGE_DAYS);
        } else if (rv->reviewed_us > now) {
            rv->reviewed_us = now; /* a client clock a little ahead */
        }
        p->order[p->norder++] = rv;
    }
    qsort(p->order, (size_t)p->norder, sizeof(*p->order), by_time);
    for (int i = 0; i < p->nslots; i++)
        p->slots[i].now = p->slots[i].read;
    for (int i = 0; i < p->norder; i++) {
        struct study_review *rv = p->order[i];
        struct slot *s = &p->slots[p->slot_of[rv->card->position]];
        struct fsrs_review_log *log = &p->logs[i];

        if (s->now.has_last_review && rv->reviewed_us < s->now.last_review_us) {
            /* Older than what the card already saw: log it, move nothing. */
            rv->status = STUDY_LOGGED_ONLY;
            rv->after = s->now;
            *log = (struct fsrs_review_log){.rating = rv->rating,
                                            .state = s->now.state,
                                            .elapsed_days = 0,
                                            .scheduled_days = s->now.scheduled_days,
                                            .reviewed_us = rv->reviewed_us};
            continue;
        }
        if (fsrs_review(&s->now, rv->rating, rv->reviewed_us, &rv->after, log, e) < 0)
            return -1;
        rv->status = STUDY_APPLIED;
        s->now = rv->after;
        s->touched = 1;
    }
    return 0;
}

static void arr_time(struct pgarr *x, int has, long long us)
{
    if (has)
        pgarr_int(x, us);
    else
        pgarr_null(x);
}

/* Write what schedule() decided. 1 written, 0 the gate closed (retry), -1. */
static int write_batch(struct db *db, const char *user_id, struct plan *p, struct arena *a,
                       struct err *e)
{
    struct pgarr l[15], c[11];
    const char *params[27];
    PGresult *r;
    int written;

    for (int i = 0; i < 15; i++)
        pgarr_begin(&l[i]);
    for (int i = 0; i < 11; i++)
        pgarr_begin(&c[i]);
    for (int i = 0; i < p->norder; i++) {
        const struct study_review *rv = p->order[i];
        const struct fsrs_review_log *log = &p->logs[i];
        pgarr_text(&l[0], rv->review_id);
        pgarr_text(&l[1], rv->card->card_id);
        pgarr_int(&l[2], rv->rating);
        pgarr_int(&l[3], rv->reviewed_us);
        pgarr_bool(&l[4], rv->status == STUDY_APPLIED);
        pgarr_int(&l[5], log->state);
        pgarr_int(&l[6], log->elapsed_days);
        pgarr_int(&l[7], log->scheduled_days);
        pgarr_int(&l[8], rv->after.state);
        pgarr_double(&l[9], rv->after.stability);
        pgarr_double(&l[10], rv->after.difficulty);
        pgarr_int(&l[11], rv->after.reps);
        pgarr_int(&l[12], rv->after.lapses);
        pgarr_int(&l[13], rv->after.due_us);
        arr_time(&l[14], rv->after.has_last_review, rv->after.last_review_us);
    }
    for (int i = 0; i < p->nslots; i++) {
        const struct slot *s = &p->slots[i];
        if (!s->touched)
            continue;
        pgarr_text(&c[0], s->card->card_id);
        pgarr_int(&c[1], s->has_row ? s->read.reps : -1);
        pgarr_int(&c[2], s->now.state);
        pgarr_double(&c[3], s->now.stability);
        pgarr_double(&c[4], s->now.difficulty);
        pgarr_int(&c[5], s->now.elapsed_days);
        pgarr_int(&c[6], s->now.scheduled_days);
        pgarr_int(&c[7], s->now.reps);
        pgarr_int(&c[8], s->now.lapses);
        pgarr_int(&c[9], s->now.due_us);
        arr_time(&c[10], s->now.has_last_review, s->now.last_review_us);
    }
    params[0] = user_id;
    for (int i = 0; i < 15; i++)
        params[1 + i] = pgarr_end(&l[i], a);
    for (int i = 0; i < 11; i++)
        params[16 + i] = pgarr_end(&c[i], a);
    r = db_query(db, &apply_write, 27, params, 0, e);
    if (r == NULL)
        return -1;
    written = atoi(PQgetvalue(r, 0, 0)) == 1;
    PQclear(r);
    return written;
}

int study_apply(struct db *db, const struct catalogue *cat, const char *user_id,
                struct study_batch *b, struct arena *a, struct err *e)
{
    struct plan p;
    long long *given = arena_alloc(a, (size_t)b->n * sizeof(*given));
    int attempt, rc = 0;

    if (b->n < 1 || b->n > STUDY_BATCH_MAX)
        return err_set(e, 422, "validation_error", "between 1 and %d reviews", STUDY_BATCH_MAX);
    if (prepare(cat, b, &p, a, e) < 0)
        return -1;
    for (int i = 0; i < b->n; i++)
        given[i] = b->reviews[i].reviewed_us;
    for (attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
        for (int i = 0; i < b->n; i++)
            b->reviews[i].reviewed_us = given[i];
        if (read_batch(db, cat, user_id, b, &p, a, e) < 0 || schedule(b, &p, e) < 0)
            return -1;
        if (p.norder == 0)
            break; /* all known already */
        rc = write_batch(db, user_id, &p, a, e);
        if (rc == 1)
            break;
        /* db_duplicate: a concurrent first review of a card or the same id
         * committed first; db_conflict: a deadlock between two batches. */
        if (rc < 0 && strcmp(e->code, "db_duplicate") != 0 && strcmp(e->code, "db_conflict") != 0)
            return -1;
        /* A concurrent review of one of these cards, or of the same id, won:
         * read again and schedule on top of it, after a short random pause
         * that grows with each attempt, so that contenders spread out. */
        {
            unsigned char r;
            if (RAND_bytes(&r, 1) != 1)
                r = 0;
            usleep((useconds_t)(r % (1u << (attempt + 1))) * 1000u);
        }
    }
    if (attempt == APPLY_ATTEMPTS)
        return err_set(e, 409, "review_conflict",
                       "the cards kept changing concurrently; send the reviews again");
    for (int i = 0; i < b->n; i++)
        if (p.dup_of[i] >= 0) {
            b->reviews[i].status = STUDY_DUPLICATE;
            b->reviews[i].after = b->reviews[p.dup_of[i]].after;
            b->reviews[i].reviewed_us = b->reviews[p.dup_of[i]].reviewed_us;
        }
    b->cards = arena_alloc(a, (size_t)p.nslots * sizeof(*b->cards));
    b->ncards = p.nslots;
    for (int i = 0; i < p.nslots; i++) {
        struct slot *s = &p.slots[i];
        b->cards[i].card = s->card;
        if (s->touched || s->has_row)
            b->cards[i].fsrs = s->now;
        else
            fsrs_card_init(&b->cards[i].fsrs, b->now_us);
    }
    return 0;
}

/* --- settings ----------------------------------------------------------- */

static const struct db_stmt settings_get = {
    "study_settings_get",
    "SELECT coalesce(s.timezone, '" STUDY_TIMEZONE_DEFAULT "'), coalesce(s.new_cards_per_day, 20),"
    " coalesce(s.exam_date::text, ''), coalesce(s.ai_enabled, false), coalesce(s.variant, 'sail')"
    " FROM (SELECT 1) AS one LEFT JOIN user_settings s ON s.user_id = $1::bigint"};

/* A time zone must be one of the server's IANA names (not an abbreviation
 * or a POSIX offset string, which AT TIME ZONE would also take). */
static const struct db_stmt settings_put = {
    "study_settings_put",
    "INSERT INTO user_settings AS s (user_id, timezone, new_cards_per_day, exam_date, ai_enabled,"
    "  variant)"
    " SELECT $1::bigint, coalesce($2::text, '" STUDY_TIMEZONE_DEFAULT "'), coalesce($3::int, 20),"
    "  CASE WHEN $4::boolean THEN $5::date END, coalesce($6::boolean, false),"
    "  coalesce($7::text, 'sail')"
    " WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2::text)"
    " ON CONFLICT (user_id) DO UPDATE SET timezone = coalesce($2::text, s.timezone),"
    "  new_cards_per_day = coalesce($3::int, s.new_cards_per_day),"
    "  exam_date = CASE WHEN $4::boolean THEN $5::date ELSE s.exam_date END,"
    "  ai_enabled = coalesce($6::boolean, s.ai_enabled),"
    "  variant = coalesce($7::text, s.variant), updated_at = now()"
    " RETURNING timezone, new_cards_per_day, coalesce(exam_date::text, ''), ai_enabled, variant"};

static void read_settings(const PGresult *r, struct study_settings *out)
{
    snprintf(out->timezone, sizeof(out->timezone), "%s", PQgetvalue(r, 0, 0));
    out->new_cards_per_day = atoi(PQgetvalue(r, 0, 1));
    snprintf(out->exam_date, sizeof(out->exam_date), "%s", PQgetvalue(r, 0, 2));
    out->ai_enabled = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
    out->variant =
        order_variant_parse(PQgetvalue(r, 0, 4)) == ORDER_MOTOR ? ORDER_MOTOR : ORDER_SAIL;
}

int study_settings_load(struct db *db, const char *user_id, struct study_settings *out,
                        struct err *e)
{
    const char *params[1] = {user_id};
    PGresult *r = db_query(db, &settings_get, 1, params, 0, e);

    if (r == NULL)
        return -1;
    read_settings(r, out);
    PQclear(r);
    return 0;
}

int study_settings_save(struct db *db, const char *user_id, const struct study_settings_patch *p,
                        struct study_settings *out, struct err *e)
{
    char n[16];
    const char *params[7] = {user_id,
                             p->timezone,
                             p->set_new_cards ? n : NULL,
                             p->set_exam_date ? "t" : "f",
                             p->set_exam_date ? p->exam_date : NULL,
                             p->set_ai ? (p->ai_enabled ? "t" : "f") : NULL,
                             p->set_variant ? order_variant_name(p->variant) : NULL};
    PGresult *r;

    snprintf(n, sizeof(n), "%d", p->new_cards_per_day);
    r = db_query(db, &settings_put, 7, params, 0, e);
    if (r == NULL)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return err_set(e, 422, "invalid_timezone",
                       "timezone must be an IANA time zone name such as Europe/Berlin");
    }
    read_settings(r, out);
    PQclear(r);
    return 0;
}

/* --- dashboard ---------------------------------------------------------- */

/* Readiness over the official sheets. For motor, a sheet's Seemannschaft I
 * questions stand for 9 Seemannschaft II questions the data has no sheet
 * for, each answered with the mean chance over that topic. */
static void dashboard_readiness(const struct catalogue *cat, const struct fsrs_card *states,
                                struct study_dashboard *out)
{
    int sea = out->variant == ORDER_MOTOR ? ORDER_SEEMANNSCHAFT_II : ORDER_SEEMANNSCHAFT_I, n_sea;
    double sum = 0.0;

    n_sea = cat->topic_count[sea];
    for (int i = 0; i < n_sea; i++)
        sum += fsrs_retrievability(&states[cat->topic_first[sea] + i], out->readiness_at_us);
    out->seamanship_mean_p = n_sea > 0 ? sum / n_sea : 0.0;
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        double p[CATALOGUE_SHEET_QUESTIONS];
        for (int i = 0; i < cat->sheet_count[n]; i++) {
            int k = cat->sheet_cards[n][i];
            p[i] = order_topic_in_variant(cat->cards[k].topic, out->variant)
                       ? fsrs_retrievability(&states[k], out->readiness_at_us)
                       : out->seamanship_mean_p;
        }
        readiness_sheet_eval(p, cat->sheet_count[n], READINESS_SKS_PASS_POINTS, &out->sheets[n]);
        out->mean_expected_points += out->sheets[n].expected_points / CATALOGUE_EXAM_SHEETS;
        out->mean_pass_probability += out->sheets[n].pass_probability / CATALOGUE_EXAM_SHEETS;
    }
}

/* A card every official sheet of the variant can ask: sail, the cards on a
 * sheet; motor, the shared ones on a sheet and all of Seemannschaft II. */
static int plan_target(const struct cat_card *k, int variant)
{
    if (!order_topic_in_variant(k->topic, variant))
        return 0;
    return k->n_sheets > 0 || (variant == ORDER_MOTOR && k->topic == ORDER_SEEMANNSCHAFT_II);
}

/* The plan (sks/plan.h): pace, weakest sheet, its cards by gain. */
static void dashboard_plan(const struct catalogue *cat, const struct fsrs_card *states,
                           const unsigned char *seen, long long now_us, struct study_dashboard *out)
{
    struct plan_input in = {0};
    double now[CATALOGUE_SHEET_QUESTIONS], after[CATALOGUE_SHEET_QUESTIONS];
    int idx[CATALOGUE_SHEET_QUESTIONS], n = 0, pick[PLAN_FOCUS_MAX], w;

    for (int i = 0; i < cat->ncards; i++)
        if (plan_target(&cat->cards[i], out->variant)) {
            out->target_cards++;
            out->target_met += seen[i];
        }
    in.has_exam_date = out->has_exam_date;
    in.days_left = out->days_left;
    in.target_unseen = out->target_cards - out->target_met;
    in.introduced_today = out->introduced_today;
    in.new_per_day = out->new_cards_per_day;
    in.due_reviews = out->due_scheduled;
    in.new_available = out->new_available;
    plan_pace_compute(&in, &out->pace);

    w = plan_weakest_sheet(&out->sheets[1], CATALOGUE_EXAM_SHEETS);
    out->weakest_sheet = w >= 0 ? w + 1 : 0;
    if (out->weakest_sheet == 0)
        return;
    for (int i = 0; i < cat->sheet_count[out->weakest_sheet]; i++) {
        int k = cat->sheet_cards[out->weakest_sheet][i];
        struct fsrs_card before = states[k], moved;
        struct fsrs_review_log log;
        struct err e = {0};
        if (!order_topic_in_variant(cat->cards[k].topic, out->variant))
            continue;
        if (!seen[k])
            fsrs_card_init(&before, now_us);
        idx[n] = k;
        now[n] = fsrs_retrievability(&before, out->readiness_at_us);
        /* One review rated Good now; a card the model cannot move gains 0. */
        after[n] = fsrs_review(&before, 3, now_us, &moved, &log, &e) == 0
                       ? fsrs_retrievability(&moved, out->readiness_at_us)
                       : now[n];
        n++;
    }
    out->nfocus = plan_focus(now, after, n, PLAN_FOCUS_MAX, pick, out->focus_gain);
    for (int i = 0; i < out->nfocus; i++)
        out->focus[i] = idx[pick[i]];
}

/* Days with reviews in a row, ending today or yesterday (0 otherwise). */
static int streak(const struct view *v)
{
    const struct study_day *d = v->st->days;
    int i = v->st->ndays - 1, n;

    while (i >= 0 && d[i].day > v->today)
        i--; /* a day ahead of ours: the zone changed since */
    if (i < 0 || d[i].day < v->today - 1)
        return 0;
    for (n = 1; i > 0 && d[i - 1].day == d[i].day - 1; i--)
        n++;
    return n;
}

int study_dashboard_load(struct db *db, struct studycache *cache, const struct catalogue *cat,
                         const char *user_id, struct study_dashboard *out, struct err *e)
{
    struct view v;
    struct fsrs_card *states;
    unsigned char *seen;
    int scheduled = 0, best = 0, new_left;

    memset(out, 0, sizeof(*out));
    out->recommended_topic = -1;
    if (view_load(db, cache, cat, user_id, &v, e) < 0)
        return -1;
    out->variant = v.variant;
    for (int i = 0; i < v.st->ndays; i++)
        if (v.st->days[i].day == v.today)
            out->reviewed_today = v.st->days[i].reviews;
    out->streak_days = streak(&v);
    out->readiness_at_us = v.readiness_at_us;
    snprintf(out->exam_date, sizeof(out->exam_date), "%s", v.exam_date);
    out->has_exam_date = v.has_exam_date;
    out->days_left = v.days_left;
    out->new_cards_per_day = v.per_day;
    out->introduced_today = introduced_today(&v);
    snprintf(out->deadline, sizeof(out->deadline), "%s", v.deadline);
    new_left = v.per_day - out->introduced_today;
    states = calloc((size_t)cat->ncards, sizeof(*states)); /* NEW (0) unless scheduled */
    seen = calloc((size_t)cat->ncards, 1);
    if (states == NULL || seen == NULL)
        abort();
    for (int i = 0; i < v.st->ncards; i++) {
        const struct study_sched *s = &v.st->cards[i];
        const struct cat_card *card;
        if (s->pos < 0)
            continue;
        card = &cat->cards[s->pos];
        seen[s->pos] = 1;
        states[s->pos] = s->fsrs;
        if (!order_topic_in_variant(card->topic, out->variant))
            continue; /* kept (switching back finds it), never counted */
        scheduled++;
        if (s->fsrs.due_us <= v.now_us) {
            out->due_scheduled++;
            out->due_by_topic[card->topic]++;
        }
    }
    /* The new cards the daily limit still allows: the first unseen ones of
     * the variant in the mixed order, as the queue would offer them. */
    for (int i = 0; i < cat->ncards && out->new_available < new_left; i++) {
        const struct cat_card *k = &cat->cards[cat->new_order[i]];
        if (!seen[k->position] && order_topic_in_variant(k->topic, out->variant)) {
            out->new_available++;
            out->due_by_topic[k->topic]++;
        }
    }

    out->due_now = out->due_scheduled + out->new_available;
    out->available_cards = scheduled + out->new_available < STUDY_LIMIT_DEFAULT
                               ? scheduled + out->new_available
                               : STUDY_LIMIT_DEFAULT;
    for (int t = 0; t < CATALOGUE_TOPICS; t++)
        if (out->due_by_topic[t] > best) { /* strictly more: ties keep the earlier topic */
            best = out->due_by_topic[t];
            out->recommended_topic = t;
        }
    dashboard_readiness(cat, states, out);
    dashboard_plan(cat, states, seen, v.now_us, out);
    free(states);
    free(seen);
    view_release(&v);
    return 0;
}
