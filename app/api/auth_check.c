/*
 * GET /_auth - nginx auth_request target for content nginx serves itself
 * (/media/). Reachable only through nginx's internal locations, which set
 * EASYSKS_AUTH_CHECK and say what they need in EASYSKS_AUTH_REQUIRE
 * ("user" or "premium"). Answers 204 with X-User-Sub (and X-User-Plan:
 * premium for "premium"), 401 (nginx passes it on with WWW-Authenticate) or
 * 403. "user" verifies the token only: no query.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "http/authn.h"

int api_auth_check(struct request *r)
{
    const char *flag = request_param(r, "EASYSKS_AUTH_CHECK");
    const char *need = request_param(r, "EASYSKS_AUTH_REQUIRE");
    int premium = need != NULL && strcmp(need, "premium") == 0;
    char headers[320];

    if (flag == NULL || strcmp(flag, "1") != 0) {
        /* Not an nginx subrequest (e.g. /api/_auth from outside). */
        request_fail(r, 404, "not_found", "no such endpoint", NULL);
        return 404;
    }
    if (premium) {
        if (authn_authenticate(r, 1) < 0)
            return r->status;
        if (!r->user.premium) {
            request_fail(r, 403, "premium_required", "this content needs a premium plan", NULL);
            return 403;
        }
    } else if (authn_verify_token(r) < 0) {
        /* Every figure asks: a valid token is all it needs, no user row
         * read and no last_seen_at written per image. */
        return r->status;
    }
    if (premium)
        snprintf(headers, sizeof(headers), "X-User-Sub: %s\r\nX-User-Plan: premium\r\n",
                 r->identity.sub);
    else
        snprintf(headers, sizeof(headers), "X-User-Sub: %s\r\n", r->identity.sub);
    request_send_empty(r, 204, headers);
    return 204;
}
