#include "api/api.h"

/* Paths are relative to the /api mount (nginx sends PATH_INFO), except the
 * internal ones nginx maps explicitly (/_auth, /_status). */
const struct route api_routes[] = {
    {"GET", "/health", api_health, ROUTE_PUBLIC, 0},
    {"GET", "/client-config", api_client_config, ROUTE_PUBLIC, 0},
    {"GET", "/me", api_me, 0, 0},
    /* nginx auth_request target; authenticates itself, refuses non-subrequests */
    {"GET", "/_auth", api_auth_check, ROUTE_PUBLIC, 0},
    /* operators' scoreboard; only nginx's loopback status server reaches it */
    {"GET", "/_status", api_status, ROUTE_PUBLIC, 0},
    {NULL, NULL, NULL, 0, 0},
};
