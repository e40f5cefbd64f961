#include "handlers.h"

/* Paths are relative to the /api mount (nginx sends PATH_INFO). */
const struct route app_routes[] = {
    {"GET", "/health", handle_health, ROUTE_PUBLIC},
    {"GET", "/client-config", handle_client_config, ROUTE_PUBLIC},
    {"GET", "/me", handle_me, 0},
    /* nginx auth_request target; authenticates itself, refuses non-subrequests */
    {"GET", "/_auth", handle_auth_check, ROUTE_PUBLIC},
    /* operators' scoreboard; only nginx's loopback status server reaches it */
    {"GET", "/_status", handle_status, ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};
