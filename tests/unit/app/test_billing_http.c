/*
 * test_billing_http.c - the billing handlers in-process through the real
 * libfcgi (as test_serve.c), without nginx, Stripe or a database: billing
 * unconfigured answers 503 billing_unconfigured (webhook, checkout,
 * portal); the webhook exists only at nginx's location (not under /api),
 * refuses an unsigned or badly signed delivery with 400 before anything
 * else, refuses a signed body that is no event with 400 invalid_event, and
 * answers 503 (Stripe retries) when the database is down; its body cap is
 * 256 KiB, not the pool's default.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api/api.h"
#include "fcgi_client.h"
#include "http/app.h"
#include "http/request.h"
#include "http/serve.h"
#include "core/log.h"
#include "tap.h"

#define SECRET "whsec_unit_test_secret"

static struct fcgi_test t;
static struct config cfg;
static struct app app;
static char out[65536];

static const char *serve(const struct fcgi_pair *params, const char *body, size_t len)
{
    return fcgi_test_serve(&t, &app, params, body, len, out, sizeof(out));
}

/* POST `body` to the webhook with `signature` (NULL: none) and SCRIPT_NAME. */
static const char *deliver(const char *body, const char *signature, const char *script)
{
    char len[24];
    struct fcgi_pair p[7];
    int n = 0;

    snprintf(len, sizeof(len), "%zu", strlen(body));
    p[n++] = (struct fcgi_pair){"REQUEST_METHOD", "POST"};
    p[n++] = (struct fcgi_pair){"PATH_INFO", "/webhooks/stripe"};
    p[n++] = (struct fcgi_pair){"SCRIPT_NAME", script};
    p[n++] = (struct fcgi_pair){"CONTENT_TYPE", "application/json"};
    p[n++] = (struct fcgi_pair){"CONTENT_LENGTH", len};
    if (signature != NULL)
        p[n++] = (struct fcgi_pair){"HTTP_STRIPE_SIGNATURE", signature};
    p[n] = (struct fcgi_pair){NULL, NULL};
    return serve(p, body, strlen(body));
}

/* "t=<now>,v1=<HMAC>" for body, computed here with OpenSSL's HMAC(). */
static const char *sign(const char *body, const char *secret)
{
    static char header[128];
    char msg[16384];
    unsigned char mac[32];
    unsigned maclen = 0;
    long long now = (long long)time(NULL);
    int n = snprintf(msg, sizeof(msg), "%lld.%s", now, body), k;

    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)n, mac,
         &maclen);
    k = snprintf(header, sizeof(header), "t=%lld,v1=", now);
    for (unsigned i = 0; i < maclen; i++)
        k += snprintf(header + k, sizeof(header) - (size_t)k, "%02x", mac[i]);
    return header;
}

static int has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

/* Call a handler directly on an accepted request (authentication is
 * test_serve's business), as if user 42 were signed in. */
static const char *call(int (*handler)(struct request *))
{
    struct request r;
    fcgi_test_reconnect(&t);
    fcgi_test_send(&t, (struct fcgi_pair[]){{"REQUEST_METHOD", "POST"}, {NULL, NULL}}, NULL, 0);
    FCGX_Accept_r(&t.req);
    memset(&r, 0, sizeof(r));
    r.fcgi = &t.req;
    r.app = &app;
    r.arena = &app.arena;
    r.method = "POST";
    r.path = "/billing";
    r.query = "";
    r.request_id = "test";
    r.user.id = "42";
    snprintf(r.identity.sub, sizeof(r.identity.sub), "learner-42");
    handler(&r);
    FCGX_Finish_r(&t.req);
    app_after_request(&app);
    fcgi_test_response(&t, out, sizeof(out));
    return out;
}

int main(void)
{
    static const char event[] = "{\"id\":\"evt_unit_1\",\"object\":\"event\",\"type\":"
                                "\"customer.subscription.updated\",\"created\":1700000000,"
                                "\"data\":{\"object\":{\"id\":\"sub_1\",\"customer\":\"cus_1\","
                                "\"status\":\"active\"}}}";
    const char *resp;

    log_set_level(LOG_ERROR);
    cfg.env = ENV_DEV;
    cfg.max_body_bytes = 1024;
    cfg.stripe_past_due_grace_h = 72;
    app.cfg = &cfg;
    app.db = db_new("host=/nonexistent-socket-dir dbname=none", 100);
    arena_init(&app.arena, 4096);
    if (fcgi_test_open(&t) < 0) {
        ok(0, "fake FastCGI socket");
        return tap_done();
    }

    resp = deliver(event, sign(event, SECRET), "");
    ok(has(resp, "Status: 503 ") && has(resp, "\"code\":\"billing_unconfigured\""),
       "no STRIPE_WEBHOOK_SECRETS: 503 billing_unconfigured (Stripe keeps retrying)");
    resp = call(api_billing_checkout);
    ok(has(resp, "Status: 503 ") && has(resp, "\"code\":\"billing_unconfigured\"") &&
           has(resp, "STRIPE_API_KEY is not set"),
       "no STRIPE_API_KEY: checkout answers 503 billing_unconfigured, naming it");
    resp = call(api_billing_portal);
    ok(has(resp, "Status: 503 ") && has(resp, "\"code\":\"billing_unconfigured\""),
       "no STRIPE_API_KEY: portal answers 503 billing_unconfigured");

    /* A key but not all Checkout needs: still 503, naming what is missing. */
    cfg.stripe_api_key = "sk_test_unit";
    cfg.stripe_price_id = "price_unit";
    cfg.stripe_success_url = "https://app.test/ok";
    resp = call(api_billing_checkout);
    ok(has(resp, "Status: 503 ") && has(resp, "STRIPE_CANCEL_URL is not set"),
       "checkout without STRIPE_CANCEL_URL: 503 naming it");
    resp = call(api_billing_portal);
    ok(has(resp, "Status: 503 ") && has(resp, "STRIPE_PORTAL_RETURN_URL is not set"),
       "portal without STRIPE_PORTAL_RETURN_URL: 503 naming it");
    cfg.stripe_api_key = NULL;

    cfg.stripe_webhook_secrets = "whsec_other_one, " SECRET;
    resp = deliver(event, sign(event, SECRET), "/api");
    ok(has(resp, "Status: 404 ") && has(resp, "\"code\":\"not_found\""),
       "under /api (SCRIPT_NAME=/api) the webhook does not exist");
    resp = deliver(event, NULL, "");
    ok(has(resp, "Status: 400 ") && has(resp, "\"code\":\"signature_missing\""),
       "no Stripe-Signature: 400 signature_missing");
    resp = deliver(event, sign(event, "whsec_not_ours"), "");
    ok(has(resp, "Status: 400 ") && has(resp, "\"code\":\"signature_mismatch\""),
       "wrong secret: 400 signature_mismatch, before the database is asked");
    resp = deliver("{\"hello\":1}", sign("{\"hello\":1}", SECRET), "");
    ok(has(resp, "Status: 400 ") && has(resp, "\"code\":\"invalid_event\""),
       "signed, but not an event: 400 invalid_event");
    resp = deliver(event, sign(event, SECRET), "");
    ok(has(resp, "Status: 503 ") && has(resp, "\"code\":\"db_unavailable\""),
       "a valid event with the database down: 503 so that Stripe retries (%.40s)", resp);

    /* The route's cap (256 KiB), not EASYSKS_MAX_BODY (1 KiB here). */
    {
        static char big[8192];
        memset(big, ' ', sizeof(big) - 1);
        memcpy(big, event, sizeof(event) - 1);
        resp = deliver(big, sign(big, SECRET), "");
        ok(has(resp, "Status: 503 ") && has(resp, "db_unavailable"),
           "an 8 KiB delivery passes the body cap (the pool's default is 1 KiB)");
        resp = serve((struct fcgi_pair[]){{"REQUEST_METHOD", "POST"},
                                          {"PATH_INFO", "/webhooks/stripe"},
                                          {"SCRIPT_NAME", ""},
                                          {"CONTENT_LENGTH", "262145"},
                                          {NULL, NULL}},
                     NULL, 0);
        ok(has(resp, "Status: 413 ") && has(resp, "payload_too_large"),
           "a delivery over 256 KiB: 413 before anything is read");
    }
    fcgi_test_close(&t);
    db_free(app.db);
    arena_cleanup(&app.arena);
    buf_cleanup(&app.out);
    return tap_done();
}
