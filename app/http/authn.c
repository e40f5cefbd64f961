/*
 * Bearer-token authentication for protected routes, and the user row.
 *
 * The token is verified in-process (lib/auth: JWKS and verified-token caches
 * per worker). The user is created on first sight with one upsert; a busy
 * user touches last_seen_at at most every few minutes, so authentication does
 * not turn every read into a write.
 */
#include "auth_glue.h"

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "worker.h"

/*
 * Insert the user or, when present, refresh identity fields and last_seen_at
 * (only when something changed or the last touch is older than 5 minutes),
 * then return the profile, so /api/me needs no second query. A conflict whose row the CTE did not
 * update is read back by the second branch; under a concurrent first insert that branch can see no
 * row (statement snapshot), so the caller retries once.
 */
#define USER_COLUMNS                                                                               \
    "id, plan = 'premium' AND (premium_until IS NULL OR premium_until > now()), username, "        \
    "email, to_char(premium_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"          \
    " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"                   \
    " to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static const struct db_stmt upsert_user = {
    "auth_upsert_user",
    "WITH up AS ("
    "  INSERT INTO users (cognito_sub, username, email) VALUES ($1, $2, $3)"
    "  ON CONFLICT (cognito_sub) DO UPDATE"
    "    SET last_seen_at = now(),"
    "        username = coalesce(EXCLUDED.username, users.username),"
    "        email = coalesce(EXCLUDED.email, users.email)"
    "    WHERE users.last_seen_at < now() - interval '5 minutes'"
    "       OR users.username IS DISTINCT FROM coalesce(EXCLUDED.username, users.username)"
    "       OR users.email IS DISTINCT FROM coalesce(EXCLUDED.email, users.email)"
    "  RETURNING *)"
    " SELECT " USER_COLUMNS " FROM up"
    " UNION ALL"
    " SELECT " USER_COLUMNS " FROM users"
    "  WHERE cognito_sub = $1 AND NOT EXISTS (SELECT 1 FROM up)"};

void auth_glue_init(struct worker *w)
{
    const struct config *c = w->cfg;
    struct auth_config ac;
    struct err e = {0};

    w->auth = NULL;
    if (c->auth_issuer == NULL) {
        log_warn("AUTH_ISSUER is not set: protected routes answer 503 (dev only)", NULL);
        return;
    }
    if (http_sysinit(&e) < 0) {
        log_error("http_sysinit failed", "error", e.msg, NULL);
        return;
    }
    memset(&ac, 0, sizeof(ac));
    ac.issuer = c->auth_issuer;
    ac.jwks_url = c->auth_jwks_url;
    ac.client_ids = c->auth_client_ids;
    ac.token_use = c->auth_token_use;
    ac.leeway_seconds = c->auth_leeway_s;
    ac.allow_http = c->env == ENV_DEV;
    w->auth = auth_verifier_new(&ac, &e);
    if (w->auth == NULL) {
        log_error("cannot create the token verifier", "error", e.msg, NULL);
        return;
    }
    /* Fetch the keys before the first request; a failure is not fatal (the
     * first token with an unknown kid retries, rate-limited). */
    if (auth_verifier_prefetch(w->auth, &e) < 0)
        log_warn("JWKS prefetch failed; will retry on demand", "code", e.code, "error", e.msg,
                 NULL);
}

void auth_glue_cleanup(struct worker *w)
{
    auth_verifier_free(w->auth);
    w->auth = NULL;
}

static int load_user(struct request *r, struct err *e)
{
    struct worker *w = r->worker;
    const struct auth_identity *id = &r->identity;
    const char *params[3] = {id->sub, id->username[0] ? id->username : NULL,
                             id->email[0] ? id->email : NULL};
    PGresult *res = NULL;

    for (int attempt = 0; attempt < 2; attempt++) {
        PQclear(res);
        res = db_query(w->db, &upsert_user, 3, params, 0, e);
        if (res == NULL)
            return -1;
        if (PQntuples(res) == 1)
            break;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        return err_set(e, 503, "user_unavailable", "could not load the user, retry");
    }
    r->user.id = arena_strdup(r->arena, PQgetvalue(res, 0, 0));
    r->user.premium = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
    r->user.username =
        PQgetisnull(res, 0, 2) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, 2));
    r->user.email = PQgetisnull(res, 0, 3) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, 3));
    r->user.premium_until =
        PQgetisnull(res, 0, 4) ? NULL : arena_strdup(r->arena, PQgetvalue(res, 0, 4));
    r->user.created_at = arena_strdup(r->arena, PQgetvalue(res, 0, 5));
    r->user.last_seen_at = arena_strdup(r->arena, PQgetvalue(res, 0, 6));
    PQclear(res);
    return 0;
}

int auth_glue_authenticate(struct request *r)
{
    struct worker *w = r->worker;
    struct err e = {0};
    const char *header = request_param(r, "HTTP_AUTHORIZATION");

    if (w->auth == NULL) {
        request_fail(r, 503, "auth_unconfigured", "authentication is not configured", NULL);
        return -1;
    }
    if (auth_verify_bearer(w->auth, header, &r->identity, &e) < 0) {
        /* RFC 6750: no error code when the request had no credentials. */
        const char *challenge =
            e.code != NULL && strcmp(e.code, "token_missing") == 0
                ? "WWW-Authenticate: Bearer realm=\"easysks\"\r\n"
                : "WWW-Authenticate: Bearer realm=\"easysks\", error=\"invalid_token\"\r\n";
        request_send_error(r, &e, e.status == 401 ? challenge : NULL);
        return -1;
    }
    log_set_user(r->identity.sub);
    if (load_user(r, &e) < 0) {
        request_send_error(r, &e, NULL);
        return -1;
    }
    return 0;
}
