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

#include "arena.h"
#include "buf.h"
#include "catalogue.h"
#include "config.h"
#include "db.h"
#include "err.h"
#include "users.h"

struct auth_verifier;
struct http_client;
struct scoreboard;

struct app {
    const struct config *cfg;
    const struct scoreboard *board; /* pool status (read by /_status) */
    struct db *db;                  /* this worker's connection */
    struct auth_verifier *auth;     /* NULL when AUTH_ISSUER is unset (dev) */
    struct users_cache *users;      /* subject -> user id */
    struct catalogue *cat;          /* NULL until loaded: use app_catalogue() */
    struct http_client *stripe;     /* Stripe API, one kept connection; NULL without a key */
    struct arena arena;             /* per-request memory, reset after each request */
    struct buf out;                 /* response body, reused across requests */
};

/* The catalogue, loaded from the database on first use (the worker tries at
 * start; a database that was down then is retried here). NULL with e set:
 * 503 from the database, 503 catalogue_missing before the seed ran. */
const struct catalogue *app_catalogue(struct app *app, struct err *e);

struct request;
/* The same for a handler: on failure the 503 has been answered. */
const struct catalogue *app_catalogue_or_fail(struct request *r);

#endif
