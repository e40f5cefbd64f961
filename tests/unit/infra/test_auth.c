/*
 * test_auth.c - lib/infra/auth (+ lib/infra/jwks, lib/b64) against tokens minted here
 * with keys generated in-process, and the real JWKS fetch path against a
 * loopback HTTP stub. Time is injected, so nothing sleeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "infra/auth.h"
#include "core/b64.h"
#include "infra/http.h"
#include "core/log.h"
#include "tap.h"
#include "httpd_stub.h"

#define ISS "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST"
#define CLIENT "client-abc"
#define KID1 "k1+/=abc"
#define KID2 "k2"

static long long fake_now = 1700000000;
static long long fake_clock(void *ctx)
{
    (void)ctx;
    return fake_now;
}

static EVP_PKEY *key1, *key2, *key_other, *key_small;

/* ---- minting ------------------------------------------------------------- */

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        abort();
    return p;
}

static char *b64(const void *data, size_t len)
{
    char *out = xmalloc(B64_ENCODED_LEN(len) + 1);
    b64_url_encode(data, len, out);
    return out;
}

/* "Bearer <b64(header)>.<b64(payload)>.<sig>", signed RS256 with `key`
 * (whatever the header says), or with an empty signature if key is NULL. */
static char *mint_raw(EVP_PKEY *key, const char *header, const char *payload)
{
    char *h = b64(header, strlen(header)), *p = b64(payload, strlen(payload));
    size_t in_len = strlen(h) + 1 + strlen(p);
    char *input = xmalloc(in_len + 1), *s = NULL, *out;
    unsigned char sig[1024];
    size_t sig_len = sizeof(sig), out_cap;

    snprintf(input, in_len + 1, "%s.%s", h, p);
    if (key != NULL) {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
            EVP_DigestSign(md, sig, &sig_len, (unsigned char *)input, in_len) != 1)
            abort();
        EVP_MD_CTX_free(md);
        s = b64(sig, sig_len);
    } else {
        s = strdup("");
    }
    out_cap = in_len + strlen(s) + 16;
    out = xmalloc(out_cap);
    snprintf(out, out_cap, "Bearer %s.%s", input, s);
    free(h);
    free(p);
    free(input);
    free(s);
    return out;
}

static char *hdr(const char *kid)
{
    static char buf[256];
    snprintf(buf, sizeof(buf), "{\"alg\":\"RS256\",\"kid\":\"%s\"}", kid);
    return buf;
}

/* Standard access-token claims with `extra` appended (starts with ','). */
static char *claims(const char *iss, const char *client, const char *use, long long exp,
                    const char *extra)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"sub\":\"user-1\",\"iss\":\"%s\",\"client_id\":\"%s\",\"token_use\":\"%s\","
             "\"username\":\"demo\",\"exp\":%lld,\"iat\":%lld%s}",
             iss, client, use, exp, fake_now - 10, extra != NULL ? extra : "");
    return buf;
}

static char *mint(EVP_PKEY *key, const char *kid)
{
    return mint_raw(key, hdr(kid), claims(ISS, CLIENT, "access", fake_now + 3600, NULL));
}

static char *jwk_json(EVP_PKEY *key, const char *kid)
{
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[1024], eb[16];
    char *ns, *es, *out;
    int nl, el;
    size_t out_cap;

    if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
        EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
        abort();
    nl = BN_bn2bin(n, nb);
    el = BN_bn2bin(e, eb);
    ns = b64(nb, (size_t)nl);
    es = b64(eb, (size_t)el);
    out_cap = strlen(ns) + strlen(kid) + 128;
    out = xmalloc(out_cap);
    snprintf(out, out_cap,
             "{\"kty\":\"RSA\",\"use\":\"sig\",\"alg\":\"RS256\",\"kid\":\"%s\",\"n\":\"%s\","
             "\"e\":\"%s\"}",
             kid, ns, es);
    BN_free(n);
    BN_free(e);
    free(ns);
    free(es);
    return out;
}

/* JWKS document from up to three (key, kid) pairs; key NULL ends the list. */
static char *jwks_doc(EVP_PKEY *a, const char *ka, EVP_PKEY *b, const char *kb, EVP_PKEY *c,
                      const char *kc)
{
    char *parts[3] = {NULL, NULL, NULL};
    char *out = xmalloc(8192);
    strcpy(out, "{\"keys\":[");
    if (a != NULL)
        parts[0] = jwk_json(a, ka);
    if (b != NULL)
        parts[1] = jwk_json(b, kb);
    if (c != NULL)
        parts[2] = jwk_json(c, kc);
    for (int i = 0; i < 3 && parts[i] != NULL; i++) {
        if (i > 0)
            strcat(out, ",");
        strcat(out, parts[i]);
        free(parts[i]);
    }
    strcat(out, "]}");
    return out;
}

static struct auth_verifier *new_verifier(const char *url, int allow_http, const char *use)
{
    struct auth_config cfg = {ISS, url, "other-client, " CLIENT, use, 30, allow_http};
    struct err e;
    struct auth_verifier *v = auth_verifier_new(&cfg, &e);
    if (v == NULL) {
        fprintf(stderr, "auth_verifier_new: %s\n", e.msg);
        abort();
    }
    auth_verifier_set_clock(v, fake_clock, NULL);
    return v;
}

/* Verify and return the error code ("ok" on success). */
static const char *check(struct auth_verifier *v, const char *header)
{
    static char code[64];
    struct auth_identity id;
    struct err e;

    err_clear(&e);
    if (auth_verify_bearer(v, header, &id, &e) == 0)
        return "ok";
    if (e.status != 401)
        return "not-401";
    snprintf(code, sizeof(code), "%s", e.code);
    return code;
}

static int is(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) {
        printf("# got %s, want %s\n", got, want);
        return 0;
    }
    return 1;
}

/* mint + check + free */
static int expect(struct auth_verifier *v, char *token, const char *want)
{
    int r = is(check(v, token), want);
    free(token);
    return r;
}

static double elapsed_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- tests ----------------------------------------------------------------- */

static void test_b64(void)
{
    unsigned char out[16];
    size_t n = 0;

    ok(b64_url_decode("aGk", 3, 0, out, sizeof(out), &n) == 0 && n == 2 &&
           memcmp(out, "hi", 2) == 0,
       "b64: decodes unpadded");
    ok(b64_url_decode("aGl", 3, 0, out, sizeof(out), &n) != 0,
       "b64: rejects non-zero trailing bits");
    ok(b64_url_decode("aGk=", 4, 0, out, sizeof(out), &n) != 0 &&
           b64_url_decode("aGk=", 4, 1, out, sizeof(out), &n) == 0 && n == 2,
       "b64: padding only where allowed");
    ok(b64_url_decode("a+k", 3, 0, out, sizeof(out), &n) != 0, "b64: rejects standard alphabet");
}

static void test_config(void)
{
    struct auth_config cfg = {ISS, "http://127.0.0.1:1/jwks", CLIENT, "access", 30, 0};
    struct err e;

    ok(auth_verifier_new(&cfg, &e) == NULL && strcmp(e.code, "auth_config_invalid") == 0,
       "config: http JWKS URL refused without allow_http");
    cfg.jwks_url = "https://example.invalid/jwks";
    cfg.client_ids = " , ";
    ok(auth_verifier_new(&cfg, &e) == NULL, "config: empty client id list refused");
    cfg.client_ids = CLIENT;
    cfg.token_use = "refresh";
    ok(auth_verifier_new(&cfg, &e) == NULL, "config: token_use must be access or id");
    auth_verifier_free(NULL);
}

static void test_static_keys(void)
{
    struct auth_verifier *v = new_verifier("https://example.invalid/jwks", 0, "access");
    struct auth_identity id;
    struct auth_stats st;
    struct err e;
    char *doc = jwks_doc(key1, KID1, key2, KID2, NULL, NULL);
    char *tok, *big, buf[4096];
    const char *p;

    ok(auth_verifier_load_jwks(v, doc, strlen(doc), &e) == 0, "load JWKS with two keys");
    free(doc);

    /* valid + cached */
    tok = mint(key1, KID1);
    memset(&id, 0, sizeof(id));
    ok(auth_verify_bearer(v, tok, &id, &e) == 0 && strcmp(id.sub, "user-1") == 0 &&
           strcmp(id.username, "demo") == 0 && strcmp(id.token_use, "access") == 0 &&
           id.exp == fake_now + 3600,
       "valid access token (kid with + / =) verifies, identity filled");
    auth_verifier_stats(v, &st);
    ok(st.cache_misses == 1 && st.cache_hits == 0, "first verification is a cache miss");
    ok(auth_verify_bearer(v, tok, &id, &e) == 0, "same token again verifies");
    auth_verifier_stats(v, &st);
    ok(st.cache_hits == 1, "second verification is a cache hit");
    fake_now += 3600 + 31;
    ok(is(check(v, tok), "token_expired"), "cache hit still re-checks exp");
    fake_now -= 3600 + 31;
    free(tok);
    ok(expect(v, mint(key2, KID2), "ok"), "token signed with the second key verifies");
    {
        /* More tokens than cache sets: every hit must return its own identity. */
        enum { N = 300 };
        static char *toks[N];
        char c[512];
        int good = 1;
        for (int i = 0; i < N; i++) {
            snprintf(c, sizeof(c),
                     "{\"sub\":\"user-%d\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                     "\",\"token_use\":\"access\",\"exp\":%lld}",
                     i, fake_now + 600);
            toks[i] = mint_raw(key1, hdr(KID1), c);
            good &= auth_verify_bearer(v, toks[i], &id, &e) == 0;
        }
        for (int i = 0; i < N; i++) {
            snprintf(c, sizeof(c), "user-%d", i);
            good &= auth_verify_bearer(v, toks[i], &id, &e) == 0 && strcmp(id.sub, c) == 0;
            free(toks[i]);
        }
        auth_verifier_stats(v, &st);
        ok(good && st.cache_hits >= N / 2, "300 cached tokens each keep their own identity");
    }
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", 0, NULL)),
              "token_expired"),
       "exp 0 -> token_expired");

    /* missing / scheme / malformed */
    ok(is(check(v, NULL), "token_missing"), "no header -> token_missing");
    ok(is(check(v, ""), "token_missing"), "empty header -> token_missing");
    ok(is(check(v, "Bearer   "), "token_missing"), "Bearer without token -> token_missing");
    tok = mint(key1, KID1);
    snprintf(buf, sizeof(buf), "Basic %s", tok + 7);
    ok(is(check(v, buf), "token_invalid"), "valid token under Basic scheme -> token_invalid");
    snprintf(buf, sizeof(buf), "bearer %s", tok + 7);
    ok(is(check(v, buf), "ok"), "scheme is case-insensitive");
    snprintf(buf, sizeof(buf), "%s extra", tok);
    ok(is(check(v, buf), "token_invalid"), "trailing data after token -> token_invalid");
    free(tok);
    ok(is(check(v, "Bearer garbage"), "token_invalid"), "garbage -> token_invalid");
    ok(is(check(v, "Bearer a.b"), "token_invalid"), "two parts -> token_invalid");
    ok(is(check(v, "Bearer a..c"), "token_invalid"), "empty middle part -> token_invalid");
    ok(is(check(v, "Bearer a.b.c.d"), "token_invalid"), "four parts -> token_invalid");
    ok(is(check(v, "Bearer aaaa.bbbb.cccc"), "token_invalid"), "3 parts of junk -> token_invalid");
    ok(is(check(v, "Bearer a$b.c.d"), "token_invalid"), "non-base64url char -> token_invalid");

    /* algorithm pinning */
    ok(expect(v,
              mint_raw(NULL, "{\"alg\":\"none\",\"kid\":\"" KID1 "\"}",
                       claims(ISS, CLIENT, "access", fake_now + 600, NULL)),
              "token_invalid"),
       "alg none, empty signature -> token_invalid");
    ok(expect(v,
              mint_raw(key1, "{\"alg\":\"none\",\"kid\":\"" KID1 "\"}",
                       claims(ISS, CLIENT, "access", fake_now + 600, NULL)),
              "token_invalid"),
       "alg none with a valid RSA signature -> token_invalid (alg checked, not just sig)");
    ok(expect(v,
              mint_raw(key1, "{\"alg\":\"rs256\",\"kid\":\"" KID1 "\"}",
                       claims(ISS, CLIENT, "access", fake_now + 600, NULL)),
              "token_invalid"),
       "alg rs256 (wrong case) validly signed -> token_invalid");
    ok(expect(v,
              mint_raw(key1, "{\"alg\":\"RS256\",\"kid\":\"" KID1 "\",\"crit\":[\"exp\"]}",
                       claims(ISS, CLIENT, "access", fake_now + 600, NULL)),
              "token_invalid"),
       "crit header validly signed -> token_invalid");
    ok(expect(v,
              mint_raw(key1, "{\"alg\":\"RS256\"}",
                       claims(ISS, CLIENT, "access", fake_now + 600, NULL)),
              "token_invalid"),
       "missing kid -> token_invalid");
    {
        /* HS256 with the RSA public key PEM as HMAC secret (libjwt's hole). */
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem, *h, *p2, *input, *s, *out;
        long pem_len;
        unsigned char mac[32];
        unsigned int mac_len = 0;
        const char *hh = "{\"alg\":\"HS256\",\"kid\":\"" KID1 "\"}";
        const char *pp = claims(ISS, CLIENT, "access", fake_now + 600, NULL);

        PEM_write_bio_PUBKEY(bio, key1);
        pem_len = BIO_get_mem_data(bio, &pem);
        h = b64(hh, strlen(hh));
        p2 = b64(pp, strlen(pp));
        {
            size_t in_cap = strlen(h) + strlen(p2) + 2;
            input = xmalloc(in_cap);
            snprintf(input, in_cap, "%s.%s", h, p2);
        }
        HMAC(EVP_sha256(), pem, (int)pem_len, (unsigned char *)input, strlen(input), mac, &mac_len);
        s = b64(mac, mac_len);
        {
            size_t out_cap = strlen(input) + strlen(s) + 16;
            out = xmalloc(out_cap);
            snprintf(out, out_cap, "Bearer %s.%s", input, s);
        }
        ok(expect(v, out, "token_invalid"),
           "HS256 signed with the public key PEM -> token_invalid");
        free(h);
        free(p2);
        free(input);
        free(s);
        BIO_free(bio);
    }

    /* keys */
    ok(expect(v, mint(key_other, KID1), "token_invalid"),
       "RS256 by an unknown key under a known kid -> token_invalid");
    ok(expect(v, mint(key1, "nope"), "unknown_key"), "unknown kid -> unknown_key");
    ok(expect(v, mint(key1, "k1+/=abC"), "unknown_key"), "kid compared exactly (case)");

    /* tampering */
    tok = mint(key1, KID1);
    {
        char *dot1 = strchr(tok, '.'), *dot2 = strchr(dot1 + 1, '.');
        const char *evil = "{\"sub\":\"admin\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                           "\",\"token_use\":\"access\",\"exp\":9999999999}";
        char *pe = b64(evil, strlen(evil));
        snprintf(buf, sizeof(buf), "%.*s.%s%s", (int)(dot1 - tok), tok, pe, dot2);
        ok(is(check(v, buf), "token_invalid"), "tampered payload -> token_invalid");
        free(pe);
        snprintf(buf, sizeof(buf), "%s", tok);
        p = strrchr(buf, '.');
        buf[(size_t)(p - buf) + 5] = buf[(size_t)(p - buf) + 5] == 'A' ? 'B' : 'A';
        ok(is(check(v, buf), "token_invalid"), "flipped signature character -> token_invalid");
        buf[strlen(buf) - 1] = '\0';
        ok(is(check(v, buf), "token_invalid"), "truncated signature -> token_invalid");
    }
    free(tok);

    /* size */
    big = xmalloc(AUTH_MAX_TOKEN_BYTES + 64);
    strcpy(big, "Bearer ");
    memset(big + 7, 'a', AUTH_MAX_TOKEN_BYTES + 1);
    big[7 + AUTH_MAX_TOKEN_BYTES + 1] = '\0';
    big[20] = '.';
    big[40] = '.';
    ok(is(check(v, big), "token_too_large"), "token over 8 KiB -> token_too_large");
    {
        /* A validly signed token just over the limit is refused before decoding;
         * the same shape just under the limit verifies. */
        static char c[AUTH_MAX_TOKEN_BYTES];
        const char *fmt = "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                          "\",\"token_use\":\"access\",\"exp\":%lld,\"pad\":\"%0*d\"}";
        snprintf(c, sizeof(c), fmt, fake_now + 600, 5600, 0);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "ok"), "validly signed ~7.9 KiB token verifies");
        snprintf(c, sizeof(c), fmt, fake_now + 600, 5900, 0);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "token_too_large"),
           "validly signed 8+ KiB token -> token_too_large");
    }
    free(big);

    /* time claims (leeway 30 s) */
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", fake_now - 100, NULL)),
              "token_expired"),
       "expired -> token_expired");
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", fake_now - 10, NULL)),
              "ok"),
       "expired 10 s ago is within the 30 s leeway");
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", fake_now - 30, NULL)),
              "token_expired"),
       "exp exactly now - leeway is expired");
    {
        char c[2048];
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                 "\",\"token_use\":\"access\",\"exp\":%lld.5}",
                 fake_now + 60);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "ok"), "real-valued exp accepted");
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                 "\",\"token_use\":\"access\",\"exp\":\"%lld\"}",
                 fake_now + 60);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "token_invalid"), "string exp -> token_invalid");
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                 "\",\"token_use\":\"access\"}");
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "token_invalid"),
           "missing exp -> token_invalid");
        snprintf(c, sizeof(c),
                 "{\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                 "\",\"token_use\":\"access\",\"exp\":%lld}",
                 fake_now + 60);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "token_invalid"),
           "missing sub -> token_invalid");
    }
    snprintf(buf, sizeof(buf), ",\"nbf\":%lld", fake_now + 100);
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", fake_now + 600, buf)),
              "token_not_yet_valid"),
       "nbf in the future -> token_not_yet_valid");
    snprintf(buf, sizeof(buf), ",\"nbf\":%lld", fake_now + 20);
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS, CLIENT, "access", fake_now + 600, buf)),
              "ok"),
       "nbf within leeway accepted");
    {
        char c[2048];
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
                 "\",\"token_use\":\"access\",\"exp\":%lld,\"iat\":%lld}",
                 fake_now + 600, fake_now + 100);
        ok(expect(v, mint_raw(key1, hdr(KID1), c), "token_not_yet_valid"),
           "iat in the future -> token_not_yet_valid");
    }

    /* iss / client / token_use */
    ok(expect(v,
              mint_raw(key1, hdr(KID1),
                       claims("https://evil.example/pool", CLIENT, "access", fake_now + 600, NULL)),
              "issuer_mismatch"),
       "wrong iss -> issuer_mismatch");
    ok(expect(v, mint_raw(key1, hdr(KID1), claims(ISS "/", CLIENT, "access", fake_now + 600, NULL)),
              "issuer_mismatch"),
       "iss with trailing slash -> issuer_mismatch");
    ok(expect(v,
              mint_raw(key1, hdr(KID1), claims(ISS, "client-xyz", "access", fake_now + 600, NULL)),
              "client_mismatch"),
       "wrong client_id -> client_mismatch");
    ok(expect(
           v,
           mint_raw(key1, hdr(KID1), claims(ISS, "other-client", "access", fake_now + 600, NULL)),
           "ok"),
       "second client id in the list accepted");
    {
        char c[2048];
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"aud\":\"" CLIENT
                 "\",\"token_use\":\"id\",\"email\":\"a@b.c\",\"exp\":%lld}",
                 fake_now + 600);
        tok = mint_raw(key1, hdr(KID1), c);
        ok(is(check(v, tok), "token_use_mismatch"),
           "id token where access required -> token_use_mismatch");
        {
            struct auth_verifier *vid = new_verifier("https://example.invalid/jwks", 0, "id");
            doc = jwks_doc(key1, KID1, NULL, NULL, NULL, NULL);
            auth_verifier_load_jwks(vid, doc, strlen(doc), &e);
            free(doc);
            ok(auth_verify_bearer(vid, tok, &id, &e) == 0 && strcmp(id.email, "a@b.c") == 0,
               "id token accepted by an id verifier (aud checked), email filled");
            free(tok);
            tok = mint(key1, KID1);
            ok(is(check(vid, tok), "token_use_mismatch"), "access token where id required");
            free(tok);
            snprintf(c, sizeof(c),
                     "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"aud\":[\"x\",\"y\"],"
                     "\"token_use\":\"id\",\"exp\":%lld}",
                     fake_now + 600);
            ok(expect(vid, mint_raw(key1, hdr(KID1), c), "client_mismatch"),
               "id token with foreign aud -> client_mismatch");
            auth_verifier_free(vid);
        }
    }

    /* small key */
    doc = jwks_doc(key_small, "small", key1, KID1, NULL, NULL);
    ok(auth_verifier_load_jwks(v, doc, strlen(doc), &e) == 0,
       "JWKS with a 1024-bit key loads (key skipped)");
    free(doc);
    ok(expect(v, mint(key_small, "small"), "unknown_key"),
       "token signed by a 1024-bit key -> unknown_key");
    doc = jwks_doc(key_small, "small", NULL, NULL, NULL, NULL);
    ok(auth_verifier_load_jwks(v, doc, strlen(doc), &e) != 0,
       "JWKS holding only a 1024-bit key is rejected");
    free(doc);
    ok(expect(v, mint(key1, KID1), "ok"), "rejected JWKS keeps previous keys");

    auth_verifier_free(v);
}

/* Access-token claims with the given sub and username, both JSON string
 * literals as they appear in the payload (escapes included). */
static char *identity_claims(const char *sub_json, const char *username_json)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"sub\":\"%s\",\"iss\":\"" ISS "\",\"client_id\":\"" CLIENT
             "\",\"token_use\":\"access\",\"username\":\"%s\",\"exp\":%lld}",
             sub_json, username_json, fake_now + 600);
    return buf;
}

/* sub, username and email go into X-User-Sub, log lines and the database:
 * a control character in any of them refuses the token (401 token_invalid). */
static void test_control_characters(void)
{
    /* JSON spellings of the control characters; DEL may appear raw. */
    static const struct {
        const char *json, *what;
    } bad[] = {
        {"a\\nb", "\\n"},         {"a\\rb", "\\r"},
        {"a\\u0001b", "\\x01"},   {"a\\tb", "\\t"},
        {"a\\u001fb", "\\x1f"},   {"a\177b", "raw \\x7f"},
        {"a\\u007fb", "\\u007f"}, {"\\r\\nX-Admin: 1", "CRLF header injection"},
    };
    struct auth_verifier *v = new_verifier("https://example.invalid/jwks", 0, "access");
    struct auth_verifier *vid = new_verifier("https://example.invalid/jwks", 0, "id");
    struct auth_identity id;
    struct err e;
    char *doc = jwks_doc(key1, KID1, NULL, NULL, NULL, NULL), *tok, c[2048];

    ok(auth_verifier_load_jwks(v, doc, strlen(doc), &e) == 0 &&
           auth_verifier_load_jwks(vid, doc, strlen(doc), &e) == 0,
       "control characters: JWKS loaded");
    free(doc);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ok(expect(v, mint_raw(key1, hdr(KID1), identity_claims(bad[i].json, "demo")),
                  "token_invalid"),
           "sub with %s -> 401 token_invalid", bad[i].what);
        ok(expect(v, mint_raw(key1, hdr(KID1), identity_claims("user-1", bad[i].json)),
                  "token_invalid"),
           "username with %s -> 401 token_invalid", bad[i].what);
        snprintf(c, sizeof(c),
                 "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"aud\":\"" CLIENT
                 "\",\"token_use\":\"id\",\"email\":\"%s@b.c\",\"exp\":%lld}",
                 bad[i].json, fake_now + 600);
        ok(expect(vid, mint_raw(key1, hdr(KID1), c), "token_invalid"),
           "id token email with %s -> 401 token_invalid", bad[i].what);
    }

    /* The same tokens with printable identities verify (so the refusals
     * above are about the character, not the shape). */
    tok = mint_raw(key1, hdr(KID1), identity_claims("user-1", "demo"));
    memset(&id, 0, sizeof(id));
    ok(auth_verify_bearer(v, tok, &id, &e) == 0 && strcmp(id.sub, "user-1") == 0 &&
           strcmp(id.username, "demo") == 0,
       "normal sub and username still verify");
    free(tok);
    tok = mint_raw(key1, hdr(KID1), identity_claims("a b~", "\u00fcser"));
    memset(&id, 0, sizeof(id));
    ok(auth_verify_bearer(v, tok, &id, &e) == 0 && strcmp(id.sub, "a b~") == 0 &&
           strcmp(id.username, "\xc3\xbcser") == 0,
       "space, tilde (0x20, 0x7e) and non-ASCII UTF-8 are not control characters");
    free(tok);
    snprintf(c, sizeof(c),
             "{\"sub\":\"u\",\"iss\":\"" ISS "\",\"aud\":\"" CLIENT
             "\",\"token_use\":\"id\",\"email\":\"a@b.c\",\"exp\":%lld}",
             fake_now + 600);
    ok(expect(vid, mint_raw(key1, hdr(KID1), c), "ok"), "normal email still verifies");

    auth_verifier_free(v);
    auth_verifier_free(vid);
}

static void test_fetch(void)
{
    struct stub s;
    struct auth_verifier *v;
    struct err e;
    char url[128];
    char *doc, *tok1;
    unsigned long n;
    struct timespec t0;
    int all;

    if (stub_start(&s) != 0) {
        ok(0, "stub server started");
        return;
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/.well-known/jwks.json", s.port);
    doc = jwks_doc(key1, KID1, NULL, NULL, NULL, NULL);
    stub_set_body(&s, doc);
    free(doc);

    v = new_verifier(url, 1, "access");
    ok(auth_verifier_prefetch(v, &e) == 0 && stub_requests(&s) == 1,
       "prefetch over loopback http (allow_http=1) fetches once");
    tok1 = mint(key1, KID1);
    ok(is(check(v, tok1), "ok"), "token verifies against fetched JWKS");

    /* endpoint down */
    fake_now += 11;
    stub_set_mode(&s, STUB_ERROR);
    ok(expect(v, mint(key1, KID1), "ok"), "endpoint down: cached keys keep working");
    ok(stub_requests(&s) == 1, "known kid never triggers a fetch");
    ok(expect(v, mint(key1, "unknown"), "unknown_key"),
       "endpoint down: unknown kid -> unknown_key");
    ok(stub_requests(&s) == 2, "unknown kid triggered one refresh");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    all = 1;
    for (int i = 0; i < 20; i++)
        all &= expect(
            v,
            mint_raw(key1, hdr("unknown"), claims(ISS, CLIENT, "access", fake_now + 600 + i, NULL)),
            "unknown_key");
    ok(all && stub_requests(&s) == 2, "20 more unknown-kid tokens within 10 s: no further fetch");
    ok(elapsed_since(&t0) < 1.0, "rate-limited rejections are fast");
    ok(expect(v, mint(key1, KID1), "ok"), "cached keys still work after failed refresh");
    fake_now += 10;
    ok(expect(v, mint(key1, "unknown2"), "unknown_key") && stub_requests(&s) == 3,
       "after 10 s the next unknown kid may refresh again (once)");

    /* oversized JWKS response: kept keys */
    fake_now += 11;
    s.big_len = AUTH_JWKS_MAX_BYTES + 1;
    stub_set_mode(&s, STUB_BIG);
    ok(expect(v, mint(key1, "unknown3"), "unknown_key") && stub_requests(&s) == 4,
       "oversized JWKS refused");
    ok(expect(v, mint(key1, KID1), "ok"), "keys kept after oversized JWKS");

    /* rotation: add k2 */
    stub_set_mode(&s, STUB_OK);
    doc = jwks_doc(key1, KID1, key2, KID2, NULL, NULL);
    stub_set_body(&s, doc);
    free(doc);
    ok(expect(v, mint(key2, KID2), "unknown_key"),
       "new kid inside the 10 s penalty box -> unknown_key");
    fake_now += 11;
    ok(expect(v, mint(key2, KID2), "ok") && stub_requests(&s) == 5,
       "rotation: new kid picked up without restart");
    ok(is(check(v, tok1), "ok"), "old key's token still valid (cached)");

    /* rotation: remove k1 */
    doc = jwks_doc(key2, KID2, NULL, NULL, NULL, NULL);
    stub_set_body(&s, doc);
    free(doc);
    fake_now += 11;
    ok(expect(v, mint(key2, "k3"), "unknown_key") && stub_requests(&s) == 6,
       "unknown kid triggers refresh of the rotated set");
    n = stub_requests(&s);
    ok(is(check(v, tok1), "unknown_key"), "removed kid no longer trusted, even for a cached token");
    ok(expect(v, mint(key1, KID1), "unknown_key"), "removed kid: fresh token refused");
    ok(stub_requests(&s) == n, "removed-kid refusals inside the penalty box do not fetch");
    ok(expect(v, mint(key2, KID2), "ok"), "remaining key still verifies");
    free(tok1);
    auth_verifier_free(v);

    /* unreachable endpoint at start: prefetch fails, not fatal */
    stub_stop(&s);
    v = new_verifier(url, 1, "access");
    ok(auth_verifier_prefetch(v, &e) != 0 && e.status >= 500, "prefetch against a dead port fails");
    ok(expect(v, mint(key1, KID1), "unknown_key"), "no keys: token -> unknown_key");
    auth_verifier_free(v);
}

int main(void)
{
    struct err e;

    log_set_level(LOG_ERROR); /* rejections log at warn; keep TAP output readable */
    if (http_sysinit(&e) != 0)
        return 1;
    key1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key_other = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    key_small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    if (key1 == NULL || key2 == NULL || key_other == NULL || key_small == NULL)
        return 1;

    test_b64();
    test_config();
    test_static_keys();
    test_control_characters();
    test_fetch();

    EVP_PKEY_free(key1);
    EVP_PKEY_free(key2);
    EVP_PKEY_free(key_other);
    EVP_PKEY_free(key_small);
    return tap_done();
}
