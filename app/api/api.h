/*
 * handlers.h - the route table and the handlers behind it. Each handler
 * sends exactly one response and returns its status.
 */
#ifndef EASYSKS_HANDLERS_H
#define EASYSKS_HANDLERS_H

#include "router.h"

extern const struct route app_routes[];

int handle_health(struct request *r);
int handle_me(struct request *r);
int handle_auth_check(struct request *r);
int handle_status(struct request *r);
int handle_client_config(struct request *r);

#endif
