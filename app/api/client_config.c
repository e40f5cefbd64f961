/*
 * GET /api/client-config - what the browser client needs to sign in: where
 * to send Cognito API calls and which app client id to use. Public, and
 * nothing in it is secret (both values ship in any Cognito web app).
 */
#include <string.h>

#include "api/api.h"
#include "http/app.h"
#include "core/json.h"

int api_client_config(struct request *r)
{
    const struct config *c = r->app->cfg;
    cJSON *body = json_new_object(), *auth = json_add_object(body, "auth");
    char client[256] = "";

    if (c->auth_client_ids != NULL) {
        size_t n = strcspn(c->auth_client_ids, ",");
        if (n < sizeof(client)) {
            memcpy(client, c->auth_client_ids, n);
            client[n] = '\0';
        }
    }
    json_add_string(auth, "endpoint", c->auth_client_endpoint);
    json_add_string(auth, "client_id", client[0] != '\0' ? client : NULL);
    json_add_string(body, "env", config_env_name(c->env));
    request_send_json(r, 200, body, NULL);
    cJSON_Delete(body);
    return 200;
}
