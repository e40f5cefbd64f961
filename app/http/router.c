#include "router.h"

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

enum router_result router_match(const struct route *routes, struct request *r,
                                const struct route **out, char *allow, size_t allowlen)
{
    size_t used = 0;
    int path_known = 0;

    allow[0] = '\0';
    for (const struct route *rt = routes; rt->method != NULL; rt++) {
        if (!match(rt->pattern, r->path, NULL))
            continue;
        if (strcmp(rt->method, r->method) == 0 ||
            (strcmp(r->method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)) {
            match(rt->pattern, r->path, r);
            *out = rt;
            return ROUTER_FOUND;
        }
        path_known = 1;
        if (strstr(allow, rt->method) == NULL && used + strlen(rt->method) + 3 < allowlen)
            used += (size_t)snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "",
                                     rt->method);
    }
    return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
