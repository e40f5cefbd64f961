/*
 * arena.h - per-request bump allocator.
 *
 * Everything a request allocates from the arena is released at once by
 * arena_reset() after the response is written, so handlers never free
 * piecemeal. Blocks grow geometrically; the first block is kept across
 * resets so a steady-state request allocates nothing from malloc.
 * Allocation failure aborts the process (the master respawns the worker).
 */
#ifndef EASYSKS_ARENA_H
#define EASYSKS_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head; /* current block; older blocks follow */
    size_t first_size;
};

void arena_init(struct arena *a, size_t first_size);
/* Release all blocks except the first; previous pointers become invalid. */
void arena_reset(struct arena *a);
void arena_cleanup(struct arena *a);

/* Returns memory aligned for any type; never NULL. */
void *arena_alloc(struct arena *a, size_t size);
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
