/*
 * stripe.h - the one wrapper around Stripe: webhook signatures in, API
 * calls out. What the events mean for a learner's plan is lib/sks/billing's.
 *
 * Webhooks. Stripe signs every delivery with each of the endpoint's
 * secrets that is current (two during a rotation) and sends
 *     Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...][,v0=<hex>]
 * where v1 = hex(HMAC-SHA256(secret, "<t>." + raw body)); the secret is the
 * `whsec_...` string itself, as bytes. A delivery is authentic when any v1
 * matches any of our secrets (compared in constant time) and t lies within
 * the tolerance of our clock in either direction (a replayed or a forged
 * future timestamp fails alike). v0 (Stripe's old test scheme) and unknown
 * schemes are ignored, never accepted.
 *
 * API calls. Form-encoded POSTs to STRIPE_API_BASE with the secret key as a
 * bearer token, the API version pinned (STRIPE_API_VERSION) and an
 * Idempotency-Key, on the worker's reused HTTP client (lib/infra/http: timeouts,
 * response cap). Stripe's error JSON becomes a 502 with a stable code; the
 * key never reaches a log line or an error message.
 */
#ifndef EASYSKS_STRIPE_H
#define EASYSKS_STRIPE_H

#include <stddef.h>
#include <cjson/cJSON.h>

#include "core/buf.h"
#include "core/err.h"

/* The API version our calls are written against; create the webhook
 * endpoint with the same version (docs/billing.md). */
#define STRIPE_API_VERSION "2026-10-28.endive"
#define STRIPE_SIGNATURE_TOLERANCE_S 300
#define STRIPE_SIGNATURE_HEADER_MAX 4096 /* longer headers are malformed */
#define STRIPE_SIGNATURES_MAX 8          /* v1 entries compared, at most */
#define STRIPE_SECRETS_MAX 8             /* entries in STRIPE_WEBHOOK_SECRETS */
#define STRIPE_SECRET_MAX 256            /* bytes in one secret */
#define STRIPE_RESPONSE_MAX (256 * 1024) /* API response body cap */

/* Verify a webhook delivery. `header` is the Stripe-Signature value (NULL
 * when absent), `body`/`len` the raw body exactly as received, `secrets`
 * the comma list from STRIPE_WEBHOOK_SECRETS (blanks around entries are
 * ignored), `now` the current unix time, `tolerance_s` the allowed
 * distance of t from now in both directions. Pure: no allocation, no I/O.
 * Returns 0 when authentic; otherwise -1 with e = 400 signature_missing,
 * signature_malformed (no or several t, t not canonical decimal digits, an
 * entry without '=', over STRIPE_SIGNATURE_HEADER_MAX), signature_no_v1
 * (e.g. v0 only), signature_mismatch (no v1 matches any secret),
 * signature_expired or signature_not_yet_valid (authentic, but t outside
 * the tolerance), or 500 signature_no_secret when `secrets` holds none.
 * The signature is checked before the timestamp, so the timestamp codes
 * are only ever given for deliveries that really came from Stripe. */
int stripe_verify_signature(const char *header, const char *body, size_t len, const char *secrets,
                            long long now, long long tolerance_s, struct err *e);

/* Validate a STRIPE_WEBHOOK_SECRETS value: 1..STRIPE_SECRETS_MAX entries,
 * each `whsec_` followed by at least one character, no blanks or control
 * characters inside, at most STRIPE_SECRET_MAX bytes. Returns 0, or -1
 * with a one-line reason in `why` (never the secret itself). */
int stripe_secrets_check(const char *list, char *why, size_t whylen);

/* Append `key=value` to an application/x-www-form-urlencoded body, with an
 * '&' first unless `b` is empty. Both are percent-encoded (everything but
 * ALPHA DIGIT - . _ ~), so keys such as "line_items[0][price]" may be
 * passed as they read. */
void stripe_form_add(struct buf *b, const char *key, const char *value);

/* Map a non-2xx Stripe response to e: always 502, with code
 * stripe_unauthorized (401/403: our key), stripe_rate_limited (429),
 * stripe_idempotency_conflict (error type idempotency_error),
 * stripe_unavailable (5xx or api_error), stripe_invalid_request (other
 * 4xx) or stripe_bad_response (no Stripe error JSON). Stripe's own code,
 * type and message go to the log; the client message carries only
 * Stripe's error code (an enum such as "resource_missing"). Returns -1. */
int stripe_error_map(long status, const char *body, size_t len, struct err *e);

struct http_client;

/* Where and how to call the API. Nothing here is owned. */
struct stripe_api {
    struct http_client *http; /* the worker's reused client */
    const char *base;         /* STRIPE_API_BASE, e.g. https://api.stripe.com */
    const char *key;          /* STRIPE_API_KEY: a secret */
    long timeout_ms;          /* whole call, connect included */
    int allow_http;           /* plain http base (dev and tests only) */
};

/* POST `form` (len bytes, x-www-form-urlencoded) to base + `path` (e.g.
 * "/v1/checkout/sessions") with the Idempotency-Key `idempotency_key`
 * (required: every POST we make may be retried). On a 2xx the JSON object
 * goes to *out (caller cJSON_Delete()s) and 0 is returned. Otherwise -1,
 * *out NULL, e: 503 billing_unconfigured (no key or client), 504
 * stripe_timeout, 502 stripe_unreachable, 502 stripe_bad_response (too
 * large or not a JSON object), or stripe_error_map()'s codes. Never call
 * this inside an open database transaction. */
int stripe_api_post(const struct stripe_api *api, const char *path, const char *form, size_t len,
                    const char *idempotency_key, cJSON **out, struct err *e);

#endif
