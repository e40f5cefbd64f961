/*
 * test_stripe.c - lib/infra/stripe: webhook signatures against vectors computed
 * outside this code (openssl dgst -sha256 -hmac, node:crypto and the
 * stripe npm package's generateTestHeaderString agree on each), the
 * tolerance in both directions, rotation (several secrets, several v1),
 * v0 only, missing and malformed headers, a tampered body; the secrets
 * list check; form encoding; Stripe's error JSON mapped to 502 codes; and
 * API calls against a loopback stub: what arrives (path, headers, the exact
 * form), what comes back, and that the key never reaches the log.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "infra/http.h"
#include "core/log.h"
#include "infra/stripe.h"
#include "tap.h"
#include "httpd_stub.h"

#define T0 1700000000LL
#define BODY "{\"id\":\"evt_1\",\"object\":\"event\"}"
/* HMAC-SHA256 over "1700000000." BODY:
 *   printf '1700000000.%s' "$BODY" | openssl dgst -sha256 -hmac whsec_test_secret_1 */
#define SIG1 "504274bf60b8afd92f43b5956c7ac5dc4c3160940488dc5836fcb1c4df4c4a05"
/* ... with whsec_rotated_2 */
#define SIG2 "7a43567f298e539cb61aeddf1ff2b2c030d9a0486a1f0d57058c1d7046a01519"
/* "1700000000.a\0b\n\xc3\xa4" with whsec_test_secret_1 (NUL, newline, UTF-8) */
#define SIG_BYTES "451c7cb405f3e9ce01e65ce810c38b56b4e1ab2dd9f1fa6337fb35d1adb719a0"
/* "1700000000." (empty body) with whsec_test_secret_1 */
#define SIG_EMPTY "1255ce5be0b18d90cb33658a5bd4895f474de17cd78fe3fd952061be13ae7830"
/* stripe.webhooks.generateTestHeaderString({payload: "{}", secret: "whsec_a",
 * timestamp: 1700000000}) */
#define NPM_HEADER                                                                                 \
    "t=1700000000,v1=04339dc4f01d6541e8d3b7e4bd93cd2d4f680ccb28592270900b08e49cc09e57"

static const char *code_of(int rc, const struct err *e)
{
    return rc == 0 ? "ok" : (e->code != NULL ? e->code : "(none)");
}

/* Verify BODY with `header` and `secrets` at time `now`: "ok" or the code. */
static const char *verify(const char *header, const char *secrets, long long now)
{
    static struct err e;
    int rc;
    err_clear(&e);
    rc = stripe_verify_signature(header, BODY, strlen(BODY), secrets, now, 300, &e);
    return code_of(rc, &e);
}

__attribute__((format(printf, 3, 4))) static void expect(const char *got, const char *want,
                                                         const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    ok(strcmp(got, want) == 0, "%s: %s (got %s)", what, want, got);
}

static void signatures(void)
{
    struct err e;
    const char *s1 = "whsec_test_secret_1", *both = "whsec_test_secret_1,whsec_rotated_2";

    expect(verify("t=1700000000,v1=" SIG1, s1, T0), "ok", "valid signature");
    expect(verify("t=1700000000,v1=" SIG1, "whsec_other", T0), "signature_mismatch",
           "wrong secret");
    expect(verify("t=1700000000,v1=" SIG2, s1, T0), "signature_mismatch",
           "signed with a secret we do not have");
    /* Rotation: Stripe signs with both secrets; we may hold either or both. */
    expect(verify("t=1700000000,v1=" SIG2, both, T0), "ok", "second secret of the list matches");
    expect(verify("t=1700000000,v1=" SIG1 ",v1=" SIG2, "whsec_rotated_2", T0), "ok",
           "second of two v1 matches");
    expect(verify("t=1700000000,v1=" SIG2 ",v1=" SIG1, s1, T0), "ok",
           "first v1 wrong, second right");
    expect(verify("t=1700000000,v1=" SIG1, " whsec_nope , whsec_test_secret_1 ,", T0), "ok",
           "blanks and an empty entry in the secrets list are ignored");
    expect(verify("t=1700000000,v1=" SIG1, " , ", T0), "signature_no_secret",
           "a list of nothing is no secret");
    expect(verify("t=1700000000,v1=" SIG1, NULL, T0), "signature_no_secret", "NULL secrets");
    /* Uppercase hex is the same signature. */
    {
        char up[200];
        snprintf(up, sizeof(up), "t=1700000000,v1=%s", SIG1);
        for (char *p = up + 16; *p != '\0'; p++)
            if (*p >= 'a' && *p <= 'f')
                *p = (char)(*p - 'a' + 'A');
        expect(verify(up, s1, T0), "ok", "uppercase hex");
    }

    /* Tolerance: 300 s both ways, inclusive. */
    expect(verify("t=1700000000,v1=" SIG1, s1, T0 + 300), "ok", "300 s old");
    expect(verify("t=1700000000,v1=" SIG1, s1, T0 + 301), "signature_expired", "301 s old");
    expect(verify("t=1700000000,v1=" SIG1, s1, T0 + 86400), "signature_expired", "a day old");
    expect(verify("t=1700000000,v1=" SIG1, s1, T0 - 300), "ok", "300 s ahead");
    expect(verify("t=1700000000,v1=" SIG1, s1, T0 - 301), "signature_not_yet_valid", "301 s ahead");
    /* A forged timestamp breaks the signature before the clock is read. */
    expect(verify("t=1700000100,v1=" SIG1, s1, T0 + 100), "signature_mismatch",
           "t changed: the signature no longer matches");
    expect(verify("t=1700000000,v1=" SIG2, s1, T0 + 9999), "signature_mismatch",
           "a wrong signature with an old t is a mismatch, not expired");

    /* Schemes. */
    expect(verify("t=1700000000,v0=" SIG1, s1, T0), "signature_no_v1",
           "v0 only, even carrying the right MAC");
    expect(verify("t=1700000000,v0=" SIG1 ",v1=" SIG1, s1, T0), "ok", "v0 next to v1 ignored");
    expect(verify("t=1700000000,v2=" SIG1, s1, T0), "signature_no_v1", "unknown scheme only");
    expect(verify("t=1700000000,v1=xyz,v1=" SIG1, s1, T0), "ok",
           "a malformed v1 is skipped, the next one counts");
    expect(verify("t=1700000000,v1=" SIG1 "00", s1, T0), "signature_mismatch",
           "a v1 two digits too long matches nothing");
    expect(verify("t=1700000000,v1=", s1, T0), "signature_mismatch", "an empty v1");

    /* Missing and malformed headers. */
    expect(verify(NULL, s1, T0), "signature_missing", "no header");
    expect(verify("", s1, T0), "signature_missing", "empty header");
    expect(verify("v1=" SIG1, s1, T0), "signature_malformed", "no t");
    expect(verify("t=1700000000", s1, T0), "signature_no_v1", "t only");
    expect(verify("t=1700000000,t=1700000000,v1=" SIG1, s1, T0), "signature_malformed", "t twice");
    expect(verify("t=01700000000,v1=" SIG1, s1, T0), "signature_malformed", "t with a leading 0");
    expect(verify("t=-1,v1=" SIG1, s1, T0), "signature_malformed", "negative t");
    expect(verify("t=17e8,v1=" SIG1, s1, T0), "signature_malformed", "t not digits");
    expect(verify("t=,v1=" SIG1, s1, T0), "signature_malformed", "empty t");
    expect(verify("t=99999999999999999999,v1=" SIG1, s1, T0), "signature_malformed",
           "t too large for the clock");
    expect(verify("t=1700000000,v1" SIG1, s1, T0), "signature_malformed", "entry without =");
    expect(verify("t=1700000000,,v1=" SIG1, s1, T0), "signature_malformed", "empty entry");
    expect(verify("t=1700000000,=x,v1=" SIG1, s1, T0), "signature_malformed", "empty scheme");
    expect(verify("t=1700000000, v1=" SIG1, s1, T0), "ok", "a blank after a comma is tolerated");
    {
        char *big = malloc(STRIPE_SIGNATURE_HEADER_MAX + 100);
        snprintf(big, STRIPE_SIGNATURE_HEADER_MAX + 100, "t=1700000000,v1=%s", SIG1);
        while (strlen(big) <= STRIPE_SIGNATURE_HEADER_MAX - 5)
            strcat(big, ",v0=0");
        expect(verify(big, s1, T0), "ok", "a long header within the cap (%zu bytes)", strlen(big));
        strcat(big, ",v0=0");
        expect(verify(big, s1, T0), "signature_malformed", "header over the length cap");
        free(big);
    }

    /* The body, byte for byte. */
    {
        static const char bytes[] = "a\0b\n\xc3\xa4";
        int rc;
        err_clear(&e);
        rc = stripe_verify_signature("t=1700000000,v1=" SIG_BYTES, bytes, sizeof(bytes) - 1, s1, T0,
                                     300, &e);
        expect(code_of(rc, &e), "ok", "a body with NUL, newline and UTF-8 is signed as bytes");
        err_clear(&e);
        rc = stripe_verify_signature("t=1700000000,v1=" SIG_BYTES, bytes, 1, s1, T0, 300, &e);
        expect(code_of(rc, &e), "signature_mismatch", "only len bytes count (stops at the NUL)");
        err_clear(&e);
        rc = stripe_verify_signature("t=1700000000,v1=" SIG_EMPTY, NULL, 0, s1, T0, 300, &e);
        expect(code_of(rc, &e), "ok", "an empty body");
    }
    expect(verify("t=1700000000,v1=" SIG1, s1, T0), "ok", "control: untampered");
    {
        char tampered[] = BODY;
        int rc;
        tampered[10] = 'X';
        err_clear(&e);
        rc = stripe_verify_signature("t=1700000000,v1=" SIG1, tampered, strlen(tampered), s1, T0,
                                     300, &e);
        expect(code_of(rc, &e), "signature_mismatch", "one byte of the body changed");
        err_clear(&e);
        rc = stripe_verify_signature("t=1700000000,v1=" SIG1, BODY "\n", strlen(BODY) + 1, s1, T0,
                                     300, &e);
        expect(code_of(rc, &e), "signature_mismatch", "a newline appended");
        ok(e.status == 400, "signature failures are 400 (%d)", e.status);
    }
    {
        int rc;
        err_clear(&e);
        rc = stripe_verify_signature(NPM_HEADER, "{}", 2, "whsec_a", T0, 300, &e);
        expect(code_of(rc, &e), "ok", "a header from the stripe npm package's test helper");
    }
}

static void secrets_list(void)
{
    char why[160];
    ok(stripe_secrets_check("whsec_a", why, sizeof(why)) == 0, "one secret");
    ok(stripe_secrets_check("whsec_a, whsec_b", why, sizeof(why)) == 0, "two, blank after comma");
    ok(stripe_secrets_check("", why, sizeof(why)) < 0, "empty: %s", why);
    ok(stripe_secrets_check("whsec_a,", why, sizeof(why)) < 0, "trailing comma: %s", why);
    ok(stripe_secrets_check("sk_test_abc", why, sizeof(why)) < 0 && strstr(why, "sk_") == NULL,
       "an API key is refused without being repeated: %s", why);
    ok(stripe_secrets_check("whsec_", why, sizeof(why)) < 0, "prefix only: %s", why);
    ok(stripe_secrets_check("whsec_a b", why, sizeof(why)) < 0, "inner blank: %s", why);
    ok(stripe_secrets_check("whsec_a\n", why, sizeof(why)) < 0, "newline: %s", why);
    ok(stripe_secrets_check("whsec_1,whsec_2,whsec_3,whsec_4,whsec_5,whsec_6,whsec_7,whsec_8", why,
                            sizeof(why)) == 0,
       "eight secrets");
    ok(stripe_secrets_check(
           "whsec_1,whsec_2,whsec_3,whsec_4,whsec_5,whsec_6,whsec_7,whsec_8,whsec_9", why,
           sizeof(why)) < 0,
       "nine: %s", why);
}

static void form(void)
{
    struct buf b = {0};
    stripe_form_add(&b, "mode", "subscription");
    stripe_form_add(&b, "line_items[0][price]", "price_123");
    stripe_form_add(&b, "success_url", "https://x.test/ok?s={CHECKOUT_SESSION_ID}&a=1");
    stripe_form_add(&b, "client_reference_id", "a b+c/ä~");
    stripe_form_add(&b, "empty", NULL);
    ok(strcmp(buf_str(&b),
              "mode=subscription&line_items%5B0%5D%5Bprice%5D=price_123"
              "&success_url=https%3A%2F%2Fx.test%2Fok%3Fs%3D%7BCHECKOUT_SESSION_ID%7D%26a%3D1"
              "&client_reference_id=a%20b%2Bc%2F%C3%A4~&empty=") == 0,
       "form encoding: %s", buf_str(&b));
    buf_cleanup(&b);
}

static const char *mapped(long status, const char *body, struct err *e)
{
    err_clear(e);
    stripe_error_map(status, body, body != NULL ? strlen(body) : 0, e);
    return e->code;
}

static void errors(void)
{
    struct err e;
    const char *card =
        "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"resource_missing\","
        "\"message\":\"No such price: 'price_x'\",\"param\":\"line_items[0][price]\"}}";

    expect(mapped(400, card, &e), "stripe_invalid_request", "400 invalid_request_error");
    ok(e.status == 502 && strstr(e.msg, "resource_missing") != NULL &&
           strstr(e.msg, "price_x") == NULL,
       "502, Stripe's code shown, its message not: %s", e.msg);
    expect(mapped(401,
                  "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API "
                  "Key provided: sk_test_****\"}}",
                  &e),
           "stripe_unauthorized", "401");
    expect(mapped(403, "{\"error\":{\"type\":\"invalid_request_error\"}}", &e),
           "stripe_unauthorized", "403");
    expect(
        mapped(429, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"rate_limit\"}}", &e),
        "stripe_rate_limited", "429");
    expect(mapped(400, "{\"error\":{\"type\":\"idempotency_error\"}}", &e),
           "stripe_idempotency_conflict", "idempotency_error");
    expect(mapped(500, "{\"error\":{\"type\":\"api_error\"}}", &e), "stripe_unavailable", "500");
    expect(mapped(402, "{\"error\":{\"type\":\"card_error\",\"code\":\"card_declined\"}}", &e),
           "stripe_invalid_request", "402 card_error");
    expect(mapped(502, "<html>bad gateway</html>", &e), "stripe_bad_response", "not JSON");
    expect(mapped(400, "{\"detail\":\"x\"}", &e), "stripe_bad_response", "JSON without error");
    expect(mapped(400, NULL, &e), "stripe_bad_response", "no body");
    expect(mapped(400, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"x\\\"<y\"}}", &e),
           "stripe_invalid_request", "odd Stripe code");
    ok(strchr(e.msg, '<') == NULL, "a code that is not an identifier is not shown: %s", e.msg);
    ok(e.status == 502, "every mapped error is 502 (%d)", e.status);
}

/* Run stripe_api_post with stderr captured into `logbuf`. */
static int post_captured(const struct stripe_api *api, const char *form_body, const char *key,
                         cJSON **out, struct err *e, char *logbuf, size_t loglen)
{
    char path[] = "/tmp/easysks-stripe-log-XXXXXX";
    int fd = mkstemp(path), saved = dup(2), rc;
    ssize_t n;

    fflush(stderr);
    dup2(fd, 2);
    log_set_level(LOG_INFO);
    rc = stripe_api_post(api, "/v1/checkout/sessions", form_body, strlen(form_body), key, out, e);
    log_set_level(LOG_ERROR);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, logbuf, loglen - 1, 0);
    logbuf[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

static void api_calls(void)
{
    struct stub s;
    struct stripe_api api = {0};
    struct err e;
    cJSON *out = NULL;
    char base[96], v[512], logbuf[8192];
    struct stub_request *rq = calloc(1, sizeof(*rq));
    const char *key = "sk_test_51SECRETkeyNeverLogged";
    int rc;

    err_clear(&e);
    ok(stripe_api_post(&api, "/v1/x", "", 0, "k", &out, &e) < 0 &&
           strcmp(e.code, "billing_unconfigured") == 0 && e.status == 503 && out == NULL,
       "no client or key: 503 billing_unconfigured");
    if (stub_start(&s) != 0) {
        ok(0, "stub started");
        free(rq);
        return;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/", s.port);
    api.http = http_client_new(&e);
    api.base = base;
    api.key = key;
    api.timeout_ms = 2000;
    api.allow_http = 1;
    stub_set_body(&s, "{\"id\":\"cs_test_1\",\"url\":\"https://checkout.test/c/cs_test_1\"}");

    rc = post_captured(&api, "mode=subscription&a=%5B", "easysks-checkout-abc", &out, &e, logbuf,
                       sizeof(logbuf));
    ok(rc == 0 && cJSON_IsObject(out) &&
           strcmp(cJSON_GetObjectItem(out, "id")->valuestring, "cs_test_1") == 0,
       "2xx: the JSON object comes back");
    cJSON_Delete(out);
    out = NULL;
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "POST") == 0 &&
           strcmp(rq->path, "/v1/checkout/sessions") == 0,
       "POST to base + path, the base's trailing slash dropped (%s)", rq->path);
    ok(stub_header(rq, "Authorization", v, sizeof(v)) == 1 &&
           strcmp(v, "Bearer sk_test_51SECRETkeyNeverLogged") == 0,
       "the key as a bearer token");
    ok(stub_header(rq, "Stripe-Version", v, sizeof(v)) == 1 && strcmp(v, STRIPE_API_VERSION) == 0,
       "Stripe-Version pinned (%s)", v);
    ok(stub_header(rq, "Idempotency-Key", v, sizeof(v)) == 1 &&
           strcmp(v, "easysks-checkout-abc") == 0,
       "Idempotency-Key (%s)", v);
    ok(stub_header(rq, "Content-Type", v, sizeof(v)) == 1 &&
           strcmp(v, "application/x-www-form-urlencoded") == 0,
       "form content type");
    ok(rq->body_len == 23 && memcmp(rq->body, "mode=subscription&a=%5B", 23) == 0,
       "the form arrives as given");

    stub_set_status(&s, 400);
    stub_set_body(&s, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":\"email_invalid\","
                      "\"param\":\"customer_email\",\"message\":\"Invalid email address: "
                      "learner.name@example.com\"}}");
    err_clear(&e);
    rc = post_captured(&api, "customer=cus_x", "k2", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && out == NULL && e.status == 502 && strcmp(e.code, "stripe_invalid_request") == 0,
       "Stripe's 400 -> 502 stripe_invalid_request");
    ok(strstr(logbuf, "\"stripe_code\":\"email_invalid\"") != NULL &&
           strstr(logbuf, "\"stripe_type\":\"invalid_request_error\"") != NULL &&
           strstr(logbuf, "\"stripe_param\":\"customer_email\"") != NULL,
       "Stripe's code, type and param are logged: %s", logbuf);
    ok(strstr(logbuf, "example.com") == NULL && strstr(logbuf, "learner.name") == NULL,
       "Stripe's message (it may echo an e-mail address) is not logged: %s", logbuf);
    ok(strstr(logbuf, "SECRETkey") == NULL, "the key is not in the log");

    stub_set_status(&s, 200);
    stub_set_body(&s, "[1,2]");
    err_clear(&e);
    rc = post_captured(&api, "", "k3", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && out == NULL && strcmp(e.code, "stripe_bad_response") == 0,
       "2xx that is not an object -> stripe_bad_response");

    s.big_len = STRIPE_RESPONSE_MAX + 1;
    stub_set_mode(&s, STUB_BIG);
    err_clear(&e);
    rc = post_captured(&api, "", "k4", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && strcmp(e.code, "stripe_bad_response") == 0 && e.status == 502,
       "a response over the cap -> stripe_bad_response");

    s.delay_ms = 1500;
    stub_set_mode(&s, STUB_SLOW);
    api.timeout_ms = 300;
    err_clear(&e);
    rc = post_captured(&api, "", "k5", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && strcmp(e.code, "stripe_timeout") == 0 && e.status == 504,
       "no answer in time -> 504 stripe_timeout");
    ok(strstr(logbuf, "SECRETkey") == NULL, "the key is not in the log after a timeout either");
    stub_set_mode(&s, STUB_OK);
    stub_stop(&s);

    err_clear(&e);
    rc = post_captured(&api, "", "k6", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && strcmp(e.code, "stripe_unreachable") == 0 && e.status == 502,
       "connection refused -> 502 stripe_unreachable");
    err_clear(&e);
    ok(stripe_api_post(&api, "/v1/x", "", 0, NULL, &out, &e) < 0 &&
           strcmp(e.code, "stripe_bad_request") == 0,
       "no idempotency key: refused before sending");
    api.allow_http = 0;
    err_clear(&e);
    rc = post_captured(&api, "", "k7", &out, &e, logbuf, sizeof(logbuf));
    ok(rc < 0 && strcmp(e.code, "http_protocol_refused") == 0,
       "plain http outside dev is refused (%s)", e.code);
    http_client_free(api.http);
    free(rq);
}

/* Cancelling a subscription (an account's erasure): DELETE, no body, no
 * Idempotency-Key; a 404 means there is nothing left to cancel. */
static void api_delete(void)
{
    struct stub s;
    struct stripe_api api = {0};
    struct err e;
    cJSON *out = NULL;
    char base[96], v[512];
    struct stub_request *rq = calloc(1, sizeof(*rq));
    int rc;

    if (stub_start(&s) != 0) {
        ok(0, "stub started");
        free(rq);
        return;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d", s.port);
    api.http = http_client_new(&e);
    api.base = base;
    api.key = "sk_test_51deleteKEY";
    api.timeout_ms = 2000;
    api.allow_http = 1;
    stub_set_body(&s, "{\"id\":\"sub_1\",\"object\":\"subscription\",\"status\":\"canceled\"}");
    err_clear(&e);
    rc = stripe_api_delete(&api, "/v1/subscriptions/sub_1", &out, &e);
    ok(rc == 0 && cJSON_IsObject(out) &&
           strcmp(cJSON_GetObjectItem(out, "status")->valuestring, "canceled") == 0,
       "2xx: 0 and the canceled subscription");
    cJSON_Delete(out);
    ok(stub_last_request(&s, rq) == 0 && strcmp(rq->method, "DELETE") == 0 &&
           strcmp(rq->path, "/v1/subscriptions/sub_1") == 0 && rq->body_len == 0,
       "DELETE /v1/subscriptions/sub_1 without a body (%s %s)", rq->method, rq->path);
    ok(stub_header(rq, "Idempotency-Key", v, sizeof(v)) == 0, "no Idempotency-Key on a DELETE");
    ok(stub_header(rq, "Stripe-Version", v, sizeof(v)) == 1 && strcmp(v, STRIPE_API_VERSION) == 0,
       "the API version is pinned on a DELETE too");
    /* The client is reused: the next POST is a POST again. */
    stub_set_body(&s, "{\"id\":\"cs_2\"}");
    rc = stripe_api_post(&api, "/v1/checkout/sessions", "a=b", 3, "k-after-delete", &out, &e);
    cJSON_Delete(out);
    ok(rc == 0 && stub_last_request(&s, rq) == 0 && strcmp(rq->method, "POST") == 0,
       "a POST after a DELETE on the same client is a POST (%s)", rq->method);
    stub_set_status(&s, 404);
    stub_set_body(&s, "{\"error\":{\"type\":\"invalid_request_error\",\"code\":"
                      "\"resource_missing\",\"message\":\"No such subscription\"}}");
    rc = stripe_api_delete(&api, "/v1/subscriptions/sub_gone", &out, &e);
    ok(rc == 1 && out == NULL, "404: 1, nothing left to cancel");
    stub_set_status(&s, 500);
    stub_set_body(&s, "{\"error\":{\"type\":\"api_error\",\"message\":\"boom\"}}");
    err_clear(&e);
    rc = stripe_api_delete(&api, "/v1/subscriptions/sub_1", &out, &e);
    ok(rc < 0 && out == NULL && strcmp(e.code, "stripe_unavailable") == 0 && e.status == 502,
       "5xx: -1 with 502 stripe_unavailable (%s)", e.code != NULL ? e.code : "-");
    stub_set_status(&s, 200);
    stub_stop(&s);
    http_client_free(api.http);
    free(rq);
}

int main(void)
{
    log_set_level(LOG_ERROR);
    signatures();
    secrets_list();
    form();
    errors();
    api_calls();
    api_delete();
    return tap_done();
}
