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
 *   USR1, USR2       ignored: the pool logs to stderr, which the supervisor
 *                    (systemd/journald, or a file it reopens) owns
 */
#ifndef EASYSKS_MASTER_H
#define EASYSKS_MASTER_H

#include <sys/types.h>

#include "infra/config.h"

/* The socket the master bound, remembered so a stop removes exactly it. */
struct listener {
    int fd;
    char path[108];
    dev_t dev;
    ino_t ino;
};

/* Create the unix socket at cfg->listen_path with cfg->socket_mode and group.
 * Refuses to take over a path another live process is listening on, and to
 * remove anything at the path that is not a socket. Returns the fd (also in
 * out->fd), or -1 with a message in errbuf. */
int master_listen(const struct config *cfg, struct listener *out, char *errbuf, size_t errlen);

/* Run the pool until stopped. Takes ownership of *cfg (reloads replace it).
 * Returns the process exit status. */
int master_run(struct config *cfg, const struct listener *sock, const char *pidfile);

#endif
