/*
 * router.h - method + PATH_INFO -> handler, from one static table.
 *
 * Patterns are literal segments and `{name}` placeholders that match one
 * non-empty segment; captured values land in request->params in order.
 * A path that matches under another method answers 405 with Allow.
 */
#ifndef EASYSKS_ROUTER_H
#define EASYSKS_ROUTER_H

#include "request.h"

/* Route flags. */
#define ROUTE_PUBLIC 0x1 /* no bearer token required */

struct route {
    const char *method;
    const char *pattern;
    int (*handler)(struct request *r); /* returns the HTTP status it sent */
    int flags;
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/* Look `method path` up in `routes` (terminated by a NULL method). On
 * ROUTER_FOUND *out is the route and r->params are filled; on
 * ROUTER_BAD_METHOD `allow` receives "GET, POST". */
enum router_result router_match(const struct route *routes, struct request *r,
                                const struct route **out, char *allow, size_t allowlen);

#endif
