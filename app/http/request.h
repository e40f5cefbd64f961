/*
 * request.h - one FastCGI request: its parameters, its bounded body, and the
 * response writer. The only place besides worker.c that sees fcgiapp.h.
 *
 * Every response is JSON (or empty for 204) with Status, Content-Type and
 * Cache-Control set; errors use the one body shape
 *     {"detail": "...", "code": "stable_code", "request_id": "..."}
 */
#ifndef EASYSKS_REQUEST_H
#define EASYSKS_REQUEST_H

#include <stddef.h>
#include <fcgiapp.h>
#include <cjson/cJSON.h>

#include "arena.h"
#include "auth.h"
#include "err.h"

struct worker;

#define REQUEST_MAX_PARAMS 4

struct request {
    FCGX_Request *fcgi;
    struct worker *worker;
    struct arena *arena;
    const char *method;
    const char *path;                       /* PATH_INFO, "/" when empty */
    const char *query;                      /* QUERY_STRING, "" when empty */
    const char *request_id;                 /* REQUEST_ID from nginx, or generated */
    const char *params[REQUEST_MAX_PARAMS]; /* {name} segments captured by the router */
    int nparams;
    char *body; /* NUL-terminated copy, NULL until request_read_body */
    size_t body_len;
    struct auth_identity identity; /* filled for authenticated routes */
    struct {
        const char *id;            /* users.id as text */
        int premium;               /* premium plan active now */
        const char *username;      /* NULL when unknown */
        const char *email;         /* NULL when unknown */
        const char *premium_until; /* RFC 3339 UTC, NULL when not set */
        const char *created_at;    /* RFC 3339 UTC */
        const char *last_seen_at;  /* RFC 3339 UTC, touched at most every 5 minutes */
    } user;                        /* filled by authentication */
    int status;                    /* status written, 0 until a response is sent */
    int responded;
};

/* FastCGI parameter (CGI variable), or NULL. */
const char *request_param(const struct request *r, const char *name);

/* Read the whole body, at most `max` bytes. 0, or -1 with e = 413
 * payload_too_large / 411 length_required / 400 body_incomplete. */
int request_read_body(struct request *r, size_t max, struct err *e);

/* Send `body` (may be NULL for an empty JSON object) with `status`.
 * `extra_headers` is NULL or "Name: value\r\n..." lines. Does not take
 * ownership of body. */
void request_send_json(struct request *r, int status, const cJSON *body, const char *extra_headers);

/* Send `len` bytes of `content_type`. */
void request_send_body(struct request *r, int status, const char *content_type, const char *body,
                       size_t len, const char *extra_headers);

/* Send the standard error body for `e` (status 500 when e->status is 0). */
void request_send_error(struct request *r, const struct err *e, const char *extra_headers);

/* Shorthand: build an err and send it. */
void request_fail(struct request *r, int status, const char *code, const char *detail,
                  const char *extra_headers);

/* Headers only, no body (204 for nginx auth_request). */
void request_send_empty(struct request *r, int status, const char *extra_headers);

#endif
