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

#define DAY_US 86400000000LL
#define APPLY_ATTEMPTS 8

/* Instants cross the wire as Unix microseconds: exact, no time zone. */
#define US(x) "(extract(epoch FROM " x ") * 1000000)::bigint"
#define TS(x) "('epoch'::timestamptz + " x " * interval '1 microsecond')"

#define STATE_COLS                                                                                 \
    "cs.card_id, cs.state, cs.stability, cs.difficulty, cs.elapsed_days, cs.scheduled_days,"       \
    " cs.reps, cs.lapses, " US("cs.due") ", " US("cs.last_review")

#define SETTINGS_CTE                                                                               \
    "st AS (SELECT coalesce(s.timezone, '" STUDY_TIMEZONE_DEFAULT "') AS tz,"                      \
    " coalesce(s.new_cards_per_day, 20) AS per_day, s.exam_date"                                   \
    " FROM (SELECT 1) AS one LEFT JOIN user_settings s ON s.user_id = $1::bigint)"

/* New cards introduced today (their first review happened today). */
#define INTRO_CTE                                                                                  \
    "intro AS (SELECT count(*) AS n FROM review_logs r, st"                                        \
    " WHERE r.user_id = $1::bigint AND r.state = 0 AND r.applied"                                  \
    " AND r.reviewed_at >= date_trunc('day', now() AT TIME ZONE st.tz) AT TIME ZONE st.tz)"

#define UNSEEN                                                                                     \
    "NOT c.retired AND NOT EXISTS (SELECT 1 FROM card_states x"                                    \
    " WHERE x.user_id = $1::bigint AND x.card_id = c.card_id)"

/* A scheduled card the catalogue still offers: retired ones must not use
 * up the LIMIT (and with it the new-card budget) before C drops them. */
#define NOT_RETIRED                                                                                \
    " AND NOT EXISTS (SELECT 1 FROM cards rc WHERE rc.card_id = cs.card_id AND rc.retired)"

/* $1 user, $2 topic or NULL, $3 limit, $4 practice. Parts: 0 due, 1 new,
 * 2 ahead (practice), 3 one row: new cards left today, now. */
static const struct db_stmt queue_sql = {
    "study_queue",
    "WITH " SETTINGS_CTE ", " INTRO_CTE ","
    " due AS (SELECT " STATE_COLS " FROM card_states cs"
    "  WHERE cs.user_id = $1::bigint AND cs.due <= now()"
    "   AND ($2::text IS NULL OR starts_with(cs.card_id, $2::text || '_'))" NOT_RETIRED
    "  ORDER BY cs.due, cs.last_review NULLS FIRST, cs.card_id COLLATE \"C\" LIMIT $3::int),"
    " left_today AS (SELECT greatest(0, st.per_day - intro.n) AS n FROM st, intro),"
    " fresh AS (SELECT c.card_id FROM cards c"
    "  WHERE ($2::text IS NULL OR c.topic = $2::text) AND " UNSEEN " ORDER BY c.position"
    "  LIMIT (SELECT greatest(0, least(n, $3::int - (SELECT count(*) FROM due))) FROM left_today)),"
    " ahead AS (SELECT " STATE_COLS " FROM card_states cs"
    "  WHERE $4::boolean AND cs.user_id = $1::bigint AND cs.due > now()"
    "   AND ($2::text IS NULL OR starts_with(cs.card_id, $2::text || '_'))" NOT_RETIRED
    "  ORDER BY cs.due, cs.last_review NULLS FIRST, cs.card_id COLLATE \"C\""
    "  LIMIT greatest(0, $3::int - (SELECT count(*) FROM due) - (SELECT count(*) FROM fresh)))"
    " SELECT 0, due.* FROM due"
    " UNION ALL SELECT 1, card_id, 0, 0, 0, 0, 0, 0, 0, NULL, NULL FROM fresh"
    " UNION ALL SELECT 2, ahead.* FROM ahead"
    " UNION ALL SELECT 3, NULL, n::int, 0, 0, 0, 0, 0, 0, " US("now()") ", NULL FROM left_today"};

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
    char lim[16];
    const char *params[4] = {user_id, topic >= 0 ? catalogue_topics[topic].value : NULL, lim,
                             mode == STUDY_PRACTICE ? "t" : "f"};
    PGresult *r;
    int rows;

    snprintf(lim, sizeof(lim), "%d", limit);
    memset(out, 0, sizeof(*out));
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
    " coalesce(s.exam_date::text, ''), coalesce(s.ai_enabled, false)"
    " FROM (SELECT 1) AS one LEFT JOIN user_settings s ON s.user_id = $1::bigint"};

/* A time zone must be one of the server's IANA names (not an abbreviation
 * or a POSIX offset string, which AT TIME ZONE would also take). */
static const struct db_stmt settings_put = {
    "study_settings_put",
    "INSERT INTO user_settings AS s (user_id, timezone, new_cards_per_day, exam_date, ai_enabled)"
    " SELECT $1::bigint, coalesce($2::text, '" STUDY_TIMEZONE_DEFAULT "'), coalesce($3::int, 20),"
    "  CASE WHEN $4::boolean THEN $5::date END, coalesce($6::boolean, false)"
    " WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = $2::text)"
    " ON CONFLICT (user_id) DO UPDATE SET timezone = coalesce($2::text, s.timezone),"
    "  new_cards_per_day = coalesce($3::int, s.new_cards_per_day),"
    "  exam_date = CASE WHEN $4::boolean THEN $5::date ELSE s.exam_date END,"
    "  ai_enabled = coalesce($6::boolean, s.ai_enabled), updated_at = now()"
    " RETURNING timezone, new_cards_per_day, coalesce(exam_date::text, ''), ai_enabled"};

static void read_settings(const PGresult *r, struct study_settings *out)
{
    snprintf(out->timezone, sizeof(out->timezone), "%s", PQgetvalue(r, 0, 0));
    out->new_cards_per_day = atoi(PQgetvalue(r, 0, 1));
    snprintf(out->exam_date, sizeof(out->exam_date), "%s", PQgetvalue(r, 0, 2));
    out->ai_enabled = strcmp(PQgetvalue(r, 0, 3), "t") == 0;
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
    const char *params[6] = {user_id,
                             p->timezone,
                             p->set_new_cards ? n : NULL,
                             p->set_exam_date ? "t" : "f",
                             p->set_exam_date ? p->exam_date : NULL,
                             p->set_ai ? (p->ai_enabled ? "t" : "f") : NULL};
    PGresult *r;

    snprintf(n, sizeof(n), "%d", p->new_cards_per_day);
    r = db_query(db, &settings_put, 6, params, 0, e);
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

/* Kinds: 0 one summary row (reviews today, streak, now, the readiness
 * instant and date, new cards still allowed today), 2 every scheduled card
 * (due flag, and what readiness needs). The new cards themselves are the
 * first unseen ones in catalogue order: worked out in C from the rows. */
// clang-format off
static const struct db_stmt dashboard_sql = {
    "study_dashboard",
    "WITH " SETTINGS_CTE ", " INTRO_CTE ","
    " today AS (SELECT (now() AT TIME ZONE st.tz)::date AS d FROM st),"
    " runs AS (SELECT day, day + (row_number() OVER (ORDER BY day DESC))::int AS grp"
    "  FROM review_days WHERE user_id = $1::bigint AND day <= (SELECT d FROM today)),"
    " streak AS (SELECT CASE WHEN max(day) >= (SELECT d FROM today) - 1 THEN count(*) ELSE 0 END"
    "  AS n FROM runs WHERE grp = (SELECT grp FROM runs ORDER BY day DESC LIMIT 1))"
    " SELECT 0, NULL::text, coalesce((SELECT reviews FROM review_days"
    "   WHERE user_id = $1::bigint AND day = today.d), 0)::int, (SELECT n FROM streak)::int,"
    "  NULL::float8, NULL::float8, " US("now()") ","
    "  " US("greatest(now(), coalesce(st.exam_date, today.d)::timestamp AT TIME ZONE st.tz)") ","
    "  coalesce(st.exam_date, today.d)::text, greatest(0, st.per_day - intro.n)::int"
    "  FROM st, today, intro"
    " UNION ALL SELECT 2, cs.card_id, cs.state::int, (cs.due <= now())::int, cs.stability,"
    "  cs.difficulty, " US("cs.last_review") ", NULL, NULL, NULL"
    " FROM card_states cs WHERE cs.user_id = $1::bigint"};
// clang-format on

int study_dashboard_load(struct db *db, const struct catalogue *cat, const char *user_id,
                         struct study_dashboard *out, struct err *e)
{
    const char *params[1] = {user_id};
    struct fsrs_card *states;
    unsigned char *seen;
    PGresult *r = db_query(db, &dashboard_sql, 1, params, 0, e);
    int scheduled = 0, best = 0, new_left = 0;

    if (r == NULL)
        return -1;
    memset(out, 0, sizeof(*out));
    out->recommended_topic = -1;
    states = calloc((size_t)cat->ncards, sizeof(*states)); /* NEW (0) unless read */
    seen = calloc((size_t)cat->ncards, 1);
    if (states == NULL || seen == NULL)
        abort();
    for (int row = 0; row < PQntuples(r); row++) {
        int kind = atoi(PQgetvalue(r, row, 0));
        const struct cat_card *card;
        if (kind == 0) {
            out->reviewed_today = atoi(PQgetvalue(r, row, 2));
            out->streak_days = atoi(PQgetvalue(r, row, 3));
            out->readiness_at_us = strtoll(PQgetvalue(r, row, 7), NULL, 10);
            snprintf(out->exam_date, sizeof(out->exam_date), "%s", PQgetvalue(r, row, 8));
            new_left = atoi(PQgetvalue(r, row, 9));
            continue;
        }
        if ((card = catalogue_card(cat, PQgetvalue(r, row, 1))) == NULL)
            continue;
        seen[card->position] = 1;
        scheduled++;
        if (atoi(PQgetvalue(r, row, 3)) == 1) {
            out->due_scheduled++;
            out->due_by_topic[card->topic]++;
        }
        states[card->position].state = atoi(PQgetvalue(r, row, 2));
        states[card->position].stability = strtod(PQgetvalue(r, row, 4), NULL);
        states[card->position].difficulty = strtod(PQgetvalue(r, row, 5), NULL);
        states[card->position].has_last_review = !PQgetisnull(r, row, 6);
        states[card->position].last_review_us = strtoll(PQgetvalue(r, row, 6), NULL, 10);
    }
    PQclear(r);
    /* The new cards the daily limit still allows: the first unseen ones in
     * catalogue order, as the queue would offer them. */
    for (int i = 0; i < cat->ncards && out->new_available < new_left; i++) {
        if (!seen[i]) {
            out->new_available++;
            out->due_by_topic[cat->cards[i].topic]++;
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
    for (int n = 1; n <= CATALOGUE_EXAM_SHEETS; n++) {
        double p[CATALOGUE_SHEET_QUESTIONS];
        for (int i = 0; i < cat->sheet_count[n]; i++)
            p[i] = fsrs_retrievability(&states[cat->sheet_cards[n][i]], out->readiness_at_us);
        readiness_sheet_eval(p, cat->sheet_count[n], READINESS_SKS_PASS_POINTS, &out->sheets[n]);
        out->mean_expected_points += out->sheets[n].expected_points / CATALOGUE_EXAM_SHEETS;
        out->mean_pass_probability += out->sheets[n].pass_probability / CATALOGUE_EXAM_SHEETS;
    }
    free(states);
    free(seen);
    return 0;
}
