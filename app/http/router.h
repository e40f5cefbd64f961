/*
 * router.h - method + PATH_INFO -> handler, from one static table.
 *
 * Patterns are literal segments and `{name}` placeholders that match one
 * non-empty segment; captured values land in request->params in order.
 * One trailing slash on the request path is tolerated. HEAD is served by
 * the GET route. A path that matches under another method answers 405 with
 * Allow.
 */
#ifndef EASYSKS_ROUTER_H
#define EASYSKS_ROUTER_H

#include <stddef.h>

#include "http/request.h"

/* Route flags. Without ROUTE_PUBLIC a valid bearer token is required. */
#define ROUTE_PUBLIC 0x1   /* no bearer token required */
#define ROUTE_PREMIUM 0x2  /* authenticated, and a premium plan (403 premium_required) */
#define ROUTE_RAW_BODY 0x4 /* the body is read byte-exact (signatures), never parsed */
#define ROUTE_PROFILE 0x8  /* the handler needs r->user's profile and plan, not only its id */

struct route {
    const char *method;
    const char *pattern;
    int (*handler)(struct request *r); /* returns the HTTP status it sent */
    int flags;
    size_t max_body; /* body cap in bytes; 0 = EASYSKS_MAX_BODY */
    int arg;         /* for a handler that serves several routes alike (the exam
                      * kind, EXAM_SHEET or EXAM_CHART): r->route->arg */
};

enum router_result { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/* Look `method path` up in `routes` (terminated by a NULL method). On
 * ROUTER_FOUND *out is the route and r->params/nparams are filled from the
 * arena; on ROUTER_BAD_METHOD `allow` receives e.g. "GET, POST" (truncated
 * to allowlen, always NUL-terminated). */
enum router_result router_match(const struct route *routes, struct request *r,
                                const struct route **out, char *allow, size_t allowlen);

#endif
