#include "sks/aiqueue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sks/exams.h"
#include "sks/grade.h"
#include "infra/pgarr.h"

static const struct db_stmt enqueue_sql = {
    "aiqueue_enqueue", "WITH ins AS (INSERT INTO grading_jobs (session_id, item_id, user_id)"
                       "  SELECT $1::uuid, u.id, $2::bigint FROM unnest($3::text[]) AS u(id)"
                       "  ON CONFLICT (session_id, item_id) DO NOTHING RETURNING 1)"
                       " SELECT count(*), pg_notify('" AIQUEUE_CHANNEL "', $1::text) FROM ins"};

int aiqueue_enqueue(struct db *db, const char *session_id, const char *user_id,
                    const char *const *item_ids, int n, struct arena *a, int *queued, struct err *e)
{
    struct pgarr ids;
    const char *params[3] = {session_id, user_id, NULL};
    PGresult *r;

    *queued = 0;
    pgarr_begin(&ids);
    for (int i = 0; i < n; i++)
        pgarr_text(&ids, item_ids[i]);
    params[2] = pgarr_end(&ids, a);
    if ((r = db_query(db, &enqueue_sql, 3, params, 0, e)) == NULL)
        return -1;
    *queued = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

/* The next attempt is due when the lease ends too: a running job whose
 * process died is claimed again then. */
static const struct db_stmt claim_sql = {
    "aiqueue_claim",
    "WITH c AS (SELECT id FROM grading_jobs"
    "  WHERE state IN ('queued', 'running') AND next_attempt_at <= now()"
    "  ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),"
    " j AS (UPDATE grading_jobs g SET state = 'running', attempts = g.attempts + 1,"
    "  locked_until = now() + make_interval(secs => $1::int),"
    "  next_attempt_at = now() + make_interval(secs => $1::int)"
    "  FROM c WHERE g.id = c.id"
    "  RETURNING g.id, g.attempts, g.session_id, g.item_id, g.user_id)"
    " SELECT j.id, j.attempts, j.session_id::text, j.item_id, j.user_id::text, s.kind,"
    "  coalesce(a.answer, '')"
    " FROM j JOIN exam_sessions s ON s.id = j.session_id"
    " LEFT JOIN exam_answers a ON a.session_id = j.session_id AND a.item_id = j.item_id"};

int aiqueue_claim(struct db *db, int lease_s, struct arena *a, struct aiqueue_job *job,
                  struct err *e)
{
    char lease[16];
    const char *params[1] = {lease};
    PGresult *r;

    memset(job, 0, sizeof(*job));
    snprintf(lease, sizeof(lease), "%d", lease_s);
    if ((r = db_query(db, &claim_sql, 1, params, 0, e)) == NULL)
        return -1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    job->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    job->attempt = atoi(PQgetvalue(r, 0, 1));
    snprintf(job->session_id, sizeof(job->session_id), "%s", PQgetvalue(r, 0, 2));
    job->item_id = arena_strdup(a, PQgetvalue(r, 0, 3));
    job->user_id = arena_strdup(a, PQgetvalue(r, 0, 4));
    job->kind = strcmp(PQgetvalue(r, 0, 5), "chart") == 0 ? EXAM_CHART : EXAM_SHEET;
    job->answer = arena_strdup(a, PQgetvalue(r, 0, 6));
    PQclear(r);
    return 1;
}

/* --- finishing: one transaction under the session's row lock -------------- */

static const struct db_stmt lock_sql = {
    "aiqueue_lock", "SELECT kind, time_over FROM exam_sessions WHERE id = $1::uuid FOR UPDATE"};

/* $1 job, $2 attempt; $3 score, $4 correct, $5 feedback, $6 errors, $7
 * model, $8 prompt version, $9 raw score. */
static const struct db_stmt done_sql = {
    "aiqueue_done",
    "WITH j AS (UPDATE grading_jobs SET state = 'done', finished_at = now(), locked_until = NULL,"
    "  last_error = NULL WHERE id = $1::bigint AND state = 'running' AND attempts = $2::int"
    "  RETURNING session_id, item_id)"
    " UPDATE exam_answers x SET score = $3::float8, is_correct = $4::boolean, feedback = $5::text,"
    "  errors = $6::jsonb, needs_self_assessment = false, grader = 'ai', grader_model = $7::text,"
    "  prompt_version = $8::text, ai_raw_score = $9::float8, ai_error = NULL, graded_at = now()"
    " FROM j WHERE x.session_id = j.session_id AND x.item_id = j.item_id RETURNING 1"};

/* $1 job, $2 attempt, $3 code. */
static const struct db_stmt failed_sql = {
    "aiqueue_failed",
    "WITH j AS (UPDATE grading_jobs SET state = 'failed', finished_at = now(), locked_until = NULL,"
    "  last_error = $3::text WHERE id = $1::bigint AND state = 'running' AND attempts = $2::int"
    "  RETURNING session_id, item_id)"
    " UPDATE exam_answers x SET ai_error = $3::text FROM j"
    " WHERE x.session_id = j.session_id AND x.item_id = j.item_id RETURNING 1"};

/* The learner's points count where given (self-assessment, lib/sks/exams.h). */
static const struct db_stmt totals_sql = {
    "aiqueue_totals", "SELECT coalesce(sum(coalesce(a.self_points, a.score)), 0), "
                      "coalesce(bool_or(a.grader = 'ai'), false),"
                      " EXISTS (SELECT 1 FROM grading_jobs g WHERE g.session_id = $1::uuid"
                      "  AND g.state IN ('queued', 'running'))"
                      " FROM exam_answers a WHERE a.session_id = $1::uuid"};

static const struct db_stmt session_sql = {
    "aiqueue_session",
    "UPDATE exam_sessions SET total_score = $2::float8, passed = $3::boolean, outcome = $4::text,"
    " grader = $5::text, grading = $6::text WHERE id = $1::uuid"};

/* Lock the session, run `write` (done_sql or failed_sql with `params`),
 * then recompute the session. 1, 0 (claim lost) or -1. */
static int finish(struct db *db, const struct aiqueue_job *job, const struct db_stmt *write,
                  int nparams, const char *const *params, struct err *e)
{
    const char *sp[6] = {job->session_id, NULL, NULL, NULL, NULL, NULL};
    char total_s[40];
    PGresult *r = NULL;
    double total;
    int kind, time_over, any_ai, open, passed;

    if (db_begin(db, e) < 0)
        return -1;
    if ((r = db_query(db, &lock_sql, 1, sp, 0, e)) == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        /* The session is gone (its learner was deleted): so is the job. */
        PQclear(r);
        db_rollback(db);
        return 0;
    }
    kind = strcmp(PQgetvalue(r, 0, 0), "chart") == 0 ? EXAM_CHART : EXAM_SHEET;
    time_over = PQgetvalue(r, 0, 1)[0] == 't';
    PQclear(r);
    if ((r = db_query(db, write, nparams, params, 0, e)) == NULL)
        goto fail;
    if (PQntuples(r) == 0) {
        PQclear(r);
        db_rollback(db);
        return 0;
    }
    PQclear(r);
    if ((r = db_query(db, &totals_sql, 1, sp, 0, e)) == NULL)
        goto fail;
    total = strtod(PQgetvalue(r, 0, 0), NULL);
    any_ai = PQgetvalue(r, 0, 1)[0] == 't';
    open = PQgetvalue(r, 0, 2)[0] == 't';
    PQclear(r);
    if (kind == EXAM_CHART)
        total = grade_round1(total);
    snprintf(total_s, sizeof(total_s), "%.17g", total);
    sp[1] = total_s;
    sp[3] = exam_outcome(kind, total, time_over, &passed);
    sp[2] = passed ? "t" : "f";
    sp[4] = any_ai ? "ai" : "heuristic";
    sp[5] = open ? "pending" : "complete";
    if ((r = db_query(db, &session_sql, 6, sp, 0, e)) == NULL)
        goto fail;
    PQclear(r);
    return db_commit(db, e) < 0 ? -1 : 1;
fail:
    db_rollback(db);
    return -1;
}

int aiqueue_complete(struct db *db, const struct aiqueue_job *job, const struct aiqueue_grade *g,
                     struct err *e)
{
    char id[24], attempt[16], score[40], raw[40];
    const char *params[9] = {id,
                             attempt,
                             score,
                             g->is_correct ? "t" : "f",
                             g->feedback != NULL ? g->feedback : "",
                             g->errors_json != NULL ? g->errors_json : "[]",
                             g->model,
                             g->prompt_version,
                             raw};

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(attempt, sizeof(attempt), "%d", job->attempt);
    snprintf(score, sizeof(score), "%.17g", g->score);
    snprintf(raw, sizeof(raw), "%.17g", g->raw_score);
    return finish(db, job, &done_sql, 9, params, e);
}

int aiqueue_fail(struct db *db, const struct aiqueue_job *job, const char *code, struct err *e)
{
    char id[24], attempt[16];
    const char *params[3] = {id, attempt, code};

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(attempt, sizeof(attempt), "%d", job->attempt);
    return finish(db, job, &failed_sql, 3, params, e);
}

static const struct db_stmt retry_sql = {
    "aiqueue_retry",
    "UPDATE grading_jobs SET state = 'queued', locked_until = NULL, last_error = $3::text,"
    " next_attempt_at = now() + make_interval(secs => $4::int)"
    " WHERE id = $1::bigint AND state = 'running' AND attempts = $2::int RETURNING 1"};

int aiqueue_retry(struct db *db, const struct aiqueue_job *job, const char *code, int delay_s,
                  struct err *e)
{
    char id[24], attempt[16], delay[16];
    const char *params[4] = {id, attempt, code, delay};
    PGresult *r;
    int n;

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(attempt, sizeof(attempt), "%d", job->attempt);
    snprintf(delay, sizeof(delay), "%d", delay_s);
    if ((r = db_query(db, &retry_sql, 4, params, 0, e)) == NULL)
        return -1;
    n = PQntuples(r);
    PQclear(r);
    return n == 1;
}

int aiqueue_backoff_s(int attempt, int base_s, unsigned seed)
{
    int cap = base_s > 300 ? base_s : 300, delay = base_s > 0 ? base_s : 1;

    for (int i = 1; i < attempt && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    /* 0..20 % off, so a burst of failures spreads out. */
    delay -= (int)(rand_r(&seed) % (unsigned)(delay / 5 + 1));
    return delay > 0 ? delay : 1;
}

static const struct db_stmt next_due_sql = {
    "aiqueue_next_due",
    "SELECT CASE WHEN min(next_attempt_at) IS NOT NULL"
    "  THEN greatest(0, ceil(extract(epoch FROM min(next_attempt_at) - now()) * 1000))::bigint END"
    " FROM grading_jobs WHERE state IN ('queued', 'running')"};

int aiqueue_next_due_ms(struct db *db, long long *ms, struct err *e)
{
    PGresult *r;

    *ms = -1;
    if ((r = db_query(db, &next_due_sql, 0, NULL, 0, e)) == NULL)
        return -1;
    if (!PQgetisnull(r, 0, 0))
        *ms = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return 0;
}

static const struct db_stmt backlog_sql = {
    "aiqueue_backlog",
    "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'running'),"
    " coalesce(extract(epoch FROM now() - min(created_at))::bigint, 0)"
    " FROM grading_jobs WHERE state IN ('queued', 'running')"};

int aiqueue_backlog(struct db *db, int timeout_ms, struct aiqueue_backlog *out, struct err *e)
{
    PGresult *r;

    memset(out, 0, sizeof(*out));
    if ((r = db_query(db, &backlog_sql, 0, NULL, timeout_ms, e)) == NULL)
        return -1;
    out->queued = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    out->running = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    out->oldest_age_s = strtoll(PQgetvalue(r, 0, 2), NULL, 10);
    PQclear(r);
    return 0;
}
