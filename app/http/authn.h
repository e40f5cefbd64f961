/*
 * auth_glue.h - bearer-token authentication of /api requests, between the
 * worker and lib/auth. Fills the request's identity and user row.
 */
#ifndef EASYSKS_AUTH_GLUE_H
#define EASYSKS_AUTH_GLUE_H

#include "request.h"

struct worker;

void auth_glue_init(struct worker *w);
void auth_glue_cleanup(struct worker *w);

/* 0 when the request carries a valid token (identity attached); otherwise
 * the 401/503 response has been sent and -1 is returned. */
int auth_glue_authenticate(struct request *r);

#endif
