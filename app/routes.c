#include "handlers.h"

/* Paths are relative to the /api mount (nginx sends PATH_INFO). */
const struct route app_routes[] = {
    {"GET", "/health", handle_health, ROUTE_PUBLIC},
    {NULL, NULL, NULL, 0},
};
