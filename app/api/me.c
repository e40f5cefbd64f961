/*
 * GET /api/me - the caller's profile and plan, as loaded by authentication.
 */
#include "api/api.h"
#include "core/json.h"
#include "http/app.h"

int api_me(struct request *r)
{
    cJSON *body = json_new_object();

    json_add_string(body, "sub", r->identity.sub);
    json_add_string(body, "username", r->user.username);
    json_add_string(body, "email", r->user.email);
    json_add_string(body, "plan", r->user.premium ? "premium" : "free");
    json_add_string(body, "premium_until", r->user.premium_until);
    json_add_string(body, "created_at", r->user.created_at);
    json_add_string(body, "last_seen_at", r->user.last_seen_at);
    /* The server has AI configured (a key): the client offers AI checks and
     * spoken answers only then (docs/web.md); premium decides who may use them. */
    json_add_bool(body, "ai_available", r->app->cfg->openai_api_key != NULL);
    request_send_json(r, 200, body, NULL);
    cJSON_Delete(body);
    return 200;
}
