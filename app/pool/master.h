/*
 * master.h - the pool master: owns the listening socket, forks and watches
 * the workers, and turns operator signals into pool changes.
 *
 *   TERM, INT, QUIT  graceful stop: idle workers leave at once, busy ones
 *                    finish; whatever is left after EASYSKS_GRACEFUL_TIMEOUT
 *                    is killed
 *   HUP              re-read the configuration; replace workers one at a time
 *                    (a new worker is ready before an old one is retired)
 *   TTIN / TTOU      one worker more / less
 *   USR1             reopen the log file (when stderr was redirected by us)
 */
#ifndef EASYSKS_MASTER_H
#define EASYSKS_MASTER_H

#include "config.h"

/* Create the unix socket at cfg->listen_path with cfg->socket_mode and group.
 * Refuses to take over a path another live process is listening on.
 * Returns the fd, or -1 with a message in errbuf. */
int master_listen(const struct config *cfg, char *errbuf, size_t errlen);

/* Run the pool until stopped. Takes ownership of *cfg (reloads replace it).
 * Returns the process exit status. */
int master_run(struct config *cfg, int listen_fd, const char *pidfile);

#endif
