/*
 * aiqueue.h - the queue of exam answers to grade with the model
 * (grading_jobs, migration 0008), worked by easysks-jobs.
 *
 * Life of a job:
 *   queued --claim--> running --complete--> done    (the model's grade replaces the heuristic one)
 *                        |    --fail------> failed  (the heuristic grade stands; ai_error says why)
 *                        +----retry-------> queued  (due again after a backoff)
 *   running past its lease (the process died) --claim--> running again
 *
 * - Enqueued inside the submit's transaction (one job per non-blank answer,
 *   unique per answer) with a NOTIFY on AIQUEUE_CHANNEL, delivered when that
 *   transaction commits.
 * - A claim is one short statement: the oldest due job, FOR UPDATE SKIP
 *   LOCKED (any number of processes on any number of hosts take different
 *   jobs), attempts + 1, leased for `lease_s`. The model is called with no
 *   transaction open.
 * - complete/fail/retry write only while the claim still holds (state
 *   running and the attempt number the claim returned): a process whose
 *   lease expired and whose job was claimed again writes nothing, so a
 *   verdict is applied at most once per attempt and a late one is dropped.
 * - complete and fail run in one transaction that locks the session row
 *   first: the answer's grade, the session's total, outcome, grader and
 *   grading state ('complete' when no job of it is open) change together,
 *   and two jobs of one session finishing at once are serialised, so the
 *   last one always sees the other's commit and marks the session complete.
 */
#ifndef EASYSKS_AIQUEUE_H
#define EASYSKS_AIQUEUE_H

#include "core/arena.h"
#include "infra/db.h"
#include "core/err.h"

#define AIQUEUE_CHANNEL "easysks_grading"

struct aiqueue_job {
    long long id;
    int attempt; /* this claim's attempt number: 1 for the first */
    char session_id[37];
    const char *item_id; /* card_id or task_id */
    const char *user_id;
    int kind;           /* EXAM_SHEET or EXAM_CHART */
    const char *answer; /* the saved answer ("" when the row vanished) */
};

/* Queue the `n` items of a session (inside the caller's transaction) and
 * notify the job processes. Already queued items are skipped. *queued gets
 * the number inserted. 0, or -1 with e. */
int aiqueue_enqueue(struct db *db, const char *session_id, const char *user_id,
                    const char *const *item_ids, int n, struct arena *a, int *queued,
                    struct err *e);

/* Claim the oldest due job for `lease_s` seconds. Returns 1 with *job
 * filled (strings in the arena), 0 when none is due, -1 with e. */
int aiqueue_claim(struct db *db, int lease_s, struct arena *a, struct aiqueue_job *job,
                  struct err *e);

/* The model's grade of one answer. */
struct aiqueue_grade {
    double score; /* already on the scale (lib/sks/ai) */
    double raw_score;
    int is_correct;
    const char *feedback;
    const char *errors_json; /* a JSON array of strings */
    const char *model;       /* the reply's model */
    const char *prompt_version;
};

/* Write the grade and update the session. Returns 1 when written, 0 when
 * the claim no longer holds (nothing written), -1 with e (rolled back). */
int aiqueue_complete(struct db *db, const struct aiqueue_job *job, const struct aiqueue_grade *g,
                     struct err *e);

/* Give the job up: the heuristic grade stands, the answer's ai_error and
 * the job's last_error get `code`. Same returns as aiqueue_complete. */
int aiqueue_fail(struct db *db, const struct aiqueue_job *job, const char *code, struct err *e);

/* Back to the queue, due in `delay_s`, `code` recorded. 1, 0 or -1 as
 * above (a single statement, no session lock: nothing else changes). */
int aiqueue_retry(struct db *db, const struct aiqueue_job *job, const char *code, int delay_s,
                  struct err *e);

/* The delay before the next attempt after `attempt` failed: `base_s`
 * (AI_JOB_BACKOFF_SECONDS) doubling per attempt, at most 300 s (or base_s
 * if larger), minus up to a fifth at random (`seed`), so jobs that failed
 * together (a 429 burst) do not all come back together. At least 1. */
int aiqueue_backoff_s(int attempt, int base_s, unsigned seed);

/* Milliseconds until the next open job comes due (0 when one is due now),
 * or -1 when there is none: how long a runner with nothing to do may
 * sleep without a NOTIFY. 0, or -1 with e. */
int aiqueue_next_due_ms(struct db *db, long long *ms, struct err *e);

struct aiqueue_backlog {
    long long queued;       /* waiting, due or backing off */
    long long running;      /* claimed (or leased by a process that died) */
    long long oldest_age_s; /* age of the oldest open job, 0 when none */
};

/* The open jobs, for monitoring, within `timeout_ms` (0: the database's
 * default). 0, or -1 with e. */
int aiqueue_backlog(struct db *db, int timeout_ms, struct aiqueue_backlog *out, struct err *e);

#endif
