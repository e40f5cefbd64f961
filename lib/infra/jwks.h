/*
 * jwks.h - a parsed JSON Web Key Set: RS256 verification keys by kid.
 *
 * Only keys usable for RS256 signatures are kept: kty "RSA", "use" absent or
 * "sig", "alg" absent or "RS256", a non-empty kid, a modulus of 2048..8192
 * bits and an odd public exponent > 1. Anything else is skipped with a
 * log_warn (a JWKS may legitimately carry other keys). Keys are built with
 * OpenSSL 3 (OSSL_PARAM_BLD + EVP_PKEY_fromdata) once, at parse time, so
 * verification never re-parses key material.
 *
 * kid values are compared byte for byte (Cognito kids contain + / =).
 * Fetching and caching policy live in auth.c; this module only parses.
 */
#ifndef EASYSKS_JWKS_H
#define EASYSKS_JWKS_H

#include <stddef.h>

#include <openssl/evp.h>

#include "core/err.h"

#define JWKS_MIN_RSA_BITS 2048
#define JWKS_MAX_RSA_BITS 8192
#define JWKS_MAX_KEYS 64

struct jwks;

/* Parse `len` bytes of JSON (need not be NUL-terminated). On success returns
 * 0 and a new set in *out (caller frees with jwks_free). Returns -1 with e
 * set (502 jwks_invalid) when the document is not a JWKS or holds no usable
 * key at all - callers then keep whatever set they had. */
int jwks_parse(const char *json, size_t len, struct jwks **out, struct err *e);

/* The key for `kid` (exact match), or NULL. Borrowed: valid until the set is
 * freed. kid may be NULL (then NULL is returned). */
EVP_PKEY *jwks_find(const struct jwks *set, const char *kid);

/* Number of usable keys in the set (0 for NULL). */
size_t jwks_count(const struct jwks *set);

/* NULL is a no-op. */
void jwks_free(struct jwks *set);

#endif
