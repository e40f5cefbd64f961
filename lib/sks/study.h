/*
 * study.h - what a learner studies: the due and practice queues, reviews
 * (one at a time or a batch recorded offline), the dashboard with exam
 * readiness, and study settings. The SQL lives here; scheduling is
 * lib/sks/fsrs, card content comes from the in-memory catalogue.
 *
 * Queue (decisions documented in docs/api.md):
 * - Due cards (due <= now) in the reference's order: due, last review
 *   (never first), card id. Then new cards (no scheduling row yet) in
 *   catalogue order, up to the learner's daily new-card limit (cards first
 *   reviewed today count against it). Practice adds, after those, the
 *   scheduled cards that are due soonest. Each takes a topic and a limit.
 *   Reading a queue writes nothing.
 * - Each call is one SQL statement.
 *
 * Reviews:
 * - Every review carries a review_id (the client's UUID, or one we make):
 *   the same id again returns the stored result and applies nothing.
 * - Read the cards' states (one statement), schedule with FSRS in C, write
 *   logs and states in one statement that first locks the rows and checks
 *   they are as read (reps unchanged); a concurrent review makes it write
 *   nothing, and the batch is read and scheduled again (a few times, then
 *   409 review_conflict). No update is lost, nothing is half-written.
 * - A batch is applied in reviewed_at order; a review older than its card's
 *   last review is logged but does not move the schedule.
 */
#ifndef EASYSKS_STUDY_H
#define EASYSKS_STUDY_H

#include "core/arena.h"
#include "sks/catalogue.h"
#include "infra/db.h"
#include "core/err.h"
#include "sks/fsrs.h"
#include "sks/readiness.h"

#define STUDY_LIMIT_DEFAULT 50
#define STUDY_LIMIT_MAX 200
#define STUDY_BATCH_MAX 200
#define STUDY_NEW_PER_DAY_DEFAULT 20
#define STUDY_TIMEZONE_DEFAULT "Europe/Berlin"
#define STUDY_BATCH_MAX_AGE_DAYS 30
#define STUDY_CLOCK_SKEW_S 300 /* reviewed_at up to this far ahead counts as now */

/* A card and the learner's scheduling of it (a new card: FSRS NEW, due now). */
struct study_card {
    const struct cat_card *card;
    struct fsrs_card fsrs;
};

enum study_mode { STUDY_DUE, STUDY_PRACTICE };

struct study_queue {
    struct study_card *items; /* arena */
    int n;
    int new_today_left; /* new cards the daily limit still allows */
    long long now_us;   /* the database's clock */
};

/* The queue for `user_id`; `topic` is a catalogue topic index or -1,
 * `limit` 1..STUDY_LIMIT_MAX. 0, or -1 with e set (503 from the database). */
int study_queue_load(struct db *db, const struct catalogue *cat, const char *user_id,
                     enum study_mode mode, int topic, int limit, struct arena *a,
                     struct study_queue *out, struct err *e);

enum study_status { STUDY_APPLIED = 0, STUDY_DUPLICATE, STUDY_LOGGED_ONLY };

struct study_review {
    char review_id[37];          /* lower-case UUID; "" = make one */
    const struct cat_card *card; /* from the catalogue */
    int rating;                  /* 1..4 */
    long long reviewed_us;       /* 0 = now (the database's clock) */
    /* results */
    int status;             /* enum study_status */
    struct fsrs_card after; /* the scheduling this review left */
};

struct study_batch {
    struct study_review *reviews; /* in: any order; out: results filled in place */
    int n;
    struct study_card *cards; /* out: each touched card's final scheduling (arena) */
    int ncards;
    long long now_us;
};

/* Apply b->n reviews (1..STUDY_BATCH_MAX) for `user_id`. 0, or -1 with e:
 * 422 invalid_review_time (outside the last STUDY_BATCH_MAX_AGE_DAYS days or
 * more than STUDY_CLOCK_SKEW_S ahead; only when reviewed_us was given),
 * 422 duplicate_review_id (twice in one batch with different content),
 * 409 review_id_conflict (the id was used before for another card or
 * rating), 409 review_conflict (concurrent changes kept winning), 503. */
int study_apply(struct db *db, const struct catalogue *cat, const char *user_id,
                struct study_batch *b, struct arena *a, struct err *e);

struct study_settings {
    char timezone[65];
    int new_cards_per_day;
    char exam_date[11]; /* "YYYY-MM-DD" or "" */
    int ai_enabled;
};

/* Stored settings or the defaults (reading writes nothing). */
int study_settings_load(struct db *db, const char *user_id, struct study_settings *out,
                        struct err *e);

/* Fields to change; NULL/0 leaves a field as it is. */
struct study_settings_patch {
    const char *timezone; /* IANA name, checked against the server's zone list */
    int set_new_cards;
    int new_cards_per_day; /* 0..1000 */
    int set_exam_date;
    const char *exam_date; /* "YYYY-MM-DD", NULL = clear */
    int set_ai;
    int ai_enabled;
};

/* Save and return the result. 422 invalid_timezone for an unknown zone. */
int study_settings_save(struct db *db, const char *user_id, const struct study_settings_patch *p,
                        struct study_settings *out, struct err *e);

struct study_dashboard {
    int due_now;         /* due scheduled cards + new cards available today */
    int due_scheduled;   /* of which scheduled */
    int new_available;   /* of which new */
    int reviewed_today;  /* reviews today, in the learner's time zone */
    int streak_days;     /* consecutive days with reviews ending today or yesterday */
    int available_cards; /* what a practice session can offer (capped at the default limit) */
    int due_by_topic[CATALOGUE_TOPICS];
    int recommended_topic; /* topic index, -1 when nothing is due */
    char exam_date[11];    /* the date readiness is computed for */
    long long readiness_at_us;
    struct readiness_sheet sheets[CATALOGUE_EXAM_SHEETS + 1]; /* 1..15 */
    double mean_expected_points, mean_pass_probability;
};

/* One statement: counts, streak, and the states readiness needs. */
int study_dashboard_load(struct db *db, const struct catalogue *cat, const char *user_id,
                         struct study_dashboard *out, struct err *e);

#endif
