/*
 * auth.h - verification of AWS Cognito bearer tokens (RS256 JWS) in-process.
 *
 * We verify with OpenSSL directly, not libjwt (see docs/auth.md): the
 * algorithm is pinned to RS256 and checked before any key is touched, the
 * signature is checked with EVP_DigestVerify against an EVP_PKEY built once
 * from the JWKS, and every claim (exp, nbf, iat, iss, token_use, client_id or
 * aud, sub) is checked here with cJSON.
 *
 * Two per-process caches live in the verifier:
 *  - the JWKS, fetched with lib/infra/http (2 s connect, 3 s total, 256 KiB cap,
 *    https only unless allow_http). It is refreshed only when a token names an
 *    unknown kid, and at most once per AUTH_JWKS_REFRESH_INTERVAL seconds
 *    whatever the outcome ("penalty box"), so a failing or slow JWKS endpoint
 *    cannot cause a request storm. A failed refresh keeps the cached keys; a
 *    successful one replaces them, so removed keys stop being trusted.
 *  - verified tokens, keyed by SHA-256 of the token (AUTH_TOKEN_CACHE_SIZE
 *    entries, set-associative with LRU eviction), expiring at the token's exp.
 *    A hit still re-checks exp against the clock. Entries whose kid vanished
 *    or changed in a JWKS refresh are dropped.
 *
 * A verifier is not thread-safe: each worker process (or thread) owns one.
 * Call http_sysinit() once per process before the first fetch.
 */
#ifndef EASYSKS_AUTH_H
#define EASYSKS_AUTH_H

#include <stddef.h>

#include "core/err.h"

#define AUTH_MAX_TOKEN_BYTES 8192
#define AUTH_JWKS_REFRESH_INTERVAL 10 /* seconds between JWKS fetch attempts */
#define AUTH_JWKS_CONNECT_TIMEOUT_MS 2000L
#define AUTH_JWKS_TIMEOUT_MS 3000L
#define AUTH_JWKS_MAX_BYTES ((size_t)256 * 1024)
#define AUTH_TOKEN_CACHE_SIZE 1024

/* Settings, filled by config from the environment. Strings are borrowed for
 * the duration of auth_verifier_new() only (it copies them). */
struct auth_config {
    const char *issuer;   /* exact `iss`, e.g. https://cognito-idp.<region>.amazonaws.com/<pool> */
    const char *jwks_url; /* usually ${issuer}/.well-known/jwks.json */
    const char *client_ids; /* comma-separated app client ids; at least one */
    const char *token_use;  /* "access" or "id" */
    int leeway_seconds;     /* clock skew tolerated on exp/nbf/iat (0..300) */
    int allow_http;         /* 1 only when EASYSKS_ENV=dev (cognito-local) */
};

/* What a verified token says about the caller. Strings are NUL-terminated;
 * email and username are empty when the token does not carry them (access
 * tokens carry username but no email; id tokens carry both). */
struct auth_identity {
    char sub[128];
    char username[256];
    char email[320];
    char token_use[8];
    long long exp; /* Unix seconds */
};

/* Counters for tests and metrics. */
struct auth_stats {
    unsigned long cache_hits;
    unsigned long cache_misses;
    unsigned long jwks_fetches; /* attempts, successful or not */
    unsigned long jwks_fetch_failures;
};

struct auth_verifier;

/* Returns Unix time in seconds. */
typedef long long (*auth_clock_fn)(void *ctx);

/* New verifier (free with auth_verifier_free). Validates and copies cfg; no
 * network I/O. Returns NULL with e set (500 auth_config_invalid) when cfg is
 * unusable (missing issuer/jwks_url/client ids, bad token_use, http URL
 * without allow_http). */
struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *e);

/* NULL is a no-op. */
void auth_verifier_free(struct auth_verifier *v);

/* Fetch the JWKS now (call when a worker starts). Returns 0, or -1 with e set
 * (502/504 jwks_*); the caller logs it and carries on - tokens are rejected
 * with unknown_key until a later refresh succeeds. Counts as a refresh
 * attempt for the rate limit. */
int auth_verifier_prefetch(struct auth_verifier *v, struct err *e);

/* The last JWKS document fetched successfully (not loaded), `*len` bytes,
 * owned by the verifier until the next fetch; NULL before any. For sharing
 * it with processes that start while the endpoint is down. */
const char *auth_verifier_jwks_document(const struct auth_verifier *v, size_t *len);

/* Replace the key set with `len` bytes of JWKS JSON (tests; pinned keys).
 * Same effect as a successful fetch. Returns 0, or -1 with e set and the old
 * keys kept. */
int auth_verifier_load_jwks(struct auth_verifier *v, const char *json, size_t len, struct err *e);

/* Verify an Authorization header value ("Bearer <jwt>"; NULL allowed = no
 * header). Returns 0 and fills *out (caller storage), or -1 with e->status
 * 401 and e->code one of: token_missing, token_invalid, token_too_large,
 * unknown_key, token_expired, token_not_yet_valid, issuer_mismatch,
 * client_mismatch, token_use_mismatch. e->msg is client-safe; the reason is
 * logged with log_warn (never the token). May block for one JWKS fetch
 * (<= 3 s) when the token names an unknown kid and the penalty box allows it. */
int auth_verify_bearer(struct auth_verifier *v, const char *authorization_header,
                       struct auth_identity *out, struct err *e);

/* Replace the clock (tests). fn NULL restores the default. When set, fn is
 * used both for claim checks and for the JWKS refresh rate limit; the default
 * uses the wall clock for claims and CLOCK_MONOTONIC for the rate limit. */
void auth_verifier_set_clock(struct auth_verifier *v, auth_clock_fn fn, void *ctx);

/* Copy the counters into *out. */
void auth_verifier_stats(const struct auth_verifier *v, struct auth_stats *out);

#endif
