/*
 * app.h - the per-process application state handed to every handler.
 *
 * One struct app per worker, built by app_new() (serve.h). Handlers reach
 * the configuration, the database and the services through r->app; a new
 * service (Stripe, OpenAI, ...) adds a field here and its setup to app.c,
 * and nothing in the pool changes.
 */
#ifndef EASYSKS_APP_H
#define EASYSKS_APP_H

#include "core/arena.h"
#include "core/buf.h"
#include "sks/catalogue.h"
#include "sks/studycache.h"
#include "infra/config.h"
#include "infra/db.h"
#include "core/err.h"
#include "sks/users.h"

struct auth_verifier;
struct http_client;
struct scoreboard;

struct app {
    const struct config *cfg;
    struct scoreboard *board;                /* pool status (read by /_status), AI call slots */
    int slot;                                /* this worker's slot in the scoreboard */
    struct db *db;                           /* this worker's connection */
    struct auth_verifier *auth;              /* NULL when AUTH_ISSUER is unset (dev) */
    struct users_cache *users;               /* subject -> user id */
    struct studycache *study;                /* learners' study state (lib/sks/studycache.h) */
    struct catalogue *cat;                   /* NULL until loaded: use app_catalogue() */
    char cat_version[CATALOGUE_VERSION_MAX]; /* catalogue_meta when cat was loaded */
    long long cat_checked_ms;                /* monotonic: the version last compared */
    int cat_stale;                           /* a changed version seen: reload after this request */
    struct http_client *stripe; /* Stripe API, one kept connection; NULL without a key */
    struct http_client *openai; /* OpenAI API, one kept connection; NULL without a key */
    struct arena arena;         /* per-request memory, reset after each request */
    struct buf out;             /* response body, reused across requests */
};

/* The catalogue, loaded from the database on first use (the worker tries at
 * start; a database that was down then is retried here). NULL with e set:
 * 503 from the database, 503 catalogue_missing before the seed ran. */
const struct catalogue *app_catalogue(struct app *app, struct err *e);

struct request;
/* The same for a handler: on failure the 503 has been answered. */
const struct catalogue *app_catalogue_or_fail(struct request *r);

/* How often a busy worker compares catalogue_meta with what it loaded. */
#define APP_CATALOGUE_CHECK_MS 1000

/* A seed changes the catalogue under running workers (a rolling deploy
 * that adds or retires cards). After each request, at most every
 * APP_CATALOGUE_CHECK_MS or at once when flagged stale, the worker compares
 * catalogue_meta with what it loaded and loads the new catalogue (the old
 * one stays when that fails). Never during a request: handlers hold
 * pointers into the catalogue. */
void app_catalogue_refresh(struct app *app);

/* A card id the worker's catalogue lacks. If catalogue_meta has changed
 * since the catalogue was loaded, the card may be new: e becomes 503
 * catalogue_changed (retry; the worker reloads before its next request)
 * and 1 is returned. Otherwise 0 and e is left as it is (404). */
int app_card_unknown(struct app *app, struct err *e);

/* A slot for one synchronous model call (study check, transcription): at
 * most AI_SYNC_SLOTS workers of the pool wait on the model at a time, so a
 * slow model can never occupy every worker. Returns 1 with the slot taken
 * (release it with app_ai_release()), 0 when all are in use (answer
 * without the model instead of queueing). Lock-free: the worker marks its
 * own scoreboard slot, then counts the marks, and backs off when that makes
 * one too many (two racing workers may both back off; never both pass).
 * The master clears the mark of a worker that died or was killed. */
int app_ai_acquire(struct app *app);
void app_ai_release(struct app *app);

/* Synchronous model calls in flight in the pool now. */
int app_ai_in_flight(const struct scoreboard *board);

#endif
