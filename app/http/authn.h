/*
 * authn.h - authentication of a request: the bearer token is verified
 * in-process (lib/infra/auth: JWKS and verified-token caches per worker), then
 * the user row is loaded (lib/sks/users: a read; a write only for a new or
 * stale user).
 */
#ifndef EASYSKS_AUTHN_H
#define EASYSKS_AUTHN_H

#include "infra/config.h"
#include "http/request.h"

struct scoreboard;

/* The worker's token verifier for `cfg`, with its JWKS fetched and shared
 * through `board` (may be NULL) with the workers that start later; when the
 * fetch fails, the key set the pool's workers last fetched is used (the
 * failure is logged and the fetch retried on demand). NULL when AUTH_ISSUER is unset or
 * the verifier cannot be built (logged): protected routes then answer 503. */
struct auth_verifier *authn_verifier_new(const struct config *cfg, struct scoreboard *board);

/* 0 when the request carries a valid token: r->identity and r->user.id are
 * filled (the whole r->user, plan included, when `profile`; otherwise the id
 * may come from the worker's cache without a query). Otherwise the 401/503
 * response has been sent and -1 returned. */
int authn_authenticate(struct request *r, int profile);

/* The token alone (no user row, no query): 0 with r->identity filled, or
 * -1 with the 401/503 sent. For what needs a signed-in user and nothing
 * of the user (the catalogue figures behind /_auth). */
int authn_verify_token(struct request *r);

/* 0 when the authenticated user has premium now; otherwise 403
 * premium_required has been sent and -1 returned. */
int authn_require_premium(struct request *r);

#endif
