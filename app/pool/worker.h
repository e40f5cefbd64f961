/*
 * worker.h - a pool worker: accepts FastCGI requests on the inherited
 * listening socket until told to quit, its request budget is spent, or the
 * master goes away.
 */
#ifndef EASYSKS_WORKER_H
#define EASYSKS_WORKER_H

#include "arena.h"
#include "config.h"
#include "db.h"
#include "scoreboard.h"

struct auth_verifier;

struct worker {
    const struct config *cfg;
    struct db *db;
    struct auth_verifier *auth; /* NULL when AUTH_ISSUER is unset (dev) */
    struct arena arena;
    struct slot *slot;
    struct scoreboard *board;
    unsigned long served;
};

/* Never returns: serves requests, then _exit()s. */
__attribute__((noreturn)) void worker_main(const struct config *cfg, int listen_fd,
                                           struct scoreboard *board, int slot_index);

#endif
