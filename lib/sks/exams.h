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

#include "core/arena.h"
#include "sks/catalogue.h"
#include "infra/db.h"
#include "core/err.h"

enum exam_kind { EXAM_SHEET = 0, EXAM_CHART = 1 };

#define EXAM_TIME_LIMIT_DEFAULT 90
#define EXAM_FREE_SHEET 1 /* of each kind, free for every learner (docs/billing.md) */
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
    /* who graded it (docs/ai.md) */
    const char *grader;       /* "heuristic", "ai"; NULL before grading */
    const char *grader_model; /* the model that graded it, NULL for the heuristic */
    const char *ai_status;    /* NULL (no AI grading asked), "pending", "graded", "failed" */
    const char *ai_error;     /* why the model did not grade it, NULL otherwise */
    /* chart tasks by sub-question (n_subs 0: a question sheet, or a session
     * graded before sub-questions were) */
    const char **sub_answers; /* n_subs answers, or NULL: one answer for the task */
    double *sub_scores;       /* the grader's points per sub-question */
    double *sub_self;         /* the learner's, < 0 where not assessed */
    int *sub_needs;           /* the grader could not judge it */
    int n_subs;
    /* self-assessment: the learner's points count instead of the grader's */
    double self_points; /* the item's learner points (chart: the sum); < 0 = none */
    long long self_assessed_us;
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
    const char *grading;      /* "complete", or "pending" while AI grading jobs are open */
    const char *grading_note; /* why AI grading was not used although asked for, or NULL */
    const char *grader;       /* "heuristic", "ai" (at least one answer); NULL before */
    int provisional;          /* some answer needs the learner's assessment and has none yet */
    int self_assessed;        /* the learner's points count for at least one answer */
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
 * A chart task's answer may come per sub-question instead: `sub_answers`
 * (n_sub of them, the task's count; NULL for the one-text form), stored as
 * they are and joined into the task's answer ("a) …\nb) …", which then
 * must fit the limit). Fills *item (number, answer, answered_us,
 * sub_answers). 0, or -1 with e: 404 session_not_found /
 * item_not_in_session, 409 session_not_editable, 409 deadline_passed,
 * 422 answer_too_long / invalid_text / invalid_sub_answers, 503. */
int exam_save(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
              const char *session_id, const char *item_id, const char *answer,
              const char *const *sub_answers, int n_sub, struct arena *a, struct exam_item *item,
              struct err *e);

/* AI grading at submit (docs/ai.md). */
/* What a submit may hand to the model. The queue is the caller's
 * (aiqueue_enqueue from lib/sks/aiqueue.h, which depends on this module for
 * the outcome rule, not the other way round): it is called inside the
 * submit's transaction, 0 or -1 with e. */
typedef int exam_enqueue_fn(struct db *db, const char *session_id, const char *user_id,
                            const char *const *item_ids, int n, struct arena *a, int *queued,
                            struct err *e);

struct exam_ai {
    int configured;           /* the server has a key (OPENAI_API_KEY) */
    int daily_quota;          /* AI_DAILY_QUOTA */
    exam_enqueue_fn *enqueue; /* required when configured */
};

/* Submit and grade (once); *out is the evaluated session, graded by the
 * heuristic graders. When `ai` is not NULL and the learner has ai_enabled:
 * with a key and enough of today's quota, every non-blank answer is queued
 * for the model in the same transaction (ai->enqueue, counted against the
 * quota) and the session's grading is "pending"; otherwise grading_note says
 * why not (ai_unavailable, ai_quota_exceeded) and grading is "complete".
 * No external call is made here. 404, 409 session_not_submittable
 * (abandoned or expired), 503. */
int exam_submit(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
                const char *session_id, const struct exam_ai *ai, struct arena *a,
                struct exam_session *out, struct err *e);

/* Self-assessment of an evaluated session: the learner's points for the
 * question `item_id` (a question sheet: sub 0, whole points 0..2) or for
 * sub-question `sub` (1-based) of the chart task `item_id` (multiples of 0.5,
 * 0..its points); `points` < 0 withdraws them (the grader's count again).
 * In one transaction under the session's row lock: the answer, then the
 * session's total, passed and outcome. *out is the evaluated session
 * afterwards. 0, or -1 with e: 404 session_not_found / item_not_in_session /
 * sub_question_not_found, 409 session_not_evaluated (not submitted yet, or
 * abandoned/expired), 409 sub_results_unavailable (graded before chart
 * tasks were graded by sub-question), 422 invalid_points, 503. */
int exam_self_assess(struct db *db, const struct catalogue *cat, const char *user_id, int kind,
                     const char *session_id, const char *item_id, int sub, double points,
                     struct arena *a, struct exam_session *out, struct err *e);

/* The points that count for an item: the learner's when given, else the
 * grader's. */
double exam_item_points(const struct exam_item *it);

/* Abandon a session in progress. 404, 409 session_not_in_progress. */
int exam_abandon(struct db *db, const char *user_id, int kind, const char *session_id,
                 struct err *e);

/* History, newest first: sessions started before `before_us` (0 = now),
 * optionally only those with `status`. Items are not loaded. */
int exam_history(struct db *db, const char *user_id, int kind, const char *status,
                 long long before_us, int limit, struct arena *a, struct exam_session **out, int *n,
                 struct err *e);

#endif
