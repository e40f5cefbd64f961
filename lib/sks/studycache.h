/*
 * studycache.h - a worker's copy of its learners' study state.
 *
 * What the due and practice queues and the dashboard are computed from
 * (the learner's card_states rows, when each card was first reviewed and
 * whether its last review was rated Again, the review_days rows and the
 * flags) is kept per learner in the worker, with the version it was read at
 * (study_versions, bumped by a trigger on every write to those tables, by
 * any writer on any host). A study read sends its cached version with the
 * one statement it makes anyway; the statement answers the learner's
 * settings and clock, and the rows only when the version moved
 * (lib/sks/study.c). So a read costs one round trip and two primary-key
 * lookups when nothing changed, and a learner always reads their own
 * writes, whichever worker or host took them.
 *
 * Bounded: at most `capacity` learners, the least recently used one
 * dropped first; an entry holds one struct study_sched per card the
 * learner has started (at most the catalogue's size, ~80 bytes each). The
 * entries belong to one catalogue: a worker that loads another (after a
 * catalogue change) finds none of them (positions differ).
 *
 * Single-threaded, like the worker that owns it.
 */
#ifndef EASYSKS_STUDYCACHE_H
#define EASYSKS_STUDYCACHE_H

#include <stddef.h>

#include "sks/catalogue.h"
#include "sks/fsrs.h"

#define STUDYCACHE_LEARNERS_DEFAULT 256

/* One card the learner has started (has a card_states row). */
struct study_sched {
    int pos;                 /* catalogue position; -1: not in this catalogue (retired) */
    long long introduced_us; /* its first review (took it out of NEW); 0 = unknown */
    int again;               /* its last review was rated Again (a mistake, with lapses) */
    struct fsrs_card fsrs;
};

/* One day with reviews, in the learner's time zone at the time. */
struct study_day {
    int day; /* days since 1970-01-01 */
    int reviews;
};

struct study_state {
    long long user;              /* users.id */
    long long version;           /* study_versions.version it was read at */
    const struct catalogue *cat; /* the positions are this catalogue's */
    struct study_sched *cards;   /* ncards, in no particular order */
    int ncards;
    struct study_day *days; /* ndays, ascending */
    int ndays;
    int *flags; /* nflags catalogue positions the learner flagged */
    int nflags;
};

struct studycache_stats {
    long long hits, misses, evictions;
    int entries;
    size_t bytes; /* held by the entries' arrays */
};

struct studycache;

/* A cache for `capacity` learners (>= 1). Aborts when out of memory. */
struct studycache *studycache_new(int capacity);
void studycache_free(struct studycache *c); /* NULL is a no-op */

/* The state held for `user` read against `cat`, or NULL (none, or one of
 * another catalogue). Valid until the next studycache_put/drop. Counts as
 * a use for the eviction order; hits and misses are counted by the caller
 * (studycache_count), which alone knows whether the version still held. */
const struct study_state *studycache_get(struct studycache *c, long long user,
                                         const struct catalogue *cat);

/* Keep *s (its arrays are taken over: heap memory from malloc, or NULL
 * when empty), replacing what was held for s->user; drops the least
 * recently used learner when full. s is left zeroed. */
void studycache_put(struct studycache *c, struct study_state *s);

/* Forget `user` (no-op when not held). */
void studycache_drop(struct studycache *c, long long user);

/* Forget every learner (the catalogue changed: positions mean other cards
 * now); the counters stay. */
void studycache_clear(struct studycache *c);

/* Count one read served from the cache (hit) or loaded (miss). */
void studycache_count(struct studycache *c, int hit);

void studycache_stats(const struct studycache *c, struct studycache_stats *out);

#endif
