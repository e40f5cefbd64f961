/*
 * GET /_status - the pool's scoreboard for operators: JSON, or Prometheus
 * text with ?format=prometheus. Served only through nginx's status server,
 * which listens on loopback and sets EASYSKS_STATUS; anything else gets 404.
 */
#include <stdio.h>
#include <string.h>

#include "sks/aiqueue.h"
#include "api/api.h"
#include "core/buf.h"
#include "http/app.h"
#include "core/json.h"
#include "pool/scoreboard.h"

static const char *const state_names[] = {"free", "starting", "idle", "busy", "exiting"};

struct counts {
    int by_state[5];
};

static void count_states(const struct scoreboard *b, struct counts *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        int st = atomic_load(&b->slots[i].state);
        if (st >= 0 && st < 5)
            c->by_state[st]++;
    }
}

/* AI grading's backlog (docs/ai.md): from the database, so every host
 * shows the whole queue; *ok 0 when the database did not answer. */
static void load_backlog(struct request *r, struct aiqueue_backlog *q, int *ok)
{
    struct err e = {0};

    *ok = aiqueue_backlog(r->app->db, r->app->cfg->health_timeout_ms, q, &e) == 0;
}

static int send_prometheus(struct request *r, const struct scoreboard *b, const struct counts *c)
{
    struct aiqueue_backlog q;
    struct buf out;
    int q_ok;

    buf_init(&out);
    buf_puts(&out, "# HELP easysks_pool_workers Worker processes by state.\n"
                   "# TYPE easysks_pool_workers gauge\n");
    for (int st = 1; st < 5; st++)
        buf_printf(&out, "easysks_pool_workers{state=\"%s\"} %d\n", state_names[st],
                   c->by_state[st]);
    buf_printf(&out,
               "# HELP easysks_pool_workers_target Workers the master keeps running.\n"
               "# TYPE easysks_pool_workers_target gauge\n"
               "easysks_pool_workers_target %d\n",
               atomic_load(&b->target));
    buf_printf(&out,
               "# HELP easysks_pool_requests_total Requests served.\n"
               "# TYPE easysks_pool_requests_total counter\n"
               "easysks_pool_requests_total %lu\n",
               atomic_load(&b->accepted));
    buf_printf(&out,
               "# HELP easysks_pool_workers_killed_total Workers killed past the request "
               "deadline.\n"
               "# TYPE easysks_pool_workers_killed_total counter\n"
               "easysks_pool_workers_killed_total %lu\n",
               atomic_load(&b->killed));
    buf_printf(&out,
               "# HELP easysks_pool_worker_crashes_total Unexpected worker exits.\n"
               "# TYPE easysks_pool_worker_crashes_total counter\n"
               "easysks_pool_worker_crashes_total %lu\n",
               atomic_load(&b->respawned));
    buf_printf(&out,
               "# HELP easysks_pool_reloads_total Configuration reloads applied.\n"
               "# TYPE easysks_pool_reloads_total counter\n"
               "easysks_pool_reloads_total %lu\n",
               atomic_load(&b->reloads));
    /* One line per live worker: a busy or recycled-too-often worker shows up. */
    buf_puts(&out, "# HELP easysks_pool_worker_requests Requests served by each live worker.\n"
                   "# TYPE easysks_pool_worker_requests gauge\n");
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        const struct slot *s = &b->slots[i];
        int st = atomic_load(&s->state);
        if (st <= SLOT_FREE || st > SLOT_EXITING)
            continue;
        buf_printf(&out, "easysks_pool_worker_requests{slot=\"%d\",pid=\"%d\",state=\"%s\"} %lu\n",
                   i, (int)atomic_load(&s->pid), state_names[st], atomic_load(&s->requests));
    }
    buf_printf(&out,
               "# HELP easysks_ai_sync_calls Synchronous model calls in flight (study checks, "
               "transcriptions).\n"
               "# TYPE easysks_ai_sync_calls gauge\n"
               "easysks_ai_sync_calls %d\n"
               "# HELP easysks_ai_sync_slots AI_SYNC_SLOTS: the most the pool makes at once.\n"
               "# TYPE easysks_ai_sync_slots gauge\n"
               "easysks_ai_sync_slots %d\n",
               app_ai_in_flight(b), r->app->cfg->ai_sync_slots);
    load_backlog(r, &q, &q_ok);
    if (q_ok)
        buf_printf(&out,
                   "# HELP easysks_grading_jobs Open AI grading jobs (all hosts) by state.\n"
                   "# TYPE easysks_grading_jobs gauge\n"
                   "easysks_grading_jobs{state=\"queued\"} %lld\n"
                   "easysks_grading_jobs{state=\"running\"} %lld\n"
                   "# HELP easysks_grading_oldest_job_seconds Age of the oldest open grading "
                   "job.\n"
                   "# TYPE easysks_grading_oldest_job_seconds gauge\n"
                   "easysks_grading_oldest_job_seconds %lld\n",
                   q.queued, q.running, q.oldest_age_s);
    request_send_body(r, 200, "text/plain; version=0.0.4", buf_str(&out), out.len, NULL);
    buf_cleanup(&out);
    return 200;
}

int api_status(struct request *r)
{
    const char *flag = request_param(r, "EASYSKS_STATUS");
    const struct scoreboard *b = r->app->board;
    long long now = scoreboard_now_ms();
    struct counts c;
    struct aiqueue_backlog q;
    const char *fmt;
    cJSON *body, *workers, *slots, *ai;
    int q_ok;

    if (flag == NULL || strcmp(flag, "1") != 0) {
        request_fail(r, 404, "not_found", "no such endpoint", NULL);
        return 404;
    }
    count_states(b, &c);
    if ((fmt = request_query(r, "format")) != NULL && strcmp(fmt, "prometheus") == 0)
        return send_prometheus(r, b, &c);

    body = json_new_object();
    json_add_number(body, "uptime_s", (double)(now - atomic_load(&b->started_ms)) / 1000.0);
    json_add_number(body, "workers_target", atomic_load(&b->target));
    workers = json_add_object(body, "workers");
    for (int st = 1; st < 5; st++)
        json_add_number(workers, state_names[st], c.by_state[st]);
    json_add_number(body, "requests_total", (double)atomic_load(&b->accepted));
    json_add_number(body, "workers_killed_total", (double)atomic_load(&b->killed));
    json_add_number(body, "worker_crashes_total", (double)atomic_load(&b->respawned));
    json_add_number(body, "reloads_total", (double)atomic_load(&b->reloads));
    ai = json_add_object(body, "ai");
    json_add_number(ai, "sync_calls", app_ai_in_flight(b));
    json_add_number(ai, "sync_slots", r->app->cfg->ai_sync_slots);
    load_backlog(r, &q, &q_ok);
    if (q_ok) {
        json_add_number(ai, "jobs_queued", (double)q.queued);
        json_add_number(ai, "jobs_running", (double)q.running);
        json_add_number(ai, "oldest_job_s", (double)q.oldest_age_s);
    }
    slots = json_add_array(body, "slots");
    for (int i = 0; i < SCOREBOARD_SLOTS; i++) {
        const struct slot *s = &b->slots[i];
        int st = atomic_load(&s->state);
        if (st <= SLOT_FREE || st > SLOT_EXITING)
            continue;
        cJSON *o = json_new_object();
        json_add_number(o, "pid", atomic_load(&s->pid));
        json_add_string(o, "state", state_names[st]);
        json_add_number(o, "requests", (double)atomic_load(&s->requests));
        if (st == SLOT_BUSY)
            json_add_number(o, "busy_ms", (double)(now - atomic_load(&s->busy_since_ms)));
        cJSON_AddItemToArray(slots, o);
    }
    request_send_json(r, 200, body, NULL);
    cJSON_Delete(body);
    return 200;
}
