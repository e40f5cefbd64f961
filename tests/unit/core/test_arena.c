/*
 * test_arena.c - lib/core/arena: alignment, growth past the first block (the
 * memory is all usable and overlaps nothing handed out before or after),
 * reset keeps the first block, formatted strings of any length.
 */
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "tap.h"

#define LARGE 100000

/* Byte i of the pattern written into allocation `tag`. */
static unsigned char pattern(int tag, size_t i)
{
    return (unsigned char)(tag * 37 + i * 7 + (i >> 8));
}

static void fill(unsigned char *p, size_t n, int tag)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(tag, i);
}

static int intact(const unsigned char *p, size_t n, int tag)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(tag, i))
            return 0;
    return 1;
}

static int disjoint(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    return (uintptr_t)a + alen <= (uintptr_t)b || (uintptr_t)b + blen <= (uintptr_t)a;
}

int main(void)
{
    struct arena a;
    char *p, *q, big[1000];
    unsigned char *small[50], *large, *after[8];
    int aligned = 1, good = 1;

    arena_init(&a, 256);
    for (int i = 1; i < 50; i++) {
        small[i] = arena_alloc(&a, (size_t)i);
        aligned &= ((uintptr_t)small[i] % 16) == 0;
        fill(small[i], (size_t)i, i);
    }
    ok(aligned, "allocations are 16-byte aligned");

    /* Larger than any block so far: a block of its own size is needed. */
    large = arena_alloc(&a, LARGE);
    fill(large, LARGE, 1000);
    for (int i = 0; i < 8; i++) {
        after[i] = arena_alloc(&a, 1000);
        fill(after[i], 1000, 2000 + i);
    }
    ok((uintptr_t)large % 16 == 0, "large allocation is 16-byte aligned");
    ok(intact(large, LARGE, 1000), "all %d bytes of the large allocation are usable", LARGE);
    for (int i = 1; i < 50; i++)
        good &= intact(small[i], (size_t)i, i) && disjoint(small[i], (size_t)i, large, LARGE);
    ok(good, "earlier allocations intact, none overlaps the large one");
    good = 1;
    for (int i = 0; i < 8; i++) {
        good &= intact(after[i], 1000, 2000 + i) && disjoint(after[i], 1000, large, LARGE);
        for (int j = 0; j < i; j++)
            good &= disjoint(after[i], 1000, after[j], 1000);
    }
    ok(good, "later allocations intact, distinct from the large one and from each other");
    q = arena_strdup(&a, "hello");
    ok(strcmp(q, "hello") == 0, "strdup");
    ok(strcmp(arena_sprintf(&a, "%d-%s", 42, "x"), "42-x") == 0, "short sprintf");
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    p = arena_sprintf(&a, "<%s>", big);
    ok(strlen(p) == sizeof(big) + 1 && p[0] == '<' && p[sizeof(big)] == '>',
       "sprintf longer than the stack buffer");
    ok(strcmp(arena_strndup(&a, "abcdef", 3), "abc") == 0, "strndup");

    arena_reset(&a);
    /* After a reset the first (256-byte) block is reused from its start. */
    p = arena_alloc(&a, 8);
    q = arena_alloc(&a, 8);
    ok(p != NULL && q == p + 16, "reset rewinds the kept first block");
    arena_cleanup(&a);
    ok(a.head == NULL, "cleanup frees everything");
    return tap_done();
}
