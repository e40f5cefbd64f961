/*
 * fuzz_router.c - app/http/router.c's router_match on an arbitrary method
 * and path (the input up to the first newline is the method, the rest the
 * path) against a small table with {placeholders}.
 *
 * A match must be a route of the request's method (HEAD: GET) whose
 * pattern, with the captured parameters put back, spells the path (one
 * trailing slash allowed); parameters are non-empty and hold no '/'. A
 * 405 lists methods of the table, never the request's own, in an Allow
 * that is NUL-terminated however small its buffer (then holding a
 * selection of the full list).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int never_called(struct request *r)
{
    (void)r;
    abort();
}

static const struct route routes[] = {
    {"GET", "/", never_called, ROUTE_PUBLIC, 0, 0},
    {"GET", "/health", never_called, ROUTE_PUBLIC, 0, 0},
    {"GET", "/me", never_called, 0, 0, 0},
    {"DELETE", "/me", never_called, 0, 0, 0},
    {"GET", "/topics", never_called, 0, 0, 0},
    {"GET", "/topics/{id}", never_called, 0, 0, 0},
    {"GET", "/topics/{id}/cards/{card}", never_called, 0, 0, 0},
    {"POST", "/topics/{id}/cards", never_called, 0, 0, 0},
    {"PUT", "/exam-sessions/{id}/answers/{question}", never_called, ROUTE_PREMIUM, 0, 0},
    {"POST", "/exam-sessions/{id}/submit", never_called, ROUTE_PREMIUM, 0, 0},
    {"POST", "/webhooks/stripe", never_called, ROUTE_PUBLIC | ROUTE_RAW_BODY, 65536, 0},
    {"GET", "/{a}/{b}/{c}/{d}", never_called, 0, 0, 0},       /* REQUEST_MAX_PARAMS */
    {"GET", "/x/{a}/{b}/{c}/{d}/{e}", never_called, 0, 0, 0}, /* one too many: never matches */
    {NULL, NULL, NULL, 0, 0, 0},
};

static struct arena arena;

/* The pattern with the captured parameters put back in. */
static void rebuild(const char *pattern, const struct request *r, char *out, size_t len)
{
    size_t n = 0;
    int i = 0;

    while (*pattern != '\0' && n + 1 < len) {
        if (*pattern == '{') {
            n += (size_t)snprintf(out + n, len - n, "%s", r->params[i++]);
            pattern = strchr(pattern, '}') + 1;
            if (n >= len)
                abort(); /* out is big enough for any path we pass */
        } else {
            out[n++] = *pattern++;
        }
    }
    out[n] = '\0';
}

static int placeholders(const char *pattern)
{
    int n = 0;
    for (; *pattern != '\0'; pattern++)
        n += *pattern == '{';
    return n;
}

/* Is `method` one of the ", "-separated names in allow? */
static int listed(const char *allow, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *p = allow; *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (n == mlen && strncmp(p, method, n) == 0)
            return 1;
        p += n;
        p += strspn(p, ", ");
    }
    return 0;
}

static int method_in_table(const char *method, size_t len)
{
    for (const struct route *rt = routes; rt->method != NULL; rt++)
        if (strlen(rt->method) == len && strncmp(rt->method, method, len) == 0)
            return 1;
    return len == 4 && strncmp(method, "HEAD", 4) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t mlen = nl != NULL ? (size_t)(nl - data) : size;
    char *method = strndup((const char *)data, mlen);
    char *path = strndup(nl != NULL ? (const char *)nl + 1 : "", nl != NULL ? size - mlen - 1 : 0);
    struct request r;
    const struct route *rt = NULL, *rt2 = NULL;
    char allow[128], *small;
    enum router_result res, res2;

    if (method == NULL || path == NULL)
        abort();
    if (arena.first_size == 0)
        arena_init(&arena, 1024);
    memset(&r, 0, sizeof(r));
    r.arena = &arena;
    r.method = method;
    r.path = path;

    res = router_match(routes, &r, &rt, allow, sizeof(allow));
    if (memchr(allow, '\0', sizeof(allow)) == NULL)
        abort();
    switch (res) {
    case ROUTER_FOUND: {
        char *want = malloc(strlen(path) + 2);
        size_t plen = strlen(path);
        if (want == NULL || rt == NULL || rt < routes ||
            rt >= routes + sizeof(routes) / sizeof(routes[0]) - 1)
            abort();
        if (strcmp(rt->method, method) != 0 &&
            !(strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0))
            abort();
        if (r.nparams != placeholders(rt->pattern) || r.nparams > REQUEST_MAX_PARAMS)
            abort();
        for (int i = 0; i < r.nparams; i++)
            if (r.params[i] == NULL || r.params[i][0] == '\0' || strchr(r.params[i], '/') != NULL)
                abort();
        rebuild(rt->pattern, &r, want, plen + 2);
        if (strcmp(want, path) != 0 &&
            !(plen > 0 && path[plen - 1] == '/' && strlen(want) == plen - 1 &&
              strncmp(want, path, plen - 1) == 0))
            abort();
        free(want);
        break;
    }
    case ROUTER_BAD_METHOD:
        if (allow[0] == '\0' || listed(allow, method))
            abort();
        for (const char *p = allow; *p != '\0';) {
            size_t n = strcspn(p, ",");
            if (!method_in_table(p, n))
                abort();
            p += n;
            p += strspn(p, ", ");
        }
        break;
    case ROUTER_NOT_FOUND:
        if (allow[0] != '\0')
            abort();
        break;
    default:
        abort();
    }

    /* The same lookup with an Allow buffer of every small size. */
    for (size_t len = 1; len <= 12; len++) {
        small = malloc(len);
        if (small == NULL)
            abort();
        memset(&r, 0, sizeof(r));
        r.arena = &arena;
        r.method = method;
        r.path = path;
        res2 = router_match(routes, &r, &rt2, small, len);
        if (res2 != res || (res == ROUTER_FOUND && rt2 != rt) || memchr(small, '\0', len) == NULL)
            abort();
        /* What fits is a selection of the full list (a name that does not
         * fit is skipped, a shorter one after it may still fit). */
        for (const char *p = small; *p != '\0';) {
            size_t n = strcspn(p, ",");
            char name[16];
            if (n >= sizeof(name))
                abort();
            memcpy(name, p, n);
            name[n] = '\0';
            if (!listed(allow, name))
                abort();
            p += n;
            p += strspn(p, ", ");
        }
        free(small);
    }

    arena_reset(&arena);
    free(method);
    free(path);
    return 0;
}
