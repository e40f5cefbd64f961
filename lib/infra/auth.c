#include "infra/auth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "core/b64.h"
#include "infra/http.h"
#include "infra/jwks.h"
#include "core/log.h"

#define CACHE_WAYS 4
#define CACHE_SETS (AUTH_TOKEN_CACHE_SIZE / CACHE_WAYS)
#define CACHE_KID_MAX 128
#define MAX_CLIENT_IDS 16
#define MAX_SIG_BYTES (JWKS_MAX_RSA_BITS / 8)
#define MAX_JSON_BYTES B64_DECODED_MAX(AUTH_MAX_TOKEN_BYTES)

struct cache_entry {
    unsigned char hash[32];
    int used;
    unsigned long long last_use; /* LRU tick */
    char kid[CACHE_KID_MAX];
    struct auth_identity id;
};

struct auth_verifier {
    char *issuer;
    char *jwks_url;
    char *client_ids[MAX_CLIENT_IDS];
    size_t n_client_ids;
    char token_use[8];
    int leeway;
    int allow_http;

    struct jwks *keys;
    char *doc; /* the last fetched document, doc_len bytes */
    size_t doc_len;
    int fetch_attempted;
    long long last_fetch; /* rate-limit clock, seconds */

    auth_clock_fn clock;
    void *clock_ctx;

    struct auth_stats stats;
    unsigned long long tick;
    struct cache_entry cache[CACHE_SETS][CACHE_WAYS];
};

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (p == NULL)
        abort();
    return p;
}

static long long now_wall(const struct auth_verifier *v)
{
    if (v->clock != NULL)
        return v->clock(v->clock_ctx);
    return (long long)time(NULL);
}

static long long now_mono(const struct auth_verifier *v)
{
    struct timespec ts;

    if (v->clock != NULL)
        return v->clock(v->clock_ctx);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

/* Fill e with a 401 and log why; the token itself is never logged. */
static int reject(struct err *e, const char *code, const char *client_msg, const char *reason)
{
    log_warn("auth: token rejected", "code", code, "reason", reason, NULL);
    return err_set(e, 401, code, "%s", client_msg);
}

/* ---- configuration ---------------------------------------------------- */

static int parse_client_ids(struct auth_verifier *v, const char *list)
{
    const char *p = list;

    while (*p != '\0') {
        const char *start, *end;
        size_t n;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        start = p;
        while (*p != '\0' && *p != ',')
            p++;
        end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        n = (size_t)(end - start);
        if (n == 0)
            continue;
        if (v->n_client_ids == MAX_CLIENT_IDS)
            return -1;
        v->client_ids[v->n_client_ids] = strndup(start, n);
        if (v->client_ids[v->n_client_ids] == NULL)
            abort();
        v->n_client_ids++;
    }
    return v->n_client_ids > 0 ? 0 : -1;
}

struct auth_verifier *auth_verifier_new(const struct auth_config *cfg, struct err *e)
{
    struct auth_verifier *v = NULL;

    if (cfg == NULL || cfg->issuer == NULL || cfg->issuer[0] == '\0') {
        err_set(e, 500, "auth_config_invalid", "auth issuer not configured");
        return NULL;
    }
    if (cfg->jwks_url == NULL || cfg->jwks_url[0] == '\0') {
        err_set(e, 500, "auth_config_invalid", "auth JWKS URL not configured");
        return NULL;
    }
    if (strncmp(cfg->jwks_url, "https://", 8) != 0 &&
        !(cfg->allow_http && strncmp(cfg->jwks_url, "http://", 7) == 0)) {
        err_set(e, 500, "auth_config_invalid", "auth JWKS URL must be https");
        return NULL;
    }
    if (cfg->token_use == NULL ||
        (strcmp(cfg->token_use, "access") != 0 && strcmp(cfg->token_use, "id") != 0)) {
        err_set(e, 500, "auth_config_invalid", "auth token_use must be access or id");
        return NULL;
    }
    if (cfg->leeway_seconds < 0 || cfg->leeway_seconds > 300) {
        err_set(e, 500, "auth_config_invalid", "auth leeway must be 0..300 seconds");
        return NULL;
    }

    v = calloc(1, sizeof(*v));
    if (v == NULL)
        abort();
    if (cfg->client_ids == NULL || parse_client_ids(v, cfg->client_ids) != 0) {
        err_set(e, 500, "auth_config_invalid", "auth client ids: 1..%d comma-separated ids",
                MAX_CLIENT_IDS);
        auth_verifier_free(v);
        return NULL;
    }
    v->issuer = xstrdup(cfg->issuer);
    v->jwks_url = xstrdup(cfg->jwks_url);
    snprintf(v->token_use, sizeof(v->token_use), "%s", cfg->token_use);
    v->leeway = cfg->leeway_seconds;
    v->allow_http = cfg->allow_http ? 1 : 0;
    return v;
}

void auth_verifier_free(struct auth_verifier *v)
{
    if (v == NULL)
        return;
    free(v->issuer);
    free(v->jwks_url);
    free(v->doc);
    for (size_t i = 0; i < v->n_client_ids; i++)
        free(v->client_ids[i]);
    jwks_free(v->keys);
    /* Identities are personal data: do not leave them in freed memory. */
    OPENSSL_cleanse(v->cache, sizeof(v->cache));
    free(v);
}

void auth_verifier_set_clock(struct auth_verifier *v, auth_clock_fn fn, void *ctx)
{
    v->clock = fn;
    v->clock_ctx = ctx;
}

void auth_verifier_stats(const struct auth_verifier *v, struct auth_stats *out)
{
    *out = v->stats;
}

/* ---- key set ------------------------------------------------------------ */

/* Install a new key set. Cached tokens stay valid only if their kid still
 * maps to the same key: removed or replaced keys stop being trusted now. */
static void install_keys(struct auth_verifier *v, struct jwks *fresh)
{
    for (size_t s = 0; s < CACHE_SETS; s++) {
        for (size_t w = 0; w < CACHE_WAYS; w++) {
            struct cache_entry *c = &v->cache[s][w];
            EVP_PKEY *old, *cur;
            if (!c->used)
                continue;
            old = jwks_find(v->keys, c->kid);
            cur = jwks_find(fresh, c->kid);
            if (old == NULL || cur == NULL || EVP_PKEY_eq(old, cur) != 1)
                memset(c, 0, sizeof(*c));
        }
    }
    jwks_free(v->keys);
    v->keys = fresh;
}

int auth_verifier_load_jwks(struct auth_verifier *v, const char *json, size_t len, struct err *e)
{
    struct jwks *fresh = NULL;

    if (jwks_parse(json, len, &fresh, e) != 0)
        return -1;
    install_keys(v, fresh);
    return 0;
}

static int fetch_jwks(struct auth_verifier *v, struct err *e)
{
    struct http_request req = {0};
    struct http_response resp = {0};
    struct jwks *fresh = NULL;
    char status[16], nkeys[16];
    int ret = -1;

    v->fetch_attempted = 1;
    v->last_fetch = now_mono(v);
    v->stats.jwks_fetches++;

    req.url = v->jwks_url;
    req.connect_timeout_ms = AUTH_JWKS_CONNECT_TIMEOUT_MS;
    req.timeout_ms = AUTH_JWKS_TIMEOUT_MS;
    req.max_response = AUTH_JWKS_MAX_BYTES;
    req.allow_http = v->allow_http;

    if (http_get(&req, &resp, e) != 0) {
        /* http_get set e (upstream_*) and logged the detail. */
        goto out;
    }
    if (resp.status != 200) {
        snprintf(status, sizeof(status), "%ld", resp.status);
        log_warn("auth: JWKS fetch failed", "http_status", status, NULL);
        err_set(e, 502, "jwks_unavailable", "key set unavailable");
        goto out;
    }
    if (jwks_parse(resp.body, resp.len, &fresh, e) != 0) {
        log_warn("auth: JWKS document rejected", "reason", e != NULL ? e->msg : "", NULL);
        goto out;
    }
    snprintf(nkeys, sizeof(nkeys), "%zu", jwks_count(fresh));
    log_info("auth: JWKS loaded", "keys", nkeys, NULL);
    install_keys(v, fresh);
    free(v->doc);
    if ((v->doc = malloc(resp.len > 0 ? resp.len : 1)) == NULL)
        abort();
    memcpy(v->doc, resp.body, resp.len);
    v->doc_len = resp.len;
    ret = 0;

out:
    if (ret != 0)
        v->stats.jwks_fetch_failures++;
    http_response_cleanup(&resp);
    return ret;
}

int auth_verifier_prefetch(struct auth_verifier *v, struct err *e)
{
    return fetch_jwks(v, e);
}

const char *auth_verifier_jwks_document(const struct auth_verifier *v, size_t *len)
{
    *len = v->doc_len;
    return v->doc;
}

/* Key for kid, refreshing the JWKS once if the penalty box allows it. */
static EVP_PKEY *find_key(struct auth_verifier *v, const char *kid)
{
    EVP_PKEY *key = jwks_find(v->keys, kid);
    struct err ignored;

    if (key != NULL)
        return key;
    if (v->fetch_attempted && now_mono(v) - v->last_fetch < AUTH_JWKS_REFRESH_INTERVAL)
        return NULL;
    if (fetch_jwks(v, &ignored) != 0)
        return NULL; /* logged; cached keys kept */
    return jwks_find(v->keys, kid);
}

/* ---- verified-token cache ----------------------------------------------- */

static struct cache_entry *cache_lookup(struct auth_verifier *v, const unsigned char hash[32])
{
    struct cache_entry *set = v->cache[hash[0] % CACHE_SETS];
    struct cache_entry *hit = NULL;

    /* Compare every way in constant time, whatever matches. */
    for (size_t w = 0; w < CACHE_WAYS; w++)
        if (set[w].used && CRYPTO_memcmp(set[w].hash, hash, 32) == 0)
            hit = &set[w];
    return hit;
}

static void cache_store(struct auth_verifier *v, const unsigned char hash[32], const char *kid,
                        const struct auth_identity *id, long long now)
{
    struct cache_entry *set = v->cache[hash[0] % CACHE_SETS];
    struct cache_entry *victim = &set[0];

    if (strlen(kid) >= CACHE_KID_MAX)
        return; /* not worth a bigger entry; such tokens are just re-verified */
    for (size_t w = 0; w < CACHE_WAYS; w++) {
        struct cache_entry *c = &set[w];
        /* Free or expired slots first, then the least recently used. */
        if (!c->used || c->id.exp + v->leeway <= now) {
            victim = c;
            break;
        }
        if (c->last_use < victim->last_use)
            victim = c;
    }
    memcpy(victim->hash, hash, 32);
    victim->used = 1;
    victim->last_use = ++v->tick;
    snprintf(victim->kid, sizeof(victim->kid), "%s", kid);
    victim->id = *id;
}

/* ---- token parsing -------------------------------------------------------- */

static int is_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

/* Decode one JWS segment and parse it as a JSON object. NULL on any failure. */
static cJSON *decode_json_segment(const char *seg, size_t len)
{
    unsigned char buf[MAX_JSON_BYTES + 1];
    size_t n;
    cJSON *obj;

    if (b64_url_decode(seg, len, 0, buf, sizeof(buf), &n) != 0)
        return NULL;
    obj = cJSON_ParseWithLength((const char *)buf, n);
    if (obj != NULL && !cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

static int verify_signature(EVP_PKEY *key, const char *input, size_t input_len,
                            const unsigned char *sig, size_t sig_len)
{
    EVP_MD_CTX *md = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    int ok = 0;

    /* RS256 signatures are exactly the modulus size. */
    if (EVP_PKEY_get_size(key) <= 0 || sig_len != (size_t)EVP_PKEY_get_size(key))
        return 0;
    md = EVP_MD_CTX_new();
    if (md == NULL)
        abort();
    if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) != 1)
        goto out;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1)
        goto out;
    ok = EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)input, input_len) == 1;

out:
    EVP_MD_CTX_free(md);
    return ok;
}

/* Numeric claim: 1 present and valid (*out set), 0 absent, -1 wrong type. */
static int get_time_claim(const cJSON *claims, const char *name, double *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(claims, name);

    if (item == NULL)
        return 0;
    if (!cJSON_IsNumber(item) || !isfinite(item->valuedouble) || item->valuedouble < 0 ||
        item->valuedouble > 1e15)
        return -1;
    *out = item->valuedouble;
    return 1;
}

static int client_allowed(const struct auth_verifier *v, const char *id)
{
    for (size_t i = 0; i < v->n_client_ids; i++)
        if (strcmp(v->client_ids[i], id) == 0)
            return 1;
    return 0;
}

/* Identity strings end up in response headers (X-User-Sub), log lines and
 * the database: no control characters (CR/LF would split a header). */
static int has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* Copy an optional string claim into dst; -1 if present but not a string,
 * too long (never truncate an identity) or holding a control character. */
static int copy_claim(const cJSON *claims, const char *name, char *dst, size_t cap)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(claims, name);

    dst[0] = '\0';
    if (item == NULL)
        return 0;
    if (!cJSON_IsString(item) || strlen(item->valuestring) >= cap || has_control(item->valuestring))
        return -1;
    memcpy(dst, item->valuestring, strlen(item->valuestring) + 1);
    return 0;
}

static int check_claims(struct auth_verifier *v, const cJSON *claims, long long now,
                        struct auth_identity *out, struct err *e)
{
    const cJSON *item;
    double exp, t;
    int r;

    r = get_time_claim(claims, "exp", &exp);
    if (r != 1)
        return reject(e, "token_invalid", "invalid token", "exp missing or not a number");
    if (exp <= (double)(now - v->leeway))
        return reject(e, "token_expired", "token expired", "exp in the past");

    r = get_time_claim(claims, "nbf", &t);
    if (r < 0)
        return reject(e, "token_invalid", "invalid token", "nbf not a number");
    if (r == 1 && t > (double)(now + v->leeway))
        return reject(e, "token_not_yet_valid", "token not yet valid", "nbf in the future");

    r = get_time_claim(claims, "iat", &t);
    if (r < 0)
        return reject(e, "token_invalid", "invalid token", "iat not a number");
    if (r == 1 && t > (double)(now + v->leeway))
        return reject(e, "token_not_yet_valid", "token not yet valid", "iat in the future");

    item = cJSON_GetObjectItemCaseSensitive(claims, "iss");
    if (!cJSON_IsString(item) || strcmp(item->valuestring, v->issuer) != 0)
        return reject(e, "issuer_mismatch", "token issuer not accepted", "iss does not match");

    item = cJSON_GetObjectItemCaseSensitive(claims, "token_use");
    if (!cJSON_IsString(item) || strcmp(item->valuestring, v->token_use) != 0)
        return reject(e, "token_use_mismatch", "wrong token type", "token_use does not match");

    if (strcmp(v->token_use, "access") == 0) {
        item = cJSON_GetObjectItemCaseSensitive(claims, "client_id");
        if (!cJSON_IsString(item) || !client_allowed(v, item->valuestring))
            return reject(e, "client_mismatch", "token client not accepted",
                          "client_id not in AUTH_CLIENT_IDS");
    } else {
        /* aud may be a string or an array; one allowed entry suffices. */
        const cJSON *a;
        int found = 0;
        item = cJSON_GetObjectItemCaseSensitive(claims, "aud");
        if (cJSON_IsString(item)) {
            found = client_allowed(v, item->valuestring);
        } else if (cJSON_IsArray(item)) {
            cJSON_ArrayForEach(a, item)
            {
                if (cJSON_IsString(a) && client_allowed(v, a->valuestring))
                    found = 1;
            }
        }
        if (!found)
            return reject(e, "client_mismatch", "token client not accepted",
                          "aud not in AUTH_CLIENT_IDS");
    }

    memset(out, 0, sizeof(*out));
    item = cJSON_GetObjectItemCaseSensitive(claims, "sub");
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0' ||
        strlen(item->valuestring) >= sizeof(out->sub) || has_control(item->valuestring))
        return reject(e, "token_invalid", "invalid token", "sub missing or malformed");
    memcpy(out->sub, item->valuestring, strlen(item->valuestring) + 1);
    if (copy_claim(claims, strcmp(v->token_use, "access") == 0 ? "username" : "cognito:username",
                   out->username, sizeof(out->username)) != 0 ||
        copy_claim(claims, "email", out->email, sizeof(out->email)) != 0)
        return reject(e, "token_invalid", "invalid token", "username/email malformed");
    snprintf(out->token_use, sizeof(out->token_use), "%s", v->token_use);
    out->exp = (long long)exp; /* exp >= 0: truncation is floor */
    return 0;
}

/* ---- entry point ----------------------------------------------------------- */

int auth_verify_bearer(struct auth_verifier *v, const char *authorization_header,
                       struct auth_identity *out, struct err *e)
{
    unsigned char sig[MAX_SIG_BYTES + 1];
    const char *p, *tok, *dot1 = NULL, *dot2 = NULL;
    size_t tok_len, sig_len;
    int ndots = 0;
    unsigned char hash[32];
    cJSON *header = NULL, *claims = NULL;
    const cJSON *item;
    struct cache_entry *hit;
    EVP_PKEY *key;
    const char *kid;
    long long now;
    int ret = -1;

    p = authorization_header;
    if (p == NULL)
        return reject(e, "token_missing", "authentication required", "no Authorization header");
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return reject(e, "token_missing", "authentication required", "empty Authorization");
    /* The auth-scheme is case-insensitive (RFC 9110 section 11.1). */
    if (strncasecmp(p, "Bearer", 6) != 0 || (p[6] != ' ' && p[6] != '\t' && p[6] != '\0'))
        return reject(e, "token_invalid", "invalid token", "scheme is not Bearer");
    p += 6;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return reject(e, "token_missing", "authentication required", "empty bearer token");

    /* Bound the scan before anything else touches the token. */
    tok = p;
    for (tok_len = 0; tok_len <= AUTH_MAX_TOKEN_BYTES; tok_len++) {
        unsigned char c = (unsigned char)tok[tok_len];
        if (c == '\0' || c == ' ' || c == '\t')
            break;
        if (c == '.') {
            if (++ndots == 1)
                dot1 = tok + tok_len;
            else if (ndots == 2)
                dot2 = tok + tok_len;
        } else if (!is_b64url_char(c)) {
            return reject(e, "token_invalid", "invalid token", "character outside base64url");
        }
    }
    if (tok_len > AUTH_MAX_TOKEN_BYTES)
        return reject(e, "token_too_large", "token too large", "token longer than 8 KiB");
    for (p = tok + tok_len; *p == ' ' || *p == '\t'; p++)
        ;
    if (*p != '\0')
        return reject(e, "token_invalid", "invalid token", "trailing data after token");
    if (ndots != 2 || dot1 == tok || dot2 == dot1 + 1 || dot2 == tok + tok_len - 1)
        return reject(e, "token_invalid", "invalid token", "not three non-empty parts");

    now = now_wall(v);
    if (EVP_Digest(tok, tok_len, hash, NULL, EVP_sha256(), NULL) != 1)
        abort();
    hit = cache_lookup(v, hash);
    if (hit != NULL) {
        if (hit->id.exp + v->leeway <= now) {
            memset(hit, 0, sizeof(*hit));
            return reject(e, "token_expired", "token expired", "exp in the past (cached)");
        }
        v->stats.cache_hits++;
        hit->last_use = ++v->tick;
        *out = hit->id;
        return 0;
    }
    v->stats.cache_misses++;

    /* Header: the algorithm is pinned before any key is looked at. */
    header = decode_json_segment(tok, (size_t)(dot1 - tok));
    if (header == NULL) {
        reject(e, "token_invalid", "invalid token", "header is not base64url JSON object");
        goto out;
    }
    item = cJSON_GetObjectItemCaseSensitive(header, "alg");
    if (!cJSON_IsString(item) || strcmp(item->valuestring, "RS256") != 0) {
        reject(e, "token_invalid", "invalid token", "alg is not RS256");
        goto out;
    }
    if (cJSON_GetObjectItemCaseSensitive(header, "crit") != NULL) {
        reject(e, "token_invalid", "invalid token", "crit header not supported");
        goto out;
    }
    item = cJSON_GetObjectItemCaseSensitive(header, "kid");
    if (!cJSON_IsString(item) || item->valuestring[0] == '\0') {
        reject(e, "token_invalid", "invalid token", "kid missing");
        goto out;
    }
    kid = item->valuestring;

    key = find_key(v, kid);
    if (key == NULL) {
        reject(e, "unknown_key", "token signed by an unknown key",
               jwks_count(v->keys) == 0 ? "no JWKS loaded (endpoint unavailable?)"
                                        : "kid not in JWKS");
        goto out;
    }

    /* alg was pinned above and EVP_DigestVerify below only does RSA PKCS#1
     * v1.5 with SHA-256, so nothing the token says can change the algorithm. */
    if (b64_url_decode(dot2 + 1, (size_t)(tok + tok_len - dot2 - 1), 0, sig, sizeof(sig),
                       &sig_len) != 0 ||
        !verify_signature(key, tok, (size_t)(dot2 - tok), sig, sig_len)) {
        reject(e, "token_invalid", "invalid token", "bad signature");
        goto out;
    }

    claims = decode_json_segment(dot1 + 1, (size_t)(dot2 - dot1 - 1));
    if (claims == NULL) {
        reject(e, "token_invalid", "invalid token", "payload is not base64url JSON object");
        goto out;
    }
    if (check_claims(v, claims, now, out, e) != 0)
        goto out;

    cache_store(v, hash, kid, out, now);
    ret = 0;

out:
    cJSON_Delete(claims);
    cJSON_Delete(header);
    return ret;
}
