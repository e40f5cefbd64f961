/*
 * test_users.c - lib/sks/users' subject -> id cache: hits and expiry, exact
 * keys (only canonical lower-case UUIDs are cached), two ways per set with
 * the entry that expires first replaced, and how many of 10 000 learners
 * one worker keeps (the query path is covered by t_auth against PostgreSQL).
 */
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "sks/users.h"

static unsigned long long rng_state = 0x2545f4914f6cdd1dULL;

static unsigned long long next64(void) /* xorshift64*: deterministic */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

/* A random version-4 UUID as Cognito issues them. */
static void random_sub(char out[37])
{
    unsigned long long a = next64(), b = next64();
    snprintf(out, 37, "%08llx-%04llx-4%03llx-%04llx-%012llx", a >> 32, (a >> 16) & 0xffff,
             a & 0xfff, 0x8000 | (b >> 48 & 0x3fff), b & 0xffffffffffffULL);
}

static void test_basics(void)
{
    struct users_cache *c = users_cache_new(64);
    const char *sub = "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2c";

    ok(users_cache_new(0) == NULL, "size 0: no cache");
    ok(users_cache_get(NULL, sub, 1) == 0, "no cache: nothing cached");
    users_cache_put(NULL, sub, 1, 10); /* must not crash */
    ok(users_cache_get(c, sub, 1) == 0, "empty cache: a miss");
    users_cache_put(c, sub, 42, 100);
    ok(users_cache_get(c, sub, 99) == 42, "hit before expiry");
    ok(users_cache_get(c, sub, 100) == 0, "miss at expiry");
    users_cache_put(c, sub, 42, 400);
    ok(users_cache_get(c, sub, 300) == 42, "put again renews");
    ok(users_cache_get(c, "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2d", 300) == 0,
       "a subject one digit apart is another subject");
    users_cache_put(c, "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2d", 0, 400);
    ok(users_cache_get(c, "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2d", 300) == 0, "id 0 is not kept");
    users_cache_free(c);
    users_cache_free(NULL);
}

static void test_only_uuids(void)
{
    static const char *const not_cached[] = {
        "0F8E4A2C-51D7-4B8E-9C3A-7D6E5F4A3B2C",  /* upper case: another subject */
        "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2",   /* short */
        "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2cc", /* long */
        "0f8e4a2c51d7-4b8e-9c3a-7d6e5f4a3b2c0",  /* dash misplaced */
        "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2g",  /* not hex */
        "user-1",
        "",
    };
    struct users_cache *c = users_cache_new(64);

    for (size_t i = 0; i < sizeof(not_cached) / sizeof(*not_cached); i++) {
        users_cache_put(c, not_cached[i], 7, 100);
        ok(users_cache_get(c, not_cached[i], 1) == 0, "not cached: \"%s\"", not_cached[i]);
    }
    ok(users_cache_get(c, "0f8e4a2c-51d7-4b8e-9c3a-7d6e5f4a3b2c", 1) == 0,
       "the upper-case spelling did not make the lower-case one a hit");
    users_cache_free(c);
}

static void test_two_ways(void)
{
    struct users_cache *c = users_cache_new(2); /* one set of two */
    char a[37], b[37], d[37];

    random_sub(a);
    random_sub(b);
    random_sub(d);
    users_cache_put(c, a, 1, 100);
    users_cache_put(c, b, 2, 200);
    ok(users_cache_get(c, a, 0) == 1 && users_cache_get(c, b, 0) == 2,
       "two subjects in one set are both kept");
    users_cache_put(c, a, 1, 300); /* renewing a must not evict b */
    ok(users_cache_get(c, b, 0) == 2, "renewing one keeps the other");
    users_cache_put(c, d, 3, 250);
    ok(users_cache_get(c, d, 0) == 3, "a third subject is kept");
    ok(users_cache_get(c, b, 0) == 0, "it replaced the entry that expires first");
    ok(users_cache_get(c, a, 0) == 1, "and left the other");
    users_cache_free(c);
}

/* One worker sees every active learner (nginx spreads their requests). */
static int kept_of(int entries, int learners)
{
    struct users_cache *c = users_cache_new(entries);
    static char subs[10000][37];
    int kept = 0;

    rng_state = 0x2545f4914f6cdd1dULL;
    for (int i = 0; i < learners; i++) {
        random_sub(subs[i]);
        users_cache_put(c, subs[i], i + 1, 1000);
    }
    for (int i = 0; i < learners; i++)
        kept += users_cache_get(c, subs[i], 1) == i + 1;
    users_cache_free(c);
    return kept;
}

static void test_capacity(void)
{
    int big = kept_of(16384, 10000), small = kept_of(1024, 10000);

    ok(big >= 8000, "16384 entries keep %d of 10 000 learners (>= 8 000)", big);
    ok(small <= 1024, "1024 entries keep %d: the cache never holds more than its size", small);
}

int main(void)
{
    test_basics();
    test_only_uuids();
    test_two_ways();
    test_capacity();
    return tap_done();
}
