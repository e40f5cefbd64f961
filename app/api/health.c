/*
 * GET /api/health - readiness. nginx answers /health (liveness) itself;
 * this one proves a worker can reach the database within a short timeout
 * and that the schema is at least the version this binary was built for.
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/api.h"
#include "http/app.h"
#include "core/json.h"

#ifndef EASYSKS_SCHEMA_VERSION
#error "EASYSKS_SCHEMA_VERSION must be defined by the build (highest migration number)"
#endif

static const struct db_stmt schema_version = {
    "health_schema_version", "SELECT coalesce(max(version), 0) FROM schema_migrations"};

int api_health(struct request *r)
{
    struct app *app = r->app;
    struct err e = {0};
    PGresult *res = NULL;
    cJSON *body = json_new_object();
    int status = 503, version = -1;

    res = db_query(app->db, &schema_version, 0, NULL, app->cfg->health_timeout_ms, &e);
    if (res == NULL) {
        json_add_string(body, "status", "unavailable");
        json_add_string(body, "database", e.code);
        goto out;
    }
    version = atoi(PQgetvalue(res, 0, 0));
    json_add_string(body, "database", "ok");
    json_add_number(body, "schema_version", version);
    json_add_number(body, "schema_expected", EASYSKS_SCHEMA_VERSION);
    if (version < EASYSKS_SCHEMA_VERSION) {
        json_add_string(body, "status", "unavailable");
        json_add_string(body, "code", "migrations_pending");
        goto out;
    }
    json_add_string(body, "status", "ok");
    status = 200;
out:
    request_send_json(r, status, body, NULL);
    cJSON_Delete(body);
    PQclear(res);
    return status;
}
