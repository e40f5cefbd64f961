/*
 * scoreboard.h - shared memory between the master and its workers.
 *
 * One slot per worker, written only by that worker (state, request start,
 * counters) and read by the master (deadline enforcement, status). Mapped
 * MAP_SHARED|MAP_ANONYMOUS before forking; all fields are lock-free atomics.
 */
#ifndef EASYSKS_SCOREBOARD_H
#define EASYSKS_SCOREBOARD_H

#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "infra/config.h"

#define SCOREBOARD_JWKS_MAX (64 * 1024)

enum slot_state { SLOT_FREE = 0, SLOT_STARTING, SLOT_IDLE, SLOT_BUSY, SLOT_EXITING };

struct slot {
    _Atomic int state;
    _Atomic pid_t pid;
    _Atomic long long busy_since_ms; /* CLOCK_MONOTONIC, valid while BUSY or STARTING */
    _Atomic unsigned long requests;  /* served by this worker */
    _Atomic int ai_call;             /* 1 while this worker waits on a synchronous model call
                                        (AI_SYNC_SLOTS bounds how many do); cleared by the
                                        master when the worker is gone, so a killed worker
                                        never keeps a slot */
    /* the worker's study-state cache (lib/sks/studycache.h), since it started */
    _Atomic unsigned long study_hits, study_misses;
    _Atomic int study_learners;
    _Atomic unsigned long study_bytes;
};

struct scoreboard {
    _Atomic unsigned long accepted;            /* requests served by all workers ever */
    _Atomic unsigned long killed;              /* workers killed past the request deadline */
    _Atomic unsigned long respawned;           /* unexpected worker exits */
    _Atomic unsigned long reloads;             /* SIGHUP reloads applied */
    _Atomic int target;                        /* workers the master wants */
    _Atomic long long started_ms;              /* master start, CLOCK_MONOTONIC */
    _Atomic unsigned long study_hits;          /* study reads served from a worker's cache, */
    _Atomic unsigned long study_misses;        /* and loaded, by all workers ever */
    struct slot slots[CONFIG_MAX_WORKERS * 2]; /* room for a full pool being replaced */
    /* The last JWKS document a worker fetched (app/http/authn.c): a worker
     * that starts while the key endpoint is down verifies tokens with it
     * instead of refusing them all. A seqlock: jwks_seq is odd while one
     * worker (holding jwks_writer) writes; 0 while there is none. */
    _Atomic unsigned jwks_seq;
    atomic_flag jwks_writer;
    _Atomic size_t jwks_len;
    char jwks[SCOREBOARD_JWKS_MAX];
};

#define SCOREBOARD_SLOTS ((int)(sizeof(((struct scoreboard *)0)->slots) / sizeof(struct slot)))

/* CLOCK_MONOTONIC in milliseconds: the clock of every scoreboard time. */
static inline long long scoreboard_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
