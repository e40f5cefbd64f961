/*
 * study.h - what a learner studies: the due and practice queues, reviews
 * (one at a time or a batch recorded offline), the dashboard with exam
 * readiness, and study settings. The SQL lives here; scheduling is
 * lib/sks/fsrs, card content comes from the in-memory catalogue.
 *
 * Queue (decisions documented in docs/api.md):
 * - Only the learner's licence variant (sks/order.h): the other variant's
 *   seamanship cards are never offered, whatever their state.
 * - Due cards (due <= now) in the reference's order: due, last review
 *   (never first), card id. Then new cards (no scheduling row yet) in the
 *   mixed, exam-weighted order (sks/order.h), up to the learner's daily
 *   new-card limit (cards first reviewed today count against it). Practice adds, after those, the
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
#include "sks/plan.h"
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

/* What a queue is restricted to; every part must hold. */
struct study_filter {
    int topic;    /* catalogue topic index or -1 */
    int sheet;    /* official sheet 1..15, 0 = any */
    int flagged;  /* only cards the learner flagged */
    int mistakes; /* only cards that lapsed or were last rated Again (never new) */
    const struct cat_card *const *cards; /* only these (n_cards > 0), instead of a sheet */
    int n_cards;
};

/* study_queue_load with a filter (f not NULL). */
int study_queue_load_filter(struct db *db, const struct catalogue *cat, const char *user_id,
                            enum study_mode mode, const struct study_filter *f, int limit,
                            struct arena *a, struct study_queue *out, struct err *e);

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
    int variant; /* enum order_variant */
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
    int set_variant;
    int variant; /* enum order_variant */
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
    /* The learner's variant. For motor the official sheets' seamanship part
     * (Seemannschaft I) is not what the learner is examined on: each sheet
     * is scored over its 21 shared questions plus 9 Seemannschaft II
     * questions, each answered with the mean chance over all of
     * Seemannschaft II (docs/api.md). */
    int variant;
    double seamanship_mean_p; /* mean retrievability over the variant's seamanship topic */
    /* The pass plan (sks/plan.h). */
    int has_exam_date, days_left;
    char deadline[11]; /* exam date - PLAN_DEADLINE_DAYS, "" without one */
    int new_cards_per_day, introduced_today;
    int target_cards, target_met;
    struct plan_pace pace;
    int weakest_sheet;         /* 1..15, 0 = none */
    int focus[PLAN_FOCUS_MAX]; /* catalogue indices */
    double focus_gain[PLAN_FOCUS_MAX];
    int nfocus;
};

/* One statement: counts, streak, and the states readiness needs. */
int study_dashboard_load(struct db *db, const struct catalogue *cat, const char *user_id,
                         struct study_dashboard *out, struct err *e);

#endif
