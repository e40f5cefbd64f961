/*
 * easysks-jobs - grades submitted exam answers with the model, away from
 * the worker pool (docs/ai.md).
 *
 *   easysks-jobs [--pidfile PATH]   run in the foreground (the pid file is
 *                                   written once the runners are up)
 *   easysks-jobs --check-config     validate the environment and exit
 *
 * Same configuration as the pool (environment, EASYSKS_CONFIG_FILE,
 * NAME_FILE secrets). A supervisor process keeps AI_JOBS_PARALLEL runner
 * processes; each runner is a plain sequential loop with its own database
 * connection (LISTENing on AIQUEUE_CHANNEL) and HTTP client:
 *
 *   claim one due job (a short statement, FOR UPDATE SKIP LOCKED: runners
 *   on this and other hosts take different jobs)
 *     -> call the model with no transaction open (AI_JOB_TIMEOUT_MS)
 *     -> write the verdict, or queue a retry with backoff (429, 5xx, a
 *        timeout), or give up after AI_JOB_MAX_ATTEMPTS or on a reply that
 *        cannot be used (the heuristic grade stands)
 *   and when nothing is due, sleep until a NOTIFY (a submit), the next
 *   retry or lease comes due, or AI_JOB_POLL_SECONDS pass.
 * The parallelism is the number of runners, so AI_JOBS_PARALLEL model calls
 * at most per host, whatever the backlog. A runner that dies is replaced
 * (after a pause that grows while they keep dying); its job is claimed again
 * when its lease runs out.
 *
 * Signals (to the supervisor): TERM/INT stop gracefully (runners finish the
 * job in hand, bounded by the call's deadline; killed after
 * EASYSKS_GRACEFUL_TIMEOUT or the call's deadline plus 5 s, whichever is
 * longer), HUP re-reads the configuration and replaces the runners one at a
 * time. Logs: one JSON object per line on stderr (lib/core/log), "proc" jobs or
 * jobs-runner. Exit status 78 for an invalid configuration.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sks/aiclient.h"
#include "sks/aiqueue.h"
#include "sks/aiusage.h"
#include "core/arena.h"
#include "core/buf.h"
#include "sks/catalogue.h"
#include "infra/config.h"
#include "infra/db.h"
#include "sks/exams.h"
#include "infra/http.h"
#include "core/log.h"
#include "core/text.h"

#define MAX_RUNNERS 64

/* --- the runner --------------------------------------------------------- */

static volatile sig_atomic_t runner_stop;

static void on_runner_stop(int sig)
{
    (void)sig;
    runner_stop = 1;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep up to ms, ending early on a stop request (the signal interrupts). */
static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    if (!runner_stop)
        nanosleep(&ts, NULL);
}

struct runner {
    const struct config *cfg;
    struct db *db;
    struct catalogue *cat;
    struct aiclient ai;
    struct arena arena;
    int lease_s;
};

static const char *errors_json(struct arena *a, const struct ai_verdict *v)
{
    struct buf b;
    const char *out;

    buf_init(&b);
    buf_putc(&b, '[');
    for (int i = 0; i < v->nerrors; i++) {
        if (i > 0)
            buf_putc(&b, ',');
        buf_json_string(&b, v->errors[i]);
    }
    buf_putc(&b, ']');
    out = arena_strndup(a, buf_str(&b), b.len);
    buf_cleanup(&b);
    return out;
}

static void log_job(const char *msg, const struct aiqueue_job *job, const char *code,
                    const char *extra_key, const char *extra)
{
    char id[24], attempt[16];

    snprintf(id, sizeof(id), "%lld", job->id);
    snprintf(attempt, sizeof(attempt), "%d", job->attempt);
    log_info(msg, "job", id, "session", job->session_id, "item", job->item_id, "attempt", attempt,
             "code", code, extra_key, extra, NULL);
}

/* Give up on the job: the heuristic grade stands. */
static void give_up(struct runner *rn, const struct aiqueue_job *job, const char *code)
{
    struct err e = {0};
    int rc = aiqueue_fail(rn->db, job, code, &e);

    if (rc < 0)
        log_warn("could not record a failed job; it is retried after its lease", "code", e.code,
                 NULL);
    else
        log_job(rc == 1 ? "job failed; the heuristic grade stands" : "job no longer ours", job,
                code, NULL, NULL);
}

/* Call the model for one claimed job and record what came of it. */
static void work(struct runner *rn, const struct aiqueue_job *job)
{
    const struct config *cfg = rn->cfg;
    struct aiclient_result res;
    struct err e = {0}, we = {0};
    char ms[24], delay_s[16];
    int rc, delay;

    if (!aiclient_ready(&rn->ai)) {
        give_up(rn, job, "ai_unavailable");
        return;
    }
    if (job->attempt > cfg->ai_job_max_attempts) {
        /* Claimed again after leases ran out: a job that keeps killing its
         * runner must not do so forever. */
        give_up(rn, job, "ai_attempts_exhausted");
        return;
    }
    if (text_is_blank(job->answer)) {
        give_up(rn, job, "empty_answer");
        return;
    }
    if (job->kind == EXAM_SHEET) {
        const struct cat_card *c = catalogue_card(rn->cat, job->item_id);
        struct ai_exam_input in = {0};
        if (c == NULL) {
            give_up(rn, job, "item_not_in_catalogue");
            return;
        }
        in.question = c->front_text;
        in.short_answer = c->short_answer;
        in.n_short = c->n_short;
        in.reference_answer = c->answer_text;
        in.answer = job->answer;
        in.max_score = 2;
        rc =
            aiclient_grade_exam(&rn->ai, &rn->arena, "exam", &in, cfg->ai_job_timeout_ms, &res, &e);
    } else {
        const struct cat_task *t = catalogue_task(rn->cat, job->item_id);
        struct ai_chart_input in = {0};
        const char **subs;
        if (t == NULL) {
            give_up(rn, job, "item_not_in_catalogue");
            return;
        }
        subs = arena_alloc(&rn->arena, (size_t)(t->n_sub > 0 ? t->n_sub : 1) * sizeof(*subs));
        for (int i = 0; i < t->n_sub; i++)
            subs[i] = t->sub_questions[i].text;
        in.context = t->context;
        in.sub_questions = subs;
        in.n_sub = t->n_sub;
        in.key_answers = (const char *const *)t->key_answers;
        in.n_keys = t->n_keys;
        in.solution = t->solution_text;
        in.answer = job->answer;
        in.max_score = t->points;
        rc = aiclient_grade_chart(&rn->ai, &rn->arena, "chart", &in, cfg->ai_job_timeout_ms, &res,
                                  &e);
    }
    if (aiusage_add_tokens(rn->db, job->user_id, &res.usage, &we) < 0)
        log_warn("AI tokens not recorded", "code", we.code, NULL);
    snprintf(ms, sizeof(ms), "%lld", res.duration_ms);
    if (rc == 0) {
        struct aiqueue_grade g = {res.verdict.score,
                                  res.verdict.raw_score,
                                  res.verdict.is_correct,
                                  res.verdict.feedback,
                                  errors_json(&rn->arena, &res.verdict),
                                  res.verdict.model,
                                  AICLIENT_PROMPT_VERSION};
        int w = aiqueue_complete(rn->db, job, &g, &we);
        if (w < 0)
            log_warn("could not record a verdict; the job is graded again after its lease", "code",
                     we.code, NULL);
        else
            log_job(w == 1 ? "job graded" : "job no longer ours; verdict dropped", job, NULL,
                    "duration_ms", ms);
        return;
    }
    if (res.retryable && job->attempt < cfg->ai_job_max_attempts) {
        delay = aiqueue_backoff_s(job->attempt, cfg->ai_job_backoff_s,
                                  (unsigned)getpid() ^ (unsigned)job->id);
        snprintf(delay_s, sizeof(delay_s), "%d", delay);
        if (aiqueue_retry(rn->db, job, e.code, delay, &we) < 0)
            log_warn("could not queue a retry; the job is retried after its lease", "code", we.code,
                     NULL);
        else
            log_job("job will be retried", job, e.code, "retry_in_s", delay_s);
        return;
    }
    give_up(rn, job, e.code != NULL ? e.code : "ai_error");
}

/* Connect, listen and load the catalogue; retried until it works or a stop. */
static int runner_setup(struct runner *rn)
{
    struct err e = {0};
    long wait = 500;

    while (!runner_stop) {
        if (db_listen(rn->db, AIQUEUE_CHANNEL, &e) == 0 &&
            (rn->cat != NULL || (rn->cat = catalogue_from_db(rn->db, &e)) != NULL))
            return 0;
        log_warn("runner not ready; retrying", "code", e.code, NULL);
        pause_ms(wait);
        wait = wait < 8000 ? wait * 2 : wait;
    }
    return -1;
}

static void runner_main(const struct config *cfg, pid_t supervisor)
{
    struct runner rn;
    struct sigaction sa;
    struct aiqueue_job job;
    struct err e = {0};
    sigset_t none;

    log_set_process("jobs-runner");
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* an orphaned runner finishes its job and leaves */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_runner_stop; /* no SA_RESTART: a wait ends at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (getppid() != supervisor)
        runner_stop = 1;

    memset(&rn, 0, sizeof(rn));
    rn.cfg = cfg;
    /* The claim outlives the call and the writes after it. */
    rn.lease_s = cfg->ai_job_timeout_ms / 1000 + 30;
    rn.db = db_new(cfg->database_url, cfg->db_statement_timeout_ms + DB_DEADLINE_MARGIN_MS);
    /* pg_stat_activity tells the runners from the pool's workers. */
    db_set_application_name(rn.db, "easysks-jobs");
    arena_init(&rn.arena, 16384);
    rn.ai.base = cfg->openai_api_base;
    rn.ai.key = cfg->openai_api_key;
    rn.ai.model = cfg->openai_model;
    rn.ai.transcribe_model = cfg->openai_transcribe_model;
    rn.ai.allow_http = cfg->env == ENV_DEV;
    if (cfg->openai_api_key != NULL && (rn.ai.http = http_client_new(&e)) == NULL)
        log_error("no HTTP client; jobs are given up as ai_unavailable", "code", e.code, NULL);

    if (runner_setup(&rn) == 0)
        log_debug("runner ready", NULL);
    while (!runner_stop) {
        int n;
        arena_reset(&rn.arena);
        n = aiqueue_claim(rn.db, rn.lease_s, &rn.arena, &job, &e);
        if (n == 1) {
            work(&rn, &job);
            db_request_done(rn.db);
            continue;
        }
        db_request_done(rn.db);
        if (n < 0) {
            pause_ms(1000);
            continue;
        }
        /* Nothing due: sleep until a submit notifies, the next retry or
         * lease comes due, or the poll interval passes (a safety net). */
        {
            long long due = -1, wait = (long long)cfg->ai_job_poll_s * 1000;
            if (aiqueue_next_due_ms(rn.db, &due, &e) == 0 && due >= 0 && due < wait)
                wait = due + 50;
            if (db_wait_notify(rn.db, (int)wait, &e) < 0)
                pause_ms(1000);
        }
    }
    http_client_free(rn.ai.http);
    catalogue_free(rn.cat);
    db_free(rn.db);
    arena_cleanup(&rn.arena);
    _exit(0);
}

/* --- the supervisor ------------------------------------------------------- */

struct supervisor {
    struct config *cfg;
    pid_t runners[MAX_RUNNERS];
    unsigned generation[MAX_RUNNERS];
    int retiring[MAX_RUNNERS]; /* told to stop; its replacement waits until it has gone */
    long long started_ms[MAX_RUNNERS];
    unsigned current; /* configuration generation */
    int crash_streak;
    long long next_spawn_ms;
    int stopping;
    long long stop_deadline_ms;
};

static void spawn(struct supervisor *s, int i)
{
    char pid_s[24], n_s[16];
    pid_t pid = fork(), me;

    if (pid < 0) {
        log_error("fork failed", "error", strerror(errno), NULL);
        s->next_spawn_ms = mono_ms() + 1000;
        return;
    }
    if (pid == 0) {
        me = getppid();
        runner_main(s->cfg, me);
    }
    s->runners[i] = pid;
    s->generation[i] = s->current;
    s->started_ms[i] = mono_ms();
    snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
    snprintf(n_s, sizeof(n_s), "%d", i);
    log_debug("runner started", "runner_pid", pid_s, "runner", n_s, NULL);
}

static int alive(const struct supervisor *s)
{
    int n = 0;
    for (int i = 0; i < MAX_RUNNERS; i++)
        n += s->runners[i] != 0;
    return n;
}

static void reap(struct supervisor *s)
{
    int status;
    pid_t pid;
    char pid_s[24], code[24];

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < MAX_RUNNERS; i++) {
            if (s->runners[i] != pid)
                continue;
            s->runners[i] = 0;
            if (s->stopping || s->retiring[i] || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
                s->retiring[i] = 0;
                break;
            }
            snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
            if (WIFSIGNALED(status))
                snprintf(code, sizeof(code), "signal %d", WTERMSIG(status));
            else
                snprintf(code, sizeof(code), "exit %d", WEXITSTATUS(status));
            log_error("runner died; replacing it", "runner_pid", pid_s, "status", code, NULL);
            /* Dying young again and again: back off, up to 30 s. */
            s->crash_streak = mono_ms() - s->started_ms[i] < 5000 ? s->crash_streak + 1 : 0;
            s->next_spawn_ms =
                mono_ms() +
                (s->crash_streak > 0 ? 500LL << (s->crash_streak < 6 ? s->crash_streak : 6) : 0);
            break;
        }
    }
}

static void retire(struct supervisor *s, int i)
{
    s->retiring[i] = 1;
    kill(s->runners[i], SIGTERM);
}

/* Keep AI_JOBS_PARALLEL runners of the current configuration. One change at
 * a time: while a retiring runner finishes its job nothing else changes. */
static void maintain(struct supervisor *s)
{
    int want = s->cfg->ai_jobs_parallel, active = 0, stale = -1;

    if (s->stopping || mono_ms() < s->next_spawn_ms)
        return;
    for (int i = 0; i < MAX_RUNNERS; i++) {
        if (s->runners[i] == 0)
            continue;
        if (s->retiring[i])
            return;
        active++;
        if (s->generation[i] != s->current)
            stale = i;
    }
    if (stale >= 0) {
        retire(s, stale); /* a reload: replaced when it has gone */
        return;
    }
    for (int i = 0; i < MAX_RUNNERS && active < want; i++) {
        if (s->runners[i] == 0) {
            spawn(s, i);
            active++;
        }
    }
    for (int i = MAX_RUNNERS - 1; i >= 0 && active > want; i--) {
        if (s->runners[i] != 0) {
            retire(s, i);
            return;
        }
    }
}

static void write_pidfile(const char *path)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if ((f = fopen(tmp, "we")) == NULL) {
        log_warn("cannot write pid file", "path", path, "error", strerror(errno), NULL);
        return;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    rename(tmp, path);
}

static int usage(void)
{
    fprintf(stderr, "usage: easysks-jobs [--pidfile PATH] [--check-config]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    static struct supervisor s;
    const char *pidfile = NULL;
    char errbuf[512], n_s[16];
    int check_only = 0, ready_logged = 0;
    sigset_t set;
    siginfo_t info;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--pidfile") == 0 && i + 1 < argc)
            pidfile = argv[++i];
        else if (strcmp(argv[i], "--check-config") == 0)
            check_only = 1;
        else
            return usage();
    }
    log_set_process("jobs");
    if (config_load(&cfg, errbuf, sizeof(errbuf)) < 0) {
        fprintf(stderr, "easysks-jobs: configuration error: %s\n", errbuf);
        return 78;
    }
    log_set_level(cfg.log_level);
    if (check_only) {
        printf("configuration ok (env=%s, ai=%s, parallel=%d)\n", config_env_name(cfg.env),
               cfg.openai_api_key != NULL ? "on" : "off", cfg.ai_jobs_parallel);
        config_cleanup(&cfg);
        return 0;
    }
    if (cfg.ai_jobs_parallel > MAX_RUNNERS)
        cfg.ai_jobs_parallel = MAX_RUNNERS;

    /* Signals are taken synchronously (sigtimedwait); runners reset them. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (http_sysinit(NULL) < 0) /* before fork: curl_global_init is not fork-safe later */
        log_warn("libcurl initialisation failed", NULL);
    s.cfg = &cfg;
    snprintf(n_s, sizeof(n_s), "%d", cfg.ai_jobs_parallel);
    log_info("jobs started", "runners", n_s, "ai", cfg.openai_api_key != NULL ? "on" : "off",
             "model", cfg.openai_model, NULL);
    if (cfg.openai_api_key == NULL)
        log_warn("OPENAI_API_KEY is not set: queued jobs are given up (heuristic grades stand)",
                 NULL);

    for (;;) {
        struct timespec ts = {0, 200 * 1000000L};
        int sig = sigtimedwait(&set, &info, &ts);

        if ((sig == SIGTERM || sig == SIGINT) && !s.stopping) {
            long long grace = (long long)cfg.graceful_timeout_s * 1000;
            if (grace < cfg.ai_job_timeout_ms + 5000LL)
                grace = cfg.ai_job_timeout_ms + 5000LL;
            s.stopping = 1;
            s.stop_deadline_ms = mono_ms() + grace;
            log_info("stopping gracefully", NULL);
            for (int i = 0; i < MAX_RUNNERS; i++)
                if (s.runners[i] != 0)
                    kill(s.runners[i], SIGTERM);
        } else if (sig == SIGHUP && !s.stopping) {
            struct config next;
            if (config_load(&next, errbuf, sizeof(errbuf)) < 0) {
                log_error("reload refused: invalid configuration; keeping the running one", "error",
                          errbuf, NULL);
            } else {
                config_cleanup(&cfg);
                cfg = next;
                if (cfg.ai_jobs_parallel > MAX_RUNNERS)
                    cfg.ai_jobs_parallel = MAX_RUNNERS;
                log_set_level(cfg.log_level);
                s.current++;
                s.crash_streak = 0;
                log_info("reloading: replacing runners one at a time", NULL);
            }
        }
        reap(&s);
        maintain(&s);
        if (!ready_logged && !s.stopping && alive(&s) == cfg.ai_jobs_parallel) {
            /* The pid file is the readiness signal scripts wait for. */
            if (pidfile != NULL)
                write_pidfile(pidfile);
            log_info("jobs ready", "runners", n_s, NULL);
            ready_logged = 1;
        }
        if (s.stopping) {
            if (alive(&s) == 0)
                break;
            if (mono_ms() > s.stop_deadline_ms) {
                log_warn("graceful stop timed out; killing the runners", NULL);
                for (int i = 0; i < MAX_RUNNERS; i++)
                    if (s.runners[i] != 0)
                        kill(s.runners[i], SIGKILL);
                s.stop_deadline_ms = mono_ms() + 60000;
            }
        }
    }
    if (pidfile != NULL)
        unlink(pidfile);
    log_info("jobs stopped", NULL);
    config_cleanup(&cfg);
    return 0;
}
