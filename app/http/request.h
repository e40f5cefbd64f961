/*
 * request.h - one FastCGI request: its parameters, its bounded body, and the
 * response writer. With pool/worker.c the only code that sees fcgiapp.h.
 *
 * Every response carries Status, Cache-Control: no-store and, with a body,
 * Content-Type and Content-Length. Errors use the one body shape
 *     {"detail": "...", "code": "stable_code", "request_id": "..."}
 *
 * Helpers named request_read_* and request_require_* answer the client
 * themselves when they fail (the redis getLongLongFromObjectOrReply habit):
 * on -1 / NULL the response has been sent and the handler returns r->status.
 */
#ifndef EASYSKS_REQUEST_H
#define EASYSKS_REQUEST_H

#include <stddef.h>
#include <fcgiapp.h>
#include <cjson/cJSON.h>

#include "core/arena.h"
#include "infra/auth.h"
#include "core/err.h"
#include "sks/users.h"

struct app;
struct route;

#define REQUEST_MAX_PARAMS 4
#define REQUEST_ID_MAX 64
#define REQUEST_HEAD_MAX 2048 /* status line and headers of one response */

struct request {
    FCGX_Request *fcgi;
    struct app *app;
    struct arena *arena;
    const struct route *route;              /* NULL until routed */
    const char *method;                     /* REQUEST_METHOD ("HEAD" is routed as GET) */
    const char *path;                       /* PATH_INFO, "/" when empty */
    const char *query;                      /* QUERY_STRING, "" when empty */
    const char *request_id;                 /* REQUEST_ID from nginx, or generated */
    const char *params[REQUEST_MAX_PARAMS]; /* {name} segments captured by the router */
    int nparams;
    char *body; /* NUL-terminated copy, NULL until read */
    size_t body_len;
    cJSON *json;                   /* parsed body, freed after the request */
    struct auth_identity identity; /* filled for authenticated routes */
    struct user user;              /* filled by authentication */
    int status;                    /* status written, 0 until a response is sent */
    int responded;
};

/* FastCGI parameter (CGI variable), or NULL. */
const char *request_param(const struct request *r, const char *name);

/* Query-string parameter `name`, percent-decoded into the arena; NULL when
 * absent. A parameter given twice yields the first. */
const char *request_query(struct request *r, const char *name);

/* CONTENT_LENGTH as nginx passes it: NULL or "" means no body (0); digits
 * only, no sign, at most `max`. Returns 0 with *out set, or -1 with e =
 * 400 bad_content_length or 413 payload_too_large. */
int request_parse_content_length(const char *value, size_t max, size_t *out, struct err *e);

/* A request id nginx may pass: 1..REQUEST_ID_MAX of [0-9a-fA-F-]. */
int request_id_valid(const char *id);

/* Read the whole body as received (at most the route's limit) into r->body.
 * 0, or -1 after answering 413 payload_too_large / 400 bad_content_length /
 * 400 body_incomplete. */
int request_read_raw(struct request *r);

/* Read and parse a JSON object body (Content-Type application/json). The
 * tree belongs to the request (freed after it); NULL after answering 415
 * unsupported_media_type, 413, 400 invalid_json or 422 validation_error. */
cJSON *request_read_json(struct request *r);

/* Send `body` (NULL sends {}) with `status`. `extra_headers` is NULL or
 * "Name: value\r\n..." lines. Does not take ownership of body. */
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
