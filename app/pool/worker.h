/*
 * worker.h - a pool worker: accepts FastCGI requests on the inherited
 * listening socket and hands each to the application (http/serve.h) until
 * told to quit, its request budget is spent, or the master goes away.
 */
#ifndef EASYSKS_WORKER_H
#define EASYSKS_WORKER_H

#include <sys/types.h>

#include "infra/config.h"
#include "pool/scoreboard.h"

/* Exit statuses the master tells apart: 0 = left as asked or recycled after
 * its budget; anything else counts as a crash (respawned with backoff). */
#define WORKER_EXIT_OK 0
#define WORKER_EXIT_FAILURE 1

/* Never returns: serves requests, then _exit()s. `master` is the pid of the
 * process that forked this worker. */
__attribute__((noreturn)) void worker_main(const struct config *cfg, int listen_fd,
                                           struct scoreboard *board, int slot_index, pid_t master);

#endif
