/*
 * fuzz_query.c - app/http/request.c's request_query on arbitrary query
 * strings (the QUERY_STRING nginx passes, which may hold anything). An
 * input is "<name>\n<query>" (no newline: the name is "topic"); a name
 * that is not [a-z_]{1,16} is replaced by "limit".
 *
 * The answer is checked against an independent reading: the first
 * &-separated segment that is exactly the name (answer "") or starts with
 * "name=" (answer its value, '+' as space and %XX decoded, a malformed %
 * kept as it is); NULL when there is none. The decoded value is compared
 * byte for byte (a %00 included) and is NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena arena;

static void check(int cond)
{
    if (!cond)
        abort();
}

static int hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The expected value into out (length into *n); 0 when the name is absent. */
static int expected(const char *q, const char *name, char *out, size_t *n)
{
    size_t nl = strlen(name);

    for (const char *seg = q;;) {
        const char *end = strchr(seg, '&');
        size_t len = end != NULL ? (size_t)(end - seg) : strlen(seg);
        if (len == nl && memcmp(seg, name, nl) == 0) {
            *n = 0;
            return 1;
        }
        if (len > nl && memcmp(seg, name, nl) == 0 && seg[nl] == '=') {
            const char *v = seg + nl + 1;
            size_t vl = len - nl - 1, o = 0;
            for (size_t i = 0; i < vl; i++) {
                if (v[i] == '+') {
                    out[o++] = ' ';
                } else if (v[i] == '%' && i + 2 < vl && hex((unsigned char)v[i + 1]) >= 0 &&
                           hex((unsigned char)v[i + 2]) >= 0) {
                    out[o++] =
                        (char)(hex((unsigned char)v[i + 1]) * 16 + hex((unsigned char)v[i + 2]));
                    i += 2;
                } else {
                    out[o++] = v[i];
                }
            }
            *n = o;
            return 1;
        }
        if (end == NULL)
            return 0;
        seg = end + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char name[17] = "topic", *query, *want;
    struct request r;
    const char *got;
    size_t qlen, n;
    int found;

    if (nl != NULL) {
        size_t len = (size_t)(nl - data), ok = len >= 1 && len <= 16;
        for (size_t i = 0; ok && i < len; i++)
            ok = (data[i] >= 'a' && data[i] <= 'z') || data[i] == '_';
        if (ok) {
            memcpy(name, data, len);
            name[len] = '\0';
        } else {
            strcpy(name, "limit");
        }
        data = nl + 1;
        size -= len + 1;
    }
    /* QUERY_STRING is a C string: it ends at the first NUL. */
    qlen = strnlen((const char *)data, size);
    query = malloc(qlen + 1);
    want = malloc(qlen + 1);
    if (query == NULL || want == NULL)
        abort();
    memcpy(query, data, qlen);
    query[qlen] = '\0';
    if (arena.first_size == 0)
        arena_init(&arena, 4096);
    memset(&r, 0, sizeof(r));
    r.arena = &arena;
    r.query = query;
    got = request_query(&r, name);
    found = expected(query, name, want, &n);
    check((got != NULL) == found);
    if (found)
        check(memcmp(got, want, n) == 0 && got[n] == '\0');
    arena_reset(&arena);
    free(query);
    free(want);
    return 0;
}
