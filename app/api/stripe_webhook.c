/*
 * POST /webhooks/stripe - Stripe's event deliveries. No bearer token: the
 * Stripe-Signature over the raw body is the authentication (lib/infra/stripe).
 * A verified event is applied exactly once (lib/sks/billing), and the answer
 * tells Stripe what to do next:
 *   200 {"received":true,"event":...,"outcome":...}  done (also for a
 *       duplicate, a stale event or a type we ignore): never resent
 *   400 signature_* / invalid_event   refused, nothing written
 *   503 billing_unconfigured, db_*    nothing written; Stripe retries
 * Only nginx's /webhooks/stripe location reaches this (SCRIPT_NAME empty);
 * under /api the path does not exist.
 */
#include <time.h>

#include "api/api.h"
#include "api/render.h"
#include "sks/billing.h"
#include "http/app.h"
#include "core/log.h"
#include "infra/stripe.h"

int api_stripe_webhook(struct request *r)
{
    const struct config *c = r->app->cfg;
    const char *script = request_param(r, "SCRIPT_NAME");
    struct billing_event ev;
    enum billing_outcome outcome;
    struct err e = {0};
    struct buf *b = &r->app->out;

    if (script != NULL && script[0] != '\0') {
        request_fail(r, 404, "not_found", "no such endpoint", NULL);
        return 404;
    }
    if (c->stripe_webhook_secrets == NULL) {
        request_fail(r, 503, "billing_unconfigured", "billing is not configured", NULL);
        return 503;
    }
    if (request_read_raw(r) < 0)
        return r->status;
    if (stripe_verify_signature(request_param(r, "HTTP_STRIPE_SIGNATURE"), r->body, r->body_len,
                                c->stripe_webhook_secrets, (long long)time(NULL),
                                STRIPE_SIGNATURE_TOLERANCE_S, &e) < 0) {
        log_warn("stripe webhook refused", "code", e.code, NULL);
        request_send_error(r, &e, NULL);
        return r->status;
    }
    if (billing_event_parse(r->body, r->body_len, &ev, &e) < 0) {
        /* Signed by Stripe but not understood: a bug on our side. Stripe
         * shows the 400 on the endpoint and can resend once fixed. */
        log_error("stripe event not understood", "error", e.msg, NULL);
        request_send_error(r, &e, NULL);
        return r->status;
    }
    if (billing_apply(r->app->db, &ev, (long long)c->stripe_past_due_grace_h * 3600, &outcome, &e) <
        0) {
        log_warn("stripe event not applied; Stripe will retry", "event", ev.id, "type", ev.type,
                 "code", e.code, NULL);
        if (e.status < 500)
            e.status = 503; /* a conflict is transient too: retry */
        request_send_error(r, &e, NULL);
        return r->status;
    }
    log_info("stripe event", "event", ev.id, "type", ev.type, "object", ev.object_id, "outcome",
             billing_outcome_name(outcome), NULL);
    buf_puts(b, "{\"received\":true,\"event\":");
    buf_json_string(b, ev.id);
    buf_puts(b, ",\"outcome\":");
    buf_json_string(b, billing_outcome_name(outcome));
    buf_putc(b, '}');
    return render_send(r, 200);
}
