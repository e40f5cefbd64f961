/*
 * POST /api/billing/checkout, POST /api/billing/portal - a Stripe Checkout
 * session (subscribe to premium) or a Customer Portal session (manage or
 * cancel) for the caller; both answer {"url": "..."} for the client to
 * open. The plan itself only ever changes through the webhook
 * (stripe_webhook.c). Stripe is called with no transaction open: the
 * customer lookup is one autocommit read before it. docs/billing.md.
 */
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/render.h"
#include "sks/billing.h"
#include "http/app.h"
#include "core/log.h"
#include "infra/stripe.h"

/* The API settings for Checkout (portal=0) or the portal, or -1 after
 * answering 503 billing_unconfigured naming the missing setting. */
static int stripe_api_or_fail(struct request *r, int portal, struct stripe_api *api)
{
    const struct config *c = r->app->cfg;
    const char *missing = config_billing_missing(c, portal);
    struct err e;

    if (missing != NULL || r->app->stripe == NULL) {
        err_set(&e, 503, "billing_unconfigured", "billing is not configured (%s is not set)",
                missing != NULL ? missing : "the Stripe client");
        log_warn("billing endpoint called but not configured", "missing", missing, NULL);
        request_send_error(r, &e, NULL);
        return -1;
    }
    memset(api, 0, sizeof(*api));
    api->http = r->app->stripe;
    api->base = c->stripe_api_base;
    api->key = c->stripe_api_key;
    api->timeout_ms = c->stripe_timeout_ms;
    api->allow_http = c->env == ENV_DEV;
    return 0;
}

/* Answer {"url": session.url}. Stripe's URLs are https; anything else is
 * not sent to a browser. */
static int send_session_url(struct request *r, const cJSON *session, const char *what)
{
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(session, "url");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(session, "id");
    struct buf *b = &r->app->out;

    if (!cJSON_IsString(url) || strncmp(url->valuestring, "https://", 8) != 0) {
        log_warn("stripe session without an https url", "session", what, NULL);
        request_fail(r, 502, "stripe_bad_response",
                     "the payment provider's answer was not understood", NULL);
        return 502;
    }
    log_info("stripe session created", "session", what, "id",
             cJSON_IsString(id) ? id->valuestring : NULL, NULL);
    buf_puts(b, "{\"url\":");
    buf_json_string(b, url->valuestring);
    buf_putc(b, '}');
    return render_send(r, 200);
}

/* POST form to path with a key derived from it; answers either way. */
static int create_session(struct request *r, const struct stripe_api *api, const char *what,
                          const char *path, const struct buf *form, int window_s)
{
    char key[BILLING_IDEMPOTENCY_KEY_MAX];
    cJSON *session = NULL;
    struct err e = {0};
    int status;

    billing_idempotency_key(key, what, r->user.id, buf_str(form), form->len, (long long)time(NULL),
                            window_s);
    if (stripe_api_post(api, path, buf_str(form), form->len, key, &session, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    status = send_session_url(r, session, what);
    cJSON_Delete(session);
    return status;
}

int api_billing_checkout(struct request *r)
{
    const struct config *c = r->app->cfg;
    struct stripe_api api;
    struct billing_checkout co = {0};
    char customer[BILLING_ID_MAX];
    int subscribed, status;
    struct buf form = {0};
    struct err e = {0};

    if (stripe_api_or_fail(r, 0, &api) < 0)
        return r->status;
    if (billing_customer_for_user(r->app->db, r->user.id, customer, &subscribed, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    if (subscribed) {
        request_fail(r, 409, "already_subscribed",
                     "you have a subscription already; manage it in the billing portal", NULL);
        return 409;
    }
    co.price_id = c->stripe_price_id;
    co.success_url = c->stripe_success_url;
    co.cancel_url = c->stripe_cancel_url;
    co.user_sub = r->identity.sub;
    co.customer = customer[0] != '\0' ? customer : NULL;
    co.email = r->user.email;
    billing_checkout_form(&form, &co);
    status = create_session(r, &api, "checkout", "/v1/checkout/sessions", &form,
                            BILLING_CHECKOUT_KEY_WINDOW_S);
    buf_cleanup(&form);
    return status;
}

int api_billing_portal(struct request *r)
{
    struct stripe_api api;
    char customer[BILLING_ID_MAX];
    int subscribed, status;
    struct buf form = {0};
    struct err e = {0};

    if (stripe_api_or_fail(r, 1, &api) < 0)
        return r->status;
    if (billing_customer_for_user(r->app->db, r->user.id, customer, &subscribed, &e) < 0) {
        request_send_error(r, &e, NULL);
        return r->status;
    }
    if (customer[0] == '\0') {
        request_fail(r, 409, "no_billing_customer",
                     "there is nothing to manage yet: subscribe first", NULL);
        return 409;
    }
    billing_portal_form(&form, customer, r->app->cfg->stripe_portal_return_url);
    status = create_session(r, &api, "portal", "/v1/billing_portal/sessions", &form,
                            BILLING_PORTAL_KEY_WINDOW_S);
    buf_cleanup(&form);
    return status;
}
