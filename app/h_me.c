/*
 * GET /api/me - the caller's profile and plan.
 */
#include "handlers.h"
#include "json.h"
#include "worker.h"

static const struct db_stmt select_me = {
    "me_select",
    "SELECT cognito_sub, username, email,"
    "       CASE WHEN plan = 'premium' AND (premium_until IS NULL OR premium_until > now())"
    "            THEN 'premium' ELSE 'free' END,"
    "       to_char(premium_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "       to_char(last_seen_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    "  FROM users WHERE id = $1::bigint"};

int handle_me(struct request *r)
{
    struct err e = {0};
    const char *params[1] = {r->user.id};
    PGresult *res = NULL;
    cJSON *body = NULL;
    int status = 500;

    res = db_query(r->worker->db, &select_me, 1, params, 0, &e);
    if (res == NULL || PQntuples(res) != 1) {
        if (res != NULL)
            err_set(&e, 404, "user_not_found", "user not found");
        request_send_error(r, &e, NULL);
        status = e.status;
        goto out;
    }
    body = json_new_object();
    json_add_string(body, "sub", db_value(res, 0, 0));
    json_add_string(body, "username", db_value(res, 0, 1));
    json_add_string(body, "email", db_value(res, 0, 2));
    json_add_string(body, "plan", db_value(res, 0, 3));
    json_add_string(body, "premium_until", db_value(res, 0, 4));
    json_add_string(body, "created_at", db_value(res, 0, 5));
    json_add_string(body, "last_seen_at", db_value(res, 0, 6));
    status = 200;
    request_send_json(r, status, body, NULL);
out:
    cJSON_Delete(body);
    PQclear(res);
    return status;
}
