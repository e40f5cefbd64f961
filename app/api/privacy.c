/*
 * GET /api/me/export - everything stored about the caller as one JSON
 * document (Content-Disposition: attachment), streamed as it is read;
 * PRIVACY_EXPORTS_PER_HOUR per learner (429 export_rate_limited).
 *
 * DELETE /api/me {"confirm":"LÖSCHEN"} - erase the caller's account: an
 * open Stripe subscription is cancelled at once first, then every row goes
 * in one transaction (lib/privacy.h). Anything but the confirmation word is
 * 422 confirmation_required. Repeating it answers "already_deleted". The
 * sign-in at Cognito is the client's to delete (DeleteUser with the
 * learner's access token); docs/privacy.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "api/render.h"
#include "http/app.h"
#include "core/json.h"
#include "core/log.h"
#include "infra/stripe.h"
#include "sks/privacy.h"
#include "sks/users.h"

struct stream {
    struct request *r;
    const char *headers;
};

/* The first piece starts the response; a failure before that can still be
 * answered with an error. */
static int stream_write(void *ctx, const char *data, size_t len)
{
    struct stream *s = ctx;

    if (!s->r->responded &&
        request_stream_start(s->r, 200, "application/json; charset=utf-8", s->headers) < 0)
        return -1;
    return request_stream_write(s->r, data, len);
}

int api_me_export(struct request *r)
{
    char headers[256], day[16], retry[64];
    struct stream s = {r, headers};
    struct err e = {0};
    int retry_s, started = 0;
    time_t now = time(NULL);
    struct tm tm;

    if (privacy_export_allow(r->app->db, r->user.id, &retry_s, &e) < 0) {
        if (e.status == 429) {
            snprintf(retry, sizeof(retry), "Retry-After: %d\r\n", retry_s);
            request_send_error(r, &e, retry);
        } else {
            request_send_error(r, &e, NULL);
        }
        return r->status;
    }
    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    snprintf(headers, sizeof(headers),
             "Content-Disposition: attachment; filename=\"easysks-export-%s.json\"\r\n"
             "X-Content-Type-Options: nosniff\r\n",
             day);
    if (privacy_export(r->app->db, r->user.id, &r->app->out, stream_write, &s, &started, &e) < 0) {
        if (!started && !r->responded) {
            request_send_error(r, &e, NULL);
            return r->status;
        }
        /* Mid-stream: the status is sent; the document lacks its final
         * "complete": true, which is how a reader tells. */
        log_warn("export stopped midway", "code", e.code, NULL);
        return r->status;
    }
    log_info("data export sent", NULL);
    return r->status;
}

int api_me_delete(struct request *r)
{
    const struct config *c = r->app->cfg;
    struct stripe_api api, *apip = NULL;
    enum privacy_erase_outcome outcome;
    struct buf report = {0};
    struct buf *b = &r->app->out;
    struct err e = {0};
    const char *confirm = NULL;
    cJSON *body = request_read_json(r);

    if (body == NULL)
        return r->status;
    if (json_get_string(body, "confirm", 0, &confirm, &e) < 0 || confirm == NULL ||
        strcmp(confirm, PRIVACY_CONFIRM_WORD) != 0) {
        request_fail(r, 422, "confirmation_required",
                     "send {\"confirm\": \"L\xc3\x96SCHEN\"} to delete the account for good", NULL);
        return 422;
    }
    if (r->erased) {
        buf_puts(b, "{\"deleted\":true,\"status\":\"already_deleted\"}");
        return render_send(r, 200);
    }
    if (r->app->stripe != NULL && c->stripe_api_key != NULL && c->stripe_api_base != NULL) {
        memset(&api, 0, sizeof(api));
        api.http = r->app->stripe;
        api.base = c->stripe_api_base;
        api.key = c->stripe_api_key;
        api.timeout_ms = c->stripe_timeout_ms;
        api.allow_http = c->env == ENV_DEV;
        apip = &api;
    }
    if (privacy_erase(r->app->db, apip, r->user.id, "self", "api", r->arena, &report, &outcome,
                      &e) < 0) {
        buf_cleanup(&report);
        request_send_error(r, &e, NULL);
        return r->status;
    }
    /* This worker forgets the id at once; the others keep it for up to
     * USERS_TOUCH_SECONDS, and any write they try with it is refused 410
     * account_deleted (lib/infra/db.c). */
    users_cache_put(r->app->users, r->identity.sub, atoll(r->user.id), 0);
    log_info(outcome == PRIVACY_ERASED ? "account erased" : "account already erased", NULL);
    buf_printf(b, "{\"deleted\":true,\"status\":\"%s\",\"details\":",
               outcome == PRIVACY_ERASED ? "deleted" : "already_deleted");
    buf_append(b, report.data, report.len);
    buf_putc(b, '}');
    buf_cleanup(&report);
    return render_send(r, 200);
}
