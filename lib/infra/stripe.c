#include "infra/stripe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "infra/http.h"
#include "core/json.h"
#include "core/log.h"

#define MAC_LEN 32 /* SHA-256 */

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* [*s, *end) without blanks on either side. */
static void trim(const char **s, const char **end)
{
    while (*s < *end && is_blank(**s))
        (*s)++;
    while (*end > *s && is_blank((*end)[-1]))
        (*end)--;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* 64 hex digits -> 32 bytes. 0, or -1 when it is not that. */
static int unhex_mac(const char *s, size_t n, unsigned char out[MAC_LEN])
{
    if (n != 2 * MAC_LEN)
        return -1;
    for (size_t i = 0; i < MAC_LEN; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

/* HMAC-SHA256(key, t "." body). 0, or -1 when OpenSSL fails. */
static int signed_payload_mac(const char *key, size_t keylen, const char *t, size_t tlen,
                              const char *body, size_t len, unsigned char out[MAC_LEN])
{
    char digest[] = "SHA256";
    OSSL_PARAM params[2];
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = NULL;
    size_t outlen = 0;
    int rc = -1;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (mac == NULL || (ctx = EVP_MAC_CTX_new(mac)) == NULL)
        goto out;
    if (EVP_MAC_init(ctx, (const unsigned char *)key, keylen, params) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)t, tlen) != 1 ||
        EVP_MAC_update(ctx, (const unsigned char *)".", 1) != 1 ||
        (len > 0 && EVP_MAC_update(ctx, (const unsigned char *)body, len) != 1) ||
        EVP_MAC_final(ctx, out, &outlen, MAC_LEN) != 1 || outlen != MAC_LEN)
        goto out;
    rc = 0;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

/* The parsed header: t as sent (canonical digits) and the v1 MACs. */
struct sig_header {
    const char *t;
    size_t tlen;
    long long tval;
    unsigned char v1[STRIPE_SIGNATURES_MAX][MAC_LEN];
    int nv1;       /* well-formed v1 entries kept */
    int nv1_total; /* v1 entries seen, well-formed or not */
};

static int parse_header(const char *header, struct sig_header *h, struct err *e)
{
    size_t hlen = strlen(header);
    const char *p = header, *end = header + hlen;

    memset(h, 0, sizeof(*h));
    if (hlen > STRIPE_SIGNATURE_HEADER_MAX)
        return err_set(e, 400, "signature_malformed", "Stripe-Signature header too long");
    while (p <= end) {
        const char *item = p, *item_end = memchr(p, ',', (size_t)(end - p)), *eq;
        if (item_end == NULL)
            item_end = end;
        p = item_end + 1;
        trim(&item, &item_end);
        eq = memchr(item, '=', (size_t)(item_end - item));
        if (eq == NULL || eq == item)
            return err_set(e, 400, "signature_malformed",
                           "Stripe-Signature entries must be scheme=value");
        if (eq - item == 1 && item[0] == 't') {
            const char *v = eq + 1;
            size_t n = (size_t)(item_end - v);
            /* Canonical decimal (what Stripe sends, and what its libraries
             * re-format before signing): no sign, no leading zero. */
            if (h->t != NULL || n == 0 || n > 15 || strspn(v, "0123456789") < n ||
                (v[0] == '0' && n > 1))
                return err_set(e, 400, "signature_malformed",
                               "Stripe-Signature needs exactly one t=<unix seconds>");
            h->t = v;
            h->tlen = n;
            h->tval = 0;
            for (size_t i = 0; i < n; i++)
                h->tval = h->tval * 10 + (v[i] - '0');
        } else if (eq - item == 2 && item[0] == 'v' && item[1] == '1') {
            h->nv1_total++;
            /* A v1 that is not 64 hex digits can match nothing: skip it
             * (as Stripe's libraries do) rather than fail the others. */
            if (h->nv1 < STRIPE_SIGNATURES_MAX &&
                unhex_mac(eq + 1, (size_t)(item_end - eq - 1), h->v1[h->nv1]) == 0)
                h->nv1++;
        }
        /* v0 and any other scheme: ignored. */
    }
    if (h->t == NULL)
        return err_set(e, 400, "signature_malformed", "Stripe-Signature has no t=<unix seconds>");
    if (h->nv1_total == 0)
        return err_set(e, 400, "signature_no_v1", "Stripe-Signature has no v1 signature");
    return 0;
}

int stripe_verify_signature(const char *header, const char *body, size_t len, const char *secrets,
                            long long now, long long tolerance_s, struct err *e)
{
    struct sig_header h;
    const char *p, *end;
    int nsecrets = 0, matched = 0;

    if (header == NULL || header[0] == '\0')
        return err_set(e, 400, "signature_missing", "Stripe-Signature header missing");
    if (parse_header(header, &h, e) < 0)
        return -1;
    if (body == NULL)
        body = "";
    p = secrets != NULL ? secrets : "";
    end = p + strlen(p);
    while (p <= end) {
        const char *s = p, *s_end = memchr(p, ',', (size_t)(end - p));
        unsigned char mac[MAC_LEN];
        if (s_end == NULL)
            s_end = end;
        p = s_end + 1;
        trim(&s, &s_end);
        if (s == s_end)
            continue;
        nsecrets++;
        if (signed_payload_mac(s, (size_t)(s_end - s), h.t, h.tlen, body, len, mac) < 0) {
            OPENSSL_cleanse(mac, sizeof(mac));
            return err_set(e, 500, "signature_internal", "signature check failed");
        }
        /* Every pair is compared, match or not: the time taken does not
         * depend on which one matched. */
        for (int i = 0; i < h.nv1; i++)
            matched |= CRYPTO_memcmp(mac, h.v1[i], MAC_LEN) == 0;
        OPENSSL_cleanse(mac, sizeof(mac));
    }
    if (nsecrets == 0)
        return err_set(e, 500, "signature_no_secret", "no webhook secret configured");
    if (!matched)
        return err_set(e, 400, "signature_mismatch",
                       "no v1 signature matches this body with any webhook secret");
    if (now - h.tval > tolerance_s)
        return err_set(e, 400, "signature_expired", "signature timestamp is more than %lld s old",
                       tolerance_s);
    if (h.tval - now > tolerance_s)
        return err_set(e, 400, "signature_not_yet_valid",
                       "signature timestamp is more than %lld s in the future", tolerance_s);
    return 0;
}

int stripe_secrets_check(const char *list, char *why, size_t whylen)
{
    const char *p = list != NULL ? list : "", *end = p + strlen(p);
    int n = 0;

    while (p <= end) {
        const char *s = p, *s_end = memchr(p, ',', (size_t)(end - p));
        if (s_end == NULL)
            s_end = end;
        p = s_end + 1;
        trim(&s, &s_end);
        n++;
        if (s == s_end) {
            snprintf(why, whylen, "entry %d is empty", n);
            return -1;
        }
        if ((size_t)(s_end - s) <= 6 || strncmp(s, "whsec_", 6) != 0) {
            snprintf(why, whylen,
                     "entry %d does not start with whsec_ (the endpoint's signing "
                     "secret, not an API key)",
                     n);
            return -1;
        }
        if ((size_t)(s_end - s) > STRIPE_SECRET_MAX) {
            snprintf(why, whylen, "entry %d is longer than %d bytes", n, STRIPE_SECRET_MAX);
            return -1;
        }
        for (const char *c = s; c < s_end; c++) {
            if ((unsigned char)*c <= ' ' || *c == 0x7f) {
                snprintf(why, whylen, "entry %d holds a blank or control character", n);
                return -1;
            }
        }
    }
    if (n > STRIPE_SECRETS_MAX) {
        snprintf(why, whylen, "at most %d secrets (got %d)", STRIPE_SECRETS_MAX, n);
        return -1;
    }
    return 0;
}

static void form_encode(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            buf_putc(b, (char)c);
        } else {
            buf_putc(b, '%');
            buf_putc(b, hex[c >> 4]);
            buf_putc(b, hex[c & 15]);
        }
    }
}

void stripe_form_add(struct buf *b, const char *key, const char *value)
{
    if (b->len > 0)
        buf_putc(b, '&');
    form_encode(b, key);
    buf_putc(b, '=');
    form_encode(b, value != NULL ? value : "");
}

/* A string member of obj, or NULL. */
static const char *member_string(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* s when it is an identifier Stripe uses ([a-z0-9_], [] and . for
 * nested params), else NULL: what is logged is never free text. */
static const char *identifier(const char *s)
{
    if (s == NULL || *s == '\0' || strlen(s) > 100 ||
        strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_[].") != strlen(s))
        return NULL;
    return s;
}

int stripe_error_map(long status, const char *body, size_t len, struct err *e)
{
    cJSON *root = body != NULL ? json_parse(body, len, NULL) : NULL;
    const cJSON *error = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *type = NULL, *code = NULL, *param = NULL, *message = NULL, *log_url = NULL, *ours;
    char st[16], shown[64], mlen[24];

    if (cJSON_IsObject(error)) {
        type = member_string(error, "type");
        code = member_string(error, "code");
        param = member_string(error, "param");
        message = member_string(error, "message");
        log_url = member_string(error, "request_log_url");
    }
    if (!cJSON_IsObject(error))
        ours = "stripe_bad_response";
    else if (status == 401 || status == 403)
        ours = "stripe_unauthorized";
    else if (status == 429)
        ours = "stripe_rate_limited";
    else if (type != NULL && strcmp(type, "idempotency_error") == 0)
        ours = "stripe_idempotency_conflict";
    else if (status >= 500 || (type != NULL && strcmp(type, "api_error") == 0))
        ours = "stripe_unavailable";
    else
        ours = "stripe_invalid_request";
    snprintf(st, sizeof(st), "%ld", status);
    /* Type, code and param are Stripe's enums and field names; the message
     * is prose that can quote what we sent (a customer_email): only its
     * length is logged, the request log URL leads to the whole of it. */
    snprintf(mlen, sizeof(mlen), "%zu", message != NULL ? strlen(message) : (size_t)0);
    log_warn("stripe api error", "status", st, "error", ours, "stripe_type", identifier(type),
             "stripe_code", identifier(code), "stripe_param", identifier(param),
             "stripe_message_chars", mlen, "request_log_url", log_url, NULL);
    /* Stripe's code is an enum (resource_missing, ...): safe and useful to
     * show; its message may quote our parameters: log only. */
    snprintf(shown, sizeof(shown), "%s", code != NULL ? code : "");
    if (strspn(shown, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(shown))
        shown[0] = '\0';
    cJSON_Delete(root);
    if (shown[0] != '\0')
        return err_set(e, 502, ours, "the payment provider refused the request (%s)", shown);
    return err_set(e, 502, ours, "the payment provider refused the request");
}

/* One API call: POST `form` (method NULL) or DELETE (method "DELETE", no
 * body). Returns 0 with *out on a 2xx, 1 on a 404 when `gone_ok`, else -1. */
static int api_call(const struct stripe_api *api, const char *method, const char *path,
                    const char *form, size_t len, const char *idempotency_key, int gone_ok,
                    cJSON **out, struct err *e)
{
    char url[1024], auth[STRIPE_SECRET_MAX + 32], idem[320], st[16];
    const char *headers[5];
    struct http_request req = {0};
    struct http_response resp = {0};
    size_t baselen;
    int n, rc = -1;

    *out = NULL;
    if (api->http == NULL || api->key == NULL || api->base == NULL)
        return err_set(e, 503, "billing_unconfigured", "billing is not configured");
    baselen = strlen(api->base);
    while (baselen > 0 && api->base[baselen - 1] == '/')
        baselen--;
    n = snprintf(url, sizeof(url), "%.*s%s", (int)baselen, api->base, path);
    if (n < 0 || (size_t)n >= sizeof(url))
        return err_set(e, 500, "stripe_bad_request", "Stripe URL too long");
    n = snprintf(auth, sizeof(auth), "Authorization: Bearer %s", api->key);
    if (n < 0 || (size_t)n >= sizeof(auth)) {
        OPENSSL_cleanse(auth, sizeof(auth));
        return err_set(e, 500, "stripe_bad_request", "Stripe key too long");
    }
    /* A POST may be retried, so it needs a key; Stripe wants none on a
     * DELETE (idempotent by definition). */
    n = snprintf(idem, sizeof(idem), "Idempotency-Key: %s",
                 idempotency_key != NULL ? idempotency_key : "");
    if (method == NULL && (idempotency_key == NULL || idempotency_key[0] == '\0' || n < 0 ||
                           (size_t)n >= sizeof(idem))) {
        OPENSSL_cleanse(auth, sizeof(auth));
        return err_set(e, 500, "stripe_bad_request", "Idempotency-Key missing or too long");
    }
    headers[0] = auth;
    headers[1] = "Stripe-Version: " STRIPE_API_VERSION;
    headers[2] = "Accept: application/json";
    headers[3] = method == NULL ? idem : NULL;
    headers[4] = NULL;
    req.url = url;
    req.headers = headers;
    req.timeout_ms = api->timeout_ms;
    req.connect_timeout_ms = api->timeout_ms < 3000 ? api->timeout_ms : 3000;
    req.max_response = STRIPE_RESPONSE_MAX;
    req.allow_http = api->allow_http;
    req.method = method;

    if ((method == NULL ? http_client_post(api->http, &req, "application/x-www-form-urlencoded",
                                           form, len, &resp, e)
                        : http_client_get(api->http, &req, &resp, e)) < 0) {
        /* lib/infra/http logged the cause (URL only, never headers). */
        if (e != NULL && e->code != NULL && strcmp(e->code, "upstream_timeout") == 0)
            err_set(e, 504, "stripe_timeout", "the payment provider did not answer in time");
        else if (e != NULL && e->code != NULL && strcmp(e->code, "upstream_too_large") == 0)
            err_set(e, 502, "stripe_bad_response", "the payment provider's answer was too large");
        else if (e == NULL || e->code == NULL || strcmp(e->code, "http_protocol_refused") != 0)
            err_set(e, 502, "stripe_unreachable", "the payment provider is unreachable");
        goto out;
    }
    if (gone_ok && resp.status == 404) {
        rc = 1;
        goto out;
    }
    if (resp.status < 200 || resp.status > 299) {
        stripe_error_map(resp.status, resp.body, resp.len, e);
        goto out;
    }
    if ((*out = json_parse(resp.body, resp.len, NULL)) == NULL || !cJSON_IsObject(*out)) {
        cJSON_Delete(*out);
        *out = NULL;
        snprintf(st, sizeof(st), "%ld", resp.status);
        log_warn("stripe api answered 2xx without a JSON object", "status", st, "path", path, NULL);
        err_set(e, 502, "stripe_bad_response", "the payment provider's answer was not understood");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(auth, sizeof(auth));
    http_response_cleanup(&resp);
    return rc;
}

int stripe_api_post(const struct stripe_api *api, const char *path, const char *form, size_t len,
                    const char *idempotency_key, cJSON **out, struct err *e)
{
    return api_call(api, NULL, path, form, len, idempotency_key, 0, out, e);
}

int stripe_api_delete(const struct stripe_api *api, const char *path, cJSON **out, struct err *e)
{
    return api_call(api, "DELETE", path, NULL, 0, NULL, 1, out, e);
}
