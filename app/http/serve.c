/*
 * The application side of a worker: its state (struct app) and the life of
 * one request: identify it, route it, enforce the route's body cap and
 * authentication, run the handler, make sure exactly one response went out,
 * log it when slow, and clean up.
 */
#include "http/serve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/rand.h>

#include "api/api.h"
#include "infra/auth.h"
#include "http/app.h"
#include "http/authn.h"
#include "http/router.h"
#include "infra/http.h"
#include "core/log.h"
#include "pool/scoreboard.h"

struct app *app_new(const struct config *cfg, struct scoreboard *board, int slot)
{
    struct app *app = calloc(1, sizeof(*app));
    struct err e = {0};

    if (app == NULL)
        abort();
    app->cfg = cfg;
    app->board = board;
    app->slot = slot;
    arena_init(&app->arena, 16384);
    app->db = db_new(cfg->database_url, cfg->db_statement_timeout_ms + DB_DEADLINE_MARGIN_MS);
    if (db_ensure(app->db, 0, &e) < 0)
        log_warn("worker starting without a database connection", "code", e.code, NULL);
    app->auth = authn_verifier_new(cfg, board);
    app->users = users_cache_new(16384); /* every active learner: see lib/sks/users.h */
    app->study = studycache_new(STUDYCACHE_LEARNERS_DEFAULT);
    if (cfg->stripe_api_key != NULL && (app->stripe = http_client_new(&e)) == NULL)
        log_warn("no HTTP client for Stripe; billing answers 503", "code", e.code, NULL);
    if (cfg->openai_api_key != NULL && (app->openai = http_client_new(&e)) == NULL)
        log_warn("no HTTP client for OpenAI; AI features are unavailable", "code", e.code, NULL);
    buf_init(&app->out);
    if (app_catalogue(app, &e) == NULL)
        log_warn("worker starting without the catalogue; retrying on demand", "code", e.code, NULL);
    return app;
}

static long long mono_ms(void);

/* The version first, then the tables: a seed committing in between makes
 * the next check load again, never keeps a stale catalogue for good. */
static int catalogue_load(struct app *app, struct err *e)
{
    char version[CATALOGUE_VERSION_MAX], n[16];
    struct catalogue *cat;

    if (catalogue_db_version(app->db, 0, version, e) < 0 ||
        (cat = catalogue_from_db(app->db, e)) == NULL)
        return -1;
    catalogue_free(app->cat);
    app->cat = cat;
    /* Held study states index the old catalogue's positions (and a later
     * catalogue could even reuse its address). */
    studycache_clear(app->study);
    memcpy(app->cat_version, version, sizeof(version));
    app->cat_checked_ms = mono_ms();
    app->cat_stale = 0;
    snprintf(n, sizeof(n), "%d", cat->ncards);
    log_debug("catalogue loaded", "cards", n, NULL);
    return 0;
}

const struct catalogue *app_catalogue(struct app *app, struct err *e)
{
    if (app->cat == NULL)
        catalogue_load(app, e);
    return app->cat;
}

void app_catalogue_refresh(struct app *app)
{
    char version[CATALOGUE_VERSION_MAX];
    struct err e = {0};
    long long now = mono_ms();

    if (app->cat == NULL || (!app->cat_stale && now - app->cat_checked_ms < APP_CATALOGUE_CHECK_MS))
        return;
    app->cat_checked_ms = now;
    /* A short (soft) deadline: a slow database delays the next request
     * little, and the check is simply repeated later. */
    if (catalogue_db_version(app->db, APP_CATALOGUE_CHECK_MS, version, &e) < 0)
        return;
    if (strcmp(version, app->cat_version) == 0) {
        app->cat_stale = 0;
        return;
    }
    if (catalogue_load(app, &e) < 0)
        log_warn("catalogue changed but could not be loaded; keeping the old one", "code", e.code,
                 NULL);
    else
        log_info("catalogue reloaded: catalogue_meta changed", NULL);
}

int app_card_unknown(struct app *app, struct err *e)
{
    char version[CATALOGUE_VERSION_MAX];
    struct err ignored = {0};

    if (app->cat == NULL || catalogue_db_version(app->db, 0, version, &ignored) < 0 ||
        strcmp(version, app->cat_version) == 0)
        return 0;
    app->cat_stale = 1;
    err_set(e, 503, "catalogue_changed", "the question catalogue was just updated; retry");
    return 1;
}

const struct catalogue *app_catalogue_or_fail(struct request *r)
{
    struct err e = {0};
    const struct catalogue *cat = app_catalogue(r->app, &e);
    if (cat == NULL)
        request_send_error(r, &e, NULL);
    return cat;
}

int app_ai_in_flight(const struct scoreboard *board)
{
    int n = 0;

    for (int i = 0; i < SCOREBOARD_SLOTS; i++)
        n += atomic_load(&board->slots[i].ai_call) != 0;
    return n;
}

int app_ai_acquire(struct app *app)
{
    struct slot *mine;

    if (app->board == NULL || app->slot < 0 || app->slot >= SCOREBOARD_SLOTS)
        return 0;
    mine = &app->board->slots[app->slot];
    atomic_store(&mine->ai_call, 1);
    if (app_ai_in_flight(app->board) > app->cfg->ai_sync_slots) {
        atomic_store(&mine->ai_call, 0);
        return 0;
    }
    return 1;
}

void app_ai_release(struct app *app)
{
    if (app->board != NULL && app->slot >= 0 && app->slot < SCOREBOARD_SLOTS)
        atomic_store(&app->board->slots[app->slot].ai_call, 0);
}

void app_free(struct app *app)
{
    if (app == NULL)
        return;
    auth_verifier_free(app->auth);
    users_cache_free(app->users);
    studycache_free(app->study);
    http_client_free(app->stripe);
    http_client_free(app->openai);
    catalogue_free(app->cat);
    buf_cleanup(&app->out);
    db_free(app->db);
    arena_cleanup(&app->arena);
    free(app);
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* nginx's $request_id, or 128 random bits when it is missing or malformed. */
static const char *request_id(struct request *r)
{
    static const char hex[] = "0123456789abcdef";
    const char *id = request_param(r, "REQUEST_ID");
    unsigned char raw[16];
    char *out;

    if (request_id_valid(id))
        return id;
    if (RAND_bytes(raw, sizeof(raw)) != 1)
        abort();
    out = arena_alloc(r->arena, 33);
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 0xf];
    }
    out[32] = '\0';
    return out;
}

/* Route, then the checks every route declares in its flags. Returns with a
 * response sent unless the handler forgot one. */
static void dispatch(struct request *r)
{
    const struct route *route = NULL;
    char allow[64], hdr[96];
    enum router_result found = router_match(api_routes, r, &route, allow, sizeof(allow));
    size_t limit = r->app->cfg->max_body_bytes, len;
    struct err e = {0};

    /* An oversized body is refused before anything reads it, on any path. */
    if (found == ROUTER_FOUND && route->max_body > 0)
        limit = route->max_body;
    if (request_parse_content_length(request_param(r, "CONTENT_LENGTH"), limit, &len, &e) < 0) {
        request_send_error(r, &e, NULL);
        return;
    }
    switch (found) {
    case ROUTER_NOT_FOUND:
        request_fail(r, 404, "not_found", "no such endpoint", NULL);
        return;
    case ROUTER_BAD_METHOD:
        snprintf(hdr, sizeof(hdr), "Allow: %s\r\n", allow);
        request_fail(r, 405, "method_not_allowed", "method not allowed for this endpoint", hdr);
        return;
    case ROUTER_FOUND:
        break;
    }
    r->route = route;
    if (!(route->flags & ROUTE_PUBLIC)) {
        if (authn_authenticate(r, (route->flags & (ROUTE_PROFILE | ROUTE_PREMIUM)) != 0) < 0)
            return;
        if ((route->flags & ROUTE_PREMIUM) && authn_require_premium(r) < 0)
            return;
    }
    route->handler(r);
}

void app_serve(struct app *app, FCGX_Request *fr)
{
    struct request r;
    long long t0 = mono_ms(), took;
    char status[8], ms[24];

    memset(&r, 0, sizeof(r));
    r.fcgi = fr;
    r.app = app;
    r.arena = &app->arena;
    r.method = request_param(&r, "REQUEST_METHOD");
    r.path = request_param(&r, "PATH_INFO");
    r.query = request_param(&r, "QUERY_STRING");
    if (r.method == NULL)
        r.method = "GET";
    if (r.path == NULL || *r.path == '\0')
        r.path = "/";
    if (r.query == NULL)
        r.query = "";
    r.request_id = request_id(&r);
    log_set_request_id(r.request_id);

    dispatch(&r);
    if (!r.responded)
        request_fail(&r, 500, "internal_error", "the handler sent no response", NULL);
    cJSON_Delete(r.json);

    took = mono_ms() - t0;
    snprintf(status, sizeof(status), "%d", r.status);
    snprintf(ms, sizeof(ms), "%lld", took);
    /* nginx logs every request; the pool adds the slow ones (php-fpm's slowlog). */
    if (app->cfg->slow_request_ms > 0 && took >= app->cfg->slow_request_ms)
        log_warn("slow request", "method", r.method, "path", r.path, "status", status,
                 "duration_ms", ms, NULL);
    else
        log_debug("request", "method", r.method, "path", r.path, "status", status, "duration_ms",
                  ms, NULL);
}

/* The study-state cache's figures into this worker's scoreboard slot, for
 * /_status (operators read the hit rate there). */
static void publish_study_cache(struct app *app)
{
    struct studycache_stats st;
    struct slot *s;

    if (app->board == NULL || app->slot < 0 || app->slot >= SCOREBOARD_SLOTS || app->study == NULL)
        return;
    s = &app->board->slots[app->slot];
    studycache_stats(app->study, &st);
    /* The pool's totals grow by what this worker added since it last told. */
    atomic_fetch_add(&app->board->study_hits, (unsigned long)st.hits - atomic_load(&s->study_hits));
    atomic_fetch_add(&app->board->study_misses,
                     (unsigned long)st.misses - atomic_load(&s->study_misses));
    atomic_store(&s->study_hits, (unsigned long)st.hits);
    atomic_store(&s->study_misses, (unsigned long)st.misses);
    atomic_store(&s->study_learners, st.entries);
    atomic_store(&s->study_bytes, (unsigned long)st.bytes);
}

void app_after_request(struct app *app)
{
    /* A worker keeps its largest response buffer, up to a bound. */
    if (app->out.cap > 1024 * 1024)
        buf_cleanup(&app->out);
    buf_reset(&app->out);
    app_ai_release(app); /* a handler that left early must not keep its AI slot */
    publish_study_cache(app);
    db_request_done(app->db);
    app_catalogue_refresh(app);
    db_request_done(app->db);
    arena_reset(&app->arena);
    log_set_request_id(NULL);
    log_set_user(NULL);
}
