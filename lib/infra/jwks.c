#include "infra/jwks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "core/b64.h"
#include "core/log.h"

#define KID_MAX 256

struct jwks_key {
    char *kid;
    EVP_PKEY *pkey;
};

struct jwks {
    struct jwks_key keys[JWKS_MAX_KEYS];
    size_t n;
};

/* String member or NULL when absent or not a string. */
static const char *get_string(const cJSON *obj, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

/* Decode a base64url big-endian unsigned integer member into a BIGNUM. */
static BIGNUM *get_bignum(const cJSON *obj, const char *name)
{
    unsigned char buf[JWKS_MAX_RSA_BITS / 8 + 8];
    const char *s = get_string(obj, name);
    size_t len, n;
    BIGNUM *bn;

    if (s == NULL)
        return NULL;
    len = strlen(s);
    if (len == 0)
        return NULL;
    if (b64_url_decode(s, len, 1, buf, sizeof(buf), &n) != 0 || n == 0)
        return NULL;
    bn = BN_bin2bn(buf, (int)n, NULL);
    if (bn == NULL)
        abort();
    return bn;
}

/* Build an RSA public key from n/e, or return NULL with `why` set. */
static EVP_PKEY *rsa_from_jwk(const cJSON *jwk, const char **why)
{
    BIGNUM *n = NULL, *ex = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    EVP_PKEY *pkey = NULL;
    int bits;

    n = get_bignum(jwk, "n");
    ex = get_bignum(jwk, "e");
    if (n == NULL || ex == NULL) {
        *why = "missing or malformed n/e";
        goto out;
    }
    bits = BN_num_bits(n);
    if (bits < JWKS_MIN_RSA_BITS) {
        *why = "RSA modulus shorter than 2048 bits";
        goto out;
    }
    if (bits > JWKS_MAX_RSA_BITS) {
        *why = "RSA modulus longer than 8192 bits";
        goto out;
    }
    if (!BN_is_odd(ex) || BN_is_one(ex) || BN_num_bits(ex) > 64) {
        *why = "unacceptable RSA public exponent";
        goto out;
    }

    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL)
        abort();
    if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, ex) != 1)
        abort();
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL)
        abort();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        *why = "OpenSSL rejected the RSA key";
        EVP_PKEY_free(pkey);
        pkey = NULL;
        goto out;
    }

out:
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(ex);
    return pkey;
}

static void skip_key(const char *kid, const char *why)
{
    char k[80];
    /* kid is not secret, but bound what a remote document puts in our log. */
    snprintf(k, sizeof(k), "%.*s", (int)sizeof(k) - 1, kid != NULL ? kid : "");
    log_warn("jwks: key skipped", "kid", k, "reason", why, NULL);
}

int jwks_parse(const char *json, size_t len, struct jwks **out, struct err *e)
{
    cJSON *doc = NULL;
    const cJSON *keys, *jwk;
    struct jwks *set = NULL;
    int ret = -1;

    *out = NULL;
    doc = cJSON_ParseWithLength(json, len);
    if (doc == NULL || !cJSON_IsObject(doc)) {
        err_set(e, 502, "jwks_invalid", "key set is not a JSON object");
        goto out;
    }
    keys = cJSON_GetObjectItemCaseSensitive(doc, "keys");
    if (!cJSON_IsArray(keys)) {
        err_set(e, 502, "jwks_invalid", "key set has no keys array");
        goto out;
    }

    set = calloc(1, sizeof(*set));
    if (set == NULL)
        abort();

    cJSON_ArrayForEach(jwk, keys)
    {
        const char *kid, *kty, *use, *alg, *why = NULL;
        EVP_PKEY *pkey;

        if (!cJSON_IsObject(jwk)) {
            skip_key(NULL, "entry is not an object");
            continue;
        }
        kid = get_string(jwk, "kid");
        kty = get_string(jwk, "kty");
        use = get_string(jwk, "use");
        alg = get_string(jwk, "alg");
        if (kid == NULL || kid[0] == '\0' || strlen(kid) > KID_MAX) {
            skip_key(kid, "missing or oversized kid");
            continue;
        }
        if (kty == NULL || strcmp(kty, "RSA") != 0) {
            skip_key(kid, "kty is not RSA");
            continue;
        }
        /* Present-but-wrong-type members are as bad as wrong values. */
        if (cJSON_GetObjectItemCaseSensitive(jwk, "use") != NULL &&
            (use == NULL || strcmp(use, "sig") != 0)) {
            skip_key(kid, "use is not sig");
            continue;
        }
        if (cJSON_GetObjectItemCaseSensitive(jwk, "alg") != NULL &&
            (alg == NULL || strcmp(alg, "RS256") != 0)) {
            skip_key(kid, "alg is not RS256");
            continue;
        }
        if (jwks_find(set, kid) != NULL) {
            skip_key(kid, "duplicate kid (first one kept)");
            continue;
        }
        if (set->n == JWKS_MAX_KEYS) {
            skip_key(kid, "too many keys");
            continue;
        }
        pkey = rsa_from_jwk(jwk, &why);
        if (pkey == NULL) {
            skip_key(kid, why);
            continue;
        }
        set->keys[set->n].kid = strdup(kid);
        if (set->keys[set->n].kid == NULL)
            abort();
        set->keys[set->n].pkey = pkey;
        set->n++;
    }

    if (set->n == 0) {
        err_set(e, 502, "jwks_invalid", "key set holds no usable RS256 key");
        goto out;
    }
    *out = set;
    set = NULL;
    ret = 0;

out:
    jwks_free(set);
    cJSON_Delete(doc);
    return ret;
}

EVP_PKEY *jwks_find(const struct jwks *set, const char *kid)
{
    if (set == NULL || kid == NULL)
        return NULL;
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->keys[i].kid, kid) == 0)
            return set->keys[i].pkey;
    return NULL;
}

size_t jwks_count(const struct jwks *set)
{
    return set != NULL ? set->n : 0;
}

void jwks_free(struct jwks *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->n; i++) {
        free(set->keys[i].kid);
        EVP_PKEY_free(set->keys[i].pkey);
    }
    free(set);
}
