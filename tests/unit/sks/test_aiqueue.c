/*
 * test_aiqueue.c - lib/sks/aiqueue and lib/sks/aiusage against a real PostgreSQL
 * (EASYSKS_TEST_DATABASE_URL for the app role, EASYSKS_TEST_ADMIN_URL for
 * the owner; tests/integration/t_ai.sh runs it against the test stack's
 * cluster, the plain unit run skips it).
 *
 * The queue: enqueueing twice queues once; two connections claim different
 * jobs (SKIP LOCKED) and nothing when none is due; a claim whose lease ran
 * out is claimed again with the next attempt number, and then the first
 * claim's verdict is dropped while the second's is written; a retry comes
 * due after its delay; a failure keeps the heuristic score; the session's
 * total, outcome, grader and grading state follow; two jobs of one session
 * completed at the same moment from two processes leave it complete. The
 * quota: concurrent takes never pass the quota, the rate window refuses the
 * call past it, and a refusal names the limit that refused. Without a
 * database only the pure part runs: the retry backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sks/aiqueue.h"
#include "sks/aiusage.h"
#include "sks/exams.h"
#include "core/log.h"
#include "tap.h"

static const char *admin_url;

/* One value from the owner's connection ("" on error or no row). */
static void admin(const char *sql, char *out, size_t outlen)
{
    PGconn *c = PQconnectdb(admin_url);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK && PQresultStatus(r) != PGRES_COMMAND_OK)
        fprintf(stderr, "# admin: %s", PQerrorMessage(c));
    if (out != NULL)
        snprintf(out, outlen, "%s",
                 PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0)
                                                                          : "");
    PQclear(r);
    PQfinish(c);
}

static int admin_int(const char *fmt, const char *arg)
{
    char sql[1024], out[64];
    snprintf(sql, sizeof(sql), fmt, arg);
    admin(sql, out, sizeof(out));
    return atoi(out);
}

static const char *admin_text(const char *fmt, const char *arg, char *out, size_t outlen)
{
    char sql[1024];
    snprintf(sql, sizeof(sql), fmt, arg);
    admin(sql, out, outlen);
    return out;
}

/* A learner with an evaluated sheet session of `n` answers (heuristic
 * score 1 each, text "Antwort i"); the user id goes to uid, the session id
 * to sid. */
static void make_session(const char *sub, int n, char *uid, char *sid)
{
    char sql[2048];

    /* The pid keeps a second run against the same database apart. */
    snprintf(sql, sizeof(sql), "INSERT INTO users (cognito_sub) VALUES ('%s-%d') RETURNING id", sub,
             (int)getpid());
    admin(sql, uid, 32);
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO exam_sessions (id, user_id, kind, sheet_number, status, time_limit_minutes,"
        " deadline_at, submitted_at, total_score, max_score, passed, outcome, grader, grading)"
        " VALUES (gen_random_uuid(), %s, 'sheet', 1, 'evaluated', 90, now() + interval '1 hour',"
        " now(), %d, 60, false, 'failed', 'heuristic', 'pending') RETURNING id",
        uid, n);
    admin(sql, sid, 37);
    snprintf(sql, sizeof(sql),
             "INSERT INTO exam_answers (session_id, item_id, position, answer, score, is_correct,"
             " feedback, errors, grader, heuristic_score)"
             " SELECT '%s', 'item_' || i, i, 'Antwort ' || i, 1, false, 'h', '[]', 'heuristic', 1"
             " FROM generate_series(1, %d) i",
             sid, n);
    admin(sql, NULL, 0);
}

static const char *const items3[] = {"item_1", "item_2", "item_3"};

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* aiqueue_backoff_s: base doubling, capped, never more than the nominal
 * delay and never less than four fifths of it (or 1). */
static void test_backoff(void)
{
    int ok_all = 1, prev_nominal = 0;

    for (int attempt = 1; attempt <= 12; attempt++) {
        int nominal = 5 << (attempt - 1 < 7 ? attempt - 1 : 7);
        if (nominal > 300)
            nominal = 300;
        for (unsigned seed = 0; seed < 200; seed++) {
            int d = aiqueue_backoff_s(attempt, 5, seed);
            ok_all &= d <= nominal && d >= nominal - nominal / 5 && d >= 1;
        }
        ok_all &= nominal >= prev_nominal;
        prev_nominal = nominal;
    }
    ok(ok_all, "backoff: 5, 10, 20 ... s, capped at 300 s, up to a fifth earlier");
    ok(aiqueue_backoff_s(1, 1, 7) == 1 && aiqueue_backoff_s(30, 1, 7) >= 240 &&
           aiqueue_backoff_s(30, 1, 7) <= 300,
       "backoff from 1 s: 1 s first, 300 s at most");
    ok(aiqueue_backoff_s(3, 600, 1) <= 600 && aiqueue_backoff_s(3, 600, 1) >= 480,
       "a base above 300 s is its own cap");
    {
        int differ = 0;
        for (unsigned seed = 1; seed < 50; seed++)
            differ |= aiqueue_backoff_s(4, 5, seed) != aiqueue_backoff_s(4, 5, 0);
        ok(differ, "the jitter spreads jobs that failed together");
    }
}

int main(void)
{
    const char *url = getenv("EASYSKS_TEST_DATABASE_URL");
    struct db *db, *db2;
    struct arena a;
    struct err e = {0};
    struct aiqueue_job j1, j2, j3, stale;
    struct aiqueue_grade g = {2, 2, 1, "KI: gut", "[\"x\"]", "gpt-test-stub", "ai-1"};
    char uid[32], sid[37], uid2[32], sid2[37], buf[256];
    int queued, rc, ok_count, retry;
    long long due;

    test_backoff();
    admin_url = getenv("EASYSKS_TEST_ADMIN_URL");
    if (url == NULL || admin_url == NULL) {
        printf("# the database part skipped: EASYSKS_TEST_DATABASE_URL/EASYSKS_TEST_ADMIN_URL not "
               "set\n");
        return tap_done();
    }
    log_set_level(LOG_ERROR);
    arena_init(&a, 4096);
    db = db_new(url, 5000);
    db2 = db_new(url, 5000);
    /* Other tests' jobs would be claimed here: park them for the run. */
    admin("UPDATE grading_jobs SET next_attempt_at = now() + interval '1 day'"
          " WHERE state IN ('queued', 'running')",
          NULL, 0);

    make_session("aiqueue-a", 3, uid, sid);
    ok(aiqueue_enqueue(db, sid, uid, items3, 3, &a, &queued, &e) == 0 && queued == 3,
       "three answers queued (%s)", e.msg);
    ok(aiqueue_enqueue(db, sid, uid, items3, 3, &a, &queued, &e) == 0 && queued == 0 &&
           admin_int("SELECT count(*) FROM grading_jobs WHERE session_id = '%s'", sid) == 3,
       "queued again: nothing added (unique per answer)");

    /* Two runners hold two different jobs at the same time. */
    ok(db_begin(db2, &e) == 0, "a second connection opens a transaction");
    ok(aiqueue_claim(db, 60, &a, &j1, &e) == 1 && j1.attempt == 1 &&
           strcmp(j1.session_id, sid) == 0 && strcmp(j1.answer, "Antwort 1") == 0 &&
           j1.kind == EXAM_SHEET,
       "claimed: attempt 1, the answer's text");
    ok(aiqueue_claim(db2, 60, &a, &j2, &e) == 1 && j2.id != j1.id,
       "another runner claims another job");
    db_rollback(db2); /* its claim is undone: the job is queued again */
    ok(aiqueue_claim(db2, 60, &a, &j2, &e) == 1 && j2.id != j1.id && j2.attempt == 1,
       "claimed again after a rolled-back claim, still attempt 1");
    ok(aiqueue_claim(db, 1, &a, &j3, &e) == 1 && aiqueue_claim(db, 1, &a, &stale, &e) == 0,
       "the third job (lease 1 s), then none due");

    /* j1 graded: the session stays pending (two open). */
    ok(aiqueue_complete(db, &j1, &g, &e) == 1, "a verdict written (%s)", e.msg);
    ok(admin_int(
           "SELECT (score * 10)::int FROM exam_answers WHERE session_id = '%s' AND grader = 'ai'",
           sid) == 20 &&
           strcmp(
               admin_text("SELECT grading || ',' || grader || ',' || total_score FROM exam_sessions"
                          " WHERE id = '%s'",
                          sid, buf, sizeof(buf)),
               "pending,ai,4") == 0,
       "the answer is the model's; total 4, grader ai, grading pending (%s)", buf);
    ok(aiqueue_complete(db, &j1, &g, &e) == 0,
       "the same verdict again: the claim is gone, nothing written");

    /* j3's lease runs out: claimed again (attempt 2); the old claim's verdict is dropped. */
    usleep(1200000);
    ok(aiqueue_claim(db2, 60, &a, &stale, &e) == 1 && stale.id == j3.id && stale.attempt == 2,
       "a job whose lease ran out is claimed again, attempt 2");
    ok(aiqueue_complete(db, &j3, &g, &e) == 0 &&
           admin_int("SELECT count(*) FROM exam_answers WHERE session_id = '%s' AND grader = 'ai'",
                     sid) == 1,
       "the first claim's late verdict is dropped");

    /* j2: a retry comes due after its delay. */
    ok(aiqueue_retry(db2, &j2, "ai_upstream_rate_limited", 1, &e) == 1 &&
           aiqueue_claim(db, 60, &a, &j1, &e) == 0,
       "a retry is not due at once");
    rc = aiqueue_next_due_ms(db, &due, &e);
    ok(rc == 0 && due >= 0 && due <= 1000, "the next job comes due within a second (%lld ms)", due);
    usleep(1100000);
    ok(aiqueue_claim(db, 60, &a, &j2, &e) == 1 && j2.attempt == 2,
       "the retry is due after its delay: attempt 2");

    /* j2 fails for good, the renewed j3 completes: the session is complete. */
    ok(aiqueue_fail(db, &j2, "ai_malformed", &e) == 1, "given up");
    ok(admin_int("SELECT (score * 10)::int FROM exam_answers WHERE session_id = '%s'"
                 " AND ai_error = 'ai_malformed'",
                 sid) == 10,
       "the failed answer keeps its heuristic score and says why");
    ok(aiqueue_complete(db, &stale, &g, &e) == 1 &&
           strcmp(admin_text(
                      "SELECT grading || ',' || total_score || ',' || outcome FROM exam_sessions"
                      " WHERE id = '%s'",
                      sid, buf, sizeof(buf)),
                  "complete,5,failed") == 0,
       "the last job done: grading complete, total 2 + 1 + 2 (%s)", buf);
    rc = aiqueue_next_due_ms(db, &due, &e);
    ok(rc == 0 && (due == -1 || due > 12 * 3600 * 1000LL),
       "nothing open but the parked jobs: no next due time soon (%lld)", due);

    /* Two jobs of one session finished at the same moment by two processes. */
    make_session("aiqueue-b", 2, uid2, sid2);
    aiqueue_enqueue(db, sid2, uid2, items3, 2, &a, &queued, &e);
    aiqueue_claim(db, 60, &a, &j1, &e);
    aiqueue_claim(db2, 60, &a, &j2, &e);
    for (int i = 0; i < 2; i++) {
        if (fork() == 0) {
            struct db *mine = db_new(url, 5000);
            struct err ce;
            _exit(aiqueue_complete(mine, i == 0 ? &j1 : &j2, &g, &ce) == 1 ? 0 : 1);
        }
    }
    ok_count = 0;
    for (int i = 0; i < 2; i++) {
        int st;
        wait(&st);
        ok_count += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    ok(ok_count == 2 &&
           strcmp(
               admin_text("SELECT grading || ',' || total_score FROM exam_sessions WHERE id = '%s'",
                          sid2, buf, sizeof(buf)),
               "complete,4") == 0,
       "two jobs completed at once: the session ends complete (%s)", buf);

    /* The quota: 12 concurrent takes of one with a quota of 5 admit 5. */
    for (int i = 0; i < 12; i++) {
        if (fork() == 0) {
            struct db *mine = db_new(url, 5000);
            struct err qe;
            _exit(aiusage_take(mine, uid2, 1, 5, 0, NULL, &qe) == 0 ? 0 : qe.status == 429 ? 1 : 2);
        }
    }
    ok_count = 0;
    rc = 0;
    for (int i = 0; i < 12; i++) {
        int st;
        wait(&st);
        ok_count += WIFEXITED(st) && WEXITSTATUS(st) == 0;
        rc |= !WIFEXITED(st) || WEXITSTATUS(st) == 2;
    }
    ok(ok_count == 5 && rc == 0 &&
           admin_int("SELECT requests FROM ai_usage WHERE user_id = %s", uid2) == 5,
       "12 concurrent calls against a quota of 5: exactly 5 pass, the rest get 429");
    rc = aiusage_take(db, uid2, 1, 5, 0, &retry, &e);
    ok(rc == -1 && strcmp(e.code, "ai_quota_exceeded") == 0 && retry > 0 && retry <= 86400,
       "over the quota: ai_quota_exceeded, resets within a day (%d s)", retry);
    rc = aiusage_take(db, uid, 2, 100, 2, NULL, &e) == 0 &&
         aiusage_take(db, uid, 1, 100, 2, &retry, &e) == -1;
    ok(rc && strcmp(e.code, "ai_rate_limited") == 0 && retry >= 1 && retry <= 60,
       "two calls in a minute allowed, the third ai_rate_limited (retry in %d s)", retry);
    {
        long long t0 = mono_ms();
        struct ai_usage u = {120, 30};
        ok(aiusage_add_tokens(db, uid, &u, &e) == 0 &&
               admin_int(
                   "SELECT prompt_tokens + completion_tokens FROM ai_usage WHERE user_id = %s",
                   uid) == 150 &&
               mono_ms() - t0 < 2000,
           "tokens added to today's row");
    }

    admin("UPDATE grading_jobs SET next_attempt_at = now()"
          " WHERE state IN ('queued', 'running') AND next_attempt_at > now() + interval '12 hours'",
          NULL, 0);
    db_free(db);
    db_free(db2);
    arena_cleanup(&a);
    return tap_done();
}
