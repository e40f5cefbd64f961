#include "auth_glue.h"

#include "worker.h"

/* Placeholder until lib/auth lands: every protected route is refused. */
void auth_glue_init(struct worker *w)
{
    w->auth = NULL;
}
void auth_glue_cleanup(struct worker *w)
{
    (void)w;
}

int auth_glue_authenticate(struct request *r)
{
    request_fail(r, 503, "auth_unconfigured", "authentication is not configured", NULL);
    return -1;
}
