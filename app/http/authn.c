#include "http/authn.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infra/auth.h"
#include "infra/http.h"
#include "http/app.h"
#include "core/log.h"
#include "http/router.h"
#include "sks/users.h"
#include "pool/scoreboard.h"

/* Share a fetched key set with the workers that start later; skipped when
 * another worker is writing (it writes the same document). */
static void jwks_publish(struct scoreboard *b, const struct auth_verifier *v)
{
    size_t len;
    const char *doc = auth_verifier_jwks_document(v, &len);

    if (b == NULL || doc == NULL || len == 0 || len > sizeof(b->jwks) ||
        atomic_flag_test_and_set(&b->jwks_writer))
        return;
    atomic_fetch_add(&b->jwks_seq, 1); /* odd: being written */
    atomic_thread_fence(memory_order_release);
    memcpy(b->jwks, doc, len);
    atomic_store(&b->jwks_len, len);
    atomic_fetch_add(&b->jwks_seq, 1); /* even: complete */
    atomic_flag_clear(&b->jwks_writer);
}

/* Load the key set the pool's workers last fetched; 0, or -1 if none. */
static int jwks_inherit(struct scoreboard *b, struct auth_verifier *v)
{
    char *copy;
    int rc = -1;

    if (b == NULL || (copy = malloc(sizeof(b->jwks))) == NULL)
        return -1;
    for (int tries = 0; tries < 1000 && rc < 0; tries++) {
        unsigned seq = atomic_load(&b->jwks_seq);
        size_t len = atomic_load(&b->jwks_len);
        struct err e = {0};
        if (seq == 0)
            break; /* nothing published yet */
        if ((seq & 1) != 0 || len > sizeof(b->jwks))
            continue;
        memcpy(copy, b->jwks, len);
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load(&b->jwks_seq) != seq)
            continue; /* torn: written meanwhile */
        rc = auth_verifier_load_jwks(v, copy, len, &e);
        if (rc < 0)
            break;
    }
    free(copy);
    return rc;
}

struct auth_verifier *authn_verifier_new(const struct config *c, struct scoreboard *board)
{
    struct auth_config ac;
    struct auth_verifier *v;
    struct err e = {0};

    if (c->auth_issuer == NULL) {
        log_warn("AUTH_ISSUER is not set: protected routes answer 503 (dev only)", NULL);
        return NULL;
    }
    if (http_sysinit(&e) < 0) {
        log_error("http_sysinit failed", "error", e.msg, NULL);
        return NULL;
    }
    memset(&ac, 0, sizeof(ac));
    ac.issuer = c->auth_issuer;
    ac.jwks_url = c->auth_jwks_url;
    ac.client_ids = c->auth_client_ids;
    ac.token_use = c->auth_token_use;
    ac.leeway_seconds = c->auth_leeway_s;
    ac.allow_http = c->env == ENV_DEV;
    v = auth_verifier_new(&ac, &e);
    if (v == NULL) {
        log_error("cannot create the token verifier", "error", e.msg, NULL);
        return NULL;
    }
    /* Fetch the keys before the first request; a failure is not fatal (the
     * first token with an unknown kid retries, rate-limited). */
    if (auth_verifier_prefetch(v, &e) == 0)
        jwks_publish(board, v);
    else if (jwks_inherit(board, v) == 0)
        log_warn("JWKS prefetch failed; verifying with the key set the pool fetched last, "
                 "will retry on demand",
                 "code", e.code, "error", e.msg, NULL);
    else
        log_warn("JWKS prefetch failed; will retry on demand", "code", e.code, "error", e.msg,
                 NULL);
    return v;
}

static long long mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

int authn_verify_token(struct request *r)
{
    struct app *app = r->app;
    struct err e = {0};

    if (app->auth == NULL) {
        request_fail(r, 503, "auth_unconfigured", "authentication is not configured", NULL);
        return -1;
    }
    if (auth_verify_bearer(app->auth, request_param(r, "HTTP_AUTHORIZATION"), &r->identity, &e) <
        0) {
        /* RFC 6750: no error code when the request had no credentials. */
        const char *challenge =
            e.code != NULL && strcmp(e.code, "token_missing") == 0
                ? "WWW-Authenticate: Bearer realm=\"easysks\"\r\n"
                : "WWW-Authenticate: Bearer realm=\"easysks\", error=\"invalid_token\"\r\n";
        request_send_error(r, &e, e.status == 401 ? challenge : NULL);
        return -1;
    }
    log_set_user(r->identity.sub);
    return 0;
}

int authn_authenticate(struct request *r, int profile)
{
    struct app *app = r->app;
    struct err e = {0};

    if (authn_verify_token(r) < 0)
        return -1;
    if (users_identify(app->db, app->users, r->arena, &r->identity, profile, mono_s(), &r->user,
                       &e) < 0) {
        if (e.status == 410 && r->route != NULL && (r->route->flags & ROUTE_ERASED)) {
            memset(&r->user, 0, sizeof(r->user));
            r->erased = 1;
            return 0;
        }
        request_send_error(r, &e, NULL);
        return -1;
    }
    return 0;
}

int authn_require_premium(struct request *r)
{
    if (r->user.premium)
        return 0;
    request_fail(r, 403, "premium_required", "this needs a premium plan", NULL);
    return -1;
}
