#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Does `path` match `pattern`? Captures placeholders into r->params when r
 * is non-NULL. */
static int match(const char *pattern, const char *path, struct request *r)
{
    int n = 0;

    for (;;) {
        if (*pattern == '\0' || *path == '\0')
            break;
        if (*pattern == '{') {
            const char *pend = strchr(pattern, '}');
            size_t seg = strcspn(path, "/");
            if (pend == NULL || seg == 0 || n >= REQUEST_MAX_PARAMS)
                return 0;
            if (r != NULL)
                r->params[n] = arena_strndup(r->arena, path, seg);
            n++;
            pattern = pend + 1;
            path += seg;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    /* Tolerate one trailing slash on the request path. */
    if (*pattern == '\0' && (*path == '\0' || (path[0] == '/' && path[1] == '\0'))) {
        if (r != NULL)
            r->nparams = n;
        return 1;
    }
    return 0;
}

/* Append `method` to the comma list in allow[] unless it is there. */
static void allow_add(char *allow, size_t allowlen, const char *method)
{
    size_t used = strlen(allow), mlen = strlen(method);
    const char *p = allow;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        if (n == mlen && strncmp(p, method, mlen) == 0)
            return;
        p += n;
        if (*p == ',')
            p += 2; /* ", " */
    }
    if (used + mlen + 3 > allowlen)
        return;
    snprintf(allow + used, allowlen - used, "%s%s", used > 0 ? ", " : "", method);
}

enum router_result router_match(const struct route *routes, struct request *r,
                                const struct route **out, char *allow, size_t allowlen)
{
    int path_known = 0;
    int is_head = strcmp(r->method, "HEAD") == 0;

    if (allowlen > 0)
        allow[0] = '\0';
    for (const struct route *rt = routes; rt->method != NULL; rt++) {
        if (!match(rt->pattern, r->path, NULL))
            continue;
        if (strcmp(rt->method, r->method) == 0 || (is_head && strcmp(rt->method, "GET") == 0)) {
            match(rt->pattern, r->path, r);
            *out = rt;
            return ROUTER_FOUND;
        }
        path_known = 1;
        if (allowlen > 0) {
            allow_add(allow, allowlen, rt->method);
            if (strcmp(rt->method, "GET") == 0)
                allow_add(allow, allowlen, "HEAD");
        }
    }
    return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
