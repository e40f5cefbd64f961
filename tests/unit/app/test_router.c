/*
 * test_router.c - app/http/router: literal and {placeholder} segments,
 * captures, the trailing slash, HEAD as GET, 404 against 405 and the Allow
 * list, and the capture limit.
 */
#include <string.h>

#include "http/router.h"
#include "tap.h"

static int h_any(struct request *r)
{
    (void)r;
    return 200;
}

static const struct route routes[] = {
    {"GET", "/topics", h_any, ROUTE_PUBLIC, 0, 0},
    {"GET", "/cards/{card_id}", h_any, 0, 0, 0},
    {"PUT", "/exam-sessions/{id}/answers/{card_id}", h_any, 0, 0, 0},
    {"POST", "/exam-sessions/{id}/submit", h_any, 0, 0, 0},
    {"GET", "/exam-sessions/{id}", h_any, 0, 0, 0},
    {"DELETE", "/exam-sessions/{id}", h_any, 0, 0, 0},
    {"POST", "/exam-sessions", h_any, 0, 0, 0},
    {"GET", "/exam-sessions", h_any, 0, 0, 0},
    {"GET", "/a/{1}/{2}/{3}/{4}/{5}", h_any, 0, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static struct arena arena;

static enum router_result route(const char *method, const char *path, struct request *r,
                                const struct route **out, char *allow, size_t allowlen)
{
    memset(r, 0, sizeof(*r));
    r->arena = &arena;
    r->method = method;
    r->path = path;
    *out = NULL;
    return router_match(routes, r, out, allow, allowlen);
}

int main(void)
{
    struct request r;
    const struct route *rt;
    char allow[64], tiny[8];

    arena_init(&arena, 1024);

    ok(route("GET", "/topics", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND && rt == &routes[0] &&
           r.nparams == 0,
       "a literal path");
    ok(route("GET", "/topics/", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND,
       "one trailing slash is tolerated");
    ok(route("GET", "/topics//", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND,
       "two trailing slashes are not");
    ok(route("GET", "/topicsx", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND &&
           route("GET", "/topic", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND &&
           route("GET", "/", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND,
       "prefixes and extensions of a literal do not match");
    ok(route("GET", "/cards/navigation_12", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND &&
           rt == &routes[1] && r.nparams == 1 && strcmp(r.params[0], "navigation_12") == 0,
       "a placeholder captures its segment");
    ok(route("GET", "/cards/", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND &&
           route("GET", "/cards", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND,
       "a placeholder never matches an empty segment");
    ok(route("GET", "/cards/a/b", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND,
       "a placeholder matches one segment only");
    ok(route("PUT", "/exam-sessions/s-1/answers/navigation_3/", &r, &rt, allow, sizeof(allow)) ==
               ROUTER_FOUND &&
           r.nparams == 2 && strcmp(r.params[0], "s-1") == 0 &&
           strcmp(r.params[1], "navigation_3") == 0,
       "two captures in order, trailing slash tolerated");
    ok(route("POST", "/exam-sessions/s-1/submit", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND &&
           rt == &routes[3],
       "a literal after a placeholder");
    ok(route("GET", "/exam-sessions", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND &&
           rt == &routes[7],
       "the same path under another method is another route");
    ok(route("HEAD", "/exam-sessions/x", &r, &rt, allow, sizeof(allow)) == ROUTER_FOUND &&
           rt == &routes[4],
       "HEAD is routed to GET");
    ok(route("HEAD", "/exam-sessions/x/submit", &r, &rt, allow, sizeof(allow)) ==
               ROUTER_BAD_METHOD &&
           strcmp(allow, "POST") == 0,
       "HEAD where there is no GET: 405, Allow: POST");
    ok(route("PATCH", "/exam-sessions/x", &r, &rt, allow, sizeof(allow)) == ROUTER_BAD_METHOD &&
           strcmp(allow, "GET, HEAD, DELETE") == 0 && rt == NULL,
       "405 lists each allowed method once, HEAD with GET (%s)", allow);
    ok(route("PATCH", "/exam-sessions", &r, &rt, allow, sizeof(allow)) == ROUTER_BAD_METHOD &&
           strcmp(allow, "POST, GET, HEAD") == 0,
       "Allow in table order (%s)", allow);
    ok(route("PATCH", "/exam-sessions", &r, &rt, tiny, sizeof(tiny)) == ROUTER_BAD_METHOD &&
           strlen(tiny) < sizeof(tiny),
       "a short Allow buffer is never overrun (%s)", tiny);
    ok(route("DELETE", "/nowhere", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND &&
           allow[0] == '\0',
       "an unknown path is 404, whatever the method");
    ok(route("GET", "/a/1/2/3/4/5", &r, &rt, allow, sizeof(allow)) == ROUTER_NOT_FOUND,
       "more placeholders than REQUEST_MAX_PARAMS never match (no overflow)");
    ok(route("get", "/topics", &r, &rt, allow, sizeof(allow)) == ROUTER_BAD_METHOD,
       "methods are case-sensitive");

    arena_cleanup(&arena);
    return tap_done();
}
