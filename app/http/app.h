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
#include "config.h"
#include "db.h"

struct auth_verifier;
struct scoreboard;

struct app {
    const struct config *cfg;
    const struct scoreboard *board; /* pool status (read by /_status) */
    struct db *db;                  /* this worker's connection */
    struct auth_verifier *auth;     /* NULL when AUTH_ISSUER is unset (dev) */
    struct arena arena;             /* per-request memory, reset after each request */
};

#endif
