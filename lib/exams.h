/*
 * exams.h - exam simulations: the question sheet (one of the 15 official
 * sheets: 30 questions, 0/1/2 points each, 90 minutes) and the chart task
 * (one of the 10 official sheets: 30 points, 90 minutes), per learner.
 *
 * Lifecycle (docs/api.md has the client's view):
 *   in_progress --submit--> evaluated
 *   in_progress --DELETE--> abandoned
 *   in_progress --deadline + EXAM_EXPIRY_S passes unsubmitted--> expired
 * - Starting is idempotent: the session in progress for that sheet is
 *   returned instead of a second one (a partial unique index makes two
 *   concurrent starts insert one), and a client's Idempotency-Key returns
 *   the session it created.
 * - Answers are saved until the deadline plus EXAM_SAVE_GRACE_S; after
 *   that, and after the session left in_progress, a save is refused.
 * - Submitting runs in one transaction that locks the session: a save in
 *   flight finishes first (it holds a share lock), a concurrent submit
 *   waits and then finds the session evaluated, so grading happens once and
 *   both get the same result. time_over (submitted after the deadline plus
 *   the grace) is fixed then and never recomputed.
 * - Official outcomes: sheet >= 39 of 60 passed, 33-38 oral exam, <= 32
 *   failed; chart task >= 20 of 30 passed, 17-19.9 oral exam, below that
 *   failed. A session with time_over is failed.
 * Every statement filters by the learner: another learner's session is
 * "not found", never "forbidden".
 */
#ifndef EASYSKS_EXAMS_H
#define EASYSKS_EXAMS_H

#include "arena.h"
#include "catalogue.h"
#include "db.h"
#include "err.h"

enum exam_kind { EXAM_SHEET = 0, EXAM_CHART = 1 };

#define EXAM_TIME_LIMIT_DEFAULT 90
#define EXAM_SAVE_GRACE_S 120
#define EXAM_EXPIRY_S 86400 /* one day after the deadline */
#define EXAM_ANSWER_MAX_CHARS 10000
#define EXAM_HISTORY_LIMIT_DEFAULT 50
#define EXAM_HISTORY_LIMIT_MAX 200

/* One question (sheet) or task (chart) of a session, in sheet order. */
struct exam_item {
    const struct cat_card *card; /* EXAM_SHEET */
    const struct cat_task *task; /* EXAM_CHART */
    const char *item_id;         /* card_id or task_id */
    int number;                  /* 1-based position on the sheet (task number for charts) */
    const char *answer;          /* "" when never saved */
    long long answered_us;       /* 0 = never */
    /* graded (evaluated sessions) */
    double score, max_score;
    int is_correct, needs_self_assessment;
    const char *feedback;
    const char *errors_json; /* JSON array text, "[]" when none */
};

struct exam_session {
    char id[37];
    int kind;
    int sheet;
    int time_limit_minutes;
    const char *status; /* in_progress, evaluated, abandoned, expired */
    long long started_us, deadline_us, submitted_us, now_us; /* submitted_us 0 = not */
    int time_over;
    int evaluated;
    double total_score, max_score;
    int passed;
    const char *outcome; /* passed, oral_exam, failed; NULL before evaluation */
    const char *idempotency_key;
    struct exam_item *items;
    int nitems;
};

/* Number of sheets of a kind (15 or 10). */
int exam_sheets(int kind);

/* The official outcome for a total (points), and whether that passes. */
const char *exam_outcome(int kind, double total, int time_over, int *passed);

/* Start (or find the in-progress session for) `sheet`. `idempotency_key`
 * may be NULL. *created tells which. 0, or -1 with e: 422 invalid_sheet,
 * 409 idempotency_key_reused (the key started another sheet), 503. */
int exam_start(struct db *db, const struct catalogue *cat, const char *user_id, int kind, int sheet,
               int time_limit_minutes, const char *idempotency_key, struct arena *a,
               struct exam_session *out, int *created, struct err *e);

/* Load a session with its items (and results when evaluated). 404
 * session_not_found for an unknown id, a malformed one, or another
 * learner's. */
int exam_load(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
              const char *session_id, struct arena *a, struct exam_session *out, struct err *e);

/* Save an answer (at most EXAM_ANSWER_MAX_CHARS characters, valid UTF-8).
 * Fills *item (number, answer, answered_us). 0, or -1 with e: 404
 * session_not_found / item_not_in_session, 409 session_not_editable,
 * 409 deadline_passed, 422 answer_too_long / invalid_text, 503. */
int exam_save(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
              const char *session_id, const char *item_id, const char *answer, struct arena *a,
              struct exam_item *item, struct err *e);

/* Submit and grade (once); *out is the evaluated session. 404, 409
 * session_not_submittable (abandoned or expired), 503. */
int exam_submit(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
                const char *session_id, struct arena *a, struct exam_session *out, struct err *e);

/* Abandon a session in progress. 404, 409 session_not_in_progress. */
int exam_abandon(struct db *db, const char *user_id, int kind, const char *session_id,
                 struct err *e);

/* History, newest first: sessions started before `before_us` (0 = now),
 * optionally only those with `status`. Items are not loaded. */
int exam_history(struct db *db, const char *user_id, int kind, const char *status,
                 long long before_us, int limit, struct arena *a, struct exam_session **out, int *n,
                 struct err *e);

#endif
