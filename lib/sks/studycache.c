#include "sks/studycache.h"

#include <stdlib.h>
#include <string.h>

/* The keys are a dense array scanned linearly: a few hundred 8-byte
 * compares cost less than hashing would save, and eviction needs a scan of
 * the use stamps anyway. */
struct studycache {
    int capacity, n;
    long long *users;           /* n keys */
    unsigned long long *used;   /* use stamp per entry */
    struct study_state *states; /* n entries */
    unsigned long long clock;
    long long hits, misses, evictions;
    size_t bytes;
};

static size_t state_bytes(const struct study_state *s)
{
    return (size_t)s->ncards * sizeof(*s->cards) + (size_t)s->ndays * sizeof(*s->days) +
           (size_t)s->nflags * sizeof(*s->flags);
}

static void state_release(struct studycache *c, struct study_state *s)
{
    c->bytes -= state_bytes(s);
    free(s->cards);
    free(s->days);
    free(s->flags);
    memset(s, 0, sizeof(*s));
}

struct studycache *studycache_new(int capacity)
{
    struct studycache *c = calloc(1, sizeof(*c));

    if (capacity < 1)
        capacity = 1;
    if (c == NULL || (c->users = calloc((size_t)capacity, sizeof(*c->users))) == NULL ||
        (c->used = calloc((size_t)capacity, sizeof(*c->used))) == NULL ||
        (c->states = calloc((size_t)capacity, sizeof(*c->states))) == NULL)
        abort();
    c->capacity = capacity;
    return c;
}

void studycache_free(struct studycache *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n; i++)
        state_release(c, &c->states[i]);
    free(c->users);
    free(c->used);
    free(c->states);
    free(c);
}

static int find(const struct studycache *c, long long user)
{
    for (int i = 0; i < c->n; i++)
        if (c->users[i] == user)
            return i;
    return -1;
}

const struct study_state *studycache_get(struct studycache *c, long long user,
                                         const struct catalogue *cat)
{
    int i = find(c, user);

    if (i < 0 || c->states[i].cat != cat)
        return NULL;
    c->used[i] = ++c->clock;
    return &c->states[i];
}

/* Remove entry i, moving the last one into its place. */
static void remove_at(struct studycache *c, int i)
{
    state_release(c, &c->states[i]);
    c->n--;
    if (i != c->n) {
        c->users[i] = c->users[c->n];
        c->used[i] = c->used[c->n];
        c->states[i] = c->states[c->n];
        memset(&c->states[c->n], 0, sizeof(c->states[c->n]));
    }
}

void studycache_put(struct studycache *c, struct study_state *s)
{
    int i = find(c, s->user);

    if (i >= 0) {
        state_release(c, &c->states[i]);
    } else {
        if (c->n == c->capacity) {
            int lru = 0;
            for (int k = 1; k < c->n; k++)
                if (c->used[k] < c->used[lru])
                    lru = k;
            remove_at(c, lru);
            c->evictions++;
        }
        i = c->n++;
        c->users[i] = s->user;
    }
    c->states[i] = *s;
    c->used[i] = ++c->clock;
    c->bytes += state_bytes(s);
    memset(s, 0, sizeof(*s));
}

void studycache_drop(struct studycache *c, long long user)
{
    int i = find(c, user);

    if (i >= 0)
        remove_at(c, i);
}

void studycache_clear(struct studycache *c)
{
    while (c->n > 0)
        remove_at(c, c->n - 1);
}

void studycache_count(struct studycache *c, int hit)
{
    if (hit)
        c->hits++;
    else
        c->misses++;
}

void studycache_stats(const struct studycache *c, struct studycache_stats *out)
{
    out->hits = c->hits;
    out->misses = c->misses;
    out->evictions = c->evictions;
    out->entries = c->n;
    out->bytes = c->bytes;
}
