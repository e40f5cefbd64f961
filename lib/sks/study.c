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
    " coalesce(s.variant, 'sail') AS variant, CASE s.variant WHEN 'motor' THEN 'seemannschaft_i'"  \
    " ELSE 'seemannschaft_ii' END AS ex"                                                           \
    " FROM (SELECT 1) AS one LEFT JOIN user_settings s ON s.user_id = $1::bigint)"

/* New cards introduced today (their first review happened today). */
#define INTRO_CTE                                                                                  \
    "intro AS (SELECT count(*) AS n FROM review_logs r, st"                                        \
    " WHERE r.user_id = $1::bigint AND r.state = 0 AND r.applied"                                  \
    " AND r.reviewed_at >= date_trunc('day', now() AT TIME ZONE st.tz) AT TIME ZONE st.tz)"

#define UNSEEN                                                                                     \
    "NOT c.retired AND NOT EXISTS (SELECT 1 FROM card_states x"                                    \
    " WHERE x.user_id = $1::bigint AND x.card_id = c.card_id)"

/* The study queue's parts over a candidate set: $1 user, $2 topic or NULL,
 * $3 limit, $4 practice. Only the learner's variant (st.ex is the other
 * one's topic); new cards in the mixed order (cards.new_rank,
 * lib/sks/order.h). Parts: 0 due, 1 new, 2 ahead (practice), 3 one row:
 * new cards left today, now. `STATES` is the card_states rows to consider
 * (as cs), `NEW_FROM` the unseen cards (as c), `PICK_CS`/`PICK_C` further
 * conditions on them. */
// clang-format off
#define QUEUE_SQL(STATES, NEW_FROM, PICK_CS, PICK_C)                                               \
    "WITH " SETTINGS_CTE ", " INTRO_CTE ","                                                        \
    " due AS (SELECT " STATE_COLS " FROM " STATES ", st"                                           \
    "  WHERE cs.user_id = $1::bigint AND cs.due <= now()"                                          \
    "   AND ($2::text IS NULL OR starts_with(cs.card_id, $2::text || '_'))"                        \
    "   AND NOT starts_with(cs.card_id, st.ex || '_')" PICK_CS                                     \
    "  ORDER BY cs.due, cs.last_review NULLS FIRST, cs.card_id COLLATE \"C\" LIMIT $3::int),"      \
    " left_today AS (SELECT greatest(0, st.per_day - intro.n) AS n FROM st, intro),"               \
    " fresh AS (SELECT c.card_id FROM " NEW_FROM ", st"                                            \
    "  WHERE ($2::text IS NULL OR c.topic = $2::text) AND c.topic <> st.ex" PICK_C                 \
    "   AND " UNSEEN " ORDER BY c.new_rank, c.position"                                            \
    "  LIMIT (SELECT greatest(0, least(n, $3::int - (SELECT count(*) FROM due))) FROM left_today)),"\
    " ahead AS (SELECT " STATE_COLS " FROM " STATES ", st"                                         \
    "  WHERE $4::boolean AND cs.user_id = $1::bigint AND cs.due > now()"                           \
    "   AND ($2::text IS NULL OR starts_with(cs.card_id, $2::text || '_'))"                        \
    "   AND NOT starts_with(cs.card_id, st.ex || '_')" PICK_CS                                     \
    "  ORDER BY cs.due, cs.last_review NULLS FIRST, cs.card_id COLLATE \"C\""                      \
    "  LIMIT greatest(0, $3::int - (SELECT count(*) FROM due) - (SELECT count(*) FROM fresh)))"    \
    " SELECT 0, due.* FROM due"                                                                    \
    " UNION ALL SELECT 1, card_id, 0, 0, 0, 0, 0, 0, 0, NULL, NULL FROM fresh"                     \
    " UNION ALL SELECT 2, ahead.* FROM ahead"                                                      \
    " UNION ALL SELECT 3, NULL, n::int, 0, 0, 0, 0, 0, 0, " US("now()") ", NULL FROM left_today"

/* Every card of the learner. */
static const struct db_stmt queue_sql = {"study_queue",
                                         QUEUE_SQL("card_states cs", "cards c", "", "")};

/* A selection (study.h): $5 card ids (a sheet's or the given ones, at most
 * 30) or NULL, $6 flagged only, $7 mistakes only. A mistake: a card that
 * lapsed or whose last review was rated Again (the applied log row at its
 * last_review); never a new card. */
#define PICK(a)                                                                                    \
    " AND (NOT $6::boolean OR EXISTS (SELECT 1 FROM card_flags f"                                  \
    "  WHERE f.user_id = $1::bigint AND f.card_id = " a ".card_id))"
#define MISTAKE                                                                                    \
    " AND (NOT $7::boolean OR cs.lapses > 0 OR EXISTS (SELECT 1 FROM review_logs r"                \
    "  WHERE r.user_id = $1::bigint AND r.reviewed_at = cs.last_review"                            \
    "  AND r.card_id = cs.card_id AND r.applied AND r.rating = 1))"

/* With card ids: their rows by primary key (a few probes), not a scan of
 * the learner's rows. */
static const struct db_stmt queue_set_sql = {
    "study_queue_set",
    QUEUE_SQL("card_states cs", "cards c",
              " AND cs.card_id = ANY($5::text[])" PICK("cs") MISTAKE,
              " AND c.card_id = ANY($5::text[])" PICK("c") " AND NOT $7::boolean")};

/* Flags or mistakes over all the learner's cards: the flags first (a few
 * rows by key), or, for mistakes, the learner's rows. */
static const struct db_stmt queue_pick_sql = {
    "study_queue_pick",
    QUEUE_SQL("card_states cs", "cards c",
              " AND (NOT $6::boolean OR cs.card_id IN (SELECT f.card_id FROM card_flags f"
              "  WHERE f.user_id = $1::bigint))" MISTAKE,
              " AND NOT $7::boolean AND $5::text[] IS NULL AND c.card_id IN (SELECT f.card_id"
              "  FROM card_flags f WHERE f.user_id = $1::bigint)")};
// clang-format on

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

int study_queue_load(struct db *db, const struct catalogue *cat, const char *user_id,
                     enum study_mode mode, int topic, int limit, struct arena *a,
                     struct study_queue *out, struct err *e)
{
    struct study_filter f = {.topic = topic, .sheet = 0};
    return study_queue_load_filter(db, cat, user_id, mode, &f, limit, a, out, e);
}

int study_queue_load_filter(struct db *db, const struct catalogue *cat, const char *user_id,
                            enum study_mode mode, const struct study_filter *f, int limit,
                            struct arena *a, struct study_queue *out, struct err *e)
{
    char lim[16];
    const char *params[7] = {user_id,
                             f->topic >= 0 ? catalogue_topics[f->topic].value : NULL,
                             lim,
                             mode == STUDY_PRACTICE ? "t" : "f",
                             NULL,
                             f->flagged ? "t" : "f",
                             f->mistakes ? "t" : "f"};
    PGresult *r;
    int rows;

    snprintf(lim, sizeof(lim), "%d", limit);
    memset(out, 0, sizeof(*out));
    if (f->n_cards > 0) {
        struct pgarr ids;
        pgarr_begin(&ids);
        for (int i = 0; i < f->n_cards; i++)
            pgarr_text(&ids, f->cards[i]->card_id);
        params[4] = pgarr_end(&ids, a);
    } else if (f->sheet >= 1 && f->sheet <= CATALOGUE_EXAM_SHEETS) {
        struct pgarr ids;
        pgarr_begin(&ids);
        for (int i = 0; i < cat->sheet_count[f->sheet]; i++)
            pgarr_text(&ids, cat->cards[cat->sheet_cards[f->sheet][i]].card_id);
        params[4] = pgarr_end(&ids, a);
    }
    if (params[4] != NULL)
        r = db_query(db, &queue_set_sql, 7, params, 0, e);
    else if (f->flagged || f->mistakes)
        r = db_query(db, &queue_pick_sql, 7, params, 0, e);
    else
        r = db_query(db, &queue_sql, 4, params, 0, e);
    if (r == NULL)
        return -1;
    rows = PQntuples(r);
    out->items = arena_alloc(a, (size_t)(rows > 0 ? rows : 1) * sizeof(*out->items));
    /* The meta row (part 3) is last: read it first for the new cards' due. */
    for (int i = 0; i < rows; i++)
        if (atoi(PQgetvalue(r, i, 0)) == 3) {
            out->new_today_left = atoi(PQgetvalue(r, i, 2));
            out->now_us = strtoll(PQgetvalue(r, i, 9), NULL, 10);
        }
    /* Parts in order: due, new, ahead (UNION ALL keeps no order by itself). */
    for (int part = 0; part < 3; part++) {
        for (int i = 0; i < rows; i++) {
            struct study_card *s;
            const struct cat_card *card;
            if (atoi(PQgetvalue(r, i, 0)) != part)
                continue;
            card = catalogue_card(cat, PQgetvalue(r, i, 1));
            if (card == NULL)
                continue; /* retired since it was scheduled */
            s = &out->items[out->n++];
            s->card = card;
            if (part == 1)
                fsrs_card_init(&s->fsrs, out->now_us);
            else
                read_state(r, i, &s->fsrs);
        }
    }
    PQclear(r);
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
                    PQclear(r);
                    return err_set(e, 409, "review_id_conflict",
                                   "review_id %s was already used for another review", id);
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

/* Kinds: 0 one summary row (variant, reviews today, streak, now, the
 * readiness instant and date, new cards still allowed today, days to the
 * exam (NULL without a date), the daily limit, cards met today, the plan's
 * deadline), 2 every scheduled card (due flag, and what readiness and the
 * plan need: FSRS's next stability depends on state, stability, difficulty
 * and the days since the last review only; reps and lapses are counters). The new cards themselves
 * are the first unseen ones of the mixed order: worked out in C from the rows. */
// clang-format off
static const struct db_stmt dashboard_sql = {
    "study_dashboard",
    "WITH " SETTINGS_CTE ", " INTRO_CTE ","
    " today AS (SELECT (now() AT TIME ZONE st.tz)::date AS d FROM st),"
    " runs AS (SELECT day, day + (row_number() OVER (ORDER BY day DESC))::int AS grp"
    "  FROM review_days WHERE user_id = $1::bigint AND day <= (SELECT d FROM today)),"
    " streak AS (SELECT CASE WHEN max(day) >= (SELECT d FROM today) - 1 THEN count(*) ELSE 0 END"
    "  AS n FROM runs WHERE grp = (SELECT grp FROM runs ORDER BY day DESC LIMIT 1))"
    " SELECT 0, st.variant, coalesce((SELECT reviews FROM review_days"
    "   WHERE user_id = $1::bigint AND day = today.d), 0)::int, (SELECT n FROM streak)::int,"
    "  NULL::float8, NULL::float8, " US("now()") ","
    "  " US("greatest(now(), coalesce(st.exam_date, today.d)::timestamp AT TIME ZONE st.tz)") ","
    "  coalesce(st.exam_date, today.d)::text, greatest(0, st.per_day - intro.n)::int,"
    "  (st.exam_date - today.d)::int, st.per_day::int, intro.n::int,"
    "  (st.exam_date - " PLAN_DEADLINE_DAYS_SQL ")::text, NULL::int"
    "  FROM st, today, intro"
    " UNION ALL SELECT 2, cs.card_id, cs.state::int, (cs.due <= now())::int, cs.stability,"
    "  cs.difficulty, " US("cs.last_review") ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    " FROM card_states cs WHERE cs.user_id = $1::bigint"};
// clang-format on

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

int study_dashboard_load(struct db *db, const struct catalogue *cat, const char *user_id,
                         struct study_dashboard *out, struct err *e)
{
    const char *params[1] = {user_id};
    struct fsrs_card *states;
    unsigned char *seen;
    PGresult *r = db_query(db, &dashboard_sql, 1, params, 0, e);
    int scheduled = 0, best = 0, new_left = 0;
    long long now_us = 0;

    if (r == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    out->recommended_topic = -1;
    states = calloc((size_t)cat->ncards, sizeof(*states)); /* NEW (0) unless read */
    seen = calloc((size_t)cat->ncards, 1);
    if (states == NULL || seen == NULL)
        abort();
    /* The summary row first: the variant decides what the others count. */
    for (int row = 0; row < PQntuples(r); row++) {
        if (atoi(PQgetvalue(r, row, 0)) != 0)
            continue;
        out->variant =
            order_variant_parse(PQgetvalue(r, row, 1)) == ORDER_MOTOR ? ORDER_MOTOR : ORDER_SAIL;
        out->reviewed_today = atoi(PQgetvalue(r, row, 2));
        out->streak_days = atoi(PQgetvalue(r, row, 3));
        now_us = strtoll(PQgetvalue(r, row, 6), NULL, 10);
        out->readiness_at_us = strtoll(PQgetvalue(r, row, 7), NULL, 10);
        snprintf(out->exam_date, sizeof(out->exam_date), "%s", PQgetvalue(r, row, 8));
        new_left = atoi(PQgetvalue(r, row, 9));
        out->has_exam_date = !PQgetisnull(r, row, 10);
        out->days_left = out->has_exam_date ? atoi(PQgetvalue(r, row, 10)) : 0;
        out->new_cards_per_day = atoi(PQgetvalue(r, row, 11));
        out->introduced_today = atoi(PQgetvalue(r, row, 12));
        snprintf(out->deadline, sizeof(out->deadline), "%s", PQgetvalue(r, row, 13));
    }
    for (int row = 0; row < PQntuples(r); row++) {
        const struct cat_card *card;
        struct fsrs_card *st;
        if (atoi(PQgetvalue(r, row, 0)) != 2 ||
            (card = catalogue_card(cat, PQgetvalue(r, row, 1))) == NULL)
            continue;
        seen[card->position] = 1;
        st = &states[card->position];
        st->state = atoi(PQgetvalue(r, row, 2));
        st->stability = strtod(PQgetvalue(r, row, 4), NULL);
        st->difficulty = strtod(PQgetvalue(r, row, 5), NULL);
        st->has_last_review = !PQgetisnull(r, row, 6);
        st->last_review_us = strtoll(PQgetvalue(r, row, 6), NULL, 10);
        if (!order_topic_in_variant(card->topic, out->variant))
            continue; /* kept (switching back finds it), never counted */
        scheduled++;
        if (atoi(PQgetvalue(r, row, 3)) == 1) {
            out->due_scheduled++;
            out->due_by_topic[card->topic]++;
        }
    }
    PQclear(r);
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
    dashboard_plan(cat, states, seen, now_us, out);
    free(states);
    free(seen);
    return 0;
}
