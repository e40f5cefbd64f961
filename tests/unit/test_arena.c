/*
 * test_arena.c - lib/arena: alignment, growth past the first block, reset
 * keeps the first block, formatted strings of any length.
 */
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "tap.h"

int main(void)
{
    struct arena a;
    char *p, *q, big[1000];
    int aligned = 1;

    arena_init(&a, 256);
    for (int i = 1; i < 50; i++) {
        p = arena_alloc(&a, (size_t)i);
        aligned &= ((uintptr_t)p % 16) == 0;
        memset(p, 'x', (size_t)i);
    }
    ok(aligned, "allocations are 16-byte aligned");
    p = arena_alloc(&a, 100000);
    memset(p, 1, 100000);
    ok(p != NULL, "allocation larger than the block size");
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
