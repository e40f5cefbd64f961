/*
 * test_studycache.c - lib/sks/studycache: get/put/replace/drop, the least
 * recently used learner evicted first (a get counts as a use), entries of
 * another catalogue not returned, memory accounting and the counters. The
 * coherence with the database (the version check) is tested end to end in
 * tests/integration/t_study.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "sks/studycache.h"
#include "tap.h"

/* A state for `user` at `version` with `ncards` scheduled cards and one day. */
static struct study_state make(long long user, long long version, const struct catalogue *cat,
                               int ncards)
{
    struct study_state s = {.user = user, .version = version, .cat = cat};

    if (ncards > 0) {
        s.cards = calloc((size_t)ncards, sizeof(*s.cards));
        for (int i = 0; i < ncards; i++)
            s.cards[i].pos = i;
        s.ncards = ncards;
    }
    s.days = calloc(1, sizeof(*s.days));
    s.days[0] = (struct study_day){.day = 20000, .reviews = (int)version};
    s.ndays = 1;
    return s;
}

int main(void)
{
    /* Only the addresses matter: entries remember which catalogue they index. */
    static struct catalogue cat_a, cat_b;
    struct studycache *c = studycache_new(3);
    struct studycache_stats st;
    struct study_state s;
    const struct study_state *got;
    size_t per_card = sizeof(struct study_sched), per_day = sizeof(struct study_day);

    ok(studycache_get(c, 1, &cat_a) == NULL, "an empty cache holds nothing");

    s = make(1, 7, &cat_a, 4);
    studycache_put(c, &s);
    ok(s.cards == NULL && s.days == NULL && s.ncards == 0, "put takes the arrays over");
    got = studycache_get(c, 1, &cat_a);
    ok(got != NULL && got->version == 7 && got->ncards == 4 && got->cards[3].pos == 3 &&
           got->ndays == 1 && got->days[0].reviews == 7,
       "get returns what was put");
    ok(studycache_get(c, 1, &cat_b) == NULL, "an entry of another catalogue is not returned");
    ok(studycache_get(c, 2, &cat_a) == NULL, "another learner is not returned");

    studycache_stats(c, &st);
    ok(st.entries == 1 && st.bytes == 4 * per_card + per_day, "bytes count the arrays (%zu)",
       st.bytes);

    s = make(1, 8, &cat_a, 2);
    studycache_put(c, &s);
    got = studycache_get(c, 1, &cat_a);
    ok(got != NULL && got->version == 8 && got->ncards == 2, "a newer state replaces the old");
    studycache_stats(c, &st);
    ok(st.entries == 1 && st.bytes == 2 * per_card + per_day,
       "replacing releases the old arrays' bytes");

    /* 1 (used), 2, 3; then 1 is used again, so 2 is the oldest. */
    s = make(2, 1, &cat_a, 1);
    studycache_put(c, &s);
    s = make(3, 1, &cat_a, 0);
    studycache_put(c, &s);
    ok(studycache_get(c, 3, &cat_a) != NULL && studycache_get(c, 3, &cat_a)->cards == NULL,
       "a learner with no card started is held too");
    ok(studycache_get(c, 1, &cat_a) != NULL, "learner 1 still held (and used now)");
    s = make(4, 1, &cat_a, 5);
    studycache_put(c, &s);
    ok(studycache_get(c, 2, &cat_a) == NULL, "full: the least recently used learner (2) went");
    ok(studycache_get(c, 1, &cat_a) != NULL && studycache_get(c, 3, &cat_a) != NULL &&
           studycache_get(c, 4, &cat_a) != NULL,
       "the others stay");
    studycache_stats(c, &st);
    ok(st.entries == 3 && st.evictions == 1, "one eviction counted");
    ok(st.bytes == (2 + 0 + 5) * per_card + 3 * per_day, "bytes after the eviction (%zu)",
       st.bytes);

    studycache_drop(c, 3);
    studycache_drop(c, 99); /* not held: nothing happens */
    ok(studycache_get(c, 3, &cat_a) == NULL && studycache_get(c, 4, &cat_a) != NULL,
       "drop forgets one learner");
    studycache_stats(c, &st);
    ok(st.entries == 2 && st.bytes == (2 + 5) * per_card + 2 * per_day, "drop releases bytes");

    studycache_count(c, 1);
    studycache_count(c, 1);
    studycache_count(c, 0);
    studycache_stats(c, &st);
    ok(st.hits == 2 && st.misses == 1, "hits and misses are counted");

    studycache_clear(c);
    studycache_stats(c, &st);
    ok(st.entries == 0 && st.bytes == 0 && st.hits == 2 && st.misses == 1,
       "clear forgets every learner and keeps the counters");
    ok(studycache_get(c, 4, &cat_a) == NULL, "nothing held after clear");

    /* Many learners through a small cache: never more than its capacity. */
    for (long long u = 100; u < 1100; u++) {
        s = make(u, 1, &cat_a, (int)(u % 7));
        studycache_put(c, &s);
    }
    studycache_stats(c, &st);
    ok(st.entries == 3, "bounded by the capacity after 1000 learners");
    ok(studycache_get(c, 1099, &cat_a) != NULL && studycache_get(c, 1097, &cat_a) != NULL &&
           studycache_get(c, 1096, &cat_a) == NULL,
       "the three most recent remain");

    studycache_free(c);
    studycache_free(NULL);
    return tap_done();
}
