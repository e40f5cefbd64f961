/*
 * GET /_auth - nginx auth_request target for content nginx serves itself
 * (/media/). Reachable only through nginx's internal locations, which set
 * EASYSKS_AUTH_CHECK and say what they need in EASYSKS_AUTH_REQUIRE
 * ("user" or "premium"). Answers 204 with X-User-Sub and X-User-Plan, 401
 * (nginx passes it on with WWW-Authenticate) or 403.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/authn.h"

int api_auth_check(struct request *r)
{
    const char *flag = request_param(r, "EASYSKS_AUTH_CHECK");
    const char *need = request_param(r, "EASYSKS_AUTH_REQUIRE");
    char headers[320];

    if (flag == NULL || strcmp(flag, "1") != 0) {
        /* Not an nginx subrequest (e.g. /api/_auth from outside). */
        request_fail(r, 404, "not_found", "no such endpoint", NULL);
        return 404;
    }
    if (authn_authenticate(r, 1) < 0)
        return r->status;
    if (need != NULL && strcmp(need, "premium") == 0 && !r->user.premium) {
        request_fail(r, 403, "premium_required", "this content needs a premium plan", NULL);
        return 403;
    }
    snprintf(headers, sizeof(headers), "X-User-Sub: %s\r\nX-User-Plan: %s\r\n", r->identity.sub,
             r->user.premium ? "premium" : "free");
    request_send_empty(r, 204, headers);
    return 204;
}
